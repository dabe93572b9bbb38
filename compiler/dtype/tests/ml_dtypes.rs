//! Cross-check against Python's `ml_dtypes` (and numpy's float16): every code's value and the
//! rounding of boundary-probing values, for every format those libraries implement.
//!
//! Needs `python3` with numpy and ml_dtypes importable from `<workspace>/tools/py` (run
//! `bash scripts/setup.sh`). Without them the test fails when the `CI` environment variable is set,
//! and otherwise prints a loud warning and passes.
//!
//! Where our documented rules differ from ml_dtypes the test checks our rule instead (ml_dtypes
//! converts without saturation): a finite input that ml_dtypes turns into inf/NaN must give ±max
//! here; NaN into a finite-only format gives +0 here (ml_dtypes: ±0 by the NaN's sign); e8m0 maps
//! zero, negatives and values below 2^-127 to 2^-127 and values above 2^127 to 2^127 (ml_dtypes: NaN
//! for most of these); every NaN becomes the canonical, positive NaN. Two ml_dtypes quirks are
//! avoided: it converts f64 through f32 (double rounding), so samples are f32 values; and it rounds
//! f32 subnormals in (2^-127, 2^-126) up to 2^-126 in e8m0, where we round to nearest.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use tilec_dtype::*;

mod common;

const SCRIPT: &str = r#"
import sys
import numpy as np
import ml_dtypes
name, nbits = sys.argv[1], int(sys.argv[2])
t = np.float16 if name == "float16" else getattr(ml_dtypes, name)
width = np.uint8 if nbits <= 8 else np.uint16
codes = np.arange(1 << nbits, dtype=np.uint32).astype(width)
vals = codes.view(t).astype(np.float64)
print(" ".join("%x" % x for x in vals.view(np.uint64)))
inp = np.array([int(w, 16) for w in sys.stdin.read().split()], dtype=np.uint64).view(np.float64).astype(np.float32)
with np.errstate(all="ignore"):
    r = inp.astype(t)
print(" ".join("%x" % x for x in r.view(width)))
"#;

fn pythonpath() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/py")
}

fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import numpy, ml_dtypes"])
        .env("PYTHONPATH", pythonpath())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let msg = format!(
            "python3 with numpy and ml_dtypes is not available (PYTHONPATH={}); run `bash scripts/setup.sh`",
            pythonpath().display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("{msg} (required because CI is set)");
        }
        // Written to the stderr handle directly: libtest captures `eprintln!` of passing tests.
        let bar = "!".repeat(80);
        let warning =
            format!("\n{bar}\n!!! WARNING: ml_dtypes cross-check SKIPPED: {msg}\n{bar}\n\n");
        let _ = std::io::stderr().write_all(warning.as_bytes());
    }
    ok
}

/// ml_dtypes' decode table of all codes and its encoding of `samples`.
fn ml(name: &str, nbits: u32, samples: &[f64]) -> (Vec<f64>, Vec<u64>) {
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT, name, &nbits.to_string()])
        .env("PYTHONPATH", pythonpath())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let input: String = samples
        .iter()
        .map(|v| format!("{:x}\n", v.to_bits()))
        .collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "python failed for {name}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let hex = |l: &str| {
        l.split_whitespace()
            .map(|w| u64::from_str_radix(w, 16).unwrap())
            .collect::<Vec<u64>>()
    };
    let table = hex(lines.next().unwrap())
        .into_iter()
        .map(f64::from_bits)
        .collect();
    let codes = hex(lines.next().unwrap_or(""));
    assert_eq!(codes.len(), samples.len());
    (table, codes)
}

