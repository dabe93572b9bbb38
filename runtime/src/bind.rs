//! Binding arguments to a manifest: from named host arrays and scalars to a ready [`Launch`].
//!
//! The order of work matters: explicit dim values first, then every tensor whose shape is known
//! from its data (which fixes the symbolic dims), then packed `.npy` inputs (whose logical shape
//! needs the dims), then unbound tensors are allocated as outputs, and finally the grid is
//! evaluated. Every inconsistency is an error that names the parameters involved.

use std::collections::BTreeMap;

use tilec_dtype::DType;

use crate::args::{KernelArg, ScalarValue};
use crate::expr::Expr;
use crate::host::HostArray;
use crate::manifest::{DimSpec, Manifest, ParamKind};
use crate::npy::{NpyArray, NpyError};

/// A value given for a parameter (or, by the dim's name, for a symbolic dim).
#[derive(Clone, Debug, PartialEq)]
pub enum Binding {
    /// A tensor already in device layout.
    Array(HostArray),
    /// A tensor as read from an `.npy` file, converted per the parameter's dtype while binding.
    Npy(NpyArray),
    /// A scalar parameter's value, or a symbolic dim's value.
    Scalar(ScalarValue),
}

/// One parameter, ready to launch.
#[derive(Clone, Debug, PartialEq)]
pub enum BoundParam {
    /// A tensor: `allocated` is true for an output the runtime created (poisoned with `0xFF`).
    Tensor { name: String, array: HostArray, allocated: bool },
    Scalar { name: String, arg: KernelArg },
}

impl BoundParam {
    pub fn name(&self) -> &str {
        match self {
            BoundParam::Tensor { name, .. } | BoundParam::Scalar { name, .. } => name,
        }
    }
}

/// Everything needed to launch: parameters in ABI order, dim values in `dims` order, launch shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Launch {
    pub kernel: String,
    pub params: Vec<BoundParam>,
    pub dims: Vec<(String, i64)>,
    /// Grid in blocks; a zero entry means there is no work and the launch is skipped.
    pub grid: [u32; 3],
    pub block: [u32; 3],
    pub shared_bytes: u32,
}

/// Arguments that do not fit the manifest.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("`{name}` is neither a parameter nor a dim of kernel `{kernel}` (parameters: {known})")]
    UnknownName { name: String, kernel: String, known: String },
    #[error("`{name}` is given twice")]
    Duplicate { name: String },
    #[error("parameter `{name}` is a tensor; give it an array (NAME=FILE.npy)")]
    ScalarForTensor { name: String },
    #[error("`{name}` is a scalar; give it a value (NAME=VALUE), not an array")]
    ArrayForScalar { name: String },
    #[error("scalar parameter `{name}` ({dtype}) has no value; give it as {name}=VALUE")]
    MissingScalar { name: String, dtype: DType },
    #[error("bad value for `{name}`: {message}")]
    BadScalar { name: String, message: String },
    #[error("parameter `{name}`: {message}")]
    BadArray { name: String, message: String },
    #[error("parameter `{name}` is {expected} but the array given is {found}")]
    DType { name: String, expected: DType, found: DType },
    #[error("parameter `{name}` has rank {expected} (shape [{declared}]) but the array given has shape {found:?}")]
    Rank { name: String, expected: usize, declared: String, found: Vec<usize> },
    #[error("parameter `{name}` needs size {expected} on axis {axis} but the array given has {found}")]
    FixedDim { name: String, axis: usize, expected: u64, found: usize },
    #[error("dim `{dim}` is {first} from {first_source} but {second} from {second_source}")]
    DimConflict { dim: String, first: i64, first_source: String, second: i64, second_source: String },
    #[error("cannot infer dim `{dim}` (needed by {needed_by}): no bound tensor has it; give it as {dim}=VALUE")]
    UnknownDim { dim: String, needed_by: String },
    #[error("dim `{dim}` = {value} is negative")]
    NegativeDim { dim: String, value: i128 },
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error("grid {axis} = `{text}`: {message}")]
    Grid { axis: &'static str, text: String, message: String },
}

