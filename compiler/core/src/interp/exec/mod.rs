//! Executes the instructions of one block of the grid; one file per family of operations.

mod control;
mod dot;
mod elementwise;
mod exact;
mod math;
mod memory;
mod misc;
mod reduce;
mod shape;
mod shared;

pub use misc::format_scalar;

use super::scalar::{self, Undefined};
use super::value::{Data, Scalar, Value};
use crate::diag::Diagnostic;
use crate::tir::{Block, Inst, Kernel, Literal, Op, ValueId};
use tilec_dtype::DType;

pub struct TensorRef<'k, 'a> {
    pub dtype: DType,
    pub extents: Vec<i64>,
    /// Element strides per dimension (row-major unless the parameter declares strides).
    pub strides: Vec<i64>,
    pub bytes: &'k mut &'a mut [u8],
}

pub struct Machine<'k, 'a> {
    pub kernel: &'k Kernel,
    pub tensors: Vec<Option<TensorRef<'k, 'a>>>,
    pub scalars: Vec<Option<Scalar>>,
    pub dims: &'k [i64],
    pub env: Vec<Option<Value>>,
    pub block: [i64; 3],
    /// A `break` or `continue` on its way to its loop: the blocks it crosses stop executing.
    pub signal: Option<control::Signal>,
    /// This block's shared memory and its asynchronous-copy groups.
    pub shared: Vec<shared::SharedState>,
    pub groups: shared::Groups,
}

pub(super) type Run<T> = Result<T, Diagnostic>;

impl Machine<'_, '_> {
    pub fn block_body(&mut self) -> Run<()> {
        self.shared = self.kernel.shared.iter().map(shared::SharedState::new).collect();
        self.groups = shared::Groups::new();
        let body = &self.kernel.body;
        self.exec_block(body)
    }

    pub(super) fn get(&self, v: ValueId) -> &Value {
        self.env[v.index()].as_ref().expect("verified IR defines values before use")
    }

    pub(super) fn set(&mut self, v: ValueId, val: Value) {
        self.env[v.index()] = Some(val);
    }

    pub(super) fn exec_block(&mut self, b: &Block) -> Run<()> {
        for inst in &b.insts {
            self.exec(inst)?;
            if self.signal.is_some() {
                break;
            }
        }
        Ok(())
    }

    pub(super) fn fail(&self, inst: &Inst, what: &str) -> Diagnostic {
        Diagnostic::at(inst.span, format!("{what} in block ({}, {}, {})", self.block[0], self.block[1], self.block[2]), what)
    }

