//! The examples in the interpreter against independent f64 references, on random inputs of ragged
//! sizes (not multiples of the tiles); outputs are unbound, so the runtime poisons them.

use crate::root;
use half::f16;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tilec::execute::{run, RunDevice};
use tilec::runtime::args::ScalarValue;
use tilec::runtime::bind::Binding;
use tilec::runtime::host::HostArray;
use tilec::{Define, Options};
use tilec_dtype::DType;

fn kernel(file: &str, name: &str, defines: &[(&str, &str)]) -> tilec::tir::Kernel {
    let options = Options { defines: defines.iter().map(|(n, v)| Define { name: n.to_string(), value: v.to_string() }).collect() };
    let program = tilec::compile_file(&root().join(file), &options).unwrap_or_else(|e| panic!("{}", e.render(false)));
    program.kernels.into_iter().find(|k| k.name == name).expect("kernel")
}

fn array(dtype: DType, shape: &[usize], data: Vec<u8>) -> Binding {
    Binding::Array(HostArray::from_bytes(dtype, shape.to_vec(), data).expect("consistent array"))
}

fn f32s(shape: &[usize], v: &[f32]) -> Binding {
    array(DType::F32, shape, v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

fn f16s(shape: &[usize], v: &[f16]) -> Binding {
    array(DType::F16, shape, v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

fn out(res: &[(String, HostArray)], name: &str) -> Vec<u8> {
    res.iter().find(|(n, _)| n == name).expect("output").1.data.clone()
}

fn as_f32(b: &[u8]) -> Vec<f64> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64).collect()
}

fn as_f16(b: &[u8]) -> Vec<f64> {
    b.chunks_exact(2).map(|c| f16::from_le_bytes(c.try_into().unwrap()).to_f64()).collect()
}

fn random_f16(rng: &mut StdRng, n: usize) -> Vec<f16> {
    (0..n).map(|_| f16::from_f64(rng.random_range(-1.0..1.0))).collect()
}

/// Checks every element: |got - want| <= rel * |want| + abs, and no NaN.
fn close(what: &str, got: &[f64], want: &[f64], rel: f64, abs: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= rel * w.abs() + abs, "{what}: element {i} is {g}, want {w}");
    }
}

/// a [m, k] @ b [k, n] in f64.
fn gemm(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for p in 0..k {
            let x = a[i * k + p];
            for j in 0..n {
                c[i * n + j] += x * b[p * n + j];
            }
        }
    }
    c
}

#[test]
fn softmax_rows() {
    let mut rng = StdRng::seed_from_u64(11);
    for (m, n) in [(37usize, 300usize), (5, 256), (1, 7)] {
        let x: Vec<f32> = (0..m * n).map(|_| rng.random_range(-8.0..8.0)).collect();
        let res = run(&kernel("examples/softmax.tile", "softmax", &[]), vec![("x".into(), f32s(&[m, n], &x))], RunDevice::Cpu).unwrap();
        let mut want = vec![0.0; m * n];
        for i in 0..m {
            let row = &x[i * n..(i + 1) * n];
            let mx = row.iter().fold(f64::MIN, |a, &v| a.max(v as f64));
            let s: f64 = row.iter().map(|&v| (v as f64 - mx).exp()).sum();
            for j in 0..n {
                want[i * n + j] = (row[j] as f64 - mx).exp() / s;
            }
        }
        close(&format!("softmax {m}x{n}"), &as_f32(&out(&res, "y")), &want, 1e-5, 1e-7);
    }
}

