//! Structured control flow: `for` and `while` loops, `if`/`else`, `break` and `continue`, with the
//! conversions inference asks for at their initial values and yields.
//!
//! `break` and `continue` become flags: every condition is a scalar, the same in every thread, so
//! the rest of an iteration after a point that may leave it runs under a block-uniform
//! `if !stopped` (barriers stay safe), the iteration's carried values are the exit's where it left,
//! and a loop with a `break` is a thread-program `while` that also stops on a `broke` flag
//! (a `for` becomes one over its induction variable).

use super::{refuse, Lowering};
use crate::diag::Diagnostic;
use crate::passes::layout_infer::Role;
use crate::syntax::Span;
use crate::thread::{CmpOp, Reg, Ty};
use crate::tir::{self, Inst, ValueId};
use tilec_dtype::DType;

impl Lowering<'_> {
    /// The registers of `v` for a loop's use of it as carried value `operand` (`role` Init or
    /// Yield), converted when inference asked for it.
    pub(super) fn carried_use(&mut self, v: ValueId, at: Span, role: Role, operand: usize) -> Result<Vec<Reg>, Diagnostic> {
        let found = (0..self.layouts.conversions().len()).find(|&i| {
            let c = &self.layouts.conversions()[i];
            !self.applied[i] && c.value == v && c.at == at && c.user.role == role && c.user.operand == operand
        });
        match found {
            Some(i) => {
                let c = self.layouts.conversions()[i].clone();
                self.applied[i] = true;
                self.convert(v, &c.from, &c.to, at)
            }
            None => Ok(self.get(v)),
        }
    }

    /// Lowers `block` and returns the registers of its yields (converted where inference asked,
    /// `role` saying whether they feed a loop or an `if`'s branch).
    pub(super) fn block_yielding(&mut self, block: &tir::Block, at: Span, role: Role) -> Result<Vec<Reg>, Diagnostic> {
        self.block(&block.insts)?;
        let mut out = Vec::new();
        for (i, y) in block.yields.iter().enumerate() {
            out.extend(self.carried_use(*y, at, role, i)?);
        }
        Ok(out)
    }

    /// Binds `values` to consecutive groups of `regs`, `counts[i]` registers for `values[i]`.
    pub(super) fn bind_groups(&mut self, values: &[ValueId], regs: &[Reg], counts: &[usize]) {
        let mut next = 0;
        for (v, n) in values.iter().zip(counts) {
            self.env.insert(*v, regs[next..next + n].to_vec());
            next += n;
        }
    }

    /// The register types of `results`' slots, and how many slots each result has.
    fn result_slots(&self, results: &[ValueId]) -> (Vec<Ty>, Vec<usize>) {
        let mut tys = Vec::new();
        let mut counts = Vec::new();
        for r in results {
            let n = self.layout_of(*r).map_or(1, |l| l.num_values() as usize);
            tys.extend(std::iter::repeat_n(Ty::scalar(self.kernel.ty(*r).dtype()), n));
            counts.push(n);
        }
        (tys, counts)
    }

    /// `if` on a scalar condition: every thread computes the same condition, so both branches are
    /// block-uniform (barriers inside are safe). Each branch yields the results' slots.
    pub(super) fn if_else(&mut self, inst: &Inst, cond: ValueId, then: &tir::Block, els: &tir::Block) -> Result<(), Diagnostic> {
        let c = self.get(cond)[0];
        let (tys, counts) = self.result_slots(&inst.results);
        let results = self.if_regs(c, &tys, |cx| cx.block_yielding(then, inst.span, Role::Yield), |cx| cx.block_yielding(els, inst.span, Role::ElseYield))?;
        self.bind_groups(&inst.results, &results, &counts);
        Ok(())
    }

    pub(super) fn for_loop(&mut self, inst: &Inst, start: ValueId, end: ValueId, step: i64, inits: &[ValueId], body: &tir::Block) -> Result<(), Diagnostic> {
        if signals(&body.insts, false) {
            return self.signalled_for(inst, start, end, step, inits, body);
        }
        let Carried { regs: init, counts, .. } = self.loop_inits(inst, inits)?;
        // The thread program counts loops in i32.
        let (lo, hi) = (self.get(start)[0], self.get(end)[0]);
        let (lo, hi) = (self.b.cast(lo, DType::I32), self.b.cast(hi, DType::I32));
        let st = self.b.i32(i32::try_from(step).map_err(|_| refuse(inst.span, "this loop step does not fit the thread program's 32-bit counter"))?);
        let iv_dtype = self.kernel.ty(body.args[0]).dtype();
        let (iv, carried) = self.b.begin_for(lo, hi, st, &init);
        let iv = self.b.cast(iv, iv_dtype);
        self.env.insert(body.args[0], vec![iv]);
        self.bind_groups(&body.args[1..], &carried, &counts);
        let yields = self.block_yielding(body, inst.span, Role::Yield)?;
        let results = self.b.end_for(yields);
        self.bind_groups(&inst.results, &results, &counts);
        Ok(())
    }
}

