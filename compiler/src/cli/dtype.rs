//! `tilec dtype NAME [--table | --encode V...]`: what an element type is, bit by bit.

use super::common::{CliError, CliResult};
use tilec::dtype::{report, DType};

/// Describe an element type: widths, bias, range, special values; its whole code table; or how
/// decimal values round into it
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  tilec dtype f6e3m2\n  tilec dtype f4e2m1 --table\n  tilec dtype f8e4m3 --encode 0.3 448 500 -inf nan\n\nNames: bool; i1..i8, u1..u8, i16, i32, i64, u16, u32, u64; f16, bf16, tf32, f32, f64;\nfNeXmY with 1 <= X, 0 <= Y, 1+X+Y = N <= 8 (f8e4m3, f8e5m2, f6e3m2, f6e2m3, f4e2m1, ...); e8m0")]
pub struct Args {
    /// The type name, e.g. f6e3m2, u3, bf16
    name: String,
    /// Print every bit pattern and its exact value, one per line: `0xHH VALUE`
    #[arg(long, conflicts_with = "encode")]
    table: bool,
    /// Round each decimal value (or inf, -inf, nan) into the type; print its bit pattern and value
    #[arg(long, num_args = 1.., allow_hyphen_values = true, value_name = "V")]
    encode: Vec<String>,
}

pub fn parse_dtype(name: &str) -> CliResult<DType> {
    name.parse::<DType>().map_err(|e| CliError::msg(e.to_string()))
}

pub fn run(a: Args) -> CliResult {
    let dt = parse_dtype(&a.name)?;
    let text = if a.table {
        report::table(dt).map_err(|e| CliError::msg(e.to_string()))?
    } else if !a.encode.is_empty() {
        let values: Vec<&str> = a.encode.iter().map(String::as_str).collect();
        report::encode_values(dt, &values).map_err(|e| CliError::msg(e.to_string()))?
    } else {
        report::describe(dt)
    };
    print!("{text}");
    Ok(())
}
