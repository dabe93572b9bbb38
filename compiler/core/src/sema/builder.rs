//! Builds tile IR: a value arena and a stack of open blocks.

use crate::syntax::Span;
use crate::tir::{Block, Inst, Op, Type, ValueData, ValueId};

#[derive(Default)]
pub struct Builder {
    pub values: Vec<ValueData>,
    blocks: Vec<Block>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder { values: Vec::new(), blocks: vec![Block::default()] }
    }

    pub fn new_value(&mut self, ty: Type, span: Span) -> ValueId {
        self.values.push(ValueData { ty, span });
        ValueId(self.values.len() as u32 - 1)
    }

    pub fn ty(&self, v: ValueId) -> &Type {
        &self.values[v.index()].ty
    }

    /// Appends an instruction with one result of type `ty`.
    pub fn push(&mut self, op: Op, ty: Type, span: Span) -> ValueId {
        let r = self.new_value(ty, span);
        self.push_inst(Inst { op, results: vec![r], span });
        r
    }

    /// Appends an instruction with the given results.
    pub fn push_inst(&mut self, inst: Inst) {
        self.blocks.last_mut().expect("an open block").insts.push(inst);
    }

    /// Opens a nested block whose arguments have the given types.
    pub fn open_block(&mut self, arg_types: Vec<Type>, span: Span) -> Vec<ValueId> {
        let args: Vec<ValueId> = arg_types.into_iter().map(|t| self.new_value(t, span)).collect();
        self.blocks.push(Block { args: args.clone(), insts: Vec::new(), yields: Vec::new() });
        args
    }

    /// Closes the innermost block, yielding `yields`.
    pub fn close_block(&mut self, yields: Vec<ValueId>) -> Block {
        let mut b = self.blocks.pop().expect("an open block");
        b.yields = yields;
        b
    }

    /// The finished top-level block and the value arena.
    pub fn finish(mut self) -> (Block, Vec<ValueData>) {
        debug_assert_eq!(self.blocks.len(), 1, "unclosed block");
        (self.blocks.pop().unwrap_or_default(), self.values)
    }
}
