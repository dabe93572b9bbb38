//! End-to-end runs of hand-written PTX through `run_artifact`. Without a CUDA driver they check
//! the clear `NoCudaDriver` error instead; with one they check results, the ABI's scalar widths,
//! output poisoning and event timing.

use tile_runtime::cuda::{self, CudaDevice};
use tile_runtime::timing::LaunchDims;
use tile_runtime::{run_artifact, run_artifact_timed, Binding, CodeKind, DType, Device, HostArray, Manifest, RuntimeError, ScalarValue, TimingRequest};

/// `c[i] = alpha * a[i] + b[i]` for `i < N`; ABI: a, b, c pointers, alpha f32, N i64.
/// `probe` stores each by-value scalar (i8, f16 bits, f64 bits, i32, bool) and the dim N into
/// `out[0..6]` as 64-bit values and leaves `out[6]` unwritten.
pub const PTX: &str = r#"
.version 7.0
.target sm_52
.address_size 64

.visible .entry vector_add(.param .u64 p_a, .param .u64 p_b, .param .u64 p_c, .param .f32 p_alpha, .param .s64 p_n)
{
    .reg .pred %p<2>;
    .reg .b32 %r<4>;
    .reg .f32 %f<5>;
    .reg .b64 %rd<12>;
    ld.param.u64 %rd1, [p_a];
    ld.param.u64 %rd2, [p_b];
    ld.param.u64 %rd3, [p_c];
    ld.param.f32 %f1, [p_alpha];
    ld.param.s64 %rd4, [p_n];
    mov.u32 %r1, %ctaid.x;
    mov.u32 %r2, %ntid.x;
    mov.u32 %r3, %tid.x;
    mul.wide.u32 %rd5, %r1, %r2;
    cvt.u64.u32 %rd6, %r3;
    add.s64 %rd5, %rd5, %rd6;
    setp.ge.s64 %p1, %rd5, %rd4;
    @%p1 bra DONE;
    shl.b64 %rd7, %rd5, 2;
    cvta.to.global.u64 %rd1, %rd1;
    cvta.to.global.u64 %rd2, %rd2;
    cvta.to.global.u64 %rd3, %rd3;
    add.s64 %rd8, %rd1, %rd7;
    add.s64 %rd9, %rd2, %rd7;
    add.s64 %rd10, %rd3, %rd7;
    ld.global.f32 %f2, [%rd8];
    ld.global.f32 %f3, [%rd9];
    fma.rn.f32 %f4, %f1, %f2, %f3;
    st.global.f32 [%rd10], %f4;
DONE:
    ret;
}

.visible .entry probe(.param .u64 p_out, .param .s8 p_x, .param .b16 p_h, .param .f64 p_d, .param .s32 p_k, .param .u8 p_flag, .param .s64 p_n)
{
    .reg .b16 %rs<3>;
    .reg .b32 %r<2>;
    .reg .b64 %rd<10>;
    .reg .f64 %fd<2>;
    ld.param.u64 %rd1, [p_out];
    cvta.to.global.u64 %rd1, %rd1;
    ld.param.s8 %rs1, [p_x];
    cvt.s64.s16 %rd2, %rs1;
    st.global.u64 [%rd1], %rd2;
    ld.param.b16 %rs2, [p_h];
    cvt.u64.u16 %rd3, %rs2;
    st.global.u64 [%rd1+8], %rd3;
    ld.param.f64 %fd1, [p_d];
    mov.b64 %rd4, %fd1;
    st.global.u64 [%rd1+16], %rd4;
    ld.param.s32 %r1, [p_k];
    cvt.s64.s32 %rd5, %r1;
    st.global.u64 [%rd1+24], %rd5;
    ld.param.u8 %rs1, [p_flag];
    cvt.u64.u16 %rd6, %rs1;
    st.global.u64 [%rd1+32], %rd6;
    ld.param.s64 %rd7, [p_n];
    st.global.u64 [%rd1+40], %rd7;
    ret;
}
"#;

pub const VECTOR_ADD: &str = r#"{ "format": 1, "kernel": "vector_add", "target": "sm_52", "code": "ptx",
  "params": [ {"name": "a", "kind": "tensor", "dtype": "f32", "shape": ["N"]},
              {"name": "b", "kind": "tensor", "dtype": "f32", "shape": ["N"]},
              {"name": "c", "kind": "tensor", "dtype": "f32", "shape": ["N"]},
              {"name": "alpha", "kind": "scalar", "dtype": "f32"} ],
  "dims": ["N"], "grid": ["cdiv(N, 128)", 1, 1], "block": [128, 1, 1], "shared_bytes": 0 }"#;

pub const PROBE: &str = r#"{ "format": 1, "kernel": "probe", "target": "sm_52", "code": "ptx",
  "params": [ {"name": "out", "kind": "tensor", "dtype": "i64", "shape": ["N"]},
              {"name": "x", "kind": "scalar", "dtype": "i8"},
              {"name": "h", "kind": "scalar", "dtype": "f16"},
              {"name": "d", "kind": "scalar", "dtype": "f64"},
              {"name": "k", "kind": "scalar", "dtype": "i32"},
              {"name": "flag", "kind": "scalar", "dtype": "bool"} ],
  "dims": ["N"], "grid": [1, 1, 1], "block": [1, 1, 1] }"#;

fn f32_array(v: &[f32]) -> HostArray {
    HostArray { dtype: DType::F32, shape: vec![v.len()], data: v.iter().flat_map(|x| x.to_le_bytes()).collect() }
}

