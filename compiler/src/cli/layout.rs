//! `tilec layout EXPR`: the layout calculator (the algebra of docs/layouts.md, from the command line).

use super::common::{use_color, CliError, CliResult};
use std::path::PathBuf;
use tilec_layout::calc::{self, CalcOptions};

/// Evaluate a layout expression: CuTe shape:stride layouts, their algebra, swizzles, register
/// (thread-value) layouts and hardware atoms
#[derive(clap::Args)]
#[command(after_help = "The result is printed on the last line: a layout in the same notation, or a number.

Examples:
  tilec layout '(4,2):(1,4)'
  tilec layout 'logical_divide((6,8):(8,1), <3:1,4:1>)'
  tilec layout 'composition(Sw<3,3,3>, (8,64):(64,1))'
  tilec layout 'size(((2,2),4):((1,4),2))'
  tilec layout 'spatial(8,4).local(1,2)' --table
  tilec layout 'mma(m16n8k16, f16, a)' --svg a.svg
  tilec layout 'mma(m16n8k16, f16, c) / local(1,2)'

docs/layouts.md explains the notation and every operation with worked examples.")]
pub struct Args {
    /// The expression, e.g. 'blocked_product((2,2):(1,2), (3,4))'
    expr: String,
    /// Print the image of every index 0..size on the last line (for a register layout, the row-major
    /// tile coordinate held by each (thread, slot), thread-major)
    #[arg(long)]
    table: bool,
    /// Draw the layout as an SVG picture: the tile's grid coloured by thread, cells labelled thread/slot
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

pub fn run(a: Args) -> CliResult {
    let opts = CalcOptions { table: a.table, svg: a.svg.is_some() };
    let out = calc::run(&a.expr, &opts).map_err(|e| CliError::rendered(e.render(&a.expr, use_color())))?;
    print!("{}", out.stdout);
    if let (Some(path), Some(svg)) = (&a.svg, &out.svg) {
        std::fs::write(path, svg).map_err(|e| CliError::msg(format!("cannot write `{}`: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
