//! Executes the instructions of one block of the grid.

use super::scalar::{self, Undefined};
use super::value::{Data, Scalar, Value};
use crate::diag::Diagnostic;
use crate::tir::{Block, Inst, Kernel, Literal, Op, ValueId};
use tilec_dtype::DType;

pub struct TensorRef<'k, 'a> {
    pub dtype: DType,
    pub extents: Vec<i64>,
    pub bytes: &'k mut &'a mut [u8],
}

pub struct Machine<'k, 'a> {
    pub kernel: &'k Kernel,
    pub tensors: Vec<Option<TensorRef<'k, 'a>>>,
    pub scalars: Vec<Option<Scalar>>,
    pub dims: &'k [i64],
    pub env: Vec<Option<Value>>,
    pub block: [i64; 3],
}

type Run<T> = Result<T, Diagnostic>;

impl Machine<'_, '_> {
    pub fn block_body(&mut self) -> Run<()> {
        let body = &self.kernel.body;
        self.exec_block(body)
    }

    fn get(&self, v: ValueId) -> &Value {
        self.env[v.index()].as_ref().expect("verified IR defines values before use")
    }

    fn set(&mut self, v: ValueId, val: Value) {
        self.env[v.index()] = Some(val);
    }

    fn exec_block(&mut self, b: &Block) -> Run<()> {
        for inst in &b.insts {
            self.exec(inst)?;
        }
        Ok(())
    }

    fn fail(&self, inst: &Inst, what: &str) -> Diagnostic {
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
            Op::Load { tensor, offsets } => {
                let ty = result_ty.expect("load has a result");
                let offs: Vec<i64> = offsets.iter().map(|o| self.get(*o).as_i64()).collect();
                let t = self.tensors[*tensor].as_ref().expect("tensor parameter bound");
                let shape = ty.shape().to_vec();
                let dt = t.dtype;
                let data = Data::from_fn(dt, ty.numel() as usize, |i| match linear_index(&shape, i, &offs, &t.extents) {
                    Some(at) => scalar::load(dt, t.bytes, at),
                    None => zero(dt),
                });
                Value::Tile { shape, data }
            }
            Op::Store { tensor, offsets, value } => {
                let offs: Vec<i64> = offsets.iter().map(|o| self.get(*o).as_i64()).collect();
                let Value::Tile { shape, data } = self.env[value.index()].take().expect("defined") else {
                    unreachable!("the checker stores tiles only")
                };
                let t = self.tensors[*tensor].as_mut().expect("tensor parameter bound");
                for i in 0..data.len() {
                    if let Some(at) = linear_index(&shape, i, &offs, &t.extents) {
                        scalar::store(t.dtype, t.bytes, at, data.get(i));
                    }
                }
                self.env[value.index()] = Some(Value::Tile { shape, data });
                return Ok(());
            }
            Op::For { start, end, step, inits, body } => {
                let (start, end) = (self.get(*start).as_i64(), self.get(*end).as_i64());
                let mut carried: Vec<Value> = inits.iter().map(|v| self.get(*v).clone()).collect();
                let mut iv = start;
                while iv < end {
                    self.set(body.args[0], Value::Scalar(Scalar::Int(iv)));
                    for (arg, val) in body.args[1..].iter().zip(carried.drain(..)) {
                        self.set(*arg, val);
                    }
                    self.exec_block(body)?;
                    carried = body.yields.iter().map(|y| self.get(*y).clone()).collect();
                    iv = match iv.checked_add(*step) {
                        Some(n) => n,
                        None => break,
                    };
                }
                for (r, val) in inst.results.iter().zip(carried) {
                    self.set(*r, val);
                }
                return Ok(());
            }
        };
        self.set(inst.results[0], out);
        Ok(())
    }

    fn map1(&self, a: ValueId, f: impl Fn(Scalar) -> Scalar) -> Value {
        match self.get(a) {
            Value::Scalar(s) => Value::Scalar(f(*s)),
            Value::Tile { shape, data } => {
                let first = if data.is_empty() { Scalar::Int(0) } else { f(data.get(0)) };
                let dt_family = match first {
                    Scalar::Int(_) => DType::I64,
                    Scalar::Float(_) => DType::F64,
                    Scalar::Bool(_) => DType::Bool,
                };
                Value::Tile { shape: shape.clone(), data: Data::from_fn(dt_family, data.len(), |i| f(data.get(i))) }
            }
        }
    }

    fn map2(&self, a: ValueId, b: ValueId, f: impl Fn(Scalar, Scalar) -> Result<Scalar, Undefined>) -> Result<Value, Undefined> {
        match (self.get(a), self.get(b)) {
            (Value::Scalar(x), Value::Scalar(y)) => Ok(Value::Scalar(f(*x, *y)?)),
            (Value::Tile { shape, data: x }, Value::Tile { data: y, .. }) => {
                let mut out = Vec::with_capacity(x.len());
                for i in 0..x.len() {
                    out.push(f(x.get(i), y.get(i))?);
                }
                let family = match out.first() {
                    Some(Scalar::Float(_)) => DType::F64,
                    Some(Scalar::Bool(_)) => DType::Bool,
                    _ => DType::I64,
                };
                Ok(Value::Tile { shape: shape.clone(), data: Data::from_fn(family, out.len(), |i| out[i]) })
            }
            _ => Err(Undefined("a scalar met a tile (the checker splats scalars)")),
        }
    }

    fn broadcast(&self, a: ValueId, to: &[u64]) -> Value {
        let Value::Tile { shape: from, data } = self.get(a) else {
            return Value::Tile { shape: to.to_vec(), data: Data::splat(self.get(a).scalar(), to.iter().product::<u64>() as usize) };
        };
        let lead = to.len() - from.len();
        let n: u64 = to.iter().product();
        let family = match data.get(0) {
            Scalar::Float(_) => DType::F64,
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(_) => DType::I64,
        };
        let out = Data::from_fn(family, n as usize, |i| {
            let (mut rem, mut src, mut stride) = (i as u64, 0u64, 1u64);
            for d in (0..to.len()).rev() {
                let c = rem % to[d];
                rem /= to[d];
                if d >= lead {
                    let fd = from[d - lead];
                    src += if fd == 1 { 0 } else { c * stride };
                    stride *= fd;
                }
            }
            data.get(src as usize)
        });
        Value::Tile { shape: to.to_vec(), data: out }
    }
}

fn zero(dt: DType) -> Scalar {
    if dt.is_bool() {
        Scalar::Bool(false)
    } else if dt.is_float() {
        Scalar::Float(0.0)
    } else {
        Scalar::Int(0)
    }
}

/// The row-major index into the tensor of element `i` of a tile at `offsets`, or `None` when it falls
/// outside the tensor (the bounds mask).
fn linear_index(tile: &[u64], i: usize, offsets: &[i64], extents: &[i64]) -> Option<usize> {
    let mut rem = i as u64;
    let mut coords = vec![0i64; tile.len()];
    for d in (0..tile.len()).rev() {
        coords[d] = (rem % tile[d]) as i64;
        rem /= tile[d];
    }
    let mut at: i64 = 0;
    for d in 0..tile.len() {
        let c = offsets[d].checked_add(coords[d])?;
        if c < 0 || c >= extents[d] {
            return None;
        }
        at = at * extents[d] + c;
    }
    Some(at as usize)
}
