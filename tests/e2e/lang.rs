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
    for f in ["control", "imports"] {
        let out = crate::tilec(&["build", &format!("tests/lang/{f}.tile"), "--emit", "tir"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        insta::assert_snapshot!(format!("lang__{f}.tir"), String::from_utf8(out.stdout).unwrap());
    }
}
