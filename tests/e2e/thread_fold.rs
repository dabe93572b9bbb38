//! The thread emitter's scalar semantics against the emulator's, without a GPU.
//!
//! Each case applies one op to constant operands and stores the result. MLIR's and LLVM's constant
//! folding evaluate the very instructions the emitter chose (LLVM's `sdiv`, `select`, `fptosi`, the
//! clamps around them, a load from a constant decode table...), so after `-O3` the kernel is a list
//! of constant stores, which must hold the bytes the emulator stores for the same program. Edge
//! cases come first: division by zero, `MIN / -1`, shift amounts at and past the width (and
//! negative), NaN and infinities, saturating and NaN float → integer casts, tf32 rounding, small
//! float decoding, sub-byte fragments.
//!
//! Left out, because constant folding is not the hardware there: `min`/`max` of zeros of opposite
//! sign (PTX orders -0 below +0, LLVM's folding returns the first operand), the `.approx` functions
//! and square roots of negative numbers and infinity (not folded), and operations whose result is a NaN (LLVM folds NaN payloads its own way; PTX and
//! the emulator both give the canonical NaN, which `nan_ok` accepts instead).

use std::collections::HashMap;
use tilec::dtype::{decode, encode, DType};
use tilec::thread::{emulate, ArgValue, BinOp, Builder, CmpOp, Program, Reg, Ty, UnOp};
use tilec::{Stage, Target};

/// One case: a description and the bytes it stores.
struct Case {
    what: String,
    bytes: u32,
}

/// A program of cases; each result goes to its own 8-byte slot of `out`, as unsigned bits.
struct Cases {
    b: Builder,
    out: usize,
    cases: Vec<Case>,
}

impl Cases {
    fn new() -> Cases {
        let mut b = Builder::new("fold");
        let out = b.param_global("out", DType::U8);
        Cases { b, out, cases: Vec::new() }
    }

    fn konst(&mut self, dt: DType, bits: u64) -> Reg {
        self.b.const_bits(Ty::scalar(dt), bits)
    }

    /// A constant the emitter does not see as one (it skips special cases for constant divisors
    /// and shift amounts) but LLVM folds: element 0 of a one-element fragment built from it.
    fn opaque(&mut self, dt: DType, bits: u64) -> Reg {
        let k = self.konst(dt, bits);
        let undef = self.b.undef(Ty::vec(dt, 2));
        let v = self.b.insert(undef, 0, k);
        self.b.extract(v, 0)
    }

    /// Stores `r` (a scalar or fragment) by its bits.
    fn sink(&mut self, r: Reg, what: String) {
        let ty = self.b.ty(r);
        let v = if ty.dtype.is_bool() && ty.is_scalar() {
            let (one, zero) = (self.b.const_bits(Ty::scalar(DType::U8), 1), self.b.const_bits(Ty::scalar(DType::U8), 0));
            self.b.select(r, one, zero)
        } else {
            let unsigned = DType::Int { bits: ty.bits() as u8, signed: false };
            let bits = self.b.bitcast(r, Ty::scalar(unsigned));
            // A sub-byte scalar is stored as a byte: its code, zero-extended.
            if ty.bits() < 8 { self.b.cast(bits, DType::U8) } else { bits }
        };
        let bytes = self.b.ty(v).bits() / 8;
        let at = self.b.i64(self.cases.len() as i64 * 8);
        self.b.store_global(self.out, at, v, None);
        self.cases.push(Case { what, bytes });
    }

    fn finish(self) -> (Program, Vec<Case>) {
        (self.b.finish(), self.cases)
    }
}

fn int_edges(dt: DType) -> Vec<u64> {
    let w = dt.bits();
    let mask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
    let min = if dt.is_signed_int() { 1u64 << (w - 1) } else { 0 };
    let mut v = vec![0, 1, 2, 3, 7, mask, mask - 1, min, min.wrapping_sub(1) & mask, w as u64 - 1, w as u64, w as u64 + 1, 0x5a5a_5a5a_5a5a_5a5a & mask];
    v.dedup();
    v
}

