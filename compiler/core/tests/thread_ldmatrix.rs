//! `ldmatrix` x1/x2/x4 (with and without `.trans`) in the thread-level emulator against the layout
//! crate's `atoms::ldmatrix` register layouts.
//!
//! Thirty-two threads copy a 16×16 f16 tile from global to shared memory (16 bytes each), meet at a
//! barrier, and run `ldmatrix`: lane `l` gives the address of row `l % 8` of matrix `l / 8`, matrix
//! `j` being block `(j % 2, j / 2)` of the tile. Each lane stores its registers as f16 pairs; the test
//! checks that value `v` of lane `l` is the tile element at `atoms::ldmatrix(..).coords(l, v)`.

use tilec_core::thread::{emulate, ldmatrix_fragment, ArgValue, Builder, Program, Ty};
use tilec_dtype::DType;
use tilec_layout::atoms;

fn program(count: u32, trans: bool) -> Program {
    let mut b = Builder::new("ldmatrix");
    let src = b.param_global("src", DType::F16);
    let out = b.param_global("out", DType::F16);
    let tile = b.shared("tile", 16 * 16 * 2, 128);
    let t = b.thread_id();
    // Copy: thread t moves bytes 16t..16t+16 (row t/2, half t%2).
    let sixteen = b.i32(16);
    let off = b.mul(t, sixteen);
    let off64 = b.cast(off, DType::I64);
    let chunk = b.load_global(src, off64, Ty::vec(DType::U32, 4), None, None);
    b.store_shared(tile, off, chunk, None);
    b.bar_sync();
    // Row address of lane l: matrix j = l/8 at block (j%2, j/2), row r = l%8.
    let l = b.lane_id();
    let eight = b.i32(8);
    let two = b.i32(2);
    let j = b.div(l, eight);
    let r = b.rem(l, eight);
    let jr = b.rem(j, two);
    let jc = b.div(j, two);
    let row0 = b.mul(jr, eight);
    let row = b.add(row0, r);
    let col = b.mul(jc, eight);
    let rowel = b.mul(row, sixteen);
    let el = b.add(rowel, col);
    let addr = b.mul(el, two);
    let regs = b.ldmatrix(tile, addr, count, trans);
    // out[l * 2count + v] = value v of lane l.
    let n = b.i32(2 * count as i32 * 2);
    let base = b.mul(l, n);
    let base = b.cast(base, DType::I64);
    let w = b.i64(4);
    for reg in 0..count {
        let pair = b.extract(regs, reg);
        let k = b.i64(reg as i64);
        let o = b.mul(k, w);
        let o = b.add(base, o);
        b.store_global(out, o, pair, None);
    }
    b.finish()
}

#[test]
fn ldmatrix_matches_layout_atoms() {
    let tile: Vec<f64> = (0..256).map(|i| i as f64).collect(); // exact in f16
    for count in [1, 2, 4] {
        for trans in [false, true] {
            let mut args = vec![ArgValue::tensor(DType::F16, &tile), ArgValue::zeros(DType::F16, 32 * 2 * count as usize)];
            emulate(&program(count, trans), &mut args, [1, 1, 1], 32).unwrap();
            let out = args[1].values();
            let layout = atoms::ldmatrix(count, trans).unwrap();
            assert_eq!(layout.num_values(), 2 * count as i64);
            for lane in 0..32i64 {
                for v in 0..layout.num_values() {
                    let c = layout.coords(lane, v).unwrap();
                    let expect = tile[(c[0] * 16 + c[1]) as usize];
                    let got = out[(lane * 2 * count as i64 + v) as usize];
                    assert_eq!(got, expect, "x{count} trans={trans} lane {lane} value {v} (tile {c:?})");
                }
            }
        }
    }
}

/// The emulator's fragment function agrees with the atoms for x4, placing matrix j at block
/// (j % 2, j / 2).
#[test]
fn ldmatrix_fragment_agrees_with_atoms() {
    for trans in [false, true] {
        let layout = atoms::ldmatrix(4, trans).unwrap();
        for lane in 0..32 {
            for v in 0..8 {
                let (m, r, c) = ldmatrix_fragment(trans, lane, v);
                let c0 = layout.coords(lane as i64, v as i64).unwrap();
                assert_eq!((8 * (m % 2) + r, 8 * (m / 2) + c), (c0[0] as usize, c0[1] as usize), "trans={trans} lane {lane} v {v}");
            }
        }
    }
}