/// A `break` or `continue` that may have run in the loop body being lowered: whether one did (the
/// same in every thread: conditions are scalars), whether it was a `break`, and the carried values
/// it gave the loop (undefined when none ran).
#[derive(Clone)]
pub(super) struct Exit {
    stopped: Reg,
    broke: Reg,
    vals: Vec<Reg>,
}

impl Exit {
    fn regs(&self) -> Vec<Reg> {
        [self.stopped, self.broke].into_iter().chain(self.vals.iter().copied()).collect()
    }

    fn from_regs(regs: &[Reg]) -> Exit {
        Exit { stopped: regs[0], broke: regs[1], vals: regs[2..].to_vec() }
    }
}

/// A loop's initial carried registers, the count per carried value, and the register types.
struct Carried {
    regs: Vec<Reg>,
    counts: Vec<usize>,
    tys: Vec<Ty>,
}

/// The loops being lowered, for `break` and `continue`.
#[derive(Default)]
pub(super) struct LoopExits {
    /// Register types of the carried values of each enclosing loop, innermost last.
    carried: Vec<Vec<Ty>>,
    /// Set by the `break` or `continue` just lowered.
    taken: Option<Exit>,
}

/// Whether `insts` may leave the innermost loop's iteration: a `break` or `continue` (`breaks`:
/// a `break` only) directly or in an `if`, not in a nested loop.
fn signals(insts: &[Inst], breaks: bool) -> bool {
    insts.iter().any(|i| match &i.op {
        tir::Op::Break(_) => true,
        tir::Op::Continue(_) => !breaks,
        tir::Op::If { then, els, .. } => signals(&then.insts, breaks) || signals(&els.insts, breaks),
        _ => false,
    })
}

impl<'k> Lowering<'k> {
    /// `break` (`is_break`) or `continue` with the loop's carried values `vals`: recorded for
    /// [`Self::signalled_block`], which skips what follows.
    pub(super) fn leave_iteration(&mut self, vals: &[ValueId], is_break: bool) {
        let vals = vals.iter().flat_map(|v| self.get(*v)).collect();
        let (stopped, broke) = (self.b.bool(true), self.b.bool(is_break));
        self.exits.taken = Some(Exit { stopped, broke, vals });
    }

    fn undefs(&mut self, tys: &[Ty]) -> Vec<Reg> {
        tys.iter().map(|&t| self.b.undef(t)).collect()
    }

    /// The exit of a path on which no `break` or `continue` ran.
    fn no_exit(&mut self) -> Exit {
        let carried = self.exits.carried.last().cloned().expect("inside a loop");
        let f = self.b.bool(false);
        Exit { stopped: f, broke: f, vals: self.undefs(&carried) }
    }

