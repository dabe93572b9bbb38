//! Binding arguments to a manifest: dim inference, checks, output allocation, grid evaluation.

use tile_runtime::bind::{BindError, BoundParam};
use tile_runtime::npy::NpyArray;
use tile_runtime::{Binding, DType, HostArray, KernelArg, Manifest, ScalarValue};

const VECTOR_ADD: &str = r#"{ "format": 1, "kernel": "vector_add", "target": "sm_90", "code": "ptx",
  "params": [ {"name": "a", "kind": "tensor", "dtype": "f32", "shape": ["N"]},
              {"name": "b", "kind": "tensor", "dtype": "f32", "shape": ["N"]},
              {"name": "c", "kind": "tensor", "dtype": "f32", "shape": ["N", 16]},
              {"name": "alpha", "kind": "scalar", "dtype": "f32"} ],
  "dims": ["N"],
  "grid": ["cdiv(N, 1024)", "1", "1"], "block": [128, 1, 1], "shared_bytes": 0 }"#;

fn manifest() -> Manifest {
    Manifest::from_json(VECTOR_ADD, "vector_add.json").unwrap()
}

fn f32s(shape: &[usize]) -> Binding {
    let n: usize = shape.iter().product();
    Binding::Array(HostArray { dtype: DType::F32, shape: shape.to_vec(), data: vec![0; 4 * n] })
}

fn scalar(text: &str) -> Binding {
    Binding::Scalar(ScalarValue::parse(text).unwrap())
}

fn args(list: Vec<(&str, Binding)>) -> Vec<(String, Binding)> {
    list.into_iter().map(|(n, b)| (n.to_string(), b)).collect()
}

