//! `tile-run`: runs a compiled tilec artifact on a GPU, without the compiler.
//!
//! Errors are one line on stderr and exit code 1; usage errors come from clap with exit code 2.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use tile_runtime::{npy, run_artifact_timed, Binding, Device, HostArray, Manifest, ScalarValue, TimingRequest};

const AFTER_HELP: &str = "\
Arguments are NAME=FILE.npy for tensors and NAME=VALUE for scalars; a symbolic dim can also be
given as NAME=VALUE when no input tensor determines it. Tensors that are not given are outputs:
they are allocated from their declared shape and filled with 0xFF bytes before the launch, so an
element the kernel never writes is visible.

Scalar values: integers (42, -3), floats (1.5, 2e-3, inf, nan), true/false, or a raw bit pattern
0xNN (required for small-float and e8m0 scalars).

.npy conventions: a tensor of f16/f32/f64, i8..i64, u8..u64 or bool is the matching numpy array;
bf16 is uint16 bit patterns (or ml_dtypes bfloat16); sub-byte and small-float types (i4, u2,
f8e4m3, e8m0, ...) are a uint8 array of the packed bytes, LSB first.

Example:
  tile-run out/vector_add.json a=a.npy b=b.npy alpha=2.0 --out c=c.npy --time 100
runs out/vector_add.ptx on CUDA device 0, writes parameter c to c.npy and prints the median time
of 100 launches.";

#[derive(Parser, Debug)]
#[command(name = "tile-run", version, about = "Run a compiled tilec kernel artifact on a GPU (no compiler needed)", after_help = AFTER_HELP)]
struct Cli {
    /// The artifact manifest (JSON) written by tilec next to the kernel code.
    artifact: PathBuf,
    /// Inputs: NAME=FILE.npy for tensors, NAME=VALUE for scalars and dims.
    #[arg(value_name = "NAME=FILE.npy|NAME=VALUE")]
    args: Vec<String>,
    /// The kernel code (default: the manifest path with extension .ptx, .cubin or .hsaco per its `code`).
    #[arg(long, value_name = "FILE")]
    code: Option<PathBuf>,
    /// The device API to run on.
    #[arg(long, value_enum, default_value_t = Api::Cuda)]
    device: Api,
    /// The device ordinal.
    #[arg(long, default_value_t = 0, value_name = "N")]
    ordinal: usize,
    /// After the checked run, time N launches (after warm-up) with device events; print the median.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    time: Option<u32>,
    /// Untimed warm-up launches before timing.
    #[arg(long, default_value_t = 10, value_name = "N")]
    warmup: usize,
    /// Write tensor parameter NAME to FILE.npy after the run (repeatable).
    #[arg(long = "out", value_name = "NAME=FILE.npy")]
    outs: Vec<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Api {
    Cuda,
    Hip,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {}", msg.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

fn split_assignment<'a>(text: &'a str, what: &str) -> Result<(&'a str, &'a str), String> {
    match text.split_once('=') {
        Some((n, v)) if !n.is_empty() && !v.is_empty() => Ok((n, v)),
        _ => Err(format!("{what} `{text}` is not of the form NAME=VALUE")),
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let manifest = Manifest::load(&cli.artifact).map_err(|e| e.to_string())?;
    let code_path = cli.code.clone().unwrap_or_else(|| manifest.default_code_path(&cli.artifact));
    let code = std::fs::read(&code_path).map_err(|e| format!("cannot read kernel code `{}`: {e}", code_path.display()))?;

    let mut bindings = Vec::new();
    for a in &cli.args {
        let (name, value) = split_assignment(a, "argument")?;
        let is_tensor = manifest.param(name).is_some_and(|p| p.kind == tile_runtime::ParamKind::Tensor);
        let binding = if is_tensor || value.ends_with(".npy") {
            Binding::Npy(npy::read(value).map_err(|e| e.to_string())?)
        } else {
            Binding::Scalar(ScalarValue::parse(value).map_err(|e| format!("bad value for `{name}`: {e}"))?)
        };
        bindings.push((name.to_string(), binding));
    }

    let mut outs: Vec<(String, PathBuf)> = Vec::new();
    for o in &cli.outs {
        let (name, file) = split_assignment(o, "--out")?;
        match manifest.param(name) {
            Some(p) if p.kind == tile_runtime::ParamKind::Tensor => outs.push((name.to_string(), PathBuf::from(file))),
            Some(_) => return Err(format!("--out {name}: `{name}` is a scalar, not a tensor")),
            None => return Err(format!("--out {name}: kernel `{}` has no parameter `{name}`", manifest.kernel)),
        }
    }

    let device = match cli.device {
        Api::Cuda => Device::Cuda(cli.ordinal),
        Api::Hip => Device::Hip(cli.ordinal),
    };
    let timing = cli.time.map(|n| TimingRequest { warmup: cli.warmup, reps: n as usize });
    let result = run_artifact_timed(&manifest, &code, bindings, device, timing).map_err(|e| e.to_string())?;

    for (name, path) in &outs {
        let array: &HostArray = result
            .tensors
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a)
            .ok_or_else(|| format!("--out {name}: no such tensor in the results"))?;
        array.to_npy(path).map_err(|e| e.to_string())?;
        eprintln!("wrote {name} ({}, shape {:?}) to {}", array.dtype, array.shape, display(path));
    }
    if let Some(t) = result.timing {
        println!(
            "{}: median {:.4} ms over {} launches (min {:.4} ms, max {:.4} ms, {} warm-up)",
            manifest.kernel,
            t.median_ms(),
            t.samples_ms.len(),
            t.min_ms(),
            t.max_ms(),
            cli.warmup
        );
    }
    Ok(())
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
