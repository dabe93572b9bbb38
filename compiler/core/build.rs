//! Generates the parser from the grammar, and embeds stdlib/*.tile so that `use std::...` works
//! wherever the compiler runs.
use std::fmt::Write;

fn main() {
    // Listing any path below makes cargo rerun this script only for listed paths: the grammar too.
    println!("cargo:rerun-if-changed=src/syntax/grammar.lalrpop");
    lalrpop::Configuration::new().use_cargo_dir_conventions().process().expect("grammar");

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stdlib");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "tile")).collect())
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("/// The standard library: (module name, source) of every stdlib/*.tile file.\npub const FILES: &[(&str, &str)] = &[\n");
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_stem().unwrap().to_string_lossy();
        let path = f.canonicalize().expect("stdlib file");
        writeln!(out, "    ({name:?}, include_str!({:?})),", path.display().to_string()).unwrap();
    }
    out.push_str("];\n");
    std::fs::write(std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("stdlib.rs"), out).expect("write stdlib.rs");
}