impl Manifest {
    /// Binds named arguments (see the module docs for the order of checks) and evaluates the grid.
    pub fn bind(&self, args: Vec<(String, Binding)>) -> Result<Launch, BindError> {
        let mut given: BTreeMap<String, Binding> = BTreeMap::new();
        for (name, b) in args {
            if self.param(&name).is_none() && !self.dims.contains(&name) {
                let known = self.params.iter().map(|p| format!("`{}`", p.name)).collect::<Vec<_>>().join(", ");
                return Err(BindError::UnknownName { name, kernel: self.kernel.clone(), known });
            }
            if given.contains_key(&name) {
                return Err(BindError::Duplicate { name });
            }
            given.insert(name, b);
        }

        // 1. Explicit dims.
        let mut dims: BTreeMap<String, (i64, String)> = BTreeMap::new();
        for d in &self.dims {
            match given.remove(d) {
                None => {}
                Some(Binding::Scalar(ScalarValue::Int(v))) => {
                    let v = i64::try_from(v).ok().filter(|v| *v >= 0).ok_or(BindError::NegativeDim { dim: d.clone(), value: v })?;
                    dims.insert(d.clone(), (v, "the command line".to_string()));
                }
                Some(Binding::Scalar(other)) => {
                    return Err(BindError::BadScalar { name: d.clone(), message: format!("a dim is a non-negative integer, got {other:?}") })
                }
                Some(_) => return Err(BindError::ArrayForScalar { name: d.clone() }),
            }
        }

        // 2. Tensors whose shape is known from their data; convert natural-typed .npy now.
        let mut arrays: BTreeMap<String, HostArray> = BTreeMap::new();
        let mut packed: Vec<(String, NpyArray)> = Vec::new();
        for p in &self.params {
            match (p.kind, given.remove(&p.name)) {
                (_, None) => {}
                (ParamKind::Tensor, Some(Binding::Scalar(_))) => return Err(BindError::ScalarForTensor { name: p.name.clone() }),
                (ParamKind::Scalar, Some(Binding::Array(_) | Binding::Npy(_))) => {
                    return Err(BindError::ArrayForScalar { name: p.name.clone() })
                }
                (ParamKind::Scalar, Some(Binding::Scalar(v))) => {
                    given.insert(p.name.clone(), Binding::Scalar(v));
                }
                (ParamKind::Tensor, Some(Binding::Array(a))) => {
                    arrays.insert(p.name.clone(), a);
                }
                (ParamKind::Tensor, Some(Binding::Npy(n))) => {
                    if crate::host::natural_npy_descr(p.dtype).is_some() && !crate::host::packed_bool(p.dtype, &n.descr) {
                        arrays.insert(p.name.clone(), HostArray::from_npy(n, p.dtype, &p.name, None)?);
                    } else {
                        packed.push((p.name.clone(), n));
                    }
                }
            }
        }
        for p in self.params.iter().filter(|p| p.kind == ParamKind::Tensor) {
            if let Some(a) = arrays.get(&p.name) {
                if a.dtype != p.dtype {
                    return Err(BindError::DType { name: p.name.clone(), expected: p.dtype, found: a.dtype });
                }
                a.check().map_err(|message| BindError::BadArray { name: p.name.clone(), message })?;
                if p.strides.is_none() {
                    self.unify(&p.name, &a.shape, &mut dims)?;
                }
            }
        }

        // 3. Packed .npy inputs take their logical shape from the dims.
        for (name, npy) in packed {
            let p = self.param(&name).ok_or_else(|| BindError::ScalarForTensor { name: name.clone() })?;
            let shape = self.concrete_shape(&name, &dims)?;
            arrays.insert(name.clone(), HostArray::from_npy(npy, p.dtype, &name, Some(&shape))?);
        }

        // 3b. Strided tensors: unbound stride names take the row-major stride of the logical shape;
        // a bound array must reach the furthest element.
        let mut reach: BTreeMap<String, usize> = BTreeMap::new();
        for p in self.params.iter().filter(|p| p.strides.is_some()) {
            let shape = self.concrete_shape(&p.name, &dims)?;
            let specs = p.strides.as_ref().expect("filtered");
            let mut row_major = vec![1usize; shape.len()];
            for d in (0..shape.len().saturating_sub(1)).rev() {
                row_major[d] = row_major[d + 1] * shape[d + 1].max(1);
            }
            let mut far = 1usize;
            for (d, spec) in specs.iter().enumerate() {
                let stride = match spec {
                    DimSpec::Fixed(s) => *s as usize,
                    DimSpec::Sym(s) => match dims.get(s) {
                        Some((v, _)) => usize::try_from(*v).map_err(|_| BindError::NegativeDim { dim: s.clone(), value: *v as i128 })?,
                        None => {
                            dims.insert(s.clone(), (row_major[d] as i64, format!("the row-major stride of `{}`", p.name)));
                            row_major[d]
                        }
                    },
                };
                far += shape[d].saturating_sub(1) * stride;
            }
            if shape.contains(&0) {
                far = 0;
            }
            if let Some(a) = arrays.get(&p.name) {
                if a.numel() < far {
                    return Err(BindError::BadArray {
                        name: p.name.clone(),
                        message: format!("{} elements cannot hold a strided view that reaches element {}", a.numel(), far.saturating_sub(1)),
                    });
                }
            }
            reach.insert(p.name.clone(), far);
        }

        // 4. Parameters in ABI order; unbound tensors become poisoned outputs.
        let mut params = Vec::with_capacity(self.params.len());
        for p in &self.params {
            params.push(match p.kind {
                ParamKind::Tensor => match arrays.remove(&p.name) {
                    Some(array) => BoundParam::Tensor { name: p.name.clone(), array, allocated: false },
                    None => {
                        let shape = match reach.get(&p.name) {
                            Some(&far) => vec![far],
                            None => self.concrete_shape(&p.name, &dims)?,
                        };
                        let array = HostArray::filled(p.dtype, shape, 0xFF)
                            .map_err(|message| BindError::BadArray { name: p.name.clone(), message })?;
                        BoundParam::Tensor { name: p.name.clone(), array, allocated: true }
                    }
                },
                ParamKind::Scalar => match given.remove(&p.name) {
                    Some(Binding::Scalar(v)) => BoundParam::Scalar {
                        name: p.name.clone(),
                        arg: v.encode(p.dtype).map_err(|message| BindError::BadScalar { name: p.name.clone(), message })?,
                    },
                    _ => return Err(BindError::MissingScalar { name: p.name.clone(), dtype: p.dtype }),
                },
            });
        }

        // 5. Dims in ABI order and the grid.
        let mut dim_values = Vec::with_capacity(self.dims.len());
        for d in &self.dims {
            let (v, _) = dims.get(d).ok_or_else(|| BindError::UnknownDim { dim: d.clone(), needed_by: "the kernel's dim arguments".into() })?;
            dim_values.push((d.clone(), *v));
        }
        let env: BTreeMap<String, i64> = dim_values.iter().cloned().collect();
        let mut grid = [0u32; 3];
        for (i, axis) in ["x", "y", "z"].into_iter().enumerate() {
            let text = &self.grid[i];
            let gerr = |message: String| BindError::Grid { axis, text: text.clone(), message };
            let e = Expr::parse(text).map_err(|e| gerr(e.message))?;
            let v = e.eval(&env, text).map_err(|e| gerr(e.message))?;
            let max = if i == 0 { i32::MAX as i64 } else { 65535 };
            if !(0..=max).contains(&v) {
                return Err(gerr(format!("evaluates to {v}, outside 0..={max} (dims: {env:?})")));
            }
            grid[i] = v as u32;
        }
        Ok(Launch { kernel: self.kernel.clone(), params, dims: dim_values, grid, block: self.block, shared_bytes: self.shared_bytes })
    }

