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
    /// A view of tensor parameter `i` at offsets (one i64 per dimension): a function's tensor argument.
    View(usize, Vec<ValueId>),
    /// A run-time value: a `let`, a loop variable or a scalar parameter.
    Local(ValueId),
    /// A view of a shared-memory buffer: a `shared<T>[...]` allocation or part of one.
    Shared(crate::tir::SharedView),
    /// A variable whose definition failed to check; its uses report nothing more.
    Poisoned,
}

/// Nested scopes: the kernel's, then one per block. A function body starts at a boundary frame: names
/// of its caller are not visible in it.
#[derive(Default)]
pub struct Scopes {
    frames: Vec<Frame>,
}

#[derive(Default)]
struct Frame {
    names: HashMap<String, Binding>,
    boundary: bool,
}

impl Scopes {
    pub fn new() -> Scopes {
        Scopes { frames: vec![Frame::default()] }
    }

    pub fn push(&mut self) {
        self.frames.push(Frame::default());
    }

    /// Opens a function body: lookups stop at this frame.
    pub fn push_boundary(&mut self) {
        self.frames.push(Frame { names: HashMap::new(), boundary: true });
    }

    pub fn pop(&mut self) {
        self.frames.pop();
    }

    /// How many frames are open (a loop remembers the depth of its carried frame).
    pub fn depth(&self) -> usize {
        self.frames.len()
    }

    /// The frames a lookup may see, innermost first: up to and including the nearest boundary.
    fn visible(&self) -> impl Iterator<Item = &Frame> {
        let start = self.frames.iter().rposition(|f| f.boundary).unwrap_or(0);
        self.frames[start..].iter().rev()
    }

    pub fn lookup(&self, name: &str) -> Option<&Binding> {
        self.visible().find_map(|f| f.names.get(name))
    }

    /// The binding of `name` in frame `depth - 1` exactly (a loop's carried frame).
    pub fn lookup_in(&self, depth: usize, name: &str) -> Option<&Binding> {
        self.frames.get(depth - 1).and_then(|f| f.names.get(name))
    }

    /// Binds `name` in the innermost scope (a `let` may shadow).
    pub fn bind(&mut self, name: &str, b: Binding) {
        self.frames.last_mut().expect("a scope").names.insert(name.to_string(), b);
    }

    /// Rebinds an existing local where it was declared (assignment).
    pub fn assign(&mut self, name: &str, v: ValueId) {
        let start = self.frames.iter().rposition(|f| f.boundary).unwrap_or(0);
        if let Some(frame) = self.frames[start..].iter_mut().rev().find(|f| f.names.contains_key(name)) {
            frame.names.insert(name.to_string(), Binding::Local(v));
        }
    }
}
