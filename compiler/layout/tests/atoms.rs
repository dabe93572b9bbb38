//! Every hardware atom checked element by element against the instruction's documented
//! fragment table (PTX ISA "Matrix Fragments for mma.m16n8k*", ldmatrix, wgmma D; AMD
//! matrix instruction tables for MFMA). The formulas below are transcribed from those tables
//! independently of the `local`/`spatial` products in `atoms.rs`.

use tilec_layout::atoms::{ldmatrix, mfma, mma, stmatrix, wgmma_acc, Operand};
use tilec_layout::TvLayout;

/// Checks `l` against `table(lane, i) -> (row, col)` for every lane and register slot, and that
/// the layout has exactly the expected shape, thread count and values per thread.
fn check(
    l: &TvLayout,
    shape: [i64; 2],
    threads: i64,
    values: i64,
    table: impl Fn(i64, i64) -> (i64, i64),
) {
    assert_eq!(l.shape(), &shape, "{l}");
    assert_eq!(l.num_threads(), threads, "{l}");
    assert_eq!(l.num_values(), values, "{l}");
    for t in 0..threads {
        for i in 0..values {
            let (r, c) = table(t, i);
            assert_eq!(
                l.coords(t, i).unwrap(),
                vec![r, c],
                "lane {t} slot {i} of {l}"
            );
            assert!(l.holders(&[r, c]).unwrap().contains(&(t, i)));
        }
    }
}

fn g(lane: i64) -> i64 {
    lane >> 2
}
fn tig(lane: i64) -> i64 {
    lane % 4
}

#[test]
fn mma_m16n8k16_f16() {
    for dt in ["f16", "bf16"] {
        check(
            &mma("m16n8k16", dt, Operand::A).unwrap(),
            [16, 16],
            32,
            8,
            |l, i| {
                let row = if i < 2 || (4..6).contains(&i) {
                    g(l)
                } else {
                    g(l) + 8
                };
                let col = tig(l) * 2 + (i & 1) + if i >= 4 { 8 } else { 0 };
                (row, col)
            },
        );
        check(
            &mma("m16n8k16", dt, Operand::B).unwrap(),
            [16, 8],
            32,
            4,
            |l, i| {
                let row = tig(l) * 2 + (i & 1) + if i >= 2 { 8 } else { 0 };
                (row, g(l))
            },
        );
        check(
            &mma("m16n8k16", dt, Operand::C).unwrap(),
            [16, 8],
            32,
            4,
            |l, i| {
                let row = if i < 2 { g(l) } else { g(l) + 8 };
                (row, tig(l) * 2 + (i & 1))
            },
        );
    }
}

#[test]
fn mma_m16n8k32_s8() {
    for dt in ["s8", "u8"] {
        check(
            &mma("m16n8k32", dt, Operand::A).unwrap(),
            [16, 32],
            32,
            16,
            |l, i| {
                let row = if i < 4 || (8..12).contains(&i) {
                    g(l)
                } else {
                    g(l) + 8
                };
                let col = tig(l) * 4 + (i & 3) + if i >= 8 { 16 } else { 0 };
                (row, col)
            },
        );
        check(
            &mma("m16n8k32", dt, Operand::B).unwrap(),
            [32, 8],
            32,
            8,
            |l, i| (tig(l) * 4 + (i & 3) + if i >= 4 { 16 } else { 0 }, g(l)),
        );
        check(
            &mma("m16n8k32", dt, Operand::C).unwrap(),
            [16, 8],
            32,
            4,
            |l, i| (if i < 2 { g(l) } else { g(l) + 8 }, tig(l) * 2 + (i & 1)),
        );
    }
}

#[test]
fn mma_m16n8k8_tf32() {
    check(
        &mma("m16n8k8", "tf32", Operand::A).unwrap(),
        [16, 8],
        32,
        4,
        |l, i| {
            let row = if i == 0 || i == 2 { g(l) } else { g(l) + 8 };
            let col = if i < 2 { tig(l) } else { tig(l) + 4 };
            (row, col)
        },
    );
    check(
        &mma("m16n8k8", "tf32", Operand::B).unwrap(),
        [8, 8],
        32,
        2,
        |l, i| (if i == 0 { tig(l) } else { tig(l) + 4 }, g(l)),
    );
    check(
        &mma("m16n8k8", "tf32", Operand::C).unwrap(),
        [16, 8],
        32,
        4,
        |l, i| (if i < 2 { g(l) } else { g(l) + 8 }, tig(l) * 2 + (i & 1)),
    );
}

#[test]
fn mma_errors() {
    assert!(mma("m16n8k16", "s8", Operand::A).is_err());
    assert!(mma("m8n8k4", "f16", Operand::A).is_err());
    assert!("x".parse::<Operand>().is_err());
}

