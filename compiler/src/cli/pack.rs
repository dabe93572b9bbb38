//! `tilec pack` and `tilec unpack`: between ordinary `.npy` arrays and the packed bytes in which
//! tensors of any element type travel (docs/dtypes.md).

use super::common::{CliError, CliResult};
use super::dtype::parse_dtype;
use std::path::PathBuf;
use tilec::dtype::{self, DType};
use tilec::runtime::host::{natural_npy_descr, npy_descr_name, HostArray};
use tilec::runtime::npy;

/// Encode an ordinary array into packed bytes of an element type
#[derive(clap::Args)]
#[command(after_help = "Each value is rounded into the type as `cast` does (floats to nearest even, saturating for the\nsmall floats; integers saturating), then packed densely, least significant bit first: element k\noccupies bits [k*n, (k+1)*n). The output is a 1-D uint8 array of ceil(n*numel/8) bytes.\n\nExample:\n  tilec pack --dtype f6e3m2 weights.npy weights_f6.npy")]
pub struct PackArgs {
    /// The element type to pack into
    #[arg(long)]
    dtype: String,
    /// An .npy array of numbers (float, int or bool)
    input: PathBuf,
    /// Where to write the packed bytes (.npy, uint8)
    output: PathBuf,
}

/// Decode packed bytes of an element type into an ordinary array
#[derive(clap::Args)]
#[command(after_help = "Floats come out as float32 (float64 for f64), integers as the smallest numpy integer type that\nholds them (int8 for i3, uint16 for u16, ...).\n\nExample:\n  tilec unpack --dtype u3 --shape 4,25 packed.npy values.npy")]
pub struct UnpackArgs {
    /// The element type the bytes hold
    #[arg(long)]
    dtype: String,
    /// The logical shape, e.g. 4,25 (the byte count alone cannot tell it for sub-byte types)
    #[arg(long, value_delimiter = ',', required = true)]
    shape: Vec<usize>,
    /// An .npy array of packed bytes (uint8)
    input: PathBuf,
    /// Where to write the decoded array (.npy)
    output: PathBuf,
}

/// The element type of an .npy file's natural numpy type.
fn natural_dtype(descr: &str) -> Option<DType> {
    let candidates = [DType::Bool, DType::I8, DType::I16, DType::I32, DType::I64, DType::U8, DType::U16, DType::U32, DType::U64, DType::F16, DType::F32, DType::F64];
    candidates.into_iter().find(|d| natural_npy_descr(*d) == Some(descr))
}

fn io(e: impl std::fmt::Display) -> CliError {
    CliError::msg(e.to_string())
}

pub fn pack(a: PackArgs) -> CliResult {
    let to = parse_dtype(&a.dtype)?;
    let file = npy::read(&a.input).map_err(io)?;
    let from = natural_dtype(&file.descr).ok_or_else(|| {
        CliError::msg(format!("`{}` holds {}; `tilec pack` takes arrays of numbers (float, int or bool)", a.input.display(), npy_descr_name(&file.descr)))
    })?;
    let shape = file.shape.clone();
    let src = HostArray::from_npy(file, from, "input", None).map_err(io)?;
    let numel = src.numel();
    let bytes = if from.is_float() {
        dtype::pack_values(to, &dtype::unpack_values(from, &src.data, numel).map_err(io)?)
    } else {
        dtype::pack_ints(to, &dtype::unpack_ints(from, &src.data, numel).map_err(io)?)
    };
    let packed = HostArray::from_bytes(DType::U8, vec![bytes.len()], bytes).map_err(CliError::msg)?;
    packed.to_npy(&a.output).map_err(io)?;
    eprintln!("packed {numel} values (shape {shape:?}) as {to} into {} bytes", packed.data.len());
    Ok(())
}

pub fn unpack(a: UnpackArgs) -> CliResult {
    let from = parse_dtype(&a.dtype)?;
    let file = npy::read(&a.input).map_err(io)?;
    let src = HostArray::from_npy(file, from, "input", Some(&a.shape)).map_err(io)?;
    let numel = src.numel();
    let out = if from.is_float() {
        let values = dtype::unpack_values(from, &src.data, numel).map_err(io)?;
        let to = if from == DType::F64 { DType::F64 } else { DType::F32 };
        HostArray::from_bytes(to, a.shape.clone(), dtype::pack_values(to, &values)).map_err(CliError::msg)?
    } else {
        let ints = dtype::unpack_ints(from, &src.data, numel).map_err(io)?;
        let to = match from {
            DType::Bool => DType::Bool,
            DType::Int { bits, signed } => DType::Int { bits: (bits.max(8) as u32).next_power_of_two() as u8, signed },
            _ => unreachable!("non-float types are integers or bool"),
        };
        HostArray::from_bytes(to, a.shape.clone(), dtype::pack_ints(to, &ints)).map_err(CliError::msg)?
    };
    out.to_npy(&a.output).map_err(io)?;
    eprintln!("unpacked {numel} {from} values into {}", a.output.display());
    Ok(())
}
