//! Command-line parsing (clap) and dispatch to one module per subcommand.

mod build;
mod check;
mod common;
mod dtype;
mod layout;
mod pack;
mod ptxas;
mod run;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "tilec", version, about = "A compiler for the tile language: thread-block GPU kernels to PTX and AMDGCN", long_about = None)]
#[command(after_help = "Examples:\n  tilec check examples/vector_add.tile\n  tilec build examples/vector_add.tile --target sm_90 --emit ptx -o vector_add.ptx\n  tilec run examples/vector_add.tile a=a.npy b=b.npy --out c=c.npy")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Check(check::Args),
    Build(build::Args),
    Run(run::Args),
    Dtype(dtype::Args),
    Layout(layout::Args),
    Pack(pack::PackArgs),
    Unpack(pack::UnpackArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(a) => check::run(a),
        Command::Build(a) => build::run(a),
        Command::Run(a) => run::run(a),
        Command::Dtype(a) => dtype::run(a),
        Command::Layout(a) => layout::run(a),
        Command::Pack(a) => pack::pack(a),
        Command::Unpack(a) => pack::unpack(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprint!("{}", e.render(common::use_color()));
            ExitCode::FAILURE
        }
    }
}