#[test]
fn infers_dims_allocates_outputs_and_evaluates_the_grid() {
    let l = manifest().bind(args(vec![("a", f32s(&[3000])), ("b", f32s(&[3000])), ("alpha", scalar("2"))])).unwrap();
    assert_eq!(l.dims, vec![("N".to_string(), 3000)]);
    assert_eq!(l.grid, [3, 1, 1]);
    assert_eq!(l.block, [128, 1, 1]);
    match &l.params[2] {
        BoundParam::Tensor { name, array, allocated } => {
            assert_eq!((name.as_str(), *allocated), ("c", true));
            assert_eq!(array.shape, vec![3000, 16]);
            assert!(array.data.len() == 3000 * 16 * 4 && array.data.iter().all(|&b| b == 0xFF), "outputs are poisoned");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(l.params[3], BoundParam::Scalar { name: "alpha".into(), arg: KernelArg::F32(2.0) });
    let ptrs = [KernelArg::Ptr(1), KernelArg::Ptr(2), KernelArg::Ptr(3)];
    assert_eq!(
        l.kernel_args(&ptrs),
        vec![KernelArg::Ptr(1), KernelArg::Ptr(2), KernelArg::Ptr(3), KernelArg::F32(2.0), KernelArg::I64(3000)]
    );
}

#[test]
fn conflicting_dims_name_both_params_and_sizes() {
    let e = manifest().bind(args(vec![("a", f32s(&[10])), ("b", f32s(&[12])), ("alpha", scalar("1"))])).unwrap_err();
    assert_eq!(e.to_string(), "dim `N` is 10 from `a` (axis 0) but 12 from `b` (axis 0)");
    let e = manifest().bind(args(vec![("N", scalar("4")), ("a", f32s(&[10])), ("alpha", scalar("1"))])).unwrap_err();
    assert_eq!(e.to_string(), "dim `N` is 4 from the command line but 10 from `a` (axis 0)");
}

#[test]
fn ranks_fixed_dims_and_dtypes_are_checked() {
    let m = manifest();
    let e = m.bind(args(vec![("a", f32s(&[2, 5])), ("alpha", scalar("1"))])).unwrap_err();
    assert_eq!(e.to_string(), "parameter `a` has rank 1 (shape [N]) but the array given has shape [2, 5]");
    let e = m.bind(args(vec![("c", f32s(&[4, 8])), ("alpha", scalar("1"))])).unwrap_err();
    assert_eq!(e.to_string(), "parameter `c` needs size 16 on axis 1 but the array given has 8");
    let i32s = Binding::Array(HostArray { dtype: DType::I32, shape: vec![4], data: vec![0; 16] });
    let e = m.bind(args(vec![("a", i32s), ("alpha", scalar("1"))])).unwrap_err();
    assert_eq!(e.to_string(), "parameter `a` is f32 but the array given is i32");
    let npy = Binding::Npy(NpyArray { path: "a.npy".into(), descr: "<f8".into(), shape: vec![4], data: vec![0; 32] });
    let e = m.bind(args(vec![("a", npy), ("alpha", scalar("1"))])).unwrap_err();
    assert_eq!(e.to_string(), "`a.npy` holds float64 but parameter `a` is f32");
}

#[test]
fn missing_unknown_and_misplaced_arguments() {
    let m = manifest();
    let e = m.bind(args(vec![("alpha", scalar("1"))])).unwrap_err();
    assert!(matches!(e, BindError::UnknownDim { .. }));
    assert_eq!(e.to_string(), "cannot infer dim `N` (needed by `a`): no bound tensor has it; give it as N=VALUE");
    let e = m.bind(args(vec![("a", f32s(&[4]))])).unwrap_err();
    assert_eq!(e.to_string(), "scalar parameter `alpha` (f32) has no value; give it as alpha=VALUE");
    let e = m.bind(args(vec![("d", f32s(&[4]))])).unwrap_err();
    assert_eq!(e.to_string(), "`d` is neither a parameter nor a dim of kernel `vector_add` (parameters: `a`, `b`, `c`, `alpha`)");
    let e = m.bind(args(vec![("a", f32s(&[4])), ("a", f32s(&[4]))])).unwrap_err();
    assert_eq!(e.to_string(), "`a` is given twice");
    let e = m.bind(args(vec![("a", scalar("3")), ("alpha", scalar("1"))])).unwrap_err();
    assert!(e.to_string().contains("`a` is a tensor"));
    let e = m.bind(args(vec![("a", f32s(&[4])), ("alpha", f32s(&[1]))])).unwrap_err();
    assert!(e.to_string().contains("`alpha` is a scalar"));
    let e = m.bind(args(vec![("a", f32s(&[4])), ("alpha", scalar("true"))])).unwrap_err();
    assert_eq!(e.to_string(), "bad value for `alpha`: a bool is not a f32");
    let e = m.bind(args(vec![("N", scalar("-1")), ("alpha", scalar("1"))])).unwrap_err();
    assert_eq!(e.to_string(), "dim `N` = -1 is negative");
}

#[test]
fn dims_can_be_given_explicitly_for_output_only_kernels() {
    let l = manifest().bind(args(vec![("N", scalar("2049")), ("alpha", scalar("0.5"))])).unwrap();
    assert_eq!(l.grid, [3, 1, 1]);
    assert!(l.params[..3].iter().all(|p| matches!(p, BoundParam::Tensor { allocated: true, .. })));
}

#[test]
fn empty_tensors_give_an_empty_grid() {
    let l = manifest().bind(args(vec![("a", f32s(&[0])), ("alpha", scalar("1"))])).unwrap();
    assert_eq!(l.grid, [0, 1, 1]);
    assert!(l.launch_dims().is_empty());
}

#[test]
fn packed_npy_inputs_take_their_shape_from_the_dims() {
    let json = r#"{ "format": 1, "kernel": "dequant", "target": "sm_90", "code": "ptx",
      "params": [ {"name": "q", "kind": "tensor", "dtype": "i4", "shape": ["M", "K"]},
                  {"name": "s", "kind": "tensor", "dtype": "f16", "shape": ["M"]},
                  {"name": "y", "kind": "tensor", "dtype": "f16", "shape": ["M", "K"]} ],
      "dims": ["M", "K"], "grid": ["M", "cdiv(K, 64)", "1"], "block": [64, 1, 1] }"#;
    let m = Manifest::from_json(json, "dequant.json").unwrap();
    let s = Binding::Npy(NpyArray { path: "s.npy".into(), descr: "<f2".into(), shape: vec![3], data: vec![0; 6] });
    let q = |n| Binding::Npy(NpyArray { path: "q.npy".into(), descr: "|u1".into(), shape: vec![n], data: vec![0x21; n] });
    let l = m.bind(args(vec![("q", q(8)), ("s", s.clone()), ("K", scalar("5"))])).unwrap();
    assert_eq!(l.grid, [3, 1, 1]);
    match &l.params[0] {
        BoundParam::Tensor { array, .. } => assert_eq!((array.shape.clone(), array.data.len()), (vec![3, 5], 8)),
        other => panic!("{other:?}"),
    }
    let e = m.bind(args(vec![("q", q(7)), ("s", s.clone()), ("K", scalar("5"))])).unwrap_err();
    assert_eq!(e.to_string(), "`q.npy` holds 7 packed bytes but parameter `q` (i4, shape [3, 5]) needs 8");
    let e = m.bind(args(vec![("q", q(8)), ("s", s)])).unwrap_err();
    assert_eq!(e.to_string(), "cannot infer dim `K` (needed by `q`): no bound tensor has it; give it as K=VALUE");
}

#[test]
fn grid_out_of_range_is_an_error() {
    let json = VECTOR_ADD.replace("\"1\", \"1\"]", "\"N\", \"1\"]");
    let m = Manifest::from_json(&json, "m.json").unwrap();
    let e = m.bind(args(vec![("N", scalar("70000")), ("alpha", scalar("1"))])).unwrap_err();
    assert!(e.to_string().starts_with("grid y = `N`: evaluates to 70000, outside 0..=65535"), "{e}");
}
