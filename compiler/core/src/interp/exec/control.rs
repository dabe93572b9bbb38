//! Structured control flow: `for` loops with carried values.

use super::super::value::{Scalar, Value};
use super::{Machine, Run};
use crate::tir::{Block, Inst, ValueId};

impl Machine<'_, '_> {
    pub(super) fn for_loop(&mut self, inst: &Inst, start: ValueId, end: ValueId, step: i64, inits: &[ValueId], body: &Block) -> Run<()> {
        let (start, end) = (self.get(start).as_i64(), self.get(end).as_i64());
        let mut carried: Vec<Value> = inits.iter().map(|v| self.get(*v).clone()).collect();
        let mut iv = start;
        while iv < end {
            self.set(body.args[0], Value::Scalar(Scalar::Int(iv)));
            for (arg, val) in body.args[1..].iter().zip(carried.drain(..)) {
                self.set(*arg, val);
            }
            self.exec_block(body)?;
            carried = body.yields.iter().map(|y| self.get(*y).clone()).collect();
            iv = match iv.checked_add(step) {
                Some(n) => n,
                None => break,
            };
        }
        for (r, val) in inst.results.iter().zip(carried) {
            self.set(*r, val);
        }
        Ok(())
    }
}
