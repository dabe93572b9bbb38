//! The layouts that seeds fix: the coalesced default of global memory accesses and the operand and
//! accumulator layouts of `dot` (mma.sync m16n8k16 fragments tiled over the warps, or a blocked FMA
//! arrangement). Everything is built from `local`/`spatial`/`replicate` pieces and products, so each
//! result is a valid register layout by construction of the layout crate.

use super::DotKind;
use tilec_dtype::DType;
use tilec_layout::atoms::{self, Operand};
use tilec_layout::{tv, LayoutError, TvLayout};

type Result<T> = std::result::Result<T, LayoutError>;

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Bits one element occupies in registers for vectorisation purposes (bool is a byte).
fn storage_bits(dtype: DType) -> i64 {
    if dtype.is_bool() {
        8
    } else {
        dtype.bits().max(1) as i64
    }
}

/// The coalesced, vectorised default of a tile of `shape` and `dtype` over `threads` threads, for
/// memory whose contiguous dimension is the last: [`blocked_along`] the last dimension.
pub fn blocked(shape: &[i64], dtype: DType, threads: i64) -> Result<TvLayout> {
    blocked_along(shape, dtype, threads, shape.len().saturating_sub(1))
}

/// The coalesced, vectorised default along dimension `contig` (the one with unit stride in
/// memory): `replicate(r) * local(reps) * spatial(ts) * local(v along contig)`, where
///
/// * each thread holds `v` contiguous elements of `contig`: the widest divisor of its extent that
///   is at most 16 bytes and at most the tile's elements per thread, and among those the one that
///   leaves the fewest threads replicated;
/// * consecutive threads hold consecutive vectors (`spatial` with `contig` fastest, then the other
///   dimensions from the last to the first), each dimension taking as many threads as divide it;
/// * `local(reps)` repeats that block over the rest of the tile (a thread's vectors are a whole
///   block of threads apart, so every access instruction stays coalesced);
/// * threads left over when the tile is smaller than the block replicate it (outermost, so whole
///   warps hold copies).
pub fn blocked_along(shape: &[i64], dtype: DType, threads: i64, contig: usize) -> Result<TvLayout> {
    if shape.is_empty() {
        return tv::replicate(threads);
    }
    let r = shape.len();
    let contig = contig.min(r - 1);
    let last = shape[contig];
    let numel: i64 = shape.iter().product();
    let cap = (128 / storage_bits(dtype)).min(numel / threads).max(1);
    // Dimensions innermost first: the contiguous one, then the others from the last.
    let order: Vec<usize> = std::iter::once(contig).chain((0..r).rev().filter(|&d| d != contig)).collect();
    let mut best: Option<(i64, Spread)> = None;
    for v in (1..=cap.min(last)).rev().filter(|v| last % v == 0) {
        let s = spread(shape, &order, v, threads);
        if best.as_ref().is_none_or(|b| s.left < b.1.left) {
            best = Some((v, s));
        }
    }
    let (v, s) = best.unwrap_or_else(|| (1, spread(shape, &order, 1, threads)));
    let mut vec = vec![1i64; r];
    vec[contig] = v;
    let mut ranks = vec![0usize; r];
    for (i, &d) in order.iter().enumerate() {
        ranks[d] = r - 1 - i;
    }
    tv::replicate(s.left)?.product(&tv::local(&s.reps)?)?.product(&tv::spatial_ranked(&s.threads, &ranks)?)?.local(&vec)
}

/// Threads spread over a tile: how many are left over (replicas), and per dimension the repeats and
/// the threads.
struct Spread {
    left: i64,
    reps: Vec<i64>,
    threads: Vec<i64>,
}

/// Threads over the dimensions in `order` (innermost first), each taking as many as divide what is
/// left of it after vectors of `v` along the first.
fn spread(shape: &[i64], order: &[usize], v: i64, threads: i64) -> Spread {
    let r = shape.len();
    let (mut ts, mut reps) = (vec![1i64; r], vec![1i64; r]);
    let mut left = threads;
    for (i, &d) in order.iter().enumerate() {
        let avail = if i == 0 { shape[d] / v } else { shape[d] };
        ts[d] = gcd(avail, left);
        left /= ts[d];
        reps[d] = avail / ts[d];
    }
    Spread { left, reps, threads: ts }
}

/// Every thread holds the whole tile: always a valid layout, and every shape operation can be done
/// on it in registers. The last resort when nothing better fits.
pub fn whole_tile(shape: &[i64], threads: i64) -> Result<TvLayout> {
    if shape.is_empty() {
        return tv::replicate(threads);
    }
    tv::replicate(threads)?.local(shape)
}

/// The register layouts of one `dot`: operands `a` `[M, K]`, `b` `[K, N]` and the accumulator and
/// result `c` `[M, N]`.
#[derive(Clone, Debug, PartialEq)]
pub struct DotPlan {
    pub kind: DotKind,
    pub a: TvLayout,
    pub b: TvLayout,
    pub c: TvLayout,
}

