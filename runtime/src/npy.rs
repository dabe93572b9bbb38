//! Reading and writing NumPy `.npy` files (C order, little-endian) with the `npyz` crate.
//!
//! [`NpyArray`] is the file's content without interpretation: its type string, shape and raw
//! data bytes. The data of every supported type is little-endian (or single-byte), which is the
//! device layout, so no per-element conversion is needed; `bool` is the one exception and is
//! converted to packed bits by [`crate::host::HostArray::from_npy`].

use std::io::{self, Write};
use std::path::Path;

use npyz::{Endianness, Order, TypeChar, WriterBuilder};

/// The type strings this runtime reads and writes (`|V2` is ml_dtypes' `bfloat16`).
pub const SUPPORTED_DESCRS: &[&str] = &[
    "|b1", "<f2", "<f4", "<f8", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "|V2",
];

/// The raw content of an `.npy` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyArray {
    /// Where it was read from (empty for arrays built in memory); used in messages.
    pub path: String,
    /// The numpy type string, normalised: `|` for one-byte types, else `<` (e.g. `<f4`, `|u1`).
    pub descr: String,
    pub shape: Vec<usize>,
    /// `numel * itemsize` little-endian bytes in C order (bools one byte each, 0 or 1).
    pub data: Vec<u8>,
}

/// A problem with an `.npy` file or with its content for a given parameter.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("cannot {action} `{path}`: {source}")]
    Io { action: &'static str, path: String, source: io::Error },
    #[error("`{path}` is not an .npy file (it does not start with the \\x93NUMPY magic)")]
    NotNpy { path: String },
    #[error("`{path}` has a malformed .npy header: {detail}")]
    BadHeader { path: String, detail: String },
    #[error("`{path}` is stored in Fortran order; save it in C order (numpy.ascontiguousarray)")]
    FortranOrder { path: String },
    #[error("`{path}` is big-endian ({descr}); only little-endian .npy files are supported (use arr.astype(arr.dtype.newbyteorder('<')))")]
    BigEndian { path: String, descr: String },
    #[error("`{path}` holds {descr}, which is not supported; supported numpy types: bool, float16/32/64, int8/16/32/64, uint8/16/32/64 (packed types as uint8)")]
    UnsupportedDType { path: String, descr: String },
    #[error("`{path}` is truncated: its header announces {expected} data bytes but the file has {found}")]
    Truncated { path: String, expected: usize, found: usize },
    #[error("`{path}` has {extra} unexpected bytes after its data")]
    TrailingBytes { path: String, extra: usize },
    #[error("`{path}` holds {found} but parameter `{param}` is {expected}")]
    DTypeMismatch { path: String, param: String, found: String, expected: String },
    #[error("`{path}` has shape {found:?} but parameter `{param}` has shape {expected:?}")]
    ShapeMismatch { path: String, param: String, found: Vec<usize>, expected: Vec<usize> },
    #[error("`{path}` holds {found} packed bytes but parameter `{param}` ({dtype}, shape {shape:?}) needs {expected}")]
    PackedByteCount { path: String, param: String, dtype: String, shape: Vec<usize>, expected: usize, found: usize },
    #[error("`{path}`: parameter `{param}` is {dtype}, stored as packed uint8 bytes, and its shape cannot be known before the file is read; give its size some other way")]
    PackedNeedsShape { path: String, param: String, dtype: String },
    #[error("cannot write `{path}`: {detail}")]
    Unwritable { path: String, detail: String },
}

/// Reads a whole `.npy` file. Rejects Fortran order (for rank >= 2), big-endian data and types
/// outside [`SUPPORTED_DESCRS`], and checks that the data length matches the header exactly.
pub fn read(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    let path_ref = path.as_ref();
    let p = path_ref.display().to_string();
    let bytes = std::fs::read(path_ref).map_err(|source| NpyError::Io { action: "read", path: p.clone(), source })?;
    parse(&p, &bytes)
}

/// Parses the bytes of an `.npy` file; `path` is only used in messages.
pub fn parse(path: &str, bytes: &[u8]) -> Result<NpyArray, NpyError> {
    let path = path.to_string();
    if !bytes.starts_with(b"\x93NUMPY") {
        return Err(NpyError::NotNpy { path });
    }
    let mut rest: &[u8] = bytes;
    let header = npyz::NpyHeader::from_reader(&mut rest)
        .map_err(|e| NpyError::BadHeader { path: path.clone(), detail: e.to_string() })?;
    let ts = match header.dtype() {
        npyz::DType::Plain(ts) => ts,
        other => {
            return Err(NpyError::UnsupportedDType { path, descr: format!("a structured type {}", other.descr()) })
        }
    };
    let size = ts.size_field() as usize;
    let descr = normalise_descr(&ts.to_string(), size);
    if ts.endianness() == Endianness::Big && size > 1 {
        return Err(NpyError::BigEndian { path, descr: ts.to_string() });
    }
    let supported = matches!(
        (ts.type_char(), size),
        (TypeChar::Bool, 1)
            | (TypeChar::Float, 2 | 4 | 8)
            | (TypeChar::Int | TypeChar::Uint, 1 | 2 | 4 | 8)
            | (TypeChar::RawData, 2)
    );
    if !supported {
        return Err(NpyError::UnsupportedDType { path, descr: ts.to_string() });
    }
    let shape: Vec<usize> = header.shape().iter().map(|&d| d as usize).collect();
    if header.order() == Order::Fortran && shape.len() >= 2 {
        return Err(NpyError::FortranOrder { path });
    }
    let expected = shape
        .iter()
        .try_fold(size, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| NpyError::BadHeader { path: path.clone(), detail: format!("shape {shape:?} is too large") })?;
    if rest.len() < expected {
        return Err(NpyError::Truncated { path, expected, found: rest.len() });
    }
    if rest.len() > expected {
        return Err(NpyError::TrailingBytes { path, extra: rest.len() - expected });
    }
    Ok(NpyArray { path, descr, shape, data: rest.to_vec() })
}