    /// Checks `shape` (of the array bound to `name`) against the declaration, recording dims.
    fn unify(&self, name: &str, shape: &[usize], dims: &mut BTreeMap<String, (i64, String)>) -> Result<(), BindError> {
        let decl = self.param(name).and_then(|p| p.shape.as_ref()).map(Vec::as_slice).unwrap_or(&[]);
        if decl.len() != shape.len() {
            return Err(BindError::Rank {
                name: name.to_string(),
                expected: decl.len(),
                declared: decl.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
                found: shape.to_vec(),
            });
        }
        for (axis, (d, &n)) in decl.iter().zip(shape).enumerate() {
            match d {
                DimSpec::Fixed(k) if *k as usize != n => {
                    return Err(BindError::FixedDim { name: name.to_string(), axis, expected: *k, found: n })
                }
                DimSpec::Fixed(_) => {}
                DimSpec::Sym(s) => {
                    let source = format!("`{name}` (axis {axis})");
                    let n = n as i64;
                    match dims.get(s) {
                        Some((v, first)) if *v != n => {
                            return Err(BindError::DimConflict {
                                dim: s.clone(),
                                first: *v,
                                first_source: first.clone(),
                                second: n,
                                second_source: source,
                            })
                        }
                        Some(_) => {}
                        None => {
                            dims.insert(s.clone(), (n, source));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The declared shape of tensor `name` with every dim resolved.
    fn concrete_shape(&self, name: &str, dims: &BTreeMap<String, (i64, String)>) -> Result<Vec<usize>, BindError> {
        let decl = self.param(name).and_then(|p| p.shape.as_ref()).map(Vec::as_slice).unwrap_or(&[]);
        decl.iter()
            .map(|d| match d {
                DimSpec::Fixed(k) => Ok(*k as usize),
                DimSpec::Sym(s) => dims
                    .get(s)
                    .map(|(v, _)| *v as usize)
                    .ok_or_else(|| BindError::UnknownDim { dim: s.clone(), needed_by: format!("`{name}`") }),
            })
            .collect()
    }
}
