//! How a register tile is spread over the threads of a block (the backend's default layout until
//! layout inference assigns one per tile).
//!
//! The tile's elements, in row-major order, are dealt out cyclically: element `e` is held by thread
//! `e % T` in slot `e / T`, so consecutive threads touch consecutive elements (coalesced global
//! accesses) and every elementwise operation is slot-wise within a thread.

/// The distribution of a tile of `numel` elements over `threads` threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Distribution {
    pub numel: u64,
    pub threads: u64,
}

impl Distribution {
    pub fn new(shape: &[u64], threads: u32) -> Distribution {
        Distribution { numel: shape.iter().product(), threads: threads as u64 }
    }

    /// Slots per thread: `ceil(numel / threads)`.
    pub fn slots(self) -> u64 {
        self.numel.div_ceil(self.threads)
    }

    /// Whether slot `k` exists only for some threads (the tile does not fill it), so accesses through
    /// it must be guarded by `thread < numel - k * threads`.
    pub fn slot_is_partial(self, k: u64) -> bool {
        (k + 1) * self.threads > self.numel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_cover_every_element_once() {
        for (n, t) in [(1024u64, 128u32), (100, 128), (130, 64), (1, 32)] {
            let d = Distribution::new(&[n], t);
            let mut seen = vec![0; n as usize];
            for k in 0..d.slots() {
                for th in 0..t as u64 {
                    let e = k * t as u64 + th;
                    if e < n {
                        seen[e as usize] += 1;
                    } else {
                        assert!(d.slot_is_partial(k));
                    }
                }
            }
            assert!(seen.iter().all(|&c| c == 1));
        }
    }
}
