//! `tilec run FILE ARGS...`: run a kernel on `.npy` inputs, on a CUDA GPU or the CPU interpreter.

use super::common::{compile, parse_define, CliError, CliResult};
use std::path::PathBuf;
use tilec::execute::{self, RunDevice, RunError};
use tilec::runtime::args::ScalarValue;
use tilec::runtime::bind::Binding;
use tilec::Define;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// A CUDA GPU if one is present, else the CPU interpreter
    Auto,
    /// The tile interpreter on the CPU (the reference semantics)
    Cpu,
    /// The thread-level program on the CPU emulator (every thread; checks races and barriers)
    Emu,
    /// The first CUDA GPU
    Cuda,
}

/// Run a kernel on .npy inputs and write its outputs
#[derive(clap::Args)]
#[command(after_help = "Arguments are NAME=FILE.npy for tensors and NAME=VALUE for scalars (or to give a symbolic
dimension explicitly). Symbolic dimensions take their sizes from the arrays bound to them; a tensor
parameter that is not bound is allocated from its declared shape (filled with 0xFF bytes so that
unwritten elements show).

Example:
  tilec run examples/vector_add.tile a=a.npy b=b.npy --out c=c.npy
  tilec run examples/vector_add.tile --device cpu -D BLOCK=256 a=a.npy b=b.npy --out c=c.npy")]
pub struct Args {
    /// The .tile source file
    file: PathBuf,
    /// NAME=FILE.npy or NAME=VALUE, one per parameter
    #[arg(value_name = "NAME=VALUE")]
    bindings: Vec<String>,
    /// The kernel to run (required when the file has several)
    #[arg(long)]
    kernel: Option<String>,
    /// Where to run it
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceArg,
    /// Give a compile-time parameter a value: -D NAME=VALUE (repeatable)
    #[arg(short = 'D', value_name = "NAME=VALUE", value_parser = parse_define)]
    defines: Vec<Define>,
    /// The code generator for GPU runs (see `tilec build --codegen`)
    #[arg(long, value_enum, default_value = "auto")]
    codegen: super::build::CodegenArg,
    /// Write tensor parameter NAME to FILE.npy after the run (repeatable)
    #[arg(long = "out", value_name = "NAME=FILE.npy")]
    outputs: Vec<String>,
}

fn split(s: &str, what: &str) -> CliResult<(String, String)> {
    match s.split_once('=') {
        Some((n, v)) if !n.is_empty() && !v.is_empty() => Ok((n.to_string(), v.to_string())),
        _ => Err(CliError::msg(format!("`{s}` is not of the form {what}"))),
    }
}

pub fn run(a: Args) -> CliResult {
    let (source, program) = compile(&a.file, &a.defines)?;
    let names: Vec<&str> = program.kernels.iter().map(|k| k.name.as_str()).collect();
    let kernel = match (&a.kernel, program.kernels.as_slice()) {
        (Some(name), ks) => ks
            .iter()
            .find(|k| &k.name == name)
            .ok_or_else(|| CliError::msg(format!("no kernel `{name}` in `{}`; it has: {}", a.file.display(), names.join(", "))))?,
        (None, [k]) => k,
        (None, []) => return Err(CliError::msg(format!("`{}` has no kernel to run", a.file.display()))),
        (None, _) => return Err(CliError::msg(format!("`{}` has several kernels; choose one with --kernel ({})", a.file.display(), names.join(", ")))),
    };

    let mut bindings = Vec::new();
    for b in &a.bindings {
        let (name, value) = split(b, "NAME=FILE.npy or NAME=VALUE")?;
        let binding = if value.ends_with(".npy") {
            Binding::Npy(tilec::runtime::npy::read(&value).map_err(|e| CliError::msg(e.to_string()))?)
        } else {
            Binding::Scalar(ScalarValue::parse(&value).map_err(|e| CliError::msg(format!("{name}={value}: {e}")))?)
        };
        bindings.push((name, binding));
    }
    let mut outputs = Vec::new();
    for o in &a.outputs {
        let (name, path) = split(o, "NAME=FILE.npy")?;
        if !kernel.params.iter().any(|p| p.name == name && matches!(p.kind, tilec::tir::ParamKind::Tensor { .. })) {
            let tensors: Vec<&str> =
                kernel.params.iter().filter(|p| matches!(p.kind, tilec::tir::ParamKind::Tensor { .. })).map(|p| p.name.as_str()).collect();
            return Err(CliError::msg(format!("--out {o}: kernel `{}` has no tensor parameter `{name}` (tensors: {})", kernel.name, tensors.join(", "))));
        }
        outputs.push((name, PathBuf::from(path)));
    }

    let device = match a.device {
        DeviceArg::Auto => execute::best_device(),
        DeviceArg::Cpu => RunDevice::Cpu,
        DeviceArg::Emu => RunDevice::Emu,
        DeviceArg::Cuda => RunDevice::Cuda(0),
    };
    let results = execute::run_with(kernel, bindings, device, a.codegen.into()).map_err(|e| match e {
        RunError::Interp(d) => CliError::in_source(source.clone(), vec![*d]),
        RunError::Codegen(c) => CliError::in_source(source.clone(), vec![c.to_diagnostic()]),
        other => CliError::msg(other.to_string()),
    })?;
    let where_ = match device {
        RunDevice::Cpu => "cpu (tile interpreter)".to_string(),
        RunDevice::Emu => "emu (thread-level program on the CPU emulator)".to_string(),
        RunDevice::Cuda(i) => format!("cuda:{i}"),
    };
    eprintln!("ran `{}` on {where_}", kernel.name);
    for (name, path) in outputs {
        let (_, array) = results.iter().find(|(n, _)| *n == name).expect("checked above");
        array.to_npy(&path).map_err(|e| CliError::msg(e.to_string()))?;
        eprintln!("wrote {name} to {}", path.display());
    }
    Ok(())
}