/// The mma atom's dtype name, if `dtype` operands can use `mma.sync.m16n8k16`.
fn mma_dtype(dtype: DType) -> Option<&'static str> {
    match dtype {
        DType::F16 => Some("f16"),
        DType::BF16 => Some("bf16"),
        _ => None,
    }
}

/// The mma plan for warps arranged `wm x wn` (each warp owning an `M/wm x N/wn` block of C, made
/// of `M/(16 wm) x N/(8 wn)` m16n8 atoms) and `replicas` copies of that arrangement:
///
/// * `C = replicate(r) * spatial(wm, wn) * local(M/(16 wm), N/(8 wn)) * mma_c`
/// * `A = replicate(r) * spatial(wm, 1) * replicate(wn) * local(M/(16 wm), K/16) * mma_a`
///   (the warps of one row of the arrangement share the rows of A)
/// * `B = replicate(r) * replicate(wm) * spatial(1, wn) * local(K/16, N/(8 wn)) * mma_b`
///
/// Thread `t = replica * 32 wm wn + 32 (i wn + j) + lane` for warp `(i, j)` in all three.
fn mma_plan(dt: &str, m: i64, n: i64, k: i64, wm: i64, wn: i64, replicas: i64) -> Result<DotPlan> {
    let (mt, nt, kt) = (m / 16, n / 8, k / 16);
    let atom = |op| atoms::mma("m16n8k16", dt, op);
    let c = tv::replicate(replicas)?.spatial(&[wm, wn])?.local(&[mt / wm, nt / wn])?.product(&atom(Operand::C)?)?;
    let a = tv::replicate(replicas)?
        .spatial(&[wm, 1])?
        .replicate(wn)?
        .local(&[mt / wm, kt])?
        .product(&atom(Operand::A)?)?;
    let b = tv::replicate(replicas * wm)?.spatial(&[1, wn])?.local(&[kt, nt / wn])?.product(&atom(Operand::B)?)?;
    Ok(DotPlan { kind: DotKind::Mma { warps_m: wm, warps_n: wn, replicas }, a, b, c })
}

/// Every warp arrangement `(wm, wn, replicas)` the mma plan can take for this dot, best first:
/// as many distinct warps as possible, then per-warp blocks as square as possible (more reuse of
/// each loaded fragment), then more warps along M.
fn arrangements(m: i64, n: i64, warps: i64) -> Vec<(i64, i64, i64)> {
    let (mt, nt) = (m / 16, n / 8);
    let mut out = Vec::new();
    for wm in (1..=mt).filter(|w| mt % w == 0) {
        for wn in (1..=nt).filter(|w| nt % w == 0) {
            if warps % (wm * wn) == 0 {
                out.push((wm, wn, warps / (wm * wn)));
            }
        }
    }
    out.sort_by_key(|&(wm, wn, r)| (r, (m / wm - n / wn).abs(), -wm));
    out
}

/// Whether the dot can use mma.sync m16n8k16: 16-bit float operands whose shapes divide the atom.
fn mma_dims(a_dtype: DType, m: i64, n: i64, k: i64) -> Option<&'static str> {
    let dt = mma_dtype(a_dtype)?;
    (m % 16 == 0 && n % 8 == 0 && k % 16 == 0).then_some(dt)
}

/// The FMA plan around a given accumulator layout: the thread holding `C[m, n]` holds all of row
/// `m` of A and column `n` of B, i.e. `A = reduce(C, 1, keepdim) * local(1, K)` and
/// `B = reduce(C, 0, keepdim) * local(K, 1)`. Any C layout works.
fn fma_plan(c: TvLayout, k: i64) -> Result<DotPlan> {
    let a = c.reduce(&[1], true)?.local(&[1, k])?;
    let b = c.reduce(&[0], true)?.local(&[k, 1])?;
    Ok(DotPlan { kind: DotKind::Fma, a, b, c })
}

/// The plan of a dot with `a: [M, K]` of `a_dtype`, `acc: [M, N]` of `acc_dtype`, over `warps`.
/// With `given` (a layout the user fixed for the accumulator or result), C is that layout: the mma
/// plan whose C it is if there is one, otherwise FMA around it.
pub fn dot_plan(a_dtype: DType, acc_dtype: DType, m: i64, n: i64, k: i64, warps: i64, given: Option<&TvLayout>) -> Result<DotPlan> {
    let mma = mma_dims(a_dtype, m, n, k);
    match given {
        Some(c) => {
            if let Some(dt) = mma {
                for (wm, wn, r) in arrangements(m, n, warps) {
                    let plan = mma_plan(dt, m, n, k, wm, wn, r)?;
                    if &plan.c == c {
                        return Ok(plan);
                    }
                }
            }
            fma_plan(c.clone(), k)
        }
        None => match mma.and_then(|dt| arrangements(m, n, warps).first().map(|&w| (dt, w))) {
            Some((dt, (wm, wn, r))) => mma_plan(dt, m, n, k, wm, wn, r),
            None => fma_plan(blocked(&[m, n], acc_dtype, warps * 32)?, k),
        },
    }
}