    /// Lowers a block of a loop body that may `break` or `continue`: what follows a point that may
    /// leave the iteration runs under `if !stopped`. Returns the yields (of types `yield_tys`,
    /// undefined when the iteration was left) and the exit, if the block has a point that may leave.
    fn signalled_block(&mut self, insts: &[Inst], yields: &[ValueId], yield_tys: &[Ty], at: Span, role: Role) -> Result<(Vec<Reg>, Option<Exit>), Diagnostic> {
        let Some(i) = insts.iter().position(|x| signals(std::slice::from_ref(x), false)) else {
            self.block(insts)?;
            let mut out = Vec::new();
            for (k, y) in yields.iter().enumerate() {
                out.extend(self.carried_use(*y, at, role, k)?);
            }
            return Ok((out, None));
        };
        self.block(&insts[..i])?;
        let inst = &insts[i];
        let exit = match &inst.op {
            tir::Op::Break(_) | tir::Op::Continue(_) => {
                // Lowered as an instruction, so that the conversions inference asked for apply.
                self.block(std::slice::from_ref(inst))?;
                let exit = self.exits.taken.take().expect("a break or continue records its exit");
                // What follows in this block never runs.
                return Ok((self.undefs(yield_tys), Some(exit)));
            }
            tir::Op::If { cond, then, els } => self.signalled_if(inst, *cond, then, els)?,
            _ => unreachable!("only these signal"),
        };
        let rest = &insts[i + 1..];
        let carried = self.exits.carried.last().cloned().expect("inside a loop");
        let tys: Vec<Ty> = yield_tys.iter().copied().chain([Ty::BOOL, Ty::BOOL]).chain(carried).collect();
        let left = exit.clone();
        let out = self.if_regs(
            exit.stopped,
            &tys,
            |cx| Ok([cx.undefs(yield_tys), left.regs()].concat()),
            |cx| {
                let (ys, e) = cx.signalled_block(rest, yields, yield_tys, at, role)?;
                let e = match e {
                    Some(e) => e,
                    None => cx.no_exit(),
                };
                Ok([ys, e.regs()].concat())
            },
        )?;
        let n = yield_tys.len();
        Ok((out[..n].to_vec(), Some(Exit::from_regs(&out[n..]))))
    }

    /// An `if` whose branches may `break` or `continue`: its results, then the exit.
    fn signalled_if(&mut self, inst: &Inst, cond: ValueId, then: &tir::Block, els: &tir::Block) -> Result<Exit, Diagnostic> {
        let c = self.get(cond)[0];
        let (res_tys, counts) = self.result_slots(&inst.results);
        let carried = self.exits.carried.last().cloned().expect("inside a loop");
        let tys: Vec<Ty> = res_tys.iter().copied().chain([Ty::BOOL, Ty::BOOL]).chain(carried).collect();
        let branch = |cx: &mut Self, b: &tir::Block, role: Role| -> Result<Vec<Reg>, Diagnostic> {
            let (ys, e) = cx.signalled_block(&b.insts, &b.yields, &res_tys, inst.span, role)?;
            let e = match e {
                Some(e) => e,
                None => cx.no_exit(),
            };
            Ok([ys, e.regs()].concat())
        };
        let out = self.if_regs(c, &tys, |cx| branch(cx, then, Role::Yield), |cx| branch(cx, els, Role::ElseYield))?;
        let n = res_tys.len();
        self.bind_groups(&inst.results, &out[..n], &counts);
        Ok(Exit::from_regs(&out[n..]))
    }

    /// A thread-program `if` with results of types `tys`, whose branches are lowered by `then` and
    /// `els` (the first error wins).
    pub(super) fn if_regs(
        &mut self,
        cond: Reg,
        tys: &[Ty],
        then: impl FnOnce(&mut Self) -> Result<Vec<Reg>, Diagnostic>,
        els: impl FnOnce(&mut Self) -> Result<Vec<Reg>, Diagnostic>,
    ) -> Result<Vec<Reg>, Diagnostic> {
        // An error leaves the builder open; the lowering stops and discards it.
        self.b.begin_if(cond, tys);
        let yields = then(self)?;
        self.b.else_(yields);
        let yields = els(self)?;
        Ok(self.b.end_if(yields))
    }

    /// A thread-program `while` carrying `init`, whose condition and body are lowered by `cond` and
    /// `body` (the first error wins).
    fn while_regs(
        &mut self,
        init: &[Reg],
        cond: impl FnOnce(&mut Self, &[Reg]) -> Result<Reg, Diagnostic>,
        body: impl FnOnce(&mut Self, &[Reg]) -> Result<Vec<Reg>, Diagnostic>,
    ) -> Result<Vec<Reg>, Diagnostic> {
        let args = self.b.begin_while(init);
        let keep_going = cond(self, &args)?;
        let args = self.b.while_body(keep_going);
        let yields = body(self, &args)?;
        Ok(self.b.end_while(yields))
    }