fn float_edges(dt: DType) -> Vec<u64> {
    [0.0, -0.0, 1.0, -1.5, 2.75, 1e-3, 65504.0, 1e30, -7.25e12, f64::INFINITY, f64::NEG_INFINITY, 3.0e-40, 0.3333].iter().map(|&v| encode(dt, v)).collect()
}

/// The stores of the optimised LLVM IR: byte offset into `out` → (width in bits, value bits).
fn constant_stores(ir: &str) -> HashMap<u64, (u32, u64)> {
    let mut geps: HashMap<String, u64> = HashMap::new();
    let mut stores = HashMap::new();
    for line in ir.lines().map(str::trim) {
        // %5 = getelementptr inbounds i8, ptr addrspace(1) %0, i64 16
        if let Some((name, rest)) = line.split_once(" = getelementptr") {
            if let Some(off) = rest.rsplit_once("i64 ").and_then(|(_, o)| o.parse::<u64>().ok()) {
                geps.insert(name.to_string(), off);
            }
            continue;
        }
        // store i32 -1, ptr addrspace(1) %5, align 4   |   store i8 3, ptr addrspace(1) %0, align 1
        let Some(rest) = line.strip_prefix("store i") else { continue };
        let (width, rest) = rest.split_once(' ').expect("store type");
        let width: u32 = width.parse().expect("integer store");
        let (value, rest) = rest.split_once(", ptr addrspace(1) ").expect("global store");
        let ptr = rest.split(',').next().expect("pointer").trim();
        let value: i128 = match value {
            "true" => 1,
            "false" => 0,
            v => v.parse().unwrap_or_else(|_| panic!("a non-constant store `{line}`: not folded")),
        };
        let off = if ptr.starts_with("%0") && !geps.contains_key(ptr) { 0 } else { geps[ptr] };
        let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
        stores.insert(off, (width, (value as u64) & mask));
    }
    stores
}

fn check(cases: Cases, nan_ok: &dyn Fn(&str, u64) -> bool) {
    check_on(cases, nan_ok, Target::Sm90)
}

fn check_on(cases: Cases, nan_ok: &dyn Fn(&str, u64) -> bool, target: Target) {
    let (program, cases) = cases.finish();
    let mut args = vec![ArgValue::zeros(DType::U8, cases.len() * 8)];
    emulate(&program, &mut args, [1, 1, 1], 1).unwrap_or_else(|e| panic!("{e}"));
    let ArgValue::Global { bytes, .. } = &args[0] else { unreachable!() };
    let ir = tilec::generate_thread_program(&program, 32, target, Stage::Llvm).unwrap_or_else(|e| panic!("{e}"));
    let stores = constant_stores(&ir);
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let off = i as u64 * 8;
        let want = bytes[off as usize..off as usize + case.bytes as usize].iter().rev().fold(0u64, |acc, b| acc << 8 | *b as u64);
        match stores.get(&off) {
            Some(&(w, got)) if w == case.bytes * 8 && (got == want || nan_ok(&case.what, got) && nan_ok(&case.what, want)) => {}
            other => failures.push(format!("{}: emulator {want:#x}, GPU code {other:x?}", case.what)),
        }
    }
    assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// Whether `bits` is a NaN of the float type named at the start of `what` (`f32 ...`).
fn is_nan_case(what: &str, bits: u64) -> bool {
    let dt: DType = what.split(' ').next().unwrap().parse().unwrap();
    dt.is_float() && decode(dt, bits).is_nan()
}

