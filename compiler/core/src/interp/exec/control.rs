//! Structured control flow: `for` and `while` loops with carried values, `if`, `break`, `continue`.

use super::super::value::{Scalar, Value};
use super::{Machine, Run};
use crate::tir::{Block, Inst, ValueId};

/// A `break` or `continue` travelling out of the blocks it ends, with the loop's carried values.
pub enum Signal {
    Break(Vec<Value>),
    Continue(Vec<Value>),
}

/// What a loop body's run asks of the loop.
enum Next {
    Go(Vec<Value>),
    Stop(Vec<Value>),
}

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
            match self.iteration(body)? {
                Next::Go(next) => carried = next,
                Next::Stop(last) => {
                    carried = last;
                    break;
                }
            }
            iv = match iv.checked_add(step) {
                Some(n) => n,
                None => break,
            };
        }
        self.set_results(inst, carried);
        Ok(())
    }

    pub(super) fn while_loop(&mut self, inst: &Inst, inits: &[ValueId], cond: &Block, body: &Block) -> Run<()> {
        let mut carried: Vec<Value> = inits.iter().map(|v| self.get(*v).clone()).collect();
        loop {
            for (arg, val) in cond.args.iter().zip(carried.iter()) {
                self.set(*arg, val.clone());
            }
            self.exec_block(cond)?;
            if !matches!(self.get(cond.yields[0]).scalar(), Scalar::Bool(true)) {
                break;
            }
            for (arg, val) in body.args.iter().zip(carried.drain(..)) {
                self.set(*arg, val);
            }
            match self.iteration(body)? {
                Next::Go(next) => carried = next,
                Next::Stop(last) => {
                    carried = last;
                    break;
                }
            }
        }
        self.set_results(inst, carried);
        Ok(())
    }

    /// Runs one loop body; a `break` or `continue` inside it decides the carried values.
    fn iteration(&mut self, body: &Block) -> Run<Next> {
        self.exec_block(body)?;
        Ok(match self.signal.take() {
            Some(Signal::Break(vals)) => Next::Stop(vals),
            Some(Signal::Continue(vals)) => Next::Go(vals),
            None => Next::Go(body.yields.iter().map(|y| self.get(*y).clone()).collect()),
        })
    }

    pub(super) fn if_else(&mut self, inst: &Inst, cond: ValueId, then: &Block, els: &Block) -> Run<()> {
        let taken = if matches!(self.get(cond).scalar(), Scalar::Bool(true)) { then } else { els };
        self.exec_block(taken)?;
        if self.signal.is_none() {
            let vals: Vec<Value> = taken.yields.iter().map(|y| self.get(*y).clone()).collect();
            self.set_results(inst, vals);
        }
        Ok(())
    }

    pub(super) fn signal(&mut self, make: fn(Vec<Value>) -> Signal, vals: &[ValueId]) -> Run<()> {
        let vals = vals.iter().map(|v| self.get(*v).clone()).collect();
        self.signal = Some(make(vals));
        Ok(())
    }

    fn set_results(&mut self, inst: &Inst, vals: Vec<Value>) {
        for (r, val) in inst.results.iter().zip(vals) {
            self.set(*r, val);
        }
    }
}
