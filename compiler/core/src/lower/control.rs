//! Structured control flow: `for` loops and `if`/`else`, with the conversions inference asks for at
//! their initial values and yields.

use super::{refuse, Lowering};
use crate::diag::Diagnostic;
use crate::passes::layout_infer::Role;
use crate::syntax::Span;
use crate::thread::{Builder, Reg, Ty};
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

    /// `if` on a scalar condition: every thread computes the same condition, so both branches are
    /// block-uniform (barriers inside are safe). Each branch yields the results' slots.
    pub(super) fn if_else(&mut self, inst: &Inst, cond: ValueId, then: &tir::Block, els: &tir::Block) -> Result<(), Diagnostic> {
        let c = self.get(cond)[0];
        let mut tys = Vec::new();
        let mut counts = Vec::new();
        for r in &inst.results {
            let n = self.layout_of(*r).map_or(1, |l| l.num_values() as usize);
            tys.extend(std::iter::repeat_n(Ty::scalar(self.kernel.ty(*r).dtype()), n));
            counts.push(n);
        }
        let mut outer = std::mem::replace(&mut self.b, Builder::new(""));
        // `if_` takes both branches as closures, which it runs one after the other: they share
        // `self` through a cell.
        let cell = std::cell::RefCell::new(&mut *self);
        let failure = std::cell::RefCell::new(None);
        let branch = |bld: &mut Builder, block: &tir::Block, role: Role| -> Vec<Reg> {
            let mut guard = cell.borrow_mut();
            let cx: &mut Self = &mut guard;
            std::mem::swap(bld, &mut cx.b);
            let yielded = cx.block_yielding(block, inst.span, role);
            let out = match yielded {
                Ok(out) => out,
                Err(e) => {
                    failure.borrow_mut().get_or_insert(e);
                    tys.iter().map(|&t| cx.b.undef(t)).collect()
                }
            };
            std::mem::swap(bld, &mut cx.b);
            out
        };
        let results = outer.if_(c, &tys, |bld| branch(bld, then, Role::Yield), |bld| branch(bld, els, Role::ElseYield));
        self.b = outer;
        if let Some(e) = failure.into_inner() {
            return Err(e);
        }
        self.bind_groups(&inst.results, &results, &counts);
        Ok(())
    }

    pub(super) fn for_loop(&mut self, inst: &Inst, start: ValueId, end: ValueId, step: i64, inits: &[ValueId], body: &tir::Block) -> Result<(), Diagnostic> {
        let mut init = Vec::new();
        let mut counts = Vec::new();
        for (i, v) in inits.iter().enumerate() {
            let regs = self.carried_use(*v, inst.span, Role::Init, i)?;
            counts.push(regs.len());
            init.extend(regs);
        }
        // The thread program counts loops in i32.
        let (lo, hi) = (self.get(start)[0], self.get(end)[0]);
        let (lo, hi) = (self.b.cast(lo, DType::I32), self.b.cast(hi, DType::I32));
        let st = self.b.i32(i32::try_from(step).map_err(|_| refuse(inst.span, "this loop step does not fit the thread program's 32-bit counter"))?);
        let iv_dtype = self.kernel.ty(body.args[0]).dtype();
        // `for_` lends its builder to the body: swap it into `self` so the body lowers like any block.
        let mut outer = std::mem::replace(&mut self.b, Builder::new(""));
        let mut failure = None;
        let results = outer.for_(lo, hi, st, &init, |b, iv, carried| {
            std::mem::swap(b, &mut self.b);
            let iv = self.b.cast(iv, iv_dtype);
            self.env.insert(body.args[0], vec![iv]);
            self.bind_groups(&body.args[1..], carried, &counts);
            let yielded = self.block_yielding(body, inst.span, Role::Yield);
            let yields = match yielded {
                Ok(y) => y,
                Err(e) => {
                    failure = Some(e);
                    carried.to_vec()
                }
            };
            std::mem::swap(b, &mut self.b);
            yields
        });
        self.b = outer;
        if let Some(e) = failure {
            return Err(e);
        }
        self.bind_groups(&inst.results, &results, &counts);
        Ok(())
    }
}
