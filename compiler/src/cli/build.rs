//! `tilec build FILE --target T --emit STAGE [-o OUT]`: compile to any stage of the pipeline.

use super::common::{compile, parse_define, write_output, CliError, CliResult};
use std::path::PathBuf;
use tilec::{Codegen, Define, Stage, Target, Vendor};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// The tokens of the source
    Tokens,
    /// The syntax tree
    Ast,
    /// The typed tile IR
    Tir,
    /// The thread-level program each thread runs, lowered by the inferred layouts (what
    /// `tilec run --device emu` executes)
    Thread,
    /// MLIR as tilec builds it (gpu, arith, scf, llvm dialects)
    Mlir,
    /// MLIR after the pass pipeline (LLVM dialect with NVVM/ROCDL)
    MlirLowered,
    /// LLVM IR after LLVM's -O3 pipeline
    Llvm,
    /// PTX assembly (NVIDIA targets)
    Ptx,
    /// AMDGCN assembly (AMD targets)
    Amdgcn,
}

/// Compile a .tile file to PTX, AMDGCN, or any intermediate stage
#[derive(clap::Args)]
#[command(after_help = "Examples:\n  tilec build examples/vector_add.tile --target sm_90 --emit ptx -o vector_add.ptx\n  tilec build examples/vector_add.tile --target gfx942 --emit amdgcn\n  tilec build examples/vector_add.tile --emit tir -D BLOCK=256\n  tilec build examples/softmax.tile --emit thread")]
pub struct Args {
    /// The .tile source file
    file: PathBuf,
    /// The GPU to compile for: sm_80, sm_90 (NVIDIA) or gfx90a, gfx942 (AMD)
    #[arg(long, default_value = "sm_90", value_parser = parse_target)]
    target: Target,
    /// What to produce
    #[arg(long, value_enum, default_value = "ptx")]
    emit: Emit,
    /// Where to write it (standard output if absent). With --emit ptx or amdgcn, the runtime's
    /// manifest (kernel ABI, dims, launch configuration) is written beside it as OUT with extension .json
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<PathBuf>,
    /// With --emit ptx, amdgcn or thread: the kernel to build when the file has several (one artifact
    /// per kernel)
    #[arg(long)]
    kernel: Option<String>,
    /// Give a compile-time parameter a value: -D NAME=VALUE (repeatable)
    #[arg(short = 'D', value_name = "NAME=VALUE", value_parser = parse_define)]
    defines: Vec<Define>,
    /// Say which code generator compiled each kernel; with --emit ptx also assemble with ptxas and
    /// report registers, spills and shared memory per kernel
    /// (ptxas is found as $PTXAS, in the project's tools/cuda/bin, or on PATH)
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Print how long each stage of the compilation took
    #[arg(long)]
    timings: bool,
    /// The code generator: `thread` compiles the thread-level program the kernel lowers to (NVIDIA),
    /// `direct` the tile IR itself, `auto` the thread-level program where the kernel lowers, else direct
    #[arg(long, value_enum, default_value = "auto")]
    codegen: CodegenArg,
}

/// `--codegen` (tilec's `Codegen`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CodegenArg {
    /// The thread-level program where the kernel lowers to one, else the direct emitter
    Auto,
    /// The thread-level program; an error where the kernel does not lower
    Thread,
    /// The direct tile-IR emitter
    Direct,
}

impl From<CodegenArg> for Codegen {
    fn from(c: CodegenArg) -> Codegen {
        match c {
            CodegenArg::Auto => Codegen::Auto,
            CodegenArg::Thread => Codegen::Thread,
            CodegenArg::Direct => Codegen::Direct,
        }
    }
}

fn parse_target(s: &str) -> Result<Target, String> {
    s.parse::<Target>().map_err(|e| e.to_string())
}

