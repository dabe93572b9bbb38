//! Every kind of bad input ends in a clear message (with a source span where there is one) and a
//! non-zero exit, never a panic. The messages are snapshots: review a change as you would code.

use crate::tilec;
use tilec::runtime::host::HostArray;
use tilec_dtype::DType;

/// Runs tilec; returns "exit: CODE" and its standard error, with `tmp` replaced by `<tmp>`.
fn fails(args: &[&str], tmp: &str) -> String {
    let out = tilec(args);
    let stderr = String::from_utf8_lossy(&out.stderr).replace(tmp, "<tmp>");
    assert!(!stderr.contains("panicked"), "tilec panicked on {args:?}:\n{stderr}");
    let code = out.status.code().expect("exited, not killed");
    assert_ne!(code, 0, "tilec {args:?} succeeded but should fail:\n{stderr}");
    format!("exit: {code}\n{stderr}")
}

const SOURCES: &[&str] = &[
    "syntax_error",
    "lex_error",
    "unknown_name",
    "shape_mismatch",
    "dtype_mismatch",
    "store_dtype",
    "global_arith",
    "unknown_function",
    "unknown_dtype",
    "assign_undeclared",
    "bad_attributes",
    "missing_const",
    "duplicate_param",
    "view_rank",
    "several_errors",
    "recursion",
    "import_missing",
    "module_function_missing",
    "control_misuse",
    "function_misuse",
    "bad_tune",
    "empty_tune",
    "shared_budget",
    "hints_and_masks",
    "bad_strides",
    "bad_layouts",
];

#[test]
fn source_errors() {
    for name in SOURCES {
        let file = format!("tests/bad/{name}.tile");
        insta::assert_snapshot!(format!("source__{name}"), fails(&["check", &file], "\0"));
    }
}

#[test]
fn backend_limitation_points_at_the_source() {
    let text = fails(&["build", "tests/bad/gpu_unsupported.tile", "--target", "sm_90", "--emit", "ptx", "--codegen", "direct"], "\0");
    insta::assert_snapshot!("backend__gpu_unsupported", text);
}

/// `--codegen thread` on a kernel the lowering refuses: the lowering's own diagnostic, at its source.
#[test]
fn thread_codegen_refusal_points_at_the_source() {
    let text = fails(&["build", "tests/bad/packed_masked_store.tile", "--target", "sm_90", "--emit", "ptx", "--codegen", "thread"], "\0");
    insta::assert_snapshot!("backend__thread_codegen_refused", text);
}

#[test]
fn command_line_errors() {
    let v = "examples/vector_add.tile";
    let cases: &[(&str, &[&str])] = &[
        ("define_bad_value", &["build", v, "--emit", "tir", "-D", "BLOCK=abc"]),
        ("define_unknown_name", &["build", v, "--emit", "tir", "-D", "BLOKC=64"]),
        ("define_malformed", &["build", v, "--emit", "tir", "-D", "BLOCK"]),
        ("define_wrong_kind", &["build", v, "--emit", "tir", "-D", "BLOCK=true"]),
        ("unsupported_target", &["build", v, "--target", "sm_70"]),
        ("emit_ptx_for_amd", &["build", v, "--target", "gfx942", "--emit", "ptx"]),
        ("missing_file", &["check", "examples/no_such_kernel.tile"]),
        ("unknown_emit", &["build", v, "--emit", "sass"]),
        ("dtype_unknown", &["dtype", "f9e1m1"]),
        ("dtype_table_too_wide", &["dtype", "f32", "--table"]),
        ("dtype_bad_encode_value", &["dtype", "f8e5m2", "--encode", "1.5", "one"]),
        ("pack_missing_file", &["pack", "--dtype", "u3", "no_such.npy", "out.npy"]),
        ("unpack_needs_shape", &["unpack", "--dtype", "u3", "a.npy", "b.npy"]),
    ];
    for (name, args) in cases {
        insta::assert_snapshot!(format!("cli__{name}"), fails(args, "\0"));
    }
}

#[test]
fn run_argument_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tmp = dir.path().to_str().expect("utf-8 temp path").to_string();
    let p = |f: &str| format!("{tmp}/{f}");
    let f32s = |n: usize| HostArray::from_bytes(DType::F32, vec![n], vec![0x3f; 4 * n]).unwrap();
    f32s(10).to_npy(p("a10.npy")).unwrap();
    f32s(11).to_npy(p("b11.npy")).unwrap();
    HostArray::from_bytes(DType::F64, vec![10], vec![0; 80]).unwrap().to_npy(p("f64.npy")).unwrap();
    HostArray::from_bytes(DType::F32, vec![2, 5], vec![0; 40]).unwrap().to_npy(p("two_d.npy")).unwrap();
    std::fs::write(p("junk.npy"), b"this is not an npy file").unwrap();
    let v = "examples/vector_add.tile";
    let (a, b) = (format!("a={}", p("a10.npy")), format!("b={}", p("b11.npy")));
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("unknown_kernel", vec!["run".into(), v.into(), "--kernel".into(), "matmul".into(), a.clone()]),
        ("missing_argument", vec!["run".into(), v.into(), "--device".into(), "cpu".into(), a.clone()]),
        ("unknown_argument", vec!["run".into(), v.into(), "--device".into(), "cpu".into(), a.clone(), a.replace("a=", "b="), "x=3".into()]),
        ("npy_wrong_dtype", vec!["run".into(), v.into(), "--device".into(), "cpu".into(), format!("a={}", p("f64.npy")), a.replace("a=", "b=")]),
        ("npy_wrong_rank", vec!["run".into(), v.into(), "--device".into(), "cpu".into(), format!("a={}", p("two_d.npy")), a.replace("a=", "b=")]),
        ("dim_bound_twice", vec!["run".into(), v.into(), "--device".into(), "cpu".into(), a.clone(), b.clone()]),
        ("not_an_npy_file", vec!["run".into(), v.into(), "--device".into(), "cpu".into(), format!("a={}", p("junk.npy")), b.clone()]),
        ("npy_file_missing", vec!["run".into(), v.into(), "--device".into(), "cpu".into(), format!("a={}", p("nothing.npy")), b.clone()]),
        ("bad_scalar", vec!["run".into(), "tests/kernels/axpy_f16.tile".into(), "--device".into(), "cpu".into(), "alpha=fast".into(), a.replace("a=", "x="), a.replace("a=", "y=")]),
        ("unknown_output", vec!["run".into(), v.into(), "--device".into(), "cpu".into(), a.clone(), a.replace("a=", "b="), "--out".into(), format!("z={}", p("z.npy"))]),
        ("malformed_binding", vec!["run".into(), v.into(), "--device".into(), "cpu".into(), "a".into()]),
    ];
    for (name, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        insta::assert_snapshot!(format!("run__{name}"), fails(&args, &tmp));
    }
}
