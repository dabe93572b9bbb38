//! Host-side tensors in the exact byte layout the kernels use.
//!
//! A [`HostArray`] stores its elements densely packed, little-endian and LSB-first: element `k`
//! of an `n`-bit type occupies bits `[k*n, (k+1)*n)` of the byte stream. For types of 8 bits and
//! more this is ordinary little-endian storage; for `bool`, `i1..i7`, `u1..u7` and sub-byte small
//! floats several elements share a byte. Keeping the device layout on the host means uploads and
//! downloads are plain byte copies, and `.npy` conversion happens only at the file boundary.

use std::path::Path;

use tilec_dtype::DType;

use crate::npy::{self, NpyArray, NpyError};

/// A dense, row-major tensor on the host, in device byte layout (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostArray {
    pub dtype: DType,
    pub shape: Vec<usize>,
    /// Exactly `dtype.nbytes(numel)` bytes.
    pub data: Vec<u8>,
}

/// The `.npy` type string a dtype is stored as when it has a natural numpy counterpart, and
/// `None` for types that travel as packed `|u1` bytes (sub-byte types, small floats, `e8m0`).
/// `bf16` has no numpy type; it is written as its `<u2` bit patterns.
pub fn natural_npy_descr(dtype: DType) -> Option<&'static str> {
    Some(match dtype {
        DType::Bool => "|b1",
        DType::F16 => "<f2",
        DType::BF16 => "<u2",
        DType::F32 | DType::TF32 => "<f4",
        DType::F64 => "<f8",
        DType::Int { bits, signed } => match (bits, signed) {
            (8, true) => "|i1",
            (16, true) => "<i2",
            (32, true) => "<i4",
            (64, true) => "<i8",
            (8, false) => "|u1",
            (16, false) => "<u2",
            (32, false) => "<u4",
            (64, false) => "<u8",
            _ => return None,
        },
        DType::SmallFloat { .. } | DType::E8M0 => return None,
    })
}

/// Whether a file of numpy type `descr` holds `expected` = bool packed one bit per element (uint8).
pub fn packed_bool(expected: DType, descr: &str) -> bool {
    expected == DType::Bool && descr == "|u1"
}

/// A human name for a numpy type string, used in error messages ("float64", "uint8", ...).
pub fn npy_descr_name(descr: &str) -> String {
    let name = match descr.trim_start_matches(['<', '>', '|', '=']) {
        "b1" => "bool",
        "f2" => "float16",
        "f4" => "float32",
        "f8" => "float64",
        "i1" => "int8",
        "i2" => "int16",
        "i4" => "int32",
        "i8" => "int64",
        "u1" => "uint8",
        "u2" => "uint16",
        "u4" => "uint32",
        "u8" => "uint64",
        "V2" => "2-byte void (bfloat16?)",
        _ => return format!("numpy type `{descr}`"),
    };
    name.to_string()
}

impl HostArray {
    /// The number of elements (`1` for a rank-0 array).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// An array of `shape` whose every byte is `byte` (`0xFF` poisons outputs before a launch so
    /// that an element the kernel never wrote is visible). Fails, rather than aborting, when the
    /// size overflows or the memory cannot be had.
    pub fn filled(dtype: DType, shape: Vec<usize>, byte: u8) -> Result<HostArray, String> {
        let n = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .and_then(|numel| numel.checked_mul(dtype.bits() as usize))
            .map(|bits| bits.div_ceil(8))
            .ok_or_else(|| format!("a {dtype} array of shape {shape:?} is too large"))?;
        let mut data = Vec::new();
        data.try_reserve_exact(n)
            .map_err(|_| format!("cannot allocate {n} bytes for a {dtype} array of shape {shape:?}"))?;
        data.resize(n, byte);
        Ok(HostArray { dtype, shape, data })
    }

    /// Checks that `data` holds exactly `dtype.nbytes(numel)` bytes (the fields are public, so
    /// an array built by hand may be inconsistent).
    pub fn check(&self) -> Result<(), String> {
        let numel = self.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        match numel.map(|n| self.dtype.nbytes(n)) {
            Some(want) if want == self.data.len() => Ok(()),
            Some(want) => Err(format!(
                "a {} array of shape {:?} needs {want} bytes but holds {}",
                self.dtype,
                self.shape,
                self.data.len()
            )),
            None => Err(format!("shape {:?} is too large", self.shape)),
        }
    }

    /// Wraps packed bytes, checking that their count matches the shape.
    pub fn from_bytes(dtype: DType, shape: Vec<usize>, data: Vec<u8>) -> Result<HostArray, String> {
        let want = dtype.nbytes(shape.iter().product());
        if data.len() != want {
            return Err(format!(
                "a {dtype} array of shape {shape:?} needs {want} bytes, got {}",
                data.len()
            ));
        }
        Ok(HostArray { dtype, shape, data })
    }

