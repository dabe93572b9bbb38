//! Dense bit packing: the one storage rule for tensors of every element type.
//!
//! Element `k` of an `n`-bit type occupies bits `[k*n, (k+1)*n)` of the byte stream, where bit `b` of
//! the stream is bit `b % 8` of byte `b / 8` (LSB first, little-endian). There is no padding between
//! elements; the last byte is padded with zero bits. `numel` elements take `ceil(n * numel / 8)`
//! bytes. For n = 8, 16, 32, 64 this is exactly little-endian arrays, so sub-byte and ordinary tensors
//! share one rule.

use crate::convert::{decode, decode_int, encode, encode_int};
use crate::float::mask;
use crate::DType;

/// A packed buffer that cannot be unpacked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PackError {
    /// Fewer bytes than `ceil(bits * numel / 8)`.
    #[error(
        "packed data too short: {numel} elements of {bits} bits need {needed} bytes, got {got}"
    )]
    TooShort {
        /// Element width.
        bits: u32,
        /// Elements asked for.
        numel: usize,
        /// Bytes they need.
        needed: usize,
        /// Bytes given.
        got: usize,
    },
    /// An element width outside 1..=64.
    #[error("element width {0} bits is not supported (1 to 64)")]
    BadWidth(u32),
}

fn check_width(bits: u32) {
    assert!(
        (1..=64).contains(&bits),
        "element width {bits} bits is not supported (1 to 64)"
    );
}

/// Bytes needed for `numel` elements of `bits` bits.
pub fn packed_len(bits: u32, numel: usize) -> usize {
    (bits as usize * numel).div_ceil(8)
}

/// Packs `codes` densely, `bits_per_elem` bits each (1..=64; panics otherwise). Only the low
/// `bits_per_elem` bits of each code are stored.
pub fn pack(bits_per_elem: u32, codes: &[u64]) -> Vec<u8> {
    check_width(bits_per_elem);
    let mut out = vec![0u8; packed_len(bits_per_elem, codes.len())];
    match bits_per_elem {
        8 | 16 | 32 | 64 => {
            let w = bits_per_elem as usize / 8;
            for (chunk, &c) in out.chunks_exact_mut(w).zip(codes) {
                chunk.copy_from_slice(&c.to_le_bytes()[..w]);
            }
        }
        _ => {
            for (i, &c) in codes.iter().enumerate() {
                set(bits_per_elem, &mut out, i, c);
            }
        }
    }
    out
}

/// Unpacks `numel` codes of `bits_per_elem` bits. Bytes beyond the `packed_len` needed are ignored.
pub fn unpack(bits_per_elem: u32, bytes: &[u8], numel: usize) -> Result<Vec<u64>, PackError> {
    if !(1..=64).contains(&bits_per_elem) {
        return Err(PackError::BadWidth(bits_per_elem));
    }
    let needed = packed_len(bits_per_elem, numel);
    if bytes.len() < needed {
        return Err(PackError::TooShort {
            bits: bits_per_elem,
            numel,
            needed,
            got: bytes.len(),
        });
    }
    Ok(match bits_per_elem {
        8 | 16 | 32 | 64 => {
            let w = bits_per_elem as usize / 8;
            bytes[..needed]
                .chunks_exact(w)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b[..w].copy_from_slice(c);
                    u64::from_le_bytes(b)
                })
                .collect()
        }
        _ => (0..numel).map(|i| get(bits_per_elem, bytes, i)).collect(),
    })
}

/// The bytes spanned by element `index`: (first byte, bit offset in it, number of bytes).
fn span(bits: u32, index: usize) -> (usize, u32, usize) {
    let bit = index * bits as usize;
    let off = (bit % 8) as u32;
    (bit / 8, off, (off + bits).div_ceil(8) as usize)
}

/// Reads element `index`. Panics if `bits` is not in 1..=64 or the element lies beyond `bytes`.
pub fn get(bits: u32, bytes: &[u8], index: usize) -> u64 {
    check_width(bits);
    let (first, off, n) = span(bits, index);
    let mut acc = 0u128;
    for (j, &b) in bytes[first..first + n].iter().enumerate() {
        acc |= (b as u128) << (8 * j);
    }
    ((acc >> off) as u64) & mask(bits)
}

/// Writes the low `bits` bits of `code` as element `index`, leaving every other bit unchanged.
/// Panics if `bits` is not in 1..=64 or the element lies beyond `bytes`.
pub fn set(bits: u32, bytes: &mut [u8], index: usize, code: u64) {
    check_width(bits);
    let (first, off, n) = span(bits, index);
    let field = (mask(bits) as u128) << off;
    let val = ((code & mask(bits)) as u128) << off;
    for (j, b) in bytes[first..first + n].iter_mut().enumerate() {
        let f = (field >> (8 * j)) as u8;
        *b = (*b & !f) | ((val >> (8 * j)) as u8 & f);
    }
}

/// Encodes every value as `dt` ([`encode`]) and packs the codes.
pub fn pack_values(dt: DType, values: &[f64]) -> Vec<u8> {
    let codes: Vec<u64> = values.iter().map(|&v| encode(dt, v)).collect();
    pack(dt.bits(), &codes)
}

/// Encodes every exact integer as `dt` ([`encode_int`]) and packs the codes.
pub fn pack_ints(dt: DType, values: &[i128]) -> Vec<u8> {
    let codes: Vec<u64> = values.iter().map(|&v| encode_int(dt, v)).collect();
    pack(dt.bits(), &codes)
}

/// Unpacks `numel` elements of `dt` and decodes them ([`decode`]).
pub fn unpack_values(dt: DType, bytes: &[u8], numel: usize) -> Result<Vec<f64>, PackError> {
    Ok(unpack(dt.bits(), bytes, numel)?
        .into_iter()
        .map(|c| decode(dt, c))
        .collect())
}

/// Unpacks `numel` elements of `dt` and decodes them as integers ([`decode_int`]).
pub fn unpack_ints(dt: DType, bytes: &[u8], numel: usize) -> Result<Vec<i128>, PackError> {
    Ok(unpack(dt.bits(), bytes, numel)?
        .into_iter()
        .map(|c| decode_int(dt, c))
        .collect())
}
