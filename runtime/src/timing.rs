//! Launch geometry and timing results shared by the CUDA and HIP backends.

/// Grid, block and dynamic shared memory of one launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchDims {
    pub grid: [u32; 3],
    pub block: [u32; 3],
    pub shared_bytes: u32,
}

impl LaunchDims {
    /// Whether the grid has no blocks (a launch is then skipped: there is no work).
    pub fn is_empty(&self) -> bool {
        self.grid.contains(&0)
    }

    /// Rejects block shapes no GPU accepts, before the driver gives a vaguer error.
    pub fn check(&self) -> Result<(), String> {
        if self.block.contains(&0) {
            return Err(format!("block {:?} has a zero entry", self.block));
        }
        let threads = self.block.iter().map(|&b| b as u64).product::<u64>();
        if threads > 1024 {
            return Err(format!("block {:?} has {threads} threads; GPUs allow at most 1024", self.block));
        }
        Ok(())
    }
}

/// Per-launch times in milliseconds, measured with device events around each launch.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    /// One sample per timed launch, in launch order.
    pub samples_ms: Vec<f32>,
}

impl Timing {
    /// The median sample (the mean of the middle two for an even count); 0 when empty.
    pub fn median_ms(&self) -> f32 {
        let mut s = self.samples_ms.clone();
        s.sort_by(f32::total_cmp);
        match s.len() {
            0 => 0.0,
            n if n % 2 == 1 => s[n / 2],
            n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
        }
    }

    pub fn min_ms(&self) -> f32 {
        self.samples_ms.iter().copied().fold(f32::INFINITY, f32::min)
    }

    pub fn max_ms(&self) -> f32 {
        self.samples_ms.iter().copied().fold(0.0, f32::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(Timing { samples_ms: vec![3.0, 1.0, 2.0] }.median_ms(), 2.0);
        assert_eq!(Timing { samples_ms: vec![4.0, 1.0, 2.0, 3.0] }.median_ms(), 2.5);
        assert_eq!(Timing { samples_ms: vec![] }.median_ms(), 0.0);
    }

    #[test]
    fn block_checks() {
        let d = LaunchDims { grid: [1, 1, 1], block: [1024, 2, 1], shared_bytes: 0 };
        assert!(d.check().unwrap_err().contains("2048 threads"));
        assert!(LaunchDims { grid: [0, 1, 1], block: [32, 1, 1], shared_bytes: 0 }.is_empty());
    }
}