    /// Converts an array read from `.npy` into a host array of `expected` element type.
    ///
    /// `name` is the parameter name used in messages. `logical_shape`, when the caller knows it
    /// (from the kernel signature), is checked against a natural-typed file and is required to
    /// interpret a packed `|u1` file; without it a natural-typed file keeps its own shape and a
    /// packed file is an error.
    ///
    /// Rules: a file whose numpy type is `expected`'s natural type is taken as is (shape from the
    /// file); `bf16` also accepts `|V2`/`<V2` (ml_dtypes `bfloat16`); types without a natural
    /// numpy type must come as `|u1` holding exactly `expected.nbytes(numel)` packed bytes.
    pub fn from_npy(
        npy: NpyArray,
        expected: DType,
        name: &str,
        logical_shape: Option<&[usize]>,
    ) -> Result<HostArray, NpyError> {
        let file = npy.path.clone();
        let mismatch = |found: &str| NpyError::DTypeMismatch {
            path: file.clone(),
            param: name.to_string(),
            found: found.to_string(),
            expected: expected.to_string(),
        };
        let natural = natural_npy_descr(expected);
        let bf16_void = expected == DType::BF16 && (npy.descr == "|V2" || npy.descr == "<V2");
        if natural == Some(npy.descr.as_str()) || bf16_void {
            if let Some(shape) = logical_shape {
                if shape != npy.shape.as_slice() {
                    return Err(NpyError::ShapeMismatch {
                        path: file,
                        param: name.to_string(),
                        found: npy.shape.clone(),
                        expected: shape.to_vec(),
                    });
                }
            }
            let data = if expected == DType::Bool { pack_bools(&npy.data) } else { npy.data };
            return Ok(HostArray { dtype: expected, shape: npy.shape, data });
        }
        // bool also travels packed, one bit per element, like every sub-byte type (docs/dtypes.md).
        if natural.is_some() && !packed_bool(expected, &npy.descr) {
            return Err(mismatch(&npy_descr_name(&npy.descr)));
        }
        // A packed type: the file must be the raw bytes as uint8.
        if npy.descr != "|u1" {
            return Err(mismatch(&format!(
                "{} (a {expected} parameter must be given as uint8 bytes of packed elements)",
                npy_descr_name(&npy.descr)
            )));
        }
        let shape = logical_shape.ok_or_else(|| NpyError::PackedNeedsShape {
            path: file.clone(),
            param: name.to_string(),
            dtype: expected.to_string(),
        })?;
        let numel: usize = shape.iter().product();
        let want = expected.nbytes(numel);
        if npy.data.len() != want {
            return Err(NpyError::PackedByteCount {
                path: file,
                param: name.to_string(),
                dtype: expected.to_string(),
                shape: shape.to_vec(),
                expected: want,
                found: npy.data.len(),
            });
        }
        Ok(HostArray { dtype: expected, shape: shape.to_vec(), data: npy.data })
    }

    /// The `.npy` form of this array: its natural numpy type, or a 1-D `|u1` array of the packed
    /// bytes for types numpy lacks.
    pub fn to_npy_array(&self) -> NpyArray {
        match natural_npy_descr(self.dtype) {
            Some(descr) => {
                let data = if self.dtype == DType::Bool {
                    unpack_bools(&self.data, self.numel())
                } else {
                    self.data.clone()
                };
                NpyArray { path: String::new(), descr: descr.to_string(), shape: self.shape.clone(), data }
            }
            None => NpyArray {
                path: String::new(),
                descr: "|u1".to_string(),
                shape: vec![self.data.len()],
                data: self.data.clone(),
            },
        }
    }

    /// Writes [`HostArray::to_npy_array`] to `path`.
    pub fn to_npy(&self, path: impl AsRef<Path>) -> Result<(), NpyError> {
        npy::write(path, self)
    }
}

/// Packs numpy bools (one byte each, 0 or 1) into bits, LSB-first; any non-zero byte is `true`.
pub fn pack_bools(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; bytes.len().div_ceil(8)];
    for (k, &b) in bytes.iter().enumerate() {
        if b != 0 {
            out[k / 8] |= 1 << (k % 8);
        }
    }
    out
}

/// Unpacks `numel` LSB-first bits into one byte (0 or 1) per element (missing bits read as 0).
pub fn unpack_bools(bits: &[u8], numel: usize) -> Vec<u8> {
    (0..numel).map(|k| (bits.get(k / 8).copied().unwrap_or(0) >> (k % 8)) & 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_pack_lsb_first() {
        let bytes = [1, 0, 0, 1, 1, 1, 0, 0, 1, 1];
        let packed = pack_bools(&bytes);
        assert_eq!(packed, vec![0b0011_1001, 0b0000_0011]);
        assert_eq!(unpack_bools(&packed, bytes.len()), bytes);
    }

    #[test]
    fn filled_and_check_refuse_bad_sizes() {
        let a = HostArray::filled(DType::Int { bits: 4, signed: true }, vec![3, 3], 0xFF).unwrap();
        assert_eq!(a.data, vec![0xFF; 5]);
        assert!(a.check().is_ok());
        let e = HostArray::filled(DType::F64, vec![usize::MAX, 2], 0).unwrap_err();
        assert!(e.contains("too large"), "{e}");
        let bad = HostArray { dtype: DType::F32, shape: vec![2], data: vec![0; 7] };
        assert_eq!(bad.check().unwrap_err(), "a f32 array of shape [2] needs 8 bytes but holds 7");
    }

    #[test]
    fn every_int_width_has_natural_or_packed_form() {
        for bits in 1..=8u8 {
            for signed in [false, true] {
                let t = DType::Int { bits, signed };
                assert_eq!(natural_npy_descr(t).is_some(), bits == 8, "{t}");
            }
        }
        assert_eq!(natural_npy_descr(DType::BF16), Some("<u2"));
        assert_eq!(natural_npy_descr("f8e4m3".parse().unwrap()), None);
    }
}
