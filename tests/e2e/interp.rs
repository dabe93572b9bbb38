//! The tile interpreter against independent references, on random inputs of ragged sizes (not
//! multiples of the tiles), with outputs left unbound so the runtime poisons them (0xFF bytes: NaN for
//! floats) and an unwritten element cannot pass.

use crate::root;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
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

fn array<T: Copy>(dtype: DType, shape: &[usize], v: &[T], to_le: impl Fn(T) -> Vec<u8>) -> Binding {
    let data: Vec<u8> = v.iter().flat_map(|x| to_le(*x)).collect();
    Binding::Array(HostArray::from_bytes(dtype, shape.to_vec(), data).expect("consistent array"))
}

fn f32s(shape: &[usize], v: &[f32]) -> Binding {
    array(DType::F32, shape, v, |x| x.to_le_bytes().to_vec())
}

fn i32s(shape: &[usize], v: &[i32]) -> Binding {
    array(DType::I32, shape, v, |x| x.to_le_bytes().to_vec())
}

fn output(results: &[(String, HostArray)], name: &str) -> Vec<u8> {
    results.iter().find(|(n, _)| n == name).expect("output present").1.data.clone()
}

fn as_f32(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

fn as_i32(bytes: &[u8]) -> Vec<i32> {
    bytes.chunks_exact(4).map(|c| i32::from_le_bytes(c.try_into().unwrap())).collect()
}

#[test]
fn vector_add_matches_the_reference_for_ragged_sizes_and_blocks() {
    let mut rng = StdRng::seed_from_u64(1);
    for block in ["64", "1000", "1024"] {
        let k = kernel("examples/vector_add.tile", &[("BLOCK", block)]);
        for n in [1usize, 7, 1023, 1025, 100_003] {
            let a: Vec<f32> = (0..n).map(|_| rng.random_range(-1e3..1e3)).collect();
            let b: Vec<f32> = (0..n).map(|_| rng.random_range(-1e3..1e3)).collect();
            let res = run(&k, vec![("a".into(), f32s(&[n], &a)), ("b".into(), f32s(&[n], &b))], RunDevice::Cpu).expect("runs");
            let c = as_f32(&output(&res, "c"));
            for i in 0..n {
                // The f32 sum is the f64 sum rounded once to f32.
                let want = (a[i] as f64 + b[i] as f64) as f32;
                assert_eq!(c[i].to_bits(), want.to_bits(), "BLOCK={block} N={n} i={i}");
            }
        }
    }
}

#[test]
fn loop_carried_accumulation_matches_a_f64_reference() {
    let mut rng = StdRng::seed_from_u64(2);
    for (bm, bk) in [("16", "32"), ("8", "5")] {
        let k = kernel("tests/kernels/fold_columns.tile", &[("BM", bm), ("BK", bk)]);
        let bk: usize = bk.parse().unwrap();
        for (m, kk) in [(37usize, 101usize), (1, 1), (16, 64)] {
            let x: Vec<f32> = (0..m * kk).map(|_| rng.random_range(-1.0..1.0)).collect();
            let res = run(&k, vec![("x".into(), f32s(&[m, kk], &x))], RunDevice::Cpu).expect("runs");
            let y = as_f32(&output(&res, "y"));
            assert_eq!(y.len(), m * bk);
            for i in 0..m {
                for j in 0..bk {
                    let exact: f64 = (j..kk).step_by(bk).map(|c| x[i * kk + c] as f64).sum();
                    let got = y[i * bk + j] as f64;
                    assert!((got - exact).abs() <= 1e-5 * (1.0 + exact.abs()), "M={m} K={kk} ({i},{j}): {got} vs {exact}");
                }
            }
        }
    }
}

#[test]
fn scalar_parameters_and_f16_cast_round_like_the_half_crate() {
    let mut rng = StdRng::seed_from_u64(3);
    let k = kernel("tests/kernels/axpy_f16.tile", &[]);
    let n = 4099;
    let alpha: f32 = 1.75;
    let x: Vec<f32> = (0..n).map(|_| rng.random_range(-7e4..7e4)).collect();
    let y: Vec<f32> = (0..n).map(|_| rng.random_range(-10.0..10.0)).collect();
    let res = run(
        &k,
        vec![("alpha".into(), Binding::Scalar(ScalarValue::Float(alpha as f64))), ("x".into(), f32s(&[n], &x)), ("y".into(), f32s(&[n], &y))],
        RunDevice::Cpu,
    )
    .expect("runs");
    let out = output(&res, "out");
    for i in 0..n {
        let r = alpha * x[i] + y[i] * 0.5;
        let want = half::f16::from_f32(r).to_bits();
        let got = u16::from_le_bytes([out[2 * i], out[2 * i + 1]]);
        assert_eq!(got, want, "i={i}: {r}");
    }
}

#[test]
fn integer_operations_have_total_semantics() {
    let mut rng = StdRng::seed_from_u64(4);
    let k = kernel("tests/kernels/int_ops.tile", &[]);
    let n = 1000;
    let mut a: Vec<i32> = (0..n).map(|_| rng.random()).collect();
    let mut b: Vec<i32> = (0..n).map(|_| rng.random_range(-300..300)).collect();
    (a[0], b[0], a[1], b[1], b[2], b[3]) = (i32::MIN, -1, 7, 0, 0, -1);
    let res = run(&k, vec![("a".into(), i32s(&[n], &a)), ("b".into(), i32s(&[n], &b))], RunDevice::Cpu).expect("runs");
    let (q, r, d) = (as_i32(&output(&res, "q")), as_i32(&output(&res, "r")), as_i32(&output(&res, "d")));
    let narrow = output(&res, "n");
    for i in 0..n {
        let (x, y) = (a[i], b[i]);
        let (wq, wr) = if y == 0 { (-1, x) } else { (x.wrapping_div(y), x.wrapping_rem(y)) };
        assert_eq!((q[i], r[i]), (wq, wr), "{x} / {y}");
        assert_eq!(d[i], x.max(y).wrapping_sub(x.min(y)));
        assert_eq!(narrow[i] as i8, x.clamp(-128, 127) as i8, "saturating cast of {x}");
    }
}

#[test]
fn masked_loads_and_stores() {
    let mut rng = StdRng::seed_from_u64(5);
    let k = kernel("tests/kernels/masked.tile", &[]);
    let n = 300;
    let x: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let res = run(&k, vec![("x".into(), f32s(&[n], &x))], RunDevice::Cpu).expect("runs");
    let (y, z) = (as_f32(&output(&res, "y")), output(&res, "z"));
    for i in 0..n {
        assert_eq!(y[i], if x[i] > 0.0 { x[i] } else { -1.0 }, "y[{i}]");
        let zi = f32::from_le_bytes(z[4 * i..4 * i + 4].try_into().unwrap());
        // z is an unbound output: the runtime poisoned it with 0xFF bytes, which odd elements keep.
        if i % 2 == 0 {
            assert_eq!(zi, x[i], "z[{i}]");
        } else {
            assert_eq!(z[4 * i..4 * i + 4], [0xFF; 4], "z[{i}] must stay unwritten");
        }
    }
}

#[test]
fn strided_tensors_read_and_write_views_of_larger_buffers() {
    let k = kernel("tests/kernels/strided.tile", &[]);
    let (m, n, lda, ldb) = (37usize, 45usize, 64usize, 40usize);
    let a: Vec<f32> = (0..m * lda).map(|i| i as f32).collect();
    let scalar = |v: usize| Binding::Scalar(tilec::runtime::args::ScalarValue::Int(v as i128));
    let args = vec![
        ("a".into(), f32s(&[m, lda], &a)),
        ("M".into(), scalar(m)),
        ("N".into(), scalar(n)),
        ("LDA".into(), scalar(lda)),
        ("LDB".into(), scalar(ldb)),
    ];
    let res = run(&k, args, RunDevice::Cpu).expect("runs");
    let b = output(&res, "b");
    // The output's storage reaches element (m - 1) + (n - 1) * ldb; everything a view covers is written.
    assert_eq!(b.len(), 4 * ((m - 1) + (n - 1) * ldb + 1));
    for i in 0..m {
        for j in 0..n {
            let got = f32::from_le_bytes(b[4 * (i + j * ldb)..4 * (i + j * ldb) + 4].try_into().unwrap());
            assert_eq!(got, a[i * lda + j], "({i}, {j})");
        }
    }
}

#[test]
fn inputs_read_only_inside_control_flow_or_copies_are_required() {
    // `b` is read only through copy_async in the pipelined matmul; leaving it out must be an error,
    // not a run on poisoned memory.
    let k = kernel("examples/matmul.tile", &[("PIPELINED", "true")]);
    let a = array(DType::F16, &[4, 4], &[0u16; 16], |x| x.to_le_bytes().to_vec());
    let n = Binding::Scalar(tilec::runtime::args::ScalarValue::Int(4));
    let err = run(&k, vec![("a".into(), a), ("N".into(), n)], RunDevice::Cpu).expect_err("b is missing");
    assert!(err.to_string().contains("reads `b`"), "{err}");
}
