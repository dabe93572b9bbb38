//! The `tilec dtype` reports without the driver: `cargo run --example dtype_report -- NAME
//! [--table | --encode V...]`. The driver's subcommand prints exactly the same text.

use std::process::ExitCode;

use tilec_dtype::{report, DType};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        eprintln!("usage: dtype_report NAME [--table | --encode V...]");
        return ExitCode::FAILURE;
    };
    let result = name
        .parse::<DType>()
        .map_err(|e| e.to_string())
        .and_then(|dt| match args.get(1).map(String::as_str) {
            None => Ok(report::describe(dt)),
            Some("--table") => report::table(dt).map_err(|e| e.to_string()),
            Some("--encode") => {
                let values: Vec<&str> = args[2..].iter().map(String::as_str).collect();
                report::encode_values(dt, &values).map_err(|e| e.to_string())
            }
            Some(other) => Err(format!("unknown option `{other}`")),
        });
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
