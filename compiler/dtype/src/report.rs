//! Text reports for `tilec dtype`: a description of a type, its full code table, and the rounding of
//! given values. Values are always printed exactly (see [`format_exact`]).

use std::fmt::Write;

use crate::convert::{decode, decode_int, encode_int, encode_near};
use crate::decimal::{format_exact, parse_number};
use crate::float::{mask, Specials};
use crate::DType;

/// A report that cannot be produced.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// `--table` for a type wider than 16 bits.
    #[error(
        "`{dtype}` has {bits} bits: a code table is printed only for types of at most 16 bits"
    )]
    TooWide {
        /// The type asked for.
        dtype: DType,
        /// Its width.
        bits: u32,
    },
    /// An `--encode` value that is not a number.
    #[error("cannot read `{input}` as a value: {reason}")]
    BadValue {
        /// The input as given.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A code as `0x..` with as many hex digits as the type needs (2 for types of at most 8 bits).
pub fn hex_code(dt: DType, code: u64) -> String {
    format!(
        "0x{:0w$x}",
        code,
        w = (dt.bits().max(8) as usize).div_ceil(4)
    )
}

/// The printed value of a code: exact decimal for floats, the exact integer for integers and bool.
pub fn value_text(dt: DType, code: u64) -> String {
    if dt.is_int() || dt.is_bool() {
        decode_int(dt, code).to_string()
    } else {
        format_exact(decode(dt, code))
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `key: value` lines describing `dt` (what `tilec dtype NAME` prints).
pub fn describe(dt: DType) -> String {
    let mut s = String::new();
    let mut line = |k: &str, v: String| writeln!(s, "{k}: {v}").unwrap();
    line("type", dt.to_string());
    line("bits", dt.bits().to_string());
    let Some(f) = dt.float_format() else {
        let (lo, hi) = dt.int_range().unwrap();
        line(
            "kind",
            if dt.is_bool() {
                "bool"
            } else if dt.is_signed() {
                "signed integer (two's complement)"
            } else {
                "unsigned integer"
            }
            .into(),
        );
        line("signed", yes(dt.is_signed()).into());
        line("min", lo.to_string());
        line("max", hi.to_string());
        if dt.is_bool() {
            line("from numbers", "nonzero (NaN included) is true".into());
        } else {
            line(
                "from float",
                "truncate toward zero, saturate to [min, max], NaN -> 0".into(),
            );
            line("from integer", "saturate to [min, max]".into());
        }
        return s;
    };
    line("kind", "float".into());
    line("signed", yes(f.signed).into());
    line("exponent bits", f.exp_bits.to_string());
    line("mantissa bits", f.man_bits.to_string());
    line("bias", f.bias.to_string());
    line("min", format_exact(dt.min_finite()));
    line("max", format_exact(dt.max_finite()));
    line(
        "smallest subnormal",
        dt.smallest_subnormal().map_or("none".into(), format_exact),
    );
    line(
        "smallest normal",
        dt.smallest_normal().map_or("none".into(), format_exact),
    );
    line(
        "zero",
        if f.subnormals {
            "yes (+0 and -0)".into()
        } else {
            "no".to_string()
        },
    );
    line(
        "infinities",
        match dt.inf_code() {
            Some(c) => format!(
                "yes ({} and {})",
                hex_code(dt, c),
                hex_code(dt, c | 1 << (dt.bits() - 1))
            ),
            None => "no".into(),
        },
    );
    line("nan", nan_codes(dt));
    line("rounding", "to nearest, ties to even".into());
    line(
        "overflow",
        match (dt.saturates(), dt.has_inf()) {
            (false, _) => "to +-inf (IEEE)".into(),
            (true, true) => "finite values saturate to +-max; +-inf stays +-inf".into(),
            (true, false) if f.signed => "saturate to +-max (+-inf also becomes +-max)".to_string(),
            (true, false) => {
                "saturate to max (+inf also); zero, negatives and -inf become min".into()
            }
        },
    );
    if !dt.has_nan() {
        line("nan input", "becomes +0".into());
    }
    s
}

/// The NaN codes of `dt`, as ranges, with the canonical one.
fn nan_codes(dt: DType) -> String {
    let (f, shift) = match dt.float_format() {
        Some(f) if f.specials != Specials::None => (f, if dt == DType::TF32 { 13 } else { 0 }),
        _ => return "no".into(),
    };
    let h = |c: u64| hex_code(dt, c << shift);
    let mag_bits = f.exp_bits + f.man_bits;
    let signs: &[u64] = if f.signed { &[0, 1] } else { &[0] };
    let ranges: Vec<String> = signs
        .iter()
        .map(|&s| {
            let top = s << mag_bits | mask(mag_bits);
            match f.specials {
                Specials::Ieee => format!(
                    "{}..={}",
                    h(s << mag_bits | mask(f.exp_bits) << f.man_bits | 1),
                    h(top)
                ),
                _ => h(top),
            }
        })
        .collect();
    let low = if shift > 0 {
        " (low 13 bits ignored)"
    } else {
        ""
    };
    format!(
        "yes ({}; canonical {}){low}",
        ranges.join(", "),
        h(f.nan_code().unwrap())
    )
}

/// Every code of `dt` and its exact value, `0xHH VALUE` per line (`tilec dtype NAME --table`).
/// Types of at most 16 bits only.
pub fn table(dt: DType) -> Result<String, ReportError> {
    if dt.bits() > 16 {
        return Err(ReportError::TooWide {
            dtype: dt,
            bits: dt.bits(),
        });
    }
    let mut s = String::new();
    for code in 0..1u64 << dt.bits() {
        writeln!(s, "{} {}", hex_code(dt, code), value_text(dt, code)).unwrap();
    }
    Ok(s)
}

/// The code `input` (a decimal, `inf`, `-inf` or `nan`) rounds to in `dt`, exactly: the decimal
/// itself is rounded, not the nearest f64 to it.
pub fn encode_text(dt: DType, input: &str) -> Result<u64, ReportError> {
    let n = parse_number(input.trim()).map_err(|reason| ReportError::BadValue {
        input: input.to_string(),
        reason,
    })?;
    Ok(if dt.is_bool() {
        n.is_nonzero() as u64
    } else if dt.is_int() {
        encode_int(dt, n.trunc_i128())
    } else {
        let (v, sticky) = n.to_f64();
        encode_near(dt, v, sticky)
    })
}

/// One line per input: `INPUT -> 0xHH VALUE` (`tilec dtype NAME --encode V...`). Fails on the first
/// malformed input.
pub fn encode_values(dt: DType, inputs: &[&str]) -> Result<String, ReportError> {
    let mut s = String::new();
    for input in inputs {
        let code = encode_text(dt, input)?;
        writeln!(
            s,
            "{} -> {} {}",
            input.trim(),
            hex_code(dt, code),
            value_text(dt, code)
        )
        .unwrap();
    }
    Ok(s)
}