fn normalise_descr(descr: &str, size: usize) -> String {
    let body = descr.trim_start_matches(['<', '>', '|', '=']);
    if size == 1 { format!("|{body}") } else { format!("<{body}") }
}

/// Writes a host array to `path` in its natural numpy form (see
/// [`crate::host::HostArray::to_npy_array`]): sub-byte and small-float types as a 1-D `|u1`
/// array of the packed bytes, `bf16` as `<u2`, `bool` as `|b1`.
pub fn write(path: impl AsRef<Path>, array: &crate::host::HostArray) -> Result<(), NpyError> {
    array
        .check()
        .map_err(|detail| NpyError::Unwritable { path: path.as_ref().display().to_string(), detail })?;
    write_raw(path, &array.to_npy_array())
}

/// Writes raw `.npy` content to `path` in C order. Its `descr` must be one of
/// [`SUPPORTED_DESCRS`] and its data must hold exactly `numel * itemsize` bytes.
pub fn write_raw(path: impl AsRef<Path>, array: &NpyArray) -> Result<(), NpyError> {
    let path_ref = path.as_ref();
    let p = path_ref.display().to_string();
    let bytes = to_bytes(array).map_err(|detail| NpyError::Unwritable { path: p.clone(), detail })?;
    let mut file = std::fs::File::create(path_ref).map_err(|source| NpyError::Io { action: "create", path: p.clone(), source })?;
    file.write_all(&bytes).map_err(|source| NpyError::Io { action: "write", path: p, source })
}

/// Serialises `array` to the bytes of an `.npy` file.
pub fn to_bytes(array: &NpyArray) -> Result<Vec<u8>, String> {
    let size = match SUPPORTED_DESCRS.iter().position(|d| *d == array.descr) {
        Some(_) => array.descr[2..].parse::<usize>().map_err(|e| e.to_string())?,
        None => return Err(format!("numpy type `{}` is not supported", array.descr)),
    };
    let numel: usize = array.shape.iter().product();
    if array.data.len() != numel * size {
        return Err(format!(
            "shape {:?} of {} needs {} bytes, the array has {}",
            array.shape,
            array.descr,
            numel * size,
            array.data.len()
        ));
    }
    let shape: Vec<u64> = array.shape.iter().map(|&d| d as u64).collect();
    let d = &array.data;
    let mut out = Vec::with_capacity(d.len() + 128);
    let e = |e: io::Error| e.to_string();
    macro_rules! put {
        ($t:ty, $conv:expr) => {{
            let ts: npyz::TypeStr = array.descr.parse().map_err(|err: npyz::ParseTypeStrError| err.to_string())?;
            let dtype = npyz::DType::Plain(ts);
            let mut w = npyz::WriteOptions::<$t>::new().dtype(dtype).shape(&shape).writer(&mut out).begin_nd().map_err(e)?;
            let conv = $conv;
            w.extend(d.chunks_exact(size).map(|c| conv(c))).map_err(e)?;
            w.finish().map_err(e)?;
        }};
    }
    match array.descr.as_str() {
        "|b1" => put!(bool, |c: &[u8]| c[0] != 0),
        "|u1" => put!(u8, |c: &[u8]| c[0]),
        "|i1" => put!(i8, |c: &[u8]| c[0] as i8),
        "<u2" => put!(u16, |c: &[u8]| u16::from_le_bytes([c[0], c[1]])),
        "<i2" => put!(i16, |c: &[u8]| i16::from_le_bytes([c[0], c[1]])),
        "<f2" => put!(npyz::half::f16, |c: &[u8]| npyz::half::f16::from_bits(u16::from_le_bytes([c[0], c[1]]))),
        "<u4" => put!(u32, |c: &[u8]| u32::from_le_bytes(c.try_into().unwrap_or_default())),
        "<i4" => put!(i32, |c: &[u8]| i32::from_le_bytes(c.try_into().unwrap_or_default())),
        "<f4" => put!(f32, |c: &[u8]| f32::from_le_bytes(c.try_into().unwrap_or_default())),
        "<u8" => put!(u64, |c: &[u8]| u64::from_le_bytes(c.try_into().unwrap_or_default())),
        "<i8" => put!(i64, |c: &[u8]| i64::from_le_bytes(c.try_into().unwrap_or_default())),
        "<f8" => put!(f64, |c: &[u8]| f64::from_le_bytes(c.try_into().unwrap_or_default())),
        "|V2" => put!(npyz::FixedSizeBytes<2>, |c: &[u8]| npyz::FixedSizeBytes([c[0], c[1]])),
        other => return Err(format!("numpy type `{other}` is not supported")),
    }
    Ok(out)
}