#[test]
fn integer_arithmetic_matches_the_emulator() {
    let mut c = Cases::new();
    let ops = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Rem, BinOp::Min, BinOp::Max, BinOp::And, BinOp::Or, BinOp::Xor, BinOp::Shl, BinOp::Shr];
    for dt in [DType::I8, DType::U8, DType::I16, DType::I32, DType::U32, DType::I64, DType::U64] {
        let edges = int_edges(dt);
        for &x in &edges {
            for &y in &edges {
                for op in ops {
                    // Both with an operand the emitter knows is constant and with one it does not.
                    for known in [true, false] {
                        let a = c.konst(dt, x);
                        let b = if known { c.konst(dt, y) } else { c.opaque(dt, y) };
                        let r = c.b.binary(op, a, b);
                        c.sink(r, format!("{dt} {} {x:#x} {y:#x}{}", op.name(), if known { "" } else { " (opaque)" }));
                    }
                }
                for op in [CmpOp::Lt, CmpOp::Ge, CmpOp::Eq] {
                    let (a, b) = (c.konst(dt, x), c.konst(dt, y));
                    let r = c.b.cmp(op, a, b);
                    c.sink(r, format!("{dt} cmp.{} {x:#x} {y:#x}", op.name()));
                }
            }
            for op in [UnOp::Neg, UnOp::Not, UnOp::Abs] {
                if op == UnOp::Abs && !dt.is_signed_int() {
                    continue;
                }
                let a = c.konst(dt, x);
                let r = c.b.unary(op, a);
                c.sink(r, format!("{dt} {} {x:#x}", op.name()));
            }
            let (a, b, d) = (c.konst(dt, x), c.konst(dt, x ^ 3), c.konst(dt, 5));
            let r = c.b.fma(a, b, d);
            c.sink(r, format!("{dt} fma {x:#x}"));
        }
    }
    check(c, &|_, _| false);
}

#[test]
fn float_arithmetic_matches_the_emulator() {
    let mut c = Cases::new();
    for dt in [DType::F16, DType::F32, DType::F64] {
        let edges = float_edges(dt);
        for &x in &edges {
            for &y in &edges {
                for op in [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Rem, BinOp::Min, BinOp::Max] {
                    let zeros = decode(dt, x) == 0.0 && decode(dt, y) == 0.0;
                    if zeros && matches!(op, BinOp::Min | BinOp::Max) {
                        continue;
                    }
                    let (a, b) = (c.konst(dt, x), c.konst(dt, y));
                    let r = c.b.binary(op, a, b);
                    c.sink(r, format!("{dt} {} {x:#x} {y:#x}", op.name()));
                }
                for op in [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge] {
                    let (a, b) = (c.konst(dt, x), c.konst(dt, y));
                    let r = c.b.cmp(op, a, b);
                    c.sink(r, format!("{dt} cmp.{} {x:#x} {y:#x}", op.name()));
                }
                let (a, b, d) = (c.konst(dt, x), c.konst(dt, y), c.konst(dt, encode(dt, 0.1)));
                let r = c.b.fma(a, b, d);
                c.sink(r, format!("{dt} fma {x:#x} {y:#x}"));
            }
            let mut unary = vec![UnOp::Neg, UnOp::Abs];
            // LLVM does not fold the square root of a negative number or of infinity.
            let v = decode(dt, x);
            if dt != DType::F16 && v >= 0.0 && v.is_finite() {
                unary.push(UnOp::Sqrt);
            }
            for op in unary {
                let a = c.konst(dt, x);
                let r = c.b.unary(op, a);
                c.sink(r, format!("{dt} {} {x:#x}", op.name()));
            }
        }
        let nan = c.konst(dt, encode(dt, f64::NAN));
        let one = c.konst(dt, encode(dt, 1.0));
        for op in [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt] {
            let r = c.b.cmp(op, nan, one);
            c.sink(r, format!("{dt} cmp.{} nan", op.name()));
        }
        for op in [BinOp::Min, BinOp::Max] {
            let r = c.b.binary(op, nan, one);
            c.sink(r, format!("{dt} {} nan 1", op.name()));
        }
    }
    check(c, &is_nan_case);
}

