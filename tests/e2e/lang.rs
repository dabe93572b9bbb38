//! Language constructs in the interpreter: control flow, device functions, imports.

use crate::root;
use tilec::execute::{run, RunDevice};
use tilec::runtime::args::ScalarValue;
use tilec::runtime::bind::Binding;
use tilec::runtime::host::HostArray;
use tilec::{Define, Options};
use tilec_dtype::DType;

fn kernel(file: &str, defines: &[(&str, &str)]) -> tilec::tir::Kernel {
    let options = Options { defines: defines.iter().map(|(n, v)| Define { name: n.to_string(), value: v.to_string() }).collect() };
    let program = tilec::compile_file(&root().join(file), &options).unwrap_or_else(|e| panic!("{}", e.render(false)));
    program.kernels.into_iter().next().expect("one kernel")
}

fn f32_array(v: &[f32]) -> Binding {
    Binding::Array(HostArray::from_bytes(DType::F32, vec![v.len()], v.iter().flat_map(|x| x.to_le_bytes()).collect()).unwrap())
}

fn f32_out(res: &[(String, HostArray)], name: &str) -> Vec<f32> {
    let a = &res.iter().find(|(n, _)| n == name).unwrap().1;
    a.data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn while_break_continue_if_and_functions() {
    let x: Vec<f32> = (0..150).map(|i| (i as f32 - 75.0) * 0.04).collect();
    for (fast, n, iters) in [("false", 5, 4), ("true", 5, 4), ("false", 100, 9), ("false", 0, 0)] {
        let k = kernel("tests/lang/control.tile", &[("FAST", fast)]);
        let res = run(&k, vec![("x".into(), f32_array(&x)), ("n".into(), Binding::Scalar(ScalarValue::Int(n)))], RunDevice::Cpu).unwrap();
        let y = f32_out(&res, "y");
        for (i, (&xi, &yi)) in x.iter().zip(&y).enumerate() {
            // k runs 1..=9 skipping 3 and stops past n: the body adds x (in f32) once per counted k.
            let mut acc = 0.0f32;
            for _ in 0..iters {
                acc += xi;
            }
            acc *= if fast == "true" { 100.0 } else { 2.0 };
            if i < 64 {
                acc += 1000.0;
            }
            let want = acc.max(0.0).clamp(0.0, 5000.0);
            assert_eq!(yi, want, "FAST={fast} n={n} i={i}");
        }
    }
}

#[test]
fn relative_and_std_imports() {
    let k = kernel("tests/lang/imports.tile", &[]);
    let x: Vec<f32> = (0..77).map(|i| i as f32 * 0.1 - 2.0).collect();
    let res = run(&k, vec![("x".into(), f32_array(&x))], RunDevice::Cpu).unwrap();
    let want: Vec<f32> = x.iter().map(|v| (v - 1.5).max(0.0)).collect();
    assert_eq!(f32_out(&res, "y"), want);
}

#[test]
fn language_tile_ir_snapshots() {
    for f in ["control", "imports", "pipeline", "layouts", "threads"] {
        let out = crate::tilec(&["build", &format!("tests/lang/{f}.tile"), "--emit", "tir"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        insta::assert_snapshot!(format!("lang__{f}.tir"), String::from_utf8(out.stdout).unwrap());
    }
}

#[test]
fn double_buffered_shared_memory_pipeline() {
    let (m, kk) = (37usize, 101usize);
    let x: Vec<f32> = (0..m * kk).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
    let arr = Binding::Array(HostArray::from_bytes(DType::F32, vec![m, kk], x.iter().flat_map(|v| v.to_le_bytes()).collect()).unwrap());
    let res = run(&kernel("tests/lang/pipeline.tile", &[]), vec![("x".into(), arr)], RunDevice::Cpu).unwrap();
    let y = f32_out(&res, "y");
    for i in 0..m {
        for j in 0..32 {
            let exact: f64 = (j..kk).step_by(32).map(|c| x[i * kk + c] as f64).sum();
            assert!((y[i * 32 + j] as f64 - exact).abs() < 1e-5, "({i},{j})");
        }
    }
}

#[test]
fn shared_memory_misuse_is_reported_at_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x.npy");
    HostArray::from_bytes(DType::F32, vec![64], vec![0; 256]).unwrap().to_npy(&x).unwrap();
    let xarg = format!("x={}", x.display());
    let x2 = dir.path().join("x2.npy");
    HostArray::from_bytes(DType::F32, vec![20, 70], vec![0; 5600]).unwrap().to_npy(&x2).unwrap();
    let x2arg = format!("x={}", x2.display());
    let cases: [(&str, Vec<&str>); 3] = [
        ("unwritten", vec!["run", "tests/lang/shared_misuse.tile", "--device", "cpu", &xarg]),
        ("out_of_bounds", vec!["run", "tests/lang/shared_misuse.tile", "--device", "cpu", "-D", "MODE=1", &xarg]),
        ("missing_wait", vec!["run", "tests/lang/pipeline.tile", "--device", "cpu", "-D", "WAIT=2", &x2arg]),
    ];
    for (name, args) in cases {
        let out = crate::tilec(&args);
        assert_eq!(out.status.code(), Some(1), "{name}");
        insta::assert_snapshot!(format!("shared__{name}"), String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn thread_ids_follow_the_layout() {
    let res = run(&kernel("tests/lang/threads.tile", &[]), vec![], RunDevice::Cpu).unwrap();
    let ids: Vec<i64> = res[0].1.data.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap())).collect();
    for i in 0..16 {
        for j in 0..16 {
            // spatial(8,4): threads in an 8 x 4 grid, row-major; local(2,4): each holds a 2 x 4 block.
            assert_eq!(ids[i * 16 + j], ((i / 2) * 4 + j / 4) as i64, "({i}, {j})");
        }
    }
    assert_eq!(i64::from_le_bytes(res[1].1.data[..8].try_into().unwrap()), 32);
}