    /// The next carried values of an iteration that may have left early: the exit's where it did.
    fn merge_exit(&mut self, exit: Option<Exit>, yields: Vec<Reg>, tys: &[Ty]) -> Result<(Reg, Vec<Reg>), Diagnostic> {
        match exit {
            None => Ok((self.b.bool(false), yields)),
            Some(e) => {
                let next = self.if_regs(e.stopped, tys, |_| Ok(e.vals.clone()), |_| Ok(yields))?;
                Ok((e.broke, next))
            }
        }
    }

    /// The initial carried registers of a loop (converted where inference asked), with the count
    /// per carried value and the register types.
    fn loop_inits(&mut self, inst: &Inst, inits: &[ValueId]) -> Result<Carried, Diagnostic> {
        let mut init = Vec::new();
        let mut counts = Vec::new();
        for (i, v) in inits.iter().enumerate() {
            let regs = self.carried_use(*v, inst.span, Role::Init, i)?;
            counts.push(regs.len());
            init.extend(regs);
        }
        let tys = init.iter().map(|&r| self.b.ty(r)).collect();
        Ok(Carried { regs: init, counts, tys })
    }

    /// A `for` loop whose body may `break` or `continue`: a `while` over the induction variable, a
    /// `broke` flag and the carried values; the rest of an iteration after a point that may leave
    /// it runs under `if`, and the loop stops once `broke` is set.
    fn signalled_for(&mut self, inst: &Inst, start: ValueId, end: ValueId, step: i64, inits: &[ValueId], body: &tir::Block) -> Result<(), Diagnostic> {
        let Carried { regs: init, counts, tys } = self.loop_inits(inst, inits)?;
        let iv_dtype = self.kernel.ty(body.args[0]).dtype();
        let (lo, hi) = (self.get(start)[0], self.get(end)[0]);
        let no = self.b.bool(false);
        let state: Vec<Reg> = [lo, no].into_iter().chain(init).collect();
        self.exits.carried.push(tys.clone());
        let results = self.while_regs(
            &state,
            |cx, s| {
                let below = cx.b.cmp(CmpOp::Lt, s[0], hi);
                let no = cx.b.bool(false);
                Ok(cx.b.select(s[1], no, below))
            },
            |cx, s| {
                cx.env.insert(body.args[0], vec![s[0]]);
                cx.bind_groups(&body.args[1..], &s[2..], &counts);
                let (ys, exit) = cx.signalled_block(&body.insts, &body.yields, &tys, inst.span, Role::Yield)?;
                let (broke, next) = cx.merge_exit(exit, ys, &tys)?;
                let st = cx.b.const_int(iv_dtype, step);
                let iv = cx.b.add(s[0], st);
                Ok([iv, broke].into_iter().chain(next).collect())
            },
        );
        self.exits.carried.pop();
        self.bind_groups(&inst.results, &results?[2..], &counts);
        Ok(())
    }

    /// `while`: the condition block runs on the carried values (skipped once a `break` ran), the body
    /// as a `for` body does.
    pub(super) fn while_loop(&mut self, inst: &Inst, inits: &[ValueId], cond: &tir::Block, body: &tir::Block) -> Result<(), Diagnostic> {
        let Carried { regs: init, counts, tys } = self.loop_inits(inst, inits)?;
        let no = self.b.bool(false);
        // The carried state: a `broke` flag, then the loop's values.
        let state: Vec<Reg> = std::iter::once(no).chain(init).collect();
        let Some(&c) = cond.yields.last() else { return Err(refuse(inst.span, "this `while` has no condition")) };
        self.exits.carried.push(tys.clone());
        let results = self.while_regs(
            &state,
            |cx, s| {
                let go = cx.if_regs(
                    s[0],
                    &[Ty::BOOL],
                    |cx| Ok(vec![cx.b.bool(false)]),
                    |cx| {
                        cx.bind_groups(&cond.args, &s[1..], &counts);
                        cx.block(&cond.insts)?;
                        Ok(vec![cx.get(c)[0]])
                    },
                )?;
                Ok(go[0])
            },
            |cx, s| {
                cx.bind_groups(&body.args, &s[1..], &counts);
                let (ys, exit) = cx.signalled_block(&body.insts, &body.yields, &tys, inst.span, Role::Yield)?;
                let (broke, next) = cx.merge_exit(exit, ys, &tys)?;
                Ok(std::iter::once(broke).chain(next).collect())
            },
        );
        self.exits.carried.pop();
        self.bind_groups(&inst.results, &results?[1..], &counts);
        Ok(())
    }
}