/// Values probing every rounding boundary of `dt` (computed from our own table, which is checked
/// against ml_dtypes' table first).
fn samples(dt: DType) -> Vec<f64> {
    let mut vals: Vec<f64> = (0..1u64 << dt.bits())
        .map(|c| decode(dt, c))
        .filter(|v| v.is_finite())
        .collect();
    vals.sort_by(f64::total_cmp);
    vals.dedup_by(|a, b| a.to_bits() == b.to_bits());
    let mut out = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        1e300,
        -1e300,
        1e-300,
        -1e-300,
    ];
    for w in vals.windows(2) {
        let (a, b) = (w[0], w[1]);
        let mid = (a + b) / 2.0;
        let (m32, a32) = (mid as f32, a as f32);
        out.extend([
            a,
            a32.next_up() as f64,
            mid,
            m32.next_up() as f64,
            m32.next_down() as f64,
            a + (b - a) * 0.3,
        ]);
    }
    let (lo, hi) = (vals[0], vals[vals.len() - 1]);
    for x in [lo, hi] {
        out.extend([x * 1.01, x * 1.5, x * 4.0, x / 2.0, x / 3.0]);
    }
    let mut s = 0x2545f4914f6cdd1du64;
    for _ in 0..5000 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let mant = 1.0 + (s >> 11) as f64 / (1u64 << 53) as f64;
        let e = (s % 280) as i32 - 140;
        out.push(if s & 1 == 0 { mant } else { -mant } * 2f64.powi(e));
    }
    // ml_dtypes converts from f64 through f32 (double rounding: 431.99999999999994 becomes 448 in
    // e4m3, not 416), so it is only a reference for f32 inputs; our f64 rounding is checked against
    // the search reference in tests/exhaustive.rs.
    out.into_iter().map(|v| v as f32 as f64).collect()
}

fn check(dt: DType, name: &str) -> usize {
    let samples = samples(dt);
    let (table, codes) = ml(name, dt.bits(), &samples);
    for (code, &want) in table.iter().enumerate() {
        let got = decode(dt, code as u64);
        assert!(
            common::same(got, want),
            "{dt} decode {code:#x}: ours {got}, ml_dtypes {want}"
        );
    }
    let max = dt.float_format().unwrap().max_mag_code();
    for (&v, &mlc) in samples.iter().zip(&codes) {
        let ours = encode(dt, v);
        let mlv = decode(dt, mlc);
        let ctx = format!(
            "{dt}: encode({v:e} = {:#x}) ours {ours:#x} ml_dtypes {mlc:#x}",
            v.to_bits()
        );
        if v.is_nan() {
            assert_eq!(ours, dt.nan_code().unwrap_or(0), "{ctx}");
            assert!(mlv.is_nan() || mlv == 0.0, "{ctx}");
        } else if dt == DType::E8M0 && v > 2f64.powi(-127) && v < 2f64.powi(-126) {
            // ml_dtypes rounds these f32 subnormals up to 2^-126 (1.2 * 2^-127 included); we round
            // to nearest like everywhere else
            assert!(
                common::same(decode(dt, ours), common::ref_round(dt, v)),
                "{ctx}"
            );
        } else if dt == DType::E8M0 && !mlv.is_finite() {
            // out of e8m0's range: ml_dtypes gives NaN, we clamp to the nearest end
            assert_eq!(ours, if v > 1.0 { max } else { 0 }, "{ctx}");
        } else if !(mlv.is_finite() || v.is_infinite() && dt.has_inf()) && dt.saturates() {
            // ml_dtypes overflows to inf/NaN; small floats saturate
            let sign = if v < 0.0 { 1 << (dt.bits() - 1) } else { 0 };
            assert_eq!(ours, sign | max, "{ctx}");
        } else {
            assert_eq!(ours, mlc, "{ctx}");
        }
    }
    table.len() + samples.len()
}

#[test]
fn matches_ml_dtypes() {
    if !python_ready() {
        return;
    }
    let mut total = 0;
    for (dt, name) in [
        ("f8e4m3", "float8_e4m3fn"),
        ("f8e5m2", "float8_e5m2"),
        ("f6e3m2", "float6_e3m2fn"),
        ("f6e2m3", "float6_e2m3fn"),
        ("f4e2m1", "float4_e2m1fn"),
        ("e8m0", "float8_e8m0fnu"),
        ("bf16", "bfloat16"),
        ("f16", "float16"),
    ] {
        total += check(dt.parse().unwrap(), name);
    }
    eprintln!("ml_dtypes cross-check: {total} codes and samples compared");
}
