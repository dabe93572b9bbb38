//! Runs the layout calculator outside the tilec driver:
//! `cargo run --release -p tilec-layout --example calc -- [--table] [--svg FILE] EXPR`.

use tilec_layout::calc::{run, CalcOptions};

fn main() {
    let mut opts = CalcOptions::default();
    let mut svg_path = None;
    let mut expr = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--table" => opts.table = true,
            "--svg" => {
                opts.svg = true;
                svg_path = args.next();
            }
            _ => expr = Some(a),
        }
    }
    let Some(expr) = expr else {
        eprintln!("usage: calc [--table] [--svg FILE] EXPR");
        std::process::exit(2);
    };
    match run(&expr, &opts) {
        Ok(out) => {
            print!("{}", out.stdout);
            if let (Some(svg), Some(p)) = (out.svg, svg_path) {
                if let Err(e) = std::fs::write(&p, svg) {
                    eprintln!("cannot write {p}: {e}");
                    std::process::exit(1);
                }
            }
        }
        Err(e) => {
            eprint!("{}", e.render(&expr, false));
            std::process::exit(1);
        }
    }
}
