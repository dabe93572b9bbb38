//! Any input gives tile IR or diagnostics, never a panic: random token soups, and random edits of the
//! repository's real kernels (deleting, duplicating or swapping tokens), through parsing and checking.

use proptest::prelude::*;
use std::path::Path;

const TOKENS: &[&str] = &[
    "kernel", "fn", "use", "let", "for", "in", "while", "if", "else", "break", "continue", "return", "global", "tune", "std", "::",
    "x", "y", "N", "M", "T", "f32", "f16", "u4", "i64", "bool", "layout", "dtype", "int", "block", ".", "x", "(", ")", "[", "]", "{",
    "}", "<", ">", ",", ";", ":", "=", "+", "-", "*", "/", "%", "==", "<=", "&&", "||", "!", "..", "0", "1", "16", "128", "2.5",
    "\"spatial(8,4)\"", "load", "store", "dot", "sum", "where", "cast", "zeros", "shared", "copy_async", "range", "grid", "warps",
    "cdiv", "dim", "mask", "strides", "unroll", "pipeline", "require", "thread_ids", "view", "reshape",
];

fn check(src: &str) {
    // Either result is fine; what must not happen is a panic.
    let _ = tilec_core::compile_to_tir(src, &Default::default());
}

fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut texts = Vec::new();
    for dir in ["examples", "tests/kernels", "tests/lang", "tests/bad", "stdlib"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "tile") {
                texts.push(std::fs::read_to_string(p).unwrap());
            }
        }
    }
    texts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn token_soups_do_not_panic(toks in prop::collection::vec(prop::sample::select(TOKENS), 0..80)) {
        check(&toks.join(" "));
    }

    #[test]
    fn edited_kernels_do_not_panic(file in 0usize..64, edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, prop::sample::select(TOKENS)), 1..6)) {
        let texts = corpus();
        let src = &texts[file % texts.len()];
        let mut words: Vec<String> = src.split_inclusive(|c: char| c.is_whitespace() || "()[]{},;".contains(c)).map(str::to_string).collect();
        for (at, kind, tok) in edits {
            if words.is_empty() {
                break;
            }
            let i = at.index(words.len());
            match kind {
                0 => { words.remove(i); }
                1 => { let w = words[i].clone(); words.insert(i, w); }
                2 => words[i] = format!("{tok} "),
                _ => { let j = (i + 1) % words.len(); words.swap(i, j); }
            }
        }
        check(&words.concat());
    }
}

#[test]
fn every_repository_kernel_checks_without_panicking() {
    for src in corpus() {
        check(&src);
    }
}
