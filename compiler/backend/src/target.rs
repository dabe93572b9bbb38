//! Code-generation targets.

use std::fmt;
use std::str::FromStr;

/// A GPU architecture tilec generates code for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// NVIDIA Ampere (A100), PTX.
    Sm80,
    /// NVIDIA Hopper (H100, H200), PTX.
    Sm90,
    /// AMD CDNA2 (MI200), AMDGCN.
    Gfx90a,
    /// AMD CDNA3 (MI300), AMDGCN.
    Gfx942,
}

/// The code a target's assembler takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vendor {
    Nvidia,
    Amd,
}

impl Target {
    pub const ALL: [Target; 4] = [Target::Sm80, Target::Sm90, Target::Gfx90a, Target::Gfx942];

    pub fn name(self) -> &'static str {
        match self {
            Target::Sm80 => "sm_80",
            Target::Sm90 => "sm_90",
            Target::Gfx90a => "gfx90a",
            Target::Gfx942 => "gfx942",
        }
    }

    pub fn vendor(self) -> Vendor {
        match self {
            Target::Sm80 | Target::Sm90 => Vendor::Nvidia,
            Target::Gfx90a | Target::Gfx942 => Vendor::Amd,
        }
    }

    /// What the thread-level lowering may select on this target: mma.sync, ldmatrix and cp.async on
    /// NVIDIA (and stmatrix from sm_90); scalar instructions on AMD, where `dot` becomes FMAs.
    pub fn lowering_options(self) -> tilec_core::lower::Options {
        match self {
            Target::Sm80 => tilec_core::lower::Options::SM80,
            Target::Sm90 => tilec_core::lower::Options::SM90,
            Target::Gfx90a | Target::Gfx942 => tilec_core::lower::Options::SCALAR,
        }
    }

    pub fn triple(self) -> &'static str {
        match self.vendor() {
            Vendor::Nvidia => "nvptx64-nvidia-cuda",
            Vendor::Amd => "amdgcn-amd-amdhsa",
        }
    }

    /// LLVM target features: the PTX ISA version every supported CUDA 12 driver accepts.
    pub fn features(self) -> &'static str {
        match self {
            Target::Sm80 => "+ptx78",
            Target::Sm90 => "+ptx78",
            Target::Gfx90a | Target::Gfx942 => "",
        }
    }

    /// Threads in a hardware warp (NVIDIA) or wavefront (AMD CDNA).
    pub fn warp_size(self) -> u32 {
        match self.vendor() {
            Vendor::Nvidia => 32,
            Vendor::Amd => 64,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A target name that tilec does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown target `{0}`: supported targets are sm_80, sm_90 (NVIDIA PTX) and gfx90a, gfx942 (AMDGCN)")]
pub struct UnknownTarget(pub String);

impl FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::ALL.into_iter().find(|t| t.name() == s).ok_or_else(|| UnknownTarget(s.to_string()))
    }
}
