//! What a kernel body can call: the functions of each module and what each module imports.

use super::{builtins, Reporter};
use crate::diag::Diagnostic;
use crate::modules::Module;
use crate::syntax::ast;
use std::collections::HashMap;

pub struct ProgramCtx<'a> {
    pub modules: &'a [Module],
    functions: Vec<HashMap<&'a str, &'a ast::Function>>,
}

/// A call target that is a device function.
pub struct Callee<'a> {
    pub module: usize,
    pub function: &'a ast::Function,
}

impl<'a> ProgramCtx<'a> {
    /// Indexes every module's functions, reporting duplicates and functions named like a builtin.
    pub fn new(modules: &'a [Module], rep: &Reporter) -> ProgramCtx<'a> {
        let mut functions = Vec::new();
        for m in modules {
            let mut table: HashMap<&str, &ast::Function> = HashMap::new();
            for item in &m.ast.items {
                let ast::Item::Function(f) = item else { continue };
                if builtins::is_builtin(&f.name.name) {
                    rep.report(Diagnostic::at(f.name.span, format!("`{}` is a built-in function", f.name.name), "cannot be redefined"));
                } else if let Some(first) = table.get(f.name.name.as_str()) {
                    rep.report(
                        Diagnostic::at(f.name.span, format!("function `{}` is defined twice", f.name.name), "second definition")
                            .with_secondary(first.name.span, "first defined here"),
                    );
                } else {
                    table.insert(&f.name.name, f);
                }
            }
            functions.push(table);
        }
        ProgramCtx { modules, functions }
    }

    /// Resolves `name` or `qualifier::name` called from module `from`: `Ok(None)` if no function of
    /// that name is visible (it may be a builtin), `Err` for a qualifier that names no import or a
    /// module without that function.
    pub fn resolve(&self, from: usize, qualifier: Option<&ast::Ident>, name: &str) -> Result<Option<Callee<'a>>, Diagnostic> {
        let imports = &self.modules[from].imports;
        if let Some(q) = qualifier {
            let Some(imp) = imports.iter().find(|i| i.alias == q.name && i.item.is_none()) else {
                let mods: Vec<&str> = imports.iter().filter(|i| i.item.is_none()).map(|i| i.alias.as_str()).collect();
                let note = if mods.is_empty() { "this file imports no modules".to_string() } else { format!("imported modules: {}", mods.join(", ")) };
                return Err(Diagnostic::at(q.span, format!("no module `{}` is imported here", q.name), "unknown module")
                    .with_note(note)
                    .with_help(format!("import it first, e.g. `use std::{};`", q.name)));
            };
            return match self.functions[imp.module].get(name) {
                Some(f) => Ok(Some(Callee { module: imp.module, function: f })),
                None => {
                    let mut have: Vec<&str> = self.functions[imp.module].keys().copied().collect();
                    have.sort();
                    Err(Diagnostic::error(format!("module `{}` has no function `{name}`", self.modules[imp.module].path))
                        .with_label(q.span, "in this module")
                        .with_note(format!("its functions: {}", have.join(", "))))
                }
            };
        }
        if let Some(f) = self.functions[from].get(name) {
            return Ok(Some(Callee { module: from, function: f }));
        }
        for imp in imports.iter().filter(|i| i.item.as_deref() == Some(name)) {
            if let Some(f) = self.functions[imp.module].get(name) {
                return Ok(Some(Callee { module: imp.module, function: f }));
            }
        }
        Ok(None)
    }

    /// The names of the functions callable from module `m` without a qualifier (for messages).
    pub fn visible(&self, m: usize) -> Vec<String> {
        let mut names: Vec<String> = self.functions[m].keys().map(|s| s.to_string()).collect();
        names.extend(self.modules[m].imports.iter().filter_map(|i| i.item.clone()));
        names.sort();
        names
    }
}
