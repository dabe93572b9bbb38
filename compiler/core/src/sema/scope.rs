//! Name resolution: what a name means at a point of the kernel.

use crate::tir::{ConstValue, ValueId};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Binding {
    /// A compile-time parameter, already given its value.
    Const(ConstValue),
    /// A symbolic dimension of the tensor parameters: `kernel.dims[i]`.
    Dim(usize),
    /// A tensor parameter: `kernel.params[i]`.
    Tensor(usize),
    /// A run-time value: a `let`, a loop variable or a scalar parameter.
    Local(ValueId),
    /// A variable whose definition failed to check; its uses report nothing more.
    Poisoned,
}

/// Nested scopes: the kernel's, then one per loop body.
#[derive(Default)]
pub struct Scopes {
    frames: Vec<HashMap<String, Binding>>,
}

impl Scopes {
    pub fn new() -> Scopes {
        Scopes { frames: vec![HashMap::new()] }
    }

    pub fn push(&mut self) {
        self.frames.push(HashMap::new());
    }

    pub fn pop(&mut self) {
        self.frames.pop();
    }

    pub fn lookup(&self, name: &str) -> Option<&Binding> {
        self.frames.iter().rev().find_map(|f| f.get(name))
    }

    /// Binds `name` in the innermost scope (a `let` may shadow).
    pub fn bind(&mut self, name: &str, b: Binding) {
        self.frames.last_mut().expect("a scope").insert(name.to_string(), b);
    }

    /// Rebinds an existing local where it was declared (assignment).
    pub fn assign(&mut self, name: &str, v: ValueId) {
        if let Some(frame) = self.frames.iter_mut().rev().find(|f| f.contains_key(name)) {
            frame.insert(name.to_string(), Binding::Local(v));
        }
    }
}
