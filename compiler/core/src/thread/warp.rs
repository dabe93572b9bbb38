//! Warp-collective instruction semantics, written from the PTX ISA's fragment tables: `shfl.sync`,
//! `ldmatrix` and `mma.sync`. The layout crate's `atoms` describe the same fragments as register
//! layouts; the tests check one against the other.

use super::ops::{MmaKind, ShflMode};
use tilec_dtype::{decode, decode_int, encode, DType};

/// An operand of `mma.sync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MmaOperand {
    A,
    B,
    /// C and D.
    C,
}

/// Elements per 32-bit register of the A/B fragments (2 for 16-bit, 4 for 8-bit, 1 for tf32).
fn pack(kind: MmaKind) -> usize {
    (32 / kind.input().bits()) as usize
}

/// Number of elements of an operand's fragment per lane (A: 8 f16 or 16 i8; B: 4 or 8; C: 4).
pub fn fragment_len(kind: MmaKind, op: MmaOperand) -> usize {
    match op {
        MmaOperand::A => 4 * pack(kind),
        MmaOperand::B => 2 * pack(kind),
        MmaOperand::C => 4,
    }
}

/// The `(row, col)` of the operand's tile (A `M×K`, B `K×N`, C `M×N`) that element `i` of lane
/// `lane`'s fragment holds (PTX ISA, "Matrix Fragments for mma.m16n8k8 / m16n8k16 / m16n8k32":
/// the three share one pattern scaled by the elements per register `p`). Element `i`
/// of A/B sits in register `i / pack`, at bits `(i % pack)·w` (lowest first).
pub fn mma_fragment(kind: MmaKind, op: MmaOperand, lane: usize, i: usize) -> (usize, usize) {
    let (group, tig) = (lane >> 2, lane % 4);
    let p = pack(kind);
    match op {
        // a_i: rows groupID (+8 for the 2nd and 4th register), cols tig·p + i%p (+ 4p for regs 2,3)
        MmaOperand::A => {
            let reg = i / p;
            let row = group + 8 * (reg % 2);
            let col = tig * p + i % p + 4 * p * (reg / 2);
            (row, col)
        }
        // b_i: rows tig·p + i%p (+ 4p for register 1), col groupID
        MmaOperand::B => {
            let reg = i / p;
            (tig * p + i % p + 4 * p * reg, group)
        }
        // c_i: row groupID (+8 for c2, c3), col 2·tig + i%2
        MmaOperand::C => (group + 8 * (i / 2), 2 * tig + i % 2),
    }
}

/// For `ldmatrix.x{count}[.trans]`: element `i` (register `i/2`, half `i%2`) of lane `lane` holds
/// `(matrix, row, col)` of the 8×8 matrices as stored (row `r` of matrix `j` is at the address lane
/// `8j + r` gives). Without `.trans` a lane holds a pair of a row, with `.trans` a pair of a column.
pub fn ldmatrix_fragment(trans: bool, lane: usize, i: usize) -> (usize, usize, usize) {
    let (matrix, half) = (i / 2, i % 2);
    let (r, c) = (lane / 4, 2 * (lane % 4) + half);
    if trans {
        (matrix, c, r)
    } else {
        (matrix, r, c)
    }
}

/// The source lane of `shfl.sync.{mode}` for `lane` with operands `b` and `c`, and whether it is
/// in range (if not, the lane reads its own value), as the PTX ISA's pseudocode.
pub fn shfl_source(mode: ShflMode, lane: u32, b: u32, c: u32) -> (u32, bool) {
    let bval = b & 0x1f;
    let cval = c & 0x1f;
    let mask = (c >> 8) & 0x1f;
    let max_lane = (lane & mask) | (cval & !mask);
    let min_lane = lane & mask;
    let (j, ok) = match mode {
        ShflMode::Up => {
            let j = lane as i64 - bval as i64;
            (j, j >= max_lane as i64)
        }
        ShflMode::Down => {
            let j = (lane + bval) as i64;
            (j, j <= max_lane as i64)
        }
        ShflMode::Bfly => {
            let j = (lane ^ bval) as i64;
            (j, j <= max_lane as i64)
        }
        ShflMode::Idx => {
            let j = (min_lane | (bval & !mask)) as i64;
            (j, j <= max_lane as i64)
        }
    };
    if ok {
        (j as u32, true)
    } else {
        (lane, false)
    }
}

/// `mma.sync`: given each lane's A (4 registers), B (2 registers) and C (4 codes of the
/// accumulator type), the D fragment of each lane. f16/bf16: the products (exact in f64) and C are
/// summed in f64 and the sum rounded once to f32 — PTX leaves the accumulation order and the
/// intermediate precision unspecified, and this is within an f32 rounding of any order's result,
/// so comparisons with hardware need a tolerance; s8/u8: exact, wrapping to s32.
pub fn mma(kind: MmaKind, a: &[[u32; 4]], b: &[[u32; 2]], c: &[[u64; 4]]) -> Vec<[u64; 4]> {
    let (m, n, k) = kind.shape();
    let input = kind.input();
    let w = input.bits() as usize;
    let elem = |regs: &[u32], i: usize| -> u64 {
        let p = 32 / w;
        ((regs[i / p] as u64) >> ((i % p) * w)) & ((1u64 << w) - 1)
    };
    let mut am = vec![vec![0u64; k]; m];
    let mut bm = vec![vec![0u64; n]; k];
    let mut cm = vec![vec![0u64; n]; m];
    for lane in 0..32 {
        for i in 0..fragment_len(kind, MmaOperand::A) {
            let (r, col) = mma_fragment(kind, MmaOperand::A, lane, i);
            am[r][col] = elem(&a[lane], i);
        }
        for i in 0..fragment_len(kind, MmaOperand::B) {
            let (r, col) = mma_fragment(kind, MmaOperand::B, lane, i);
            bm[r][col] = elem(&b[lane], i);
        }
        for (i, &code) in c[lane].iter().enumerate() {
            let (r, col) = mma_fragment(kind, MmaOperand::C, lane, i);
            cm[r][col] = code;
        }
    }
    let acc = kind.acc().dtype;
    let d = |r: usize, col: usize| -> u64 {
        if input.is_float() {
            let mut s = decode(DType::F32, cm[r][col]);
            for (kk, row) in bm.iter().enumerate() {
                s += decode(input, am[r][kk]) * decode(input, row[col]);
            }
            encode(DType::F32, s)
        } else {
            let mut s = decode_int(acc, cm[r][col]);
            for (kk, row) in bm.iter().enumerate() {
                s += decode_int(input, am[r][kk]) * decode_int(input, row[col]);
            }
            (s as u64) & 0xffff_ffff
        }
    };
    (0..32)
        .map(|lane| {
            let mut out = [0u64; 4];
            for (i, o) in out.iter_mut().enumerate() {
                let (r, col) = mma_fragment(kind, MmaOperand::C, lane, i);
                *o = d(r, col);
            }
            out
        })
        .collect()
}