#[test]
fn layernorm_and_rmsnorm_rows() {
    let mut rng = StdRng::seed_from_u64(12);
    let (m, n, eps) = (5usize, 777usize, 1e-5f32);
    let x: Vec<f32> = (0..m * n).map(|_| rng.random_range(-3.0..5.0)).collect();
    let w: Vec<f32> = (0..n).map(|_| rng.random_range(0.5..1.5)).collect();
    let b: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let args = |with_b: bool| {
        let mut v = vec![("x".to_string(), f32s(&[m, n], &x)), ("w".into(), f32s(&[n], &w)), ("eps".into(), Binding::Scalar(ScalarValue::Float(eps as f64)))];
        if with_b {
            v.push(("b".into(), f32s(&[n], &b)));
        }
        v
    };
    let ln = out(&run(&kernel("examples/layernorm.tile", "layernorm", &[]), args(true), RunDevice::Cpu).unwrap(), "y");
    let rms = out(&run(&kernel("examples/layernorm.tile", "rmsnorm", &[]), args(false), RunDevice::Cpu).unwrap(), "y");
    let (mut want_ln, mut want_rms) = (vec![0.0; m * n], vec![0.0; m * n]);
    for i in 0..m {
        let row: Vec<f64> = x[i * n..(i + 1) * n].iter().map(|&v| v as f64).collect();
        let mean = row.iter().sum::<f64>() / n as f64;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        let ms = row.iter().map(|v| v * v).sum::<f64>() / n as f64;
        for j in 0..n {
            want_ln[i * n + j] = (row[j] - mean) / (var + eps as f64).sqrt() * w[j] as f64 + b[j] as f64;
            want_rms[i * n + j] = row[j] / (ms + eps as f64).sqrt() * w[j] as f64;
        }
    }
    close("layernorm", &as_f32(&ln), &want_ln, 1e-5, 1e-5);
    close("rmsnorm", &as_f32(&rms), &want_rms, 1e-5, 1e-5);
}

#[test]
fn matmul_f16_plain_and_pipelined() {
    let mut rng = StdRng::seed_from_u64(13);
    let (m, n, k) = (70usize, 65usize, 100usize);
    let a = random_f16(&mut rng, m * k);
    let b = random_f16(&mut rng, k * n);
    let want = gemm(&a.iter().map(|v| v.to_f64()).collect::<Vec<_>>(), &b.iter().map(|v| v.to_f64()).collect::<Vec<_>>(), m, k, n);
    let variants: [&[(&str, &str)]; 3] = [&[], &[("PIPELINED", "true")], &[("PIPELINED", "true"), ("STAGES", "2"), ("BK", "64"), ("BM", "32")]];
    for defines in variants {
        let res = run(&kernel("examples/matmul.tile", "matmul", defines), vec![("a".into(), f16s(&[m, k], &a)), ("b".into(), f16s(&[k, n], &b))], RunDevice::Cpu).unwrap();
        // One f16 rounding of an f32-accumulated result: half an ulp of f16 plus accumulation error.
        close(&format!("matmul {defines:?}"), &as_f16(&out(&res, "c")), &want, 1.0 / 1024.0, 1e-3);
    }
}

/// Random weight codes of `dt`, packed, and their values (codes of small floats decoded).
fn low_bit_weights(rng: &mut StdRng, dt: DType, count: usize) -> (Vec<u8>, Vec<f64>) {
    let codes: Vec<u64> = (0..count).map(|_| rng.random_range(0..(1u64 << dt.bits()))).collect();
    let values = codes.iter().map(|&c| if dt.is_float() { tilec_dtype::decode(dt, c) } else { tilec_dtype::decode_int(dt, c) as f64 }).collect();
    (tilec_dtype::pack::pack(dt.bits(), &codes), values)
}

#[test]
fn matmul_a16wx_for_u4_and_f6e3m2_weights() {
    let mut rng = StdRng::seed_from_u64(14);
    let (m, n, k) = (19usize, 70usize, 96usize);
    for (wt, zero, g) in [("u4", 8, 32usize), ("u4", 8, 16), ("f6e3m2", 0, 32), ("i3", 0, 64)] {
        let dt: DType = wt.parse().unwrap();
        let a = random_f16(&mut rng, m * k);
        let (packed, q) = low_bit_weights(&mut rng, dt, k * n);
        let kg = k.div_ceil(g);
        let s: Vec<f16> = (0..kg * n).map(|_| f16::from_f64(rng.random_range(0.01..0.2))).collect();
        // The kernel's dequantisation, independently: (q - zero) exactly in f16, times the scale, rounded to f16.
        let w: Vec<f64> = (0..k * n).map(|i| f16::from_f64((q[i] - zero as f64) * s[(i / n) / g * n + i % n].to_f64()).to_f64()).collect();
        let want = gemm(&a.iter().map(|v| v.to_f64()).collect::<Vec<_>>(), &w, m, k, n);
        let kern = kernel("examples/matmul_a16wx.tile", "matmul_a16wx", &[("WT", wt), ("ZERO", &zero.to_string()), ("G", &g.to_string())]);
        let args = vec![("a".into(), f16s(&[m, k], &a)), ("w".into(), array(dt, &[k, n], packed)), ("s".into(), f16s(&[kg, n], &s))];
        let res = run(&kern, args, RunDevice::Cpu).unwrap();
        close(&format!("a16w {wt} G={g}"), &as_f16(&out(&res, "c")), &want, 1.0 / 1024.0, 2e-3);
    }
}