#[test]
fn ldmatrix_tables() {
    // Without .trans, lane l receives, for each matrix j, row l/4 and columns 2(l%4)+{0,1}:
    // register j, element e → slot 2j + e. Matrix j sits at block (j%2, j/2).
    for (count, shape) in [(1u32, [8, 8]), (2, [16, 8]), (4, [16, 16])] {
        let table = |trans: bool| {
            move |l: i64, s: i64| {
                let (j, e) = (s / 2, s % 2);
                let (r, c) = if trans {
                    (tig(l) * 2 + e, g(l))
                } else {
                    (g(l), tig(l) * 2 + e)
                };
                (r + 8 * (j % 2), c + 8 * (j / 2))
            }
        };
        check(
            &ldmatrix(count, false).unwrap(),
            shape,
            32,
            2 * count as i64,
            table(false),
        );
        check(
            &ldmatrix(count, true).unwrap(),
            shape,
            32,
            2 * count as i64,
            table(true),
        );
        assert_eq!(
            stmatrix(count, true).unwrap(),
            ldmatrix(count, true).unwrap()
        );
    }
    assert!(ldmatrix(3, false).is_err());
    // ldmatrix.x4 delivers exactly the mma.m16n8k16 A fragment.
    assert_eq!(
        ldmatrix(4, false).unwrap(),
        mma("m16n8k16", "f16", Operand::A).unwrap()
    );
}

#[test]
fn wgmma_accumulator() {
    for n in [8i64, 16, 64, 256] {
        check(&wgmma_acc(n).unwrap(), [64, n], 128, n / 2, |t, i| {
            let (w, l) = (t / 32, t % 32);
            let row = w * 16 + g(l) + 8 * ((i >> 1) & 1);
            let col = (i / 4) * 8 + tig(l) * 2 + (i & 1);
            (row, col)
        });
    }
    assert!(wgmma_acc(12).is_err());
    assert!(wgmma_acc(264).is_err());
}

#[test]
fn mfma_32x32x8_f16() {
    // A[i][k]: lane = i + 32 (k/4), item = k%4.
    check(
        &mfma("32x32x8", "f16", Operand::A).unwrap(),
        [32, 8],
        64,
        4,
        |l, v| (l % 32, (l / 32) * 4 + v),
    );
    // B[k][j]: lane = j + 32 (k/4), item = k%4.
    check(
        &mfma("32x32x8", "f16", Operand::B).unwrap(),
        [8, 32],
        64,
        4,
        |l, v| ((l / 32) * 4 + v, l % 32),
    );
    // D[i][j]: lane = j + 32 ((i/4)%2), item = i%4 + 4 (i/8).
    check(
        &mfma("32x32x8", "f16", Operand::C).unwrap(),
        [32, 32],
        64,
        16,
        |l, v| ((v / 4) * 8 + (l / 32) * 4 + v % 4, l % 32),
    );
}

#[test]
fn mfma_16x16x16_f16() {
    check(
        &mfma("16x16x16", "f16", Operand::A).unwrap(),
        [16, 16],
        64,
        4,
        |l, v| (l % 16, (l / 16) * 4 + v),
    );
    check(
        &mfma("16x16x16", "f16", Operand::B).unwrap(),
        [16, 16],
        64,
        4,
        |l, v| ((l / 16) * 4 + v, l % 16),
    );
    check(
        &mfma("16x16x16", "f16", Operand::C).unwrap(),
        [16, 16],
        64,
        4,
        |l, v| ((l / 16) * 4 + v, l % 16),
    );
    assert!(mfma("8x8x4", "f16", Operand::A).is_err());
    assert!(mfma("32x32x8", "bf16", Operand::A).is_err());
}

#[test]
fn instruction_selection_by_division() {
    use tilec_layout::tv::{local, spatial};
    // A warp's 64x16 A-operand tile as four m16n8k16 A fragments stacked along M.
    let atom = mma("m16n8k16", "f16", Operand::A).unwrap();
    let operand = local(&[4, 1]).unwrap().product(&atom).unwrap();
    assert_eq!(operand.div_right(&atom).unwrap(), local(&[4, 1]).unwrap());
    // A plain row-major distribution is not an mma fragment.
    let plain = spatial(&[16, 2]).unwrap().local(&[1, 8]).unwrap();
    assert!(plain.div_right(&atom).is_err());
    // The wgmma accumulator is four m16n8 accumulators per warp, N/8 times.
    let acc = wgmma_acc(64).unwrap();
    let c = mma("m16n8k16", "f16", Operand::C).unwrap();
    let q = acc.div_right(&c).unwrap();
    assert_eq!(q, spatial(&[4, 1]).unwrap().local(&[1, 8]).unwrap());
}