pub fn run(a: Args) -> CliResult {
    let text_of = |path: &PathBuf| std::fs::read_to_string(path).map_err(|e| CliError::msg(format!("cannot read `{}`: {e}", path.display())));
    let out = match a.emit {
        Emit::Tokens => {
            let text = text_of(&a.file)?;
            let toks = tilec::syntax::lexer::tokenize(&text).map_err(|e| {
                let d = tilec::Diagnostic::at(tilec::syntax::Span::new(e.start, e.end), "unexpected character", "not part of any token");
                CliError::in_source(tilec::Source::new(a.file.display().to_string(), text.clone()), vec![d])
            })?;
            toks.iter().map(|(l, t, r)| format!("{l}..{r} {t:?}\n")).collect()
        }
        Emit::Ast => {
            let text = text_of(&a.file)?;
            let module = tilec::syntax::parse_module(&text)
                .map_err(|d| CliError::in_source(tilec::Source::new(a.file.display().to_string(), text.clone()), vec![d]))?;
            format!("{module:#?}\n")
        }
        Emit::Tir => tilec::tir::print_program(&compile(&a.file, &a.defines)?.1),
        Emit::Thread => {
            let (source, program) = compile(&a.file, &a.defines)?;
            let program = match &a.kernel {
                Some(name) => select_kernel(program, name, &a.file)?,
                None => program,
            };
            let mut text = String::new();
            for k in &program.kernels {
                // Lowered for the target, as `build` compiles it (AMD: no cp.async, dot as FMAs).
                let lowered = tilec::lower::lower_with(k, &a.target.lowering_options()).map_err(|d| CliError::in_source(source.clone(), vec![d]))?;
                text += &tilec::thread::print_program(&lowered);
            }
            text
        }
        stage => {
            let (source, program) = compile(&a.file, &a.defines)?;
            let stage = match stage {
                Emit::Mlir => Stage::Mlir,
                Emit::MlirLowered => Stage::LoweredMlir,
                Emit::Llvm => Stage::Llvm,
                Emit::Ptx | Emit::Amdgcn => {
                    let want = if stage == Emit::Ptx { Vendor::Nvidia } else { Vendor::Amd };
                    if a.target.vendor() != want {
                        let msg = match want {
                            Vendor::Nvidia => format!("--emit ptx needs an NVIDIA target (sm_80 or sm_90), not `{}`; AMD targets emit --emit amdgcn", a.target),
                            Vendor::Amd => format!("--emit amdgcn needs an AMD target (gfx90a or gfx942), not `{}`; NVIDIA targets emit --emit ptx", a.target),
                        };
                        return Err(CliError::msg(msg));
                    }
                    Stage::Assembly
                }
                _ => unreachable!(),
            };
            let program = match (&a.kernel, stage) {
                (Some(name), _) => select_kernel(program, name, &a.file)?,
                _ => program,
            };
            let generated = tilec::generate_with(&program, a.target, stage, a.codegen.into()).map_err(|e| CliError::in_source(source, vec![e.to_diagnostic()]))?;
            let code = generated.text.clone();
            let times = &generated.times;
            if a.verbose {
                for (kernel, path) in &generated.paths {
                    eprintln!("kernel `{kernel}`: {path}");
                }
            }
            if a.timings {
                for (name, d) in times {
                    eprintln!("{:>8.2} ms  {name}", d.as_secs_f64() * 1e3);
                }
            }
            if a.verbose && stage == Stage::Assembly && a.target.vendor() == Vendor::Nvidia {
                super::ptxas::report(&code, a.target);
            }
            if let (Stage::Assembly, Some(out), [kernel]) = (stage, &a.output, program.kernels.as_slice()) {
                let manifest = tilec::artifact::manifest_for(kernel, a.target, &generated.paths[0].1);
                let path = out.with_extension("json");
                std::fs::write(&path, manifest.to_json()).map_err(|e| CliError::msg(format!("cannot write `{}`: {e}", path.display())))?;
            }
            code
        }
    };
    write_output(a.output.as_deref(), &out)
}

fn select_kernel(program: tilec::tir::Program, name: &str, file: &std::path::Path) -> CliResult<tilec::tir::Program> {
    let names: Vec<String> = program.kernels.iter().map(|k| k.name.clone()).collect();
    match program.kernels.into_iter().find(|k| k.name == name) {
        Some(k) => Ok(tilec::tir::Program { kernels: vec![k] }),
        None => Err(CliError::msg(format!("no kernel `{name}` in `{}`; it has: {}", file.display(), names.join(", ")))),
    }
}