fn s(text: &str) -> Binding {
    Binding::Scalar(ScalarValue::parse(text).unwrap())
}

fn vector_add_args(n: usize) -> (Vec<f32>, Vec<f32>, Vec<(String, Binding)>) {
    let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.25 - 7.0).collect();
    let b: Vec<f32> = (0..n).map(|i| 1.0 / (i as f32 + 1.0)).collect();
    let args = vec![
        ("a".to_string(), Binding::Array(f32_array(&a))),
        ("b".to_string(), Binding::Array(f32_array(&b))),
        ("alpha".to_string(), s("1.5")),
    ];
    (a, b, args)
}

#[test]
fn vector_add_runs_or_reports_no_driver() {
    let m = Manifest::from_json(VECTOR_ADD, "vector_add.json").unwrap();
    let n = 1000;
    let (a, b, args) = vector_add_args(n);
    let result = run_artifact(&m, PTX.as_bytes(), args, Device::Cuda(0));
    if !cuda::driver_present() {
        let e = result.unwrap_err();
        assert!(matches!(e, RuntimeError::NoCudaDriver), "{e}");
        assert!(e.to_string().contains("no CUDA driver (libcuda.so) found on this machine; use --device cpu"));
        return;
    }
    let out = result.unwrap();
    let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(out[0].1, f32_array(&a), "inputs come back unchanged");
    let c = &out[2].1;
    assert_eq!((c.dtype, c.shape.clone()), (DType::F32, vec![n]));
    for i in 0..n {
        let got = f32::from_le_bytes(c.data[4 * i..4 * i + 4].try_into().unwrap());
        assert_eq!(got, 1.5f32.mul_add(a[i], b[i]), "c[{i}]");
    }
}

#[test]
fn scalars_are_passed_in_their_natural_width() {
    let m = Manifest::from_json(PROBE, "probe.json").unwrap();
    let args = vec![
        ("N".to_string(), s("7")),
        ("x".to_string(), s("-5")),
        ("h".to_string(), s("1.0")),
        ("d".to_string(), s("0.1")),
        ("k".to_string(), s("-123456")),
        ("flag".to_string(), s("true")),
    ];
    let result = run_artifact(&m, PTX.as_bytes(), args, Device::Cuda(0));
    if !cuda::driver_present() {
        assert!(matches!(result, Err(RuntimeError::NoCudaDriver)));
        return;
    }
    let out = result.unwrap();
    let words: Vec<u64> = out[0].1.data.chunks(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
    assert_eq!(words, vec![-5i64 as u64, 0x3c00, 0.1f64.to_bits(), -123456i64 as u64, 1, 7, u64::MAX]);
}

#[test]
fn events_time_repeated_launches() {
    let m = Manifest::from_json(VECTOR_ADD, "vector_add.json").unwrap();
    let (_, _, args) = vector_add_args(1 << 20);
    let result = run_artifact_timed(&m, PTX.as_bytes(), args, Device::Cuda(0), Some(TimingRequest { warmup: 3, reps: 7 }));
    if !cuda::driver_present() {
        assert!(matches!(result, Err(RuntimeError::NoCudaDriver)));
        return;
    }
    let t = result.unwrap().timing.unwrap();
    assert_eq!(t.samples_ms.len(), 7);
    assert!(t.median_ms() > 0.0 && t.median_ms() < 1000.0, "{t:?}");
}

#[test]
fn driver_errors_carry_the_cuda_error_name() {
    let Ok(dev) = CudaDevice::open(0) else {
        assert!(!cuda::driver_present());
        return;
    };
    let e = dev.load_kernel(b".version 7.0\n.target sm_52\nthis is not ptx", CodeKind::Ptx, "k").err().unwrap();
    assert!(e.to_string().starts_with("CUDA error CUDA_ERROR_INVALID_PTX in cuModuleLoadData"), "{e}");
    let e = dev.load_kernel(PTX.as_bytes(), CodeKind::Ptx, "nope").err().unwrap();
    assert!(e.to_string().starts_with("CUDA error CUDA_ERROR_NOT_FOUND in cuModuleGetFunction (kernel `nope`)"), "{e}");
    let k = dev.load_kernel(PTX.as_bytes(), CodeKind::Ptx, "vector_add").unwrap();
    let dims = LaunchDims { grid: [1, 1, 1], block: [2048, 1, 1], shared_bytes: 0 };
    assert!(matches!(dev.launch(&k, dims, &[]), Err(RuntimeError::InvalidLaunch(_))));
    let e = CudaDevice::open(4096).err().unwrap();
    assert!(e.to_string().starts_with("CUDA device 4096 does not exist"), "{e}");
    let buf = dev.upload(&[1, 2, 3]).unwrap();
    assert_eq!(dev.download(&buf).unwrap(), vec![1, 2, 3]);
    assert_eq!(dev.download(&dev.upload(&[]).unwrap()).unwrap(), Vec::<u8>::new());
}

#[test]
fn hsaco_is_refused_on_cuda_before_touching_a_device() {
    let m = Manifest::from_json(&VECTOR_ADD.replace("\"ptx\"", "\"hsaco\""), "m.json").unwrap();
    let e = run_artifact(&m, b"", vec![], Device::Cuda(0)).unwrap_err();
    assert_eq!(e.to_string(), "cannot run hsaco code on a CUDA device");
    let e = run_artifact(&Manifest::from_json(VECTOR_ADD, "m.json").unwrap(), b"", vec![], Device::Hip(0)).unwrap_err();
    assert_eq!(e.to_string(), "cannot run ptx code on a HIP device");
}
