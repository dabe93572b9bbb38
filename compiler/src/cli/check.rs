//! `tilec check FILE`: parse and check a source file, report every problem.

use super::common::{compile, parse_define, CliResult};
use std::path::PathBuf;
use tilec::Define;

/// Check a .tile file for errors without generating code
#[derive(clap::Args)]
#[command(after_help = "Example:\n  tilec check examples/vector_add.tile -D BLOCK=256")]
pub struct Args {
    /// The .tile source file
    file: PathBuf,
    /// Give a compile-time parameter a value: -D NAME=VALUE (repeatable)
    #[arg(short = 'D', value_name = "NAME=VALUE", value_parser = parse_define)]
    defines: Vec<Define>,
}

pub fn run(a: Args) -> CliResult {
    let (_, program) = compile(&a.file, &a.defines)?;
    for k in &program.kernels {
        let sig: Vec<String> = k.params.iter().map(|p| p.name.clone()).collect();
        eprintln!("ok: kernel {}({}) grid({}) warps({})", k.name, sig.join(", "), k.grid.iter().map(|g| g.display(&k.dims)).collect::<Vec<_>>().join(", "), k.warps);
        if let Some(t) = &k.tune {
            eprintln!("    schedule space over {}: {} points", t.params.join(", "), t.points.len());
        }
    }
    Ok(())
}
