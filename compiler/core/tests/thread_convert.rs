//! The bit-trick conversions of low-bit dequantisation in the thread-level emulator, against
//! `tilec_dtype::decode` for every code:
//! * u8 → f16 and i8 → f16 with `prmt` (a byte under the exponent of 1024) and `sub.f16x2`;
//! * u4 → f16 with `lop3` (nibble masks ORed into 0x6400) and `sub.f16x2` / `fma.f16x2`.

use tilec_core::thread::{emulate, ArgValue, Builder, Program, Reg, Ty};
use tilec_dtype::{decode, DType};

const U4: DType = DType::Int { bits: 4, signed: false };

/// A `f16x2` constant from its 32-bit pattern.
fn h2(b: &mut Builder, bits: u32) -> Reg {
    let r = b.const_bits(Ty::U32, bits as u64);
    b.bitcast(r, Ty::F16X2)
}

/// Thread t converts the four bytes of word t into out[4t..4t+4].
fn bytes_program(signed: bool) -> Program {
    let mut b = Builder::new(if signed { "i8_to_f16" } else { "u8_to_f16" });
    let src = b.param_global("q", if signed { DType::I8 } else { DType::U8 });
    let out = b.param_global("out", DType::F16);
    let t = b.thread_id();
    let four = b.i32(4);
    let off = b.mul(t, four);
    let off = b.cast(off, DType::I64);
    let mut q = b.load_global(src, off, Ty::U32, None, None);
    if signed {
        // Flip the sign bits: the byte is then x + 128, an unsigned code.
        let m = b.const_bits(Ty::U32, 0x8080_8080);
        q = b.xor(q, m);
    }
    let magic = b.const_bits(Ty::U32, 0x6464_6464);
    // 1024 + x as f16 (bias 1152 = 1024 + 128 for the signed form).
    let bias = h2(&mut b, if signed { 0x6480_6480 } else { 0x6400_6400 });
    // out byte offset: 4 f16 of 2 bytes per thread.
    let two = b.i64(2);
    let mut o = b.mul(off, two);
    for sel in [0x4140u32, 0x4342] {
        let s = b.const_bits(Ty::U32, sel as u64);
        let packed = b.prmt(q, magic, s);
        let h = b.bitcast(packed, Ty::F16X2);
        let v = b.sub(h, bias);
        b.store_global(out, o, v, None);
        let four = b.i64(4);
        o = b.add(o, four);
    }
    b.finish()
}

#[test]
fn prmt_converts_every_u8_and_i8_code() {
    for (signed, dt) in [(false, DType::U8), (true, DType::I8)] {
        let codes: Vec<f64> = (0..256).map(|c| decode(dt, c)).collect();
        let mut args = vec![ArgValue::tensor(dt, &codes), ArgValue::zeros(DType::F16, 256)];
        emulate(&bytes_program(signed), &mut args, [1, 1, 1], 64).unwrap();
        let got = args[1].values();
        for c in 0..256u64 {
            assert_eq!(got[c as usize], decode(dt, c), "{dt} code {c}");
        }
    }
}

/// Thread t converts the eight nibbles of word t into out[8t..8t+8] (one 16-byte store).
fn nibbles_program() -> Program {
    let mut b = Builder::new("u4_to_f16");
    let src = b.param_global("q", U4);
    let out = b.param_global("out", DType::F16);
    let t = b.thread_id();
    let four = b.i32(4);
    let off = b.mul(t, four);
    let off = b.cast(off, DType::I64);
    let q = b.load_global(src, off, Ty::U32, None, None);
    let magic = b.const_bits(Ty::U32, 0x6400_6400);
    let lo_mask = b.const_bits(Ty::U32, 0x000f_000f);
    let hi_mask = b.const_bits(Ty::U32, 0x00f0_00f0);
    let k1024 = h2(&mut b, 0x6400_6400);
    let sixteenth = h2(&mut b, 0x2c00_2c00); // 1/16
    let minus64 = h2(&mut b, 0xd400_d400); // -64
    let eight = b.const_bits(Ty::U32, 8);
    let q_hi = b.shr(q, eight);
    // (a & b) | c
    let lut = (0xF0 & 0xCC) | 0xAA;
    let mut pairs = Vec::new(); // pairs[k] = (e_k, e_{k+4})
    for word in [q, q_hi] {
        let lo = b.lop3(word, lo_mask, magic, lut);
        let lo = b.bitcast(lo, Ty::F16X2);
        pairs.push(b.sub(lo, k1024)); // (1024 + x) - 1024
        let hi = b.lop3(word, hi_mask, magic, lut);
        let hi = b.bitcast(hi, Ty::F16X2);
        pairs.push(b.fma(hi, sixteenth, minus64)); // (1024 + 16x) / 16 - 64
    }
    let mut elems = vec![None; 8];
    for (k, &p) in pairs.iter().enumerate() {
        elems[k] = Some(b.extract(p, 0));
        elems[k + 4] = Some(b.extract(p, 1));
    }
    let elems: Vec<Reg> = elems.into_iter().map(Option::unwrap).collect();
    let v = b.pack(&elems);
    let four64 = b.i64(4);
    let o = b.mul(off, four64);
    b.store_global(out, o, v, None);
    b.finish()
}

#[test]
fn lop3_converts_every_u4_code() {
    // Word 0 holds codes 0..8, word 1 codes 8..16, then pseudo-random words.
    let mut codes: Vec<u64> = (0..16).collect();
    let mut s = 12345u64;
    for _ in 0..16 * 8 {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        codes.push(s >> 60);
    }
    let n = codes.len();
    let vals: Vec<f64> = codes.iter().map(|&c| decode(U4, c)).collect();
    let mut args = vec![ArgValue::tensor(U4, &vals), ArgValue::zeros(DType::F16, n)];
    emulate(&nibbles_program(), &mut args, [1, 1, 1], (n / 8) as u32).unwrap();
    let got = args[1].values();
    for (i, &c) in codes.iter().enumerate() {
        assert_eq!(got[i], decode(U4, c), "element {i}, code {c}");
    }
}