#[test]
fn weight_relayout_tiles_are_contiguous_copies() {
    let mut rng = StdRng::seed_from_u64(15);
    let (k, n, bk, bn) = (64usize, 128usize, 32usize, 64usize);
    let dt = DType::Int { bits: 4, signed: false };
    let (packed, q) = low_bit_weights(&mut rng, dt, k * n);
    let kern = kernel("stdlib/lowbit.tile", "relayout", &[]);
    let args = vec![("w".into(), array(dt, &[k, n], packed)), ("KB".into(), Binding::Scalar(ScalarValue::Int(2))), ("NB".into(), Binding::Scalar(ScalarValue::Int(2)))];
    let res = run(&kern, args, RunDevice::Cpu).unwrap();
    let wt = tilec_dtype::pack::unpack(4, &out(&res, "wt"), k * n).unwrap();
    for (idx, &code) in wt.iter().enumerate() {
        let (nb, rest) = (idx / (k / bk * bk * bn), idx % (k / bk * bk * bn));
        let (kb, rest) = (rest / (bk * bn), rest % (bk * bn));
        let (i, j) = (rest / bn, rest % bn);
        assert_eq!(code as f64, q[(kb * bk + i) * n + nb * bn + j], "tile ({nb}, {kb}) element ({i}, {j})");
    }
}

#[test]
fn flash_attention_causal_and_not() {
    let mut rng = StdRng::seed_from_u64(16);
    let (s_len, t_len, d) = (37usize, 45usize, 64usize);
    let q = random_f16(&mut rng, s_len * d);
    let kk = random_f16(&mut rng, t_len * d);
    let v = random_f16(&mut rng, t_len * d);
    let scale = 0.125f64;
    for causal in [false, true] {
        let mut want = vec![0.0; s_len * d];
        for i in 0..s_len {
            let limit = if causal { (i + 1).min(t_len) } else { t_len };
            let scores: Vec<f64> = (0..limit).map(|j| (0..d).map(|c| q[i * d + c].to_f64() * kk[j * d + c].to_f64()).sum::<f64>() * scale).collect();
            let mx = scores.iter().cloned().fold(f64::MIN, f64::max);
            let e: Vec<f64> = scores.iter().map(|s| (s - mx).exp()).collect();
            let z: f64 = e.iter().sum();
            for c in 0..d {
                want[i * d + c] = (0..limit).map(|j| e[j] * v[j * d + c].to_f64()).sum::<f64>() / z;
            }
        }
        let kern = kernel("examples/attention.tile", "attention", &[("CAUSAL", if causal { "true" } else { "false" })]);
        let args = vec![
            ("q".into(), f16s(&[s_len, d], &q)),
            ("k".into(), f16s(&[t_len, d], &kk)),
            ("v".into(), f16s(&[t_len, d], &v)),
            ("scale".into(), Binding::Scalar(ScalarValue::Float(scale))),
        ];
        let res = run(&kern, args, RunDevice::Cpu).unwrap();
        // p is rounded to f16 before the p @ v product, as on tensor cores: about 1e-3 relative.
        close(&format!("attention causal={causal}"), &as_f16(&out(&res, "o")), &want, 5e-3, 2e-3);
    }
}