#[test]
fn casts_match_the_emulator() {
    let mut c = Cases::new();
    let u4: DType = "u4".parse().unwrap();
    let i4: DType = "i4".parse().unwrap();
    let ints = [DType::I8, DType::U8, DType::I16, DType::U16, DType::I32, DType::U32, DType::I64, DType::U64, u4, i4, DType::Bool];
    let floats = [DType::F16, DType::BF16, DType::F32, DType::F64, DType::TF32];
    let values = [0.0, -0.0, 0.49, 0.5, 1.5, 2.5, -2.5, 100.7, -129.0, 255.9, 40000.0, -70000.0, 3.0e9, -3.0e9, 1.0e19, 1.0e30, 1.0 + 2f64.powi(-11), f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
    let to_all: Vec<DType> = ints.iter().chain(&floats).copied().collect();
    for from in floats {
        for &v in &values {
            let bits = encode(from, v);
            for to in &to_all {
                // f64 → tf32 rounds twice (through f32): a documented difference in the last bit.
                if from == DType::F64 && *to == DType::TF32 {
                    continue;
                }
                let a = c.konst(from, bits);
                let r = c.b.cast(a, *to);
                c.sink(r, format!("{to} cast {from} {v}"));
            }
        }
    }
    for from in ints {
        for x in int_edges(from).into_iter().chain([from.bits() as u64 * 37 + 11]) {
            let x = if from.bits() >= 64 { x } else { x & ((1u64 << from.bits()) - 1) };
            for to in &to_all {
                if *to == DType::TF32 && from.bits() > 24 {
                    continue;
                }
                let a = c.konst(from, x);
                let r = c.b.cast(a, *to);
                c.sink(r, format!("{to} cast {from} {x:#x}"));
            }
        }
    }
    for name in ["f8e4m3", "f8e5m2", "f6e2m3", "f4e2m1", "e8m0"] {
        let dt: DType = name.parse().unwrap();
        for code in 0..1u64 << dt.bits() {
            let a = c.konst(dt, code);
            for to in [DType::F32, DType::F16, DType::I32] {
                let r = c.b.cast(a, to);
                c.sink(r, format!("{to} cast {name} {code:#x}"));
            }
        }
    }
    check(c, &is_nan_case);
}

#[test]
fn fragments_and_bitcasts_match_the_emulator() {
    let mut c = Cases::new();
    let u4: DType = "u4".parse().unwrap();
    // No f16 half of these words is a NaN (NaN payloads are not compared).
    for w in [0x1234_5678u64, 0xc4dc_ba98, 0x8000_0001] {
        let word = c.konst(DType::U32, w);
        let nib = c.b.bitcast(word, Ty::vec(u4, 8));
        for i in 0..8 {
            let e = c.b.extract(nib, i);
            c.sink(e, format!("u4 extract {i} of {w:#x}"));
        }
        let e6 = c.b.extract(nib, 6);
        let swapped = c.b.insert(nib, 1, e6);
        c.sink(swapped, format!("u32 u4x8 insert of {w:#x}"));
        let halves = c.b.bitcast(word, Ty::F16X2);
        let sum = c.b.add(halves, halves);
        c.sink(sum, format!("u32 f16x2 add of {w:#x}"));
        let other = c.konst(DType::U32, 0x3c00_c000);
        let other = c.b.bitcast(other, Ty::F16X2);
        for op in [BinOp::Min, BinOp::Max, BinOp::Mul, BinOp::Div] {
            let r = c.b.binary(op, halves, other);
            c.sink(r, format!("u32 f16x2 {} of {w:#x}", op.name()));
        }
        let lt = c.b.cmp(CmpOp::Lt, halves, other);
        let sel = c.b.select(lt, halves, other);
        c.sink(sel, format!("u32 f16x2 per-lane select of {w:#x}"));
        let neg = c.b.unary(UnOp::Neg, halves);
        let fma = c.b.fma(neg, other, halves);
        c.sink(fma, format!("u32 f16x2 neg fma of {w:#x}"));
        let ints = c.b.bitcast(word, Ty::vec(DType::I16, 2));
        let three = c.konst(DType::I16, 3);
        let threes = c.b.pack(&[three, three]);
        for op in [BinOp::Div, BinOp::Rem, BinOp::Shr, BinOp::Shl, BinOp::Min] {
            let r = c.b.binary(op, ints, threes);
            c.sink(r, format!("u32 i16x2 {} of {w:#x}", op.name()));
        }
        let f8 = c.b.bitcast(word, Ty::vec("f8e4m3".parse().unwrap(), 4));
        let lo = c.b.extract(f8, 2);
        let v = c.b.cast(lo, DType::F32);
        c.sink(v, format!("f32 f8 lane 2 of {w:#x}"));
        let bytes = c.b.bitcast(word, Ty::vec(DType::I8, 4));
        let (hi, lo) = (c.b.extract(bytes, 3), c.b.extract(bytes, 0));
        let s = c.b.pack(&[hi, lo]);
        c.sink(s, format!("u16 i8x2 pack of {w:#x}"));
        let cond = c.konst(DType::Bool, 1);
        let other = c.konst(DType::U32, 7);
        let sel = c.b.select(cond, word, other);
        c.sink(sel, format!("u32 select of {w:#x}"));
    }
    check(c, &|_, _| false);
}

/// On AMD `lop3` and `prmt` are bit operations (on NVIDIA they are the instructions, which
/// `thread_hw.rs` checks against an H100): every LUT, and selectors with sign replication.
#[test]
fn amd_lop3_and_prmt_match_the_emulator() {
    let mut c = Cases::new();
    let words = [(0x1234_5678u64, 0x0f0f_f0f0u64, 0xff00_ff00u64), (0x8091_a2b3, 0x7f80_01fe, 0xdead_beef)];
    for (x, y, z) in words {
        for lut in 0..=255u8 {
            let (a, b, d) = (c.konst(DType::U32, x), c.konst(DType::U32, y), c.konst(DType::U32, z));
            let r = c.b.lop3(a, b, d, lut);
            c.sink(r, format!("u32 lop3 {lut:#x} of {x:#x}"));
        }
        for sel in [0x3210u64, 0x7654, 0x0123, 0x8f00 | 0x0010, 0x9abc, 0xffff, 0x5140, 0xc3d5] {
            let (a, b, s) = (c.konst(DType::U32, x), c.konst(DType::U32, y), c.konst(DType::U32, sel));
            let r = c.b.prmt(a, b, s);
            c.sink(r, format!("u32 prmt {sel:#x} of {x:#x}"));
        }
    }
    check_on(c, &|_, _| false, Target::Gfx942);
}

/// Every small float type the emitters round into: the OCP ones and the odd widths, down to one
/// exponent bit and up to f8e7m0 (whose range reaches 2^64).
const SMALL_FLOATS: [&str; 16] = ["f8e4m3", "f8e5m2", "f6e3m2", "f6e2m3", "f4e2m1", "e8m0", "f8e7m0", "f8e6m1", "f8e3m4", "f8e2m5", "f8e1m6", "f7e6m0", "f5e2m2", "f4e3m0", "f3e1m1", "f2e1m0"];

/// f32 inputs that decide a rounding into `dt`: every finite value, each midpoint between
/// neighbouring values (ties to even) and the f32 on either side of it, the same around the
/// saturation threshold (half a quantum above the largest value) and the smallest value (half of it
/// rounds to zero), ±0, ±Inf, NaN, f32 subnormals and f32's extremes, with both signs.
fn small_float_inputs(dt: DType) -> Vec<u32> {
    let mut vals: Vec<f64> = (0..1u64 << dt.bits()).map(|c| decode(dt, c)).filter(|v| v.is_finite() && *v >= 0.0).collect();
    vals.sort_by(f64::total_cmp);
    vals.dedup();
    let (max, prev) = (vals[vals.len() - 1], vals[vals.len() - 2]);
    // Beyond max the next value would be max plus its quantum (max itself when there is no mantissa).
    let quantum = if dt.man_bits() == Some(0) { max } else { max - prev };
    let mut points: Vec<f64> = vals.windows(2).map(|w| (w[0] + w[1]) / 2.0).collect();
    points.extend([max + quantum / 2.0, vals[0] / 2.0, 2.0 * max]);
    let mut out = Vec::new();
    for &v in vals.iter().chain(&points) {
        let b = encode(DType::F32, v) as u32;
        out.extend([b, b.wrapping_add(1), b.wrapping_sub(1)]);
    }
    out.extend([0, 1, 0x0040_0000, 0x0060_0000, 0x0060_0001, 0x005f_ffff, 0x007f_ffff, 0x0080_0000, 0x7f7f_ffff, 0x7f80_0000, 0x7fc0_0000, 0x7f80_0001]);
    let mut neg: Vec<u32> = out.iter().map(|b| b | 0x8000_0000).collect();
    out.append(&mut neg);
    out.sort();
    out.dedup();
    out
}

#[test]
fn casts_to_small_floats_match_the_emulator() {
    for name in SMALL_FLOATS {
        let dt: DType = name.parse().unwrap();
        let mut c = Cases::new();
        for b in small_float_inputs(dt) {
            let a = c.konst(DType::F32, b as u64);
            let r = c.b.cast(a, dt);
            c.sink(r, format!("{name} cast f32 {b:#x}"));
        }
        // Random bit patterns, and random values inside the type's range.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ dt.bits() as u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let max = (0..1u64 << dt.bits()).map(|c| decode(dt, c)).filter(|v| v.is_finite()).fold(0.0, f64::max);
        for i in 0..300 {
            let r = next();
            let b = if i % 2 == 0 { r as u32 } else { encode(DType::F32, (r >> 11) as f64 / 2f64.powi(53) * 2.5 * max * if r & 1 == 0 { 1.0 } else { -1.0 }) as u32 };
            let a = c.konst(DType::F32, b as u64);
            let r = c.b.cast(a, dt);
            c.sink(r, format!("{name} cast f32 {b:#x} (random)"));
        }
        // Other sources: wider and narrower floats, integers, other small floats.
        for from in [DType::F16, DType::BF16, DType::F64, DType::TF32] {
            for v in [0.0, -0.0, 0.3, 0.75, -1.25, 3.5, 5.0, 6.5, 448.0, 464.0, 57344.0, 61440.0, 1e-3, 2e-40, 1e300, f64::INFINITY, f64::NEG_INFINITY, f64::NAN, max, -max, 1.5 * max] {
                let bits = encode(from, v);
                let a = c.konst(from, bits);
                let r = c.b.cast(a, dt);
                c.sink(r, format!("{name} cast {from} {v}"));
            }
        }
        let u4: DType = "u4".parse().unwrap();
        for from in [DType::I8, DType::U8, DType::I16, DType::I32, DType::U32, DType::I64, DType::U64, u4, DType::Bool] {
            if from.bits() == 64 && max >= 2f64.powi(52) {
                continue; // refused: see `small_float_code`
            }
            for x in int_edges(from).into_iter().chain([3, 5, 6, 9, 11, 13, 17, 448, 464, 480, 57344, 61440, 1 << 31, (1 << 32) + (1 << 31)]) {
                let x = if from.bits() >= 64 { x } else { x & ((1u64 << from.bits()) - 1) };
                let a = c.konst(from, x);
                let r = c.b.cast(a, dt);
                c.sink(r, format!("{name} cast {from} {x:#x}"));
            }
        }
        for src in ["f8e4m3", "f8e5m2", "e8m0", "f4e2m1"] {
            let sdt: DType = src.parse().unwrap();
            for code in 0..1u64 << sdt.bits() {
                let a = c.konst(sdt, code);
                let r = c.b.cast(a, dt);
                c.sink(r, format!("{name} cast {src} {code:#x}"));
            }
        }
        check(c, &is_nan_case);
    }
}
