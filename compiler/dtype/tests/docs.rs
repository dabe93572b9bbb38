//! The `tilec dtype` examples in docs/dtypes.md are the real output: every `$ tilec dtype ...`
//! line in a fenced block is run through `report` and compared with the lines after it.

use tilec_dtype::{report, DType};

/// What `tilec dtype ARGS` prints (stdout, or `error: ...` on failure).
fn run(args: &[&str]) -> String {
    let out = args[0]
        .parse::<DType>()
        .map_err(|e| e.to_string())
        .and_then(|dt| match args.get(1).copied() {
            None => Ok(report::describe(dt)),
            Some("--table") => report::table(dt).map_err(|e| e.to_string()),
            Some("--encode") => report::encode_values(dt, &args[2..]).map_err(|e| e.to_string()),
            Some(other) => Err(format!("unknown option `{other}`")),
        });
    match out {
        Ok(text) => text,
        Err(e) => format!("error: {e}\n"),
    }
}

#[test]
fn docs_examples_are_real_output() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/dtypes.md"))
        .unwrap();
    let mut checked = 0;
    for block in doc.split("```").skip(1).step_by(2) {
        let mut current: Option<(Vec<&str>, String)> = None;
        let mut finish = |c: Option<(Vec<&str>, String)>| {
            if let Some((args, expected)) = c {
                assert_eq!(
                    run(&args),
                    expected,
                    "docs/dtypes.md: `tilec dtype {}`",
                    args.join(" ")
                );
                checked += 1;
            }
        };
        for line in block.lines() {
            if let Some(cmd) = line.strip_prefix("$ tilec dtype ") {
                finish(current.take());
                current = Some((cmd.split_whitespace().collect(), String::new()));
            } else if let Some((_, expected)) = current.as_mut() {
                expected.push_str(line);
                expected.push('\n');
            }
        }
        finish(current.take());
    }
    assert!(checked >= 9, "only {checked} examples found");
}
