//! Modules: a root source file and every file it imports with `use`, loaded and parsed into one
//! [`Source`] (each file at its own base offset, so spans from different files never collide).
//!
//! `use std::NAME;` imports `stdlib/NAME.tile`, which is embedded in the compiler; any other path
//! `use a::b;` imports `a/b.tile` relative to the importing file's folder. `use m::f;` imports the
//! item `f` of module `m` when `m/f.tile` does not exist. The imported module's functions are called
//! as `NAME::f(...)` (by the last segment of its path), an imported item by its own name.

use crate::diag::{Diagnostic, Source};
use crate::syntax::{ast, parse_module_at, Span};
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));
}

/// The standard library's modules: (name, source).
pub fn stdlib() -> &'static [(&'static str, &'static str)] {
    embedded::FILES
}

/// One loaded module.
#[derive(Debug)]
pub struct Module {
    /// `std::softmax`, `helpers`, or the root file's name.
    pub path: String,
    pub ast: ast::Module,
    /// Where this module's own relative imports are looked up (None for the stdlib and string sources).
    pub dir: Option<PathBuf>,
    pub imports: Vec<Import>,
}

/// A resolved `use`.
#[derive(Clone, Debug)]
pub struct Import {
    /// The name it is used by: the module's last path segment, or the item's name.
    pub alias: String,
    pub module: usize,
    /// `Some(f)` for `use m::f;`.
    pub item: Option<String>,
    pub span: Span,
}

/// Finds the text of a module path.
pub trait Loader {
    /// `Ok(Some((display name, text, folder for its own imports)))`, `Ok(None)` if there is no such module.
    fn load(&self, path: &[String], from: Option<&Path>) -> Result<Option<(String, String, Option<PathBuf>)>, String>;
}

/// The loader of the command line: the embedded stdlib, and files relative to the importer.
pub struct FileLoader;

impl Loader for FileLoader {
    fn load(&self, path: &[String], from: Option<&Path>) -> Result<Option<(String, String, Option<PathBuf>)>, String> {
        if path.first().map(String::as_str) == Some("std") {
            let name = path[1..].join("/");
            return Ok(stdlib().iter().find(|(n, _)| *n == name).map(|(n, text)| (format!("<stdlib>/{n}.tile"), text.to_string(), None)));
        }
        let Some(dir) = from else { return Ok(None) };
        let file = dir.join(path.join("/")).with_extension("tile");
        match std::fs::read_to_string(&file) {
            Ok(text) => Ok(Some((file.display().to_string(), text, file.parent().map(Path::to_path_buf)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read `{}`: {e}", file.display())),
        }
    }
}

/// Loads `root` and, transitively, everything it imports. Every file lands in the returned [`Source`]
/// (also on failure, so the diagnostics can be rendered).
pub fn load_program(root_name: &str, root_text: &str, root_dir: Option<&Path>, loader: &dyn Loader) -> (Source, Result<Vec<Module>, Vec<Diagnostic>>) {
    let mut source = Source::default();
    let base = source.add(root_name, root_text);
    let root = match parse_module_at(root_text, base) {
        Ok(m) => m,
        Err(d) => return (source, Err(vec![d])),
    };
    let mut modules = vec![Module { path: root_name.to_string(), ast: root, dir: root_dir.map(Path::to_path_buf), imports: vec![] }];
    let mut diags = Vec::new();
    let mut next = 0;
    while next < modules.len() {
        let uses: Vec<ast::Use> = modules[next].ast.items.iter().filter_map(|i| if let ast::Item::Use(u) = i { Some(u.clone()) } else { None }).collect();
        let dir = modules[next].dir.clone();
        for u in uses {
            match resolve(&u, dir.as_deref(), loader, &mut source, &mut modules) {
                Ok(import) => modules[next].imports.push(import),
                Err(d) => diags.push(d),
            }
        }
        next += 1;
    }
    if diags.is_empty() {
        (source, Ok(modules))
    } else {
        (source, Err(diags))
    }
}

fn resolve(u: &ast::Use, dir: Option<&Path>, loader: &dyn Loader, source: &mut Source, modules: &mut Vec<Module>) -> Result<Import, Diagnostic> {
    let path: Vec<String> = u.path.iter().map(|i| i.name.clone()).collect();
    let attempts: Vec<(Vec<String>, Option<String>)> = if path.len() > 1 {
        vec![(path.clone(), None), (path[..path.len() - 1].to_vec(), Some(path[path.len() - 1].clone()))]
    } else {
        vec![(path.clone(), None)]
    };
    for (mpath, item) in attempts {
        let key = mpath.join("::");
        let existing = modules.iter().position(|m| m.path == key);
        let index = match existing {
            Some(i) => i,
            None => match loader.load(&mpath, dir).map_err(|e| Diagnostic::at(u.span, e, "while importing this"))? {
                None => continue,
                Some((name, text, mdir)) => {
                    let base = source.add(name, text.as_str());
                    let ast = parse_module_at(&text, base)?;
                    modules.push(Module { path: key, ast, dir: mdir, imports: vec![] });
                    modules.len() - 1
                }
            },
        };
        let alias = item.clone().unwrap_or_else(|| mpath.last().cloned().unwrap_or_default());
        return Ok(Import { alias, module: index, item, span: u.span });
    }
    let shown = path.join("::");
    let mut d = Diagnostic::at(u.span, format!("cannot find module `{shown}`"), "no such module");
    d = if path.first().map(String::as_str) == Some("std") {
        let names: Vec<&str> = stdlib().iter().map(|(n, _)| *n).collect();
        d.with_note(format!("the standard library has: {}", if names.is_empty() { "no modules".to_string() } else { names.join(", ") }))
    } else if let Some(dir) = dir {
        d.with_note(format!("looked for `{}`", dir.join(path.join("/")).with_extension("tile").display()))
    } else {
        d.with_note("a source given as a string can import only the standard library (`use std::...`)")
    };
    Err(d)
}