#[test]
fn ldmatrix_misaligned_row_is_reported() {
    use tilec_core::thread::EmuErrorKind;
    let mut b = Builder::new("bad");
    let tile = b.shared("tile", 512, 128);
    let l = b.lane_id();
    let z = b.const_bits(Ty::U32, 0);
    let v = b.pack(&[z, z, z, z]);
    let sixteen = b.i32(16);
    let off = b.mul(l, sixteen);
    b.store_shared(tile, off, v, None);
    b.bar_sync();
    let two = b.i32(2);
    let addr = b.add(off, two);
    b.ldmatrix(tile, addr, 4, false);
    let e = emulate(&b.finish(), &mut [], [1, 1, 1], 32).unwrap_err();
    assert!(matches!(e.kind, EmuErrorKind::Misaligned { align: 16, .. }), "{e}");
}

/// `stmatrix`: lane `l` holds value `v` = tile element `atoms::stmatrix(..).coords(l, v)` (gathered
/// from global memory by an index table), stores its fragment with `stmatrix` at the row addresses
/// `ldmatrix` uses, and the shared tile (zeroed first) is copied back out.
#[test]
fn stmatrix_matches_layout_atoms() {
    let tile: Vec<f64> = (0..256).map(|i| (i + 1) as f64).collect();
    for count in [1u32, 2, 4] {
        for trans in [false, true] {
            let layout = atoms::stmatrix(count, trans).unwrap();
            let nv = layout.num_values();
            let mut table = Vec::new();
            for lane in 0..32 {
                for v in 0..nv {
                    let c = layout.coords(lane, v).unwrap();
                    table.push((c[0] * 16 + c[1]) as f64);
                }
            }
            let mut b = Builder::new("stmatrix");
            let src = b.param_global("src", DType::F16);
            let idx = b.param_global("idx", DType::I32);
            let out = b.param_global("out", DType::F16);
            let s = b.shared("tile", 512, 128);
            let l = b.lane_id();
            let sixteen = b.i32(16);
            let off = b.mul(l, sixteen);
            let z = b.const_bits(Ty::U32, 0);
            let zeros = b.pack(&[z; 4]);
            b.store_shared(s, off, zeros, None);
            b.bar_sync();
            let mut elems = Vec::new();
            for v in 0..nv as i32 {
                let n = b.i32(nv as i32);
                let slot = b.mul(l, n);
                let vv = b.i32(v);
                let slot = b.add(slot, vv);
                let four = b.i32(4);
                let toff = b.mul(slot, four);
                let toff = b.cast(toff, DType::I64);
                let e = b.load_global(idx, toff, Ty::I32, None, None);
                let two = b.i32(2);
                let goff = b.mul(e, two);
                let goff = b.cast(goff, DType::I64);
                elems.push(b.load_global(src, goff, Ty::scalar(DType::F16), None, None));
            }
            let frag = b.pack(&elems);
            let (eight, two) = (b.i32(8), b.i32(2));
            let j = b.div(l, eight);
            let r = b.rem(l, eight);
            let jr = b.rem(j, two);
            let jc = b.div(j, two);
            let row = b.mul(jr, eight);
            let row = b.add(row, r);
            let col = b.mul(jc, eight);
            let e = b.mul(row, sixteen);
            let e = b.add(e, col);
            let addr = b.mul(e, two);
            b.stmatrix(s, addr, frag, trans);
            b.bar_sync();
            let v = b.load_shared(s, off, Ty::vec(DType::U32, 4));
            let goff = b.cast(off, DType::I64);
            b.store_global(out, goff, v, None);
            let mut args = vec![ArgValue::tensor(DType::F16, &tile), ArgValue::tensor(DType::I32, &table), ArgValue::zeros(DType::F16, 256)];
            emulate(&b.finish(), &mut args, [1, 1, 1], 32).unwrap();
            let got = args[2].values();
            let mut expect = vec![0.0; 256];
            for lane in 0..32 {
                for v in 0..nv {
                    let c = layout.coords(lane, v).unwrap();
                    let i = (c[0] * 16 + c[1]) as usize;
                    expect[i] = tile[i];
                }
            }
            assert_eq!(got, expect, "x{count} trans={trans}");
        }
    }
}
