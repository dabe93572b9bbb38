//! Every kernel the GPU backend lowers has its PTX accepted by the real ptxas for sm_80 and sm_90,
//! with no spills, by the direct emitter and by the thread-level path, and its AMDGCN assembled and linked into a code object for gfx90a and gfx942. The
//! backend lowers most of the language so far (docs/architecture.md): the test kernels and the
//! examples listed in `gpu_kernels` must lower; everything else must lower or be refused with a clean
//! "not supported yet" diagnostic, never an internal error.

use crate::{root, tool};
use std::process::Command;
use tilec::{Codegen, KernelPath, Stage, Target};

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

/// Assembles `ptx` with the real ptxas for `target`; asserts it is accepted without spills.
fn assemble(ptxas: &std::path::Path, dir: &std::path::Path, ptx: &str, target: Target, what: &str) {
    let path = dir.join("k.ptx");
    std::fs::write(&path, ptx).expect("write PTX");
    let out = Command::new(ptxas).arg(format!("-arch={}", target.name())).arg("-v").arg(&path).arg("-o").arg(dir.join("k.cubin")).output().expect("ptxas runs");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ptxas rejected {what} for {target}:\n{log}");
    assert!(log.contains("0 bytes spill stores, 0 bytes spill loads"), "{what} spills on {target}:\n{log}");
}

/// Both code generators: the direct emitter on every kernel it must lower, and `auto` (the thread
/// path where a kernel lowers).
#[test]
fn ptxas_accepts_every_kernel() {
    let ptxas = tool(&root().join("tools/cuda/bin/ptxas"), "run scripts/setup.sh (it installs ptxas from the nvidia-cuda-nvcc-cu12 wheel)");
    let dir = tempfile::tempdir().expect("temp dir");
    for file in gpu_kernels() {
        for target in [Target::Sm80, Target::Sm90] {
            for codegen in [Codegen::Direct, Codegen::Auto] {
                let ptx = tilec::generate_with(&program(&file), target, Stage::Assembly, codegen).expect("PTX").text;
                assemble(&ptxas, dir.path(), &ptx, target, &format!("{} ({codegen:?})", file.display()));
            }
        }
    }
}

/// Every kernel of the repository (examples, tests/kernels, tests/lang) that lowers to a thread-level program builds through the thread
/// path (`--codegen thread`) for sm_80 and sm_90 and assembles without spills; `auto` takes that
/// path for them, and `--codegen thread` refuses the others with the lowering's diagnostic.
#[test]
fn every_kernel_that_lowers_assembles_through_the_thread_path() {
    let ptxas = tool(&root().join("tools/cuda/bin/ptxas"), "run scripts/setup.sh (it installs ptxas from the nvidia-cuda-nvcc-cu12 wheel)");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut lowered = Vec::new();
    let mut files = crate::kernel_files();
    files.extend(std::fs::read_dir(root().join("tests/lang")).expect("tests/lang").map(|e| e.expect("entry").path()).filter(|p| p.extension().is_some_and(|e| e == "tile")));
    for file in files {
        for kernel in program(&file).kernels {
            let lowers = tilec::lower::lower(&kernel).is_ok();
            let one = tilec::tir::Program { kernels: vec![kernel.clone()] };
            if !lowers {
                assert!(matches!(tilec::generate_with(&one, Target::Sm90, Stage::Mlir, Codegen::Thread), Err(tilec::CodegenError::Lowering(_))));
                continue;
            }
            let auto = tilec::generate_with(&one, Target::Sm90, Stage::Mlir, Codegen::Auto).expect("MLIR");
            assert!(matches!(auto.paths[0].1, KernelPath::Thread { .. }), "{}: `{}` took {}", file.display(), kernel.name, auto.paths[0].1);
            lowered.push(kernel.name.clone());
            for target in [Target::Sm80, Target::Sm90] {
                let ptx = tilec::generate_with(&one, target, Stage::Assembly, Codegen::Thread).unwrap_or_else(|e| panic!("{}: `{}` on {target}: {e}", file.display(), kernel.name)).text;
                assemble(&ptxas, dir.path(), &ptx, target, &format!("{}: `{}` (thread path)", file.display(), kernel.name));
            }
        }
    }
    for name in ["vector_add", "softmax", "layernorm", "rmsnorm", "matmul", "attention"] {
        assert!(lowered.iter().any(|k| k == name), "`{name}` no longer takes the thread path");
    }
}

/// The kernels with `copy_async` (shared-memory stages; synchronous copies on AMD, where the thread
/// path must take them): their files and the defines that select the staged variant.
fn staged_kernels() -> Vec<(std::path::PathBuf, Vec<(&'static str, &'static str)>)> {
    vec![
        (root().join("examples/matmul.tile"), vec![("PIPELINED", "true")]),
        (root().join("examples/matmul.tile"), vec![("PIPELINED", "true"), ("BM", "32"), ("BN", "64"), ("BK", "16"), ("STAGES", "4")]),
        (root().join("tests/lang/pipeline.tile"), vec![]),
    ]
}

fn program_with(file: &std::path::Path, defines: &[(&str, &str)]) -> tilec::tir::Program {
    let options = tilec::Options { defines: defines.iter().map(|(n, v)| tilec::Define { name: n.to_string(), value: v.to_string() }).collect() };
    tilec::compile_file(file, &options).unwrap_or_else(|e| panic!("{}", e.render(false)))
}

#[test]
fn amdgcn_assembles_and_links_for_every_kernel() {
    let mc = tool(std::path::Path::new("/usr/lib/llvm-19/bin/llvm-mc"), "run scripts/setup.sh (Debian package llvm-19)");
    let lld = tool(std::path::Path::new("/usr/lib/llvm-19/bin/ld.lld"), "run scripts/setup.sh (Debian package lld-19)");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut programs: Vec<_> = gpu_kernels().into_iter().map(|f| (program(&f), f.display().to_string())).collect();
    for (file, defines) in staged_kernels() {
        let p = program_with(&file, &defines);
        for target in [Target::Gfx90a, Target::Gfx942] {
            let auto = tilec::generate_with(&p, target, Stage::Mlir, Codegen::Auto).expect("MLIR");
            assert!(auto.paths.iter().all(|(_, path)| matches!(path, KernelPath::Thread { .. })), "{} {defines:?} on {target}: {:?}", file.display(), auto.paths);
        }
        programs.push((p, format!("{} {defines:?}", file.display())));
    }
    for (p, file) in &programs {
        for target in [Target::Gfx90a, Target::Gfx942] {
            let asm = tilec::generate(p, target, Stage::Assembly).expect("AMDGCN");
            assert!(asm.contains(".amdhsa_kernel"), "no kernel descriptor for {} on {target}", file);
            let (s, o, co) = (dir.path().join("k.s"), dir.path().join("k.o"), dir.path().join("k.hsaco"));
            std::fs::write(&s, &asm).expect("write assembly");
            let out = Command::new(&mc)
                .args(["-triple=amdgcn-amd-amdhsa", &format!("-mcpu={}", target.name()), "-filetype=obj", "-o"])
                .arg(&o)
                .arg(&s)
                .output()
                .expect("llvm-mc runs");
            assert!(out.status.success(), "llvm-mc rejected {} for {target}:\n{}", file, String::from_utf8_lossy(&out.stderr));
            let out = Command::new(&lld).arg("-shared").arg(&o).arg("-o").arg(&co).output().expect("ld.lld runs");
            assert!(out.status.success(), "ld.lld failed for {} on {target}:\n{}", file, String::from_utf8_lossy(&out.stderr));
        }
    }
}