    fn exec(&mut self, inst: &Inst) -> Run<()> {
        let k = self.kernel;
        let result_ty = inst.results.first().map(|r| k.ty(*r));
        let out = match &inst.op {
            Op::Const(lit) => Value::Scalar(match *lit {
                Literal::Int(v) => Scalar::Int(v),
                Literal::Float(v) => Scalar::Float(v),
                Literal::Bool(v) => Scalar::Bool(v),
            }),
            Op::BlockIndex(axis) => Value::Scalar(Scalar::Int(self.block[*axis as usize])),
            Op::DimSize(i) => Value::Scalar(Scalar::Int(self.dims[*i])),
            Op::ScalarParam(i) => Value::Scalar(self.scalars[*i].expect("scalar parameter bound")),
            Op::Unary(op, a) => {
                let dt = k.ty(*a).dtype();
                self.map1(*a, |s| scalar::unary(*op, dt, s))
            }
            Op::Binary(op, a, b) => {
                let dt = k.ty(*a).dtype();
                self.map2(*a, *b, |x, y| scalar::binary(*op, dt, x, y)).map_err(|Undefined(w)| self.fail(inst, w))?
            }
            Op::Compare(op, a, b) => {
                let dt = k.ty(*a).dtype();
                self.map2(*a, *b, |x, y| Ok(Scalar::Bool(scalar::compare(*op, dt, x, y)))).map_err(|Undefined(w)| self.fail(inst, w))?
            }
            Op::Cast(a) => {
                let (from, to) = (k.ty(*a).dtype(), result_ty.expect("cast has a result").dtype());
                self.map1(*a, |s| scalar::cast(from, to, s))
            }
            Op::Splat(a) => {
                let ty = result_ty.expect("splat has a result");
                Value::Tile { shape: ty.shape().to_vec(), data: Data::splat(self.get(*a).scalar(), ty.numel() as usize) }
            }
            Op::Broadcast(a) => {
                let ty = result_ty.expect("broadcast has a result");
                self.broadcast(*a, ty.shape())
            }
            Op::Math(op, a) => self.math(*op, *a),
            Op::Where(c, a, b) => self.select(*c, *a, *b),
            Op::Fma(a, b, c) => self.fma(*a, *b, *c),
            Op::Dot { a, b, acc } => self.dot(*a, *b, *acc),
            Op::Reduce { op, value, dim } => self.reduce(*op, *value, *dim, result_ty.expect("reduce has a result")),
            Op::Cumsum { value, dim } => self.cumsum(*value, *dim),
            Op::Permute { value, perm } => self.permute(*value, perm, result_ty.expect("permute has a result")),
            Op::Reshape(a) => self.reshape(*a, result_ty.expect("reshape has a result")),
            Op::Repeat { value, .. } => self.repeat(*value, result_ty.expect("repeat has a result")),
            Op::Arange { start } => self.arange(*start, result_ty.expect("arange has a result")),
            Op::Bitcast(a) => self.bitcast(*a, result_ty.expect("bitcast has a result")),
            Op::AtomicAdd { tensor, offsets, value } => return self.atomic_add(*tensor, offsets, *value),
            Op::Print { format, args } => return self.print(inst, format, args),
            Op::Load { tensor, offsets } => self.load(*tensor, offsets, result_ty.expect("load has a result")),
            Op::Store { tensor, offsets, value, mask } => return self.store(*tensor, offsets, *value, *mask),
            Op::For { start, end, step, inits, body, .. } => return self.for_loop(inst, *start, *end, *step, inits, body),
            Op::If { cond, then, els } => return self.if_else(inst, *cond, then, els),
            Op::While { inits, cond, body } => return self.while_loop(inst, inits, cond, body),
            Op::LoadShared(view) => self.load_shared(inst, view, result_ty.expect("load has a result"))?,
            Op::StoreShared { view, value } => return self.store_shared(inst, view, *value),
            Op::CopyAsync { view, tensor, offsets, shape } => return self.copy_async(inst, view, *tensor, offsets, shape),
            Op::CommitGroup => {
                self.commit_group();
                return Ok(());
            }
            Op::WaitGroup(n) => {
                self.wait_group(*n);
                return Ok(());
            }
            Op::Barrier => return Ok(()),
            Op::Annotate(x, _) => self.get(*x).clone(),
            Op::Threads => Value::Scalar(Scalar::Int(self.kernel.threads() as i64)),
            Op::ThreadIds(l) => {
                let shape: Vec<u64> = l.tv.shape().iter().map(|&d| d as u64).collect();
                let n: u64 = shape.iter().product();
                let mut coord = vec![0i64; shape.len()];
                let mut ids = Vec::with_capacity(n as usize);
                for i in 0..n {
                    let mut rem = i;
                    for d in (0..shape.len()).rev() {
                        coord[d] = (rem % shape[d]) as i64;
                        rem /= shape[d];
                    }
                    let holders = l.tv.holders(&coord).map_err(|e| self.fail(inst, &format!("layout error: {e}")))?;
                    ids.push(holders.first().map_or(-1, |h| h.0));
                }
                Value::Tile { shape, data: Data::Int(ids) }
            }
            Op::Break(vals) => return self.signal(control::Signal::Break, vals),
            Op::Continue(vals) => return self.signal(control::Signal::Continue, vals),
        };
        self.set(inst.results[0], out);
        Ok(())
    }
}
