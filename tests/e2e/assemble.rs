//! Every kernel the GPU backend lowers has its PTX accepted by the real ptxas for sm_80 and sm_90,
//! with no spills, and its AMDGCN assembled and linked into a code object for gfx90a and gfx942. The
//! backend lowers most of the language so far (docs/architecture.md): the test kernels and the
//! examples listed in `gpu_kernels` must lower; everything else must lower or be refused with a clean
//! "not supported yet" diagnostic, never an internal error.

use crate::{root, tool};
use std::process::Command;
use tilec::{Stage, Target};

fn program(file: &std::path::Path) -> tilec::tir::Program {
    tilec::compile_file(file, &tilec::Options::default()).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

/// The kernels the GPU backend must lower.
fn gpu_kernels() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = crate::kernel_files().into_iter().filter(|f| f.starts_with(root().join("tests/kernels"))).collect();
    for example in ["vector_add", "softmax", "layernorm", "matmul", "matmul_a16wx", "attention"] {
        files.push(root().join(format!("examples/{example}.tile")));
    }
    files
}

#[test]
fn every_example_lowers_or_is_cleanly_refused() {
    for file in crate::kernel_files() {
        for target in Target::ALL {
            match tilec::generate(&program(&file), target, Stage::Assembly) {
                Ok(_) => {}
                Err(e @ tilec::CodegenError::Unsupported { .. }) => assert!(!gpu_kernels().contains(&file), "{}: {e}", file.display()),
                Err(e) => panic!("{} on {target}: {e}", file.display()),
            }
        }
    }
}

#[test]
fn ptxas_accepts_every_kernel() {
    let ptxas = tool(&root().join("tools/cuda/bin/ptxas"), "run scripts/setup.sh (it installs ptxas from the nvidia-cuda-nvcc-cu12 wheel)");
    let dir = tempfile::tempdir().expect("temp dir");
    for file in gpu_kernels() {
        for target in [Target::Sm80, Target::Sm90] {
            let ptx = tilec::generate(&program(&file), target, Stage::Assembly).expect("PTX");
            let path = dir.path().join("k.ptx");
            std::fs::write(&path, &ptx).expect("write PTX");
            let out = Command::new(&ptxas).arg(format!("-arch={}", target.name())).arg("-v").arg(&path).arg("-o").arg(dir.path().join("k.cubin")).output().expect("ptxas runs");
            let log = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "ptxas rejected {} for {target}:\n{log}", file.display());
            assert!(log.contains("0 bytes spill stores, 0 bytes spill loads"), "{} spills on {target}:\n{log}", file.display());
        }
    }
}

#[test]
fn amdgcn_assembles_and_links_for_every_kernel() {
    let mc = tool(std::path::Path::new("/usr/lib/llvm-19/bin/llvm-mc"), "run scripts/setup.sh (Debian package llvm-19)");
    let lld = tool(std::path::Path::new("/usr/lib/llvm-19/bin/ld.lld"), "run scripts/setup.sh (Debian package lld-19)");
    let dir = tempfile::tempdir().expect("temp dir");
    for file in gpu_kernels() {
        for target in [Target::Gfx90a, Target::Gfx942] {
            let asm = tilec::generate(&program(&file), target, Stage::Assembly).expect("AMDGCN");
            assert!(asm.contains(".amdhsa_kernel"), "no kernel descriptor for {} on {target}", file.display());
            let (s, o, co) = (dir.path().join("k.s"), dir.path().join("k.o"), dir.path().join("k.hsaco"));
            std::fs::write(&s, &asm).expect("write assembly");
            let out = Command::new(&mc)
                .args(["-triple=amdgcn-amd-amdhsa", &format!("-mcpu={}", target.name()), "-filetype=obj", "-o"])
                .arg(&o)
                .arg(&s)
                .output()
                .expect("llvm-mc runs");
            assert!(out.status.success(), "llvm-mc rejected {} for {target}:\n{}", file.display(), String::from_utf8_lossy(&out.stderr));
            let out = Command::new(&lld).arg("-shared").arg(&o).arg("-o").arg(&co).output().expect("ld.lld runs");
            assert!(out.status.success(), "ld.lld failed for {} on {target}:\n{}", file.display(), String::from_utf8_lossy(&out.stderr));
        }
    }
}
