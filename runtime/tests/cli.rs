//! The `tile-run` command: help, usage errors (exit 2) and one-line runtime errors (exit 1).

use std::path::Path;
use std::process::{Command, Output};

const MANIFEST: &str = r#"{ "format": 1, "kernel": "vector_add", "target": "sm_90", "code": "ptx",
  "params": [ {"name": "a", "kind": "tensor", "dtype": "f32", "shape": ["N"]},
              {"name": "c", "kind": "tensor", "dtype": "f32", "shape": ["N"]},
              {"name": "alpha", "kind": "scalar", "dtype": "f32"} ],
  "dims": ["N"], "grid": ["cdiv(N, 128)", 1, 1], "block": [128, 1, 1] }"#;

fn tile_run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tile-run")).current_dir(dir).args(args).output().unwrap()
}

/// The one stderr line of a failed run, after checking exit code 1 and that nothing panicked.
fn one_line_error(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err.trim_end().to_string()
}

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.json"), MANIFEST).unwrap();
    std::fs::write(dir.path().join("k.ptx"), ".version 7.0\n").unwrap();
    let a = tile_runtime::HostArray { dtype: tile_runtime::DType::F32, shape: vec![4], data: vec![0; 16] };
    a.to_npy(dir.path().join("a.npy")).unwrap();
    let d = tile_runtime::HostArray { dtype: tile_runtime::DType::F64, shape: vec![4], data: vec![0; 32] };
    d.to_npy(dir.path().join("d.npy")).unwrap();
    dir
}

#[test]
fn help_explains_with_an_example() {
    let out = tile_run(Path::new("."), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["NAME=FILE.npy", "--out", "--time", "--device", "Example:", "0xFF"] {
        assert!(text.contains(needle), "missing {needle}: {text}");
    }
}

#[test]
fn usage_errors_exit_with_2() {
    assert_eq!(tile_run(Path::new("."), &[]).status.code(), Some(2));
    assert_eq!(tile_run(Path::new("."), &["k.json", "--device", "metal"]).status.code(), Some(2));
    assert_eq!(tile_run(Path::new("."), &["k.json", "--time", "0"]).status.code(), Some(2));
}

#[test]
fn runtime_errors_are_one_line_with_exit_1() {
    let dir = fixture();
    let d = dir.path();
    let e = one_line_error(&tile_run(d, &["missing.json"]));
    assert!(e.starts_with("error: cannot read manifest `missing.json`"), "{e}");
    let e = one_line_error(&tile_run(d, &["k.json", "a=a.npy", "alpha=2", "--code", "nope.ptx"]));
    assert!(e.starts_with("error: cannot read kernel code `nope.ptx`"), "{e}");
    let e = one_line_error(&tile_run(d, &["k.json", "a"]));
    assert_eq!(e, "error: argument `a` is not of the form NAME=VALUE");
    let e = one_line_error(&tile_run(d, &["k.json", "a=d.npy", "alpha=2"]));
    assert_eq!(e, "error: `d.npy` holds float64 but parameter `a` is f32");
    let e = one_line_error(&tile_run(d, &["k.json", "a=missing.npy", "alpha=2"]));
    assert!(e.starts_with("error: cannot read `missing.npy`"), "{e}");
    let e = one_line_error(&tile_run(d, &["k.json", "a=a.npy", "alpha=x"]));
    assert_eq!(e, "error: bad value for `alpha`: `x` is not a number, `true`/`false` or a 0x bit pattern");
    let e = one_line_error(&tile_run(d, &["k.json", "a=a.npy", "alpha=1", "--out", "alpha=o.npy"]));
    assert_eq!(e, "error: --out alpha: `alpha` is a scalar, not a tensor");
    let e = one_line_error(&tile_run(d, &["k.json", "a=a.npy", "alpha=1", "zeta=3"]));
    assert!(e.starts_with("error: `zeta` is neither a parameter nor a dim"), "{e}");
    let e = one_line_error(&tile_run(d, &["k.json", "a=a.npy", "alpha=1", "--device", "hip"]));
    assert_eq!(e, "error: cannot run ptx code on a HIP device");
}

#[test]
fn without_a_driver_the_run_fails_cleanly() {
    if tile_runtime::cuda::driver_present() {
        return;
    }
    let dir = fixture();
    let e = one_line_error(&tile_run(dir.path(), &["k.json", "a=a.npy", "alpha=2", "--out", "c=c.npy"]));
    assert!(e.starts_with("error: no CUDA driver (libcuda.so) found on this machine; use --device cpu"), "{e}");
    let mut hip = serde_json::from_str::<serde_json::Value>(MANIFEST).unwrap();
    hip["code"] = "hsaco".into();
    std::fs::write(dir.path().join("h.json"), hip.to_string()).unwrap();
    std::fs::write(dir.path().join("h.hsaco"), b"\x7fELF").unwrap();
    let e = one_line_error(&tile_run(dir.path(), &["h.json", "a=a.npy", "alpha=2", "--device", "hip"]));
    assert!(e.starts_with("error: no HIP runtime (libamdhip64.so) found on this machine"), "{e}");
}
