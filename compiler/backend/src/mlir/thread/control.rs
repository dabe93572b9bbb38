//! Structured control flow: `for` → `scf.for` on i32 with the carried registers as `iter_args`,
//! `if` → `scf.if` whose results are the taken branch's yields, `while` → `scf.while` whose
//! "before" region is the condition block (ending in `scf.condition`, forwarding the carried values
//! unchanged) and whose "after" region is the body.
//!
//! Guarantees: a nested block sees every register defined before it and defines none outside it
//! (its results are the op's results), as the verifier's scoping says.

use super::{Emitter, Scope};
use crate::error::CodegenError;
use melior::dialect::scf;
use melior::ir::block::BlockLike;
use melior::ir::operation::OperationBuilder;
use melior::ir::RegionLike;
use melior::ir::{Block, Region, Type, Value, ValueLike};
use tilec_core::thread::{Block as ThreadBlock, Reg};

impl<'c> Emitter<'c, '_> {
    pub fn for_loop<'a>(&self, s: &Scope<'c, 'a>, lo: Reg, hi: Reg, step: Reg, init: &[Reg], body: &ThreadBlock) -> Result<Vec<Value<'c, 'a>>, CodegenError> {
        let inits: Vec<Value<'c, 'a>> = init.iter().map(|r| s.get(*r)).collect();
        let types: Vec<Type<'c>> = inits.iter().map(|v| v.r#type()).collect();
        let mut arg_types = vec![(self.i32_type(), self.loc)];
        arg_types.extend(types.iter().map(|t| (*t, self.loc)));
        let block = Block::new(&arg_types);
        {
            let mut inner = s.nested(&block);
            for (i, r) in body.args.iter().enumerate() {
                inner.set(*r, block.argument(i).expect("loop argument").into());
            }
            self.insts(&mut inner, &body.insts)?;
            let yields: Vec<Value> = body.yields.iter().map(|y| inner.get(*y)).collect();
            block.append_operation(scf::r#yield(&yields, self.loc));
        }
        let region = Region::new();
        region.append_block(block);
        let mut operands = vec![s.get(lo), s.get(hi), s.get(step)];
        operands.extend(inits);
        let op = s.block.append_operation(
            OperationBuilder::new("scf.for", self.loc)
                .add_operands(&operands)
                .add_results(&types)
                .add_regions([region])
                .build()
                .map_err(|e| CodegenError::internal("MLIR construction", e.to_string()))?,
        );
        Ok((0..types.len()).map(|i| op.result(i).expect("loop result").into()).collect())
    }

    pub fn while_loop<'a>(&self, s: &Scope<'c, 'a>, init: &[Reg], cond: &ThreadBlock, body: &ThreadBlock) -> Result<Vec<Value<'c, 'a>>, CodegenError> {
        let inits: Vec<Value<'c, 'a>> = init.iter().map(|r| s.get(*r)).collect();
        let types: Vec<Type<'c>> = inits.iter().map(|v| v.r#type()).collect();
        let arg_types: Vec<(Type<'c>, _)> = types.iter().map(|t| (*t, self.loc)).collect();
        let before = Block::new(&arg_types);
        {
            let mut inner = s.nested(&before);
            for (i, r) in cond.args.iter().enumerate() {
                inner.set(*r, before.argument(i).expect("condition argument").into());
            }
            self.insts(&mut inner, &cond.insts)?;
            let [flag] = cond.yields[..] else {
                return Err(CodegenError::internal("MLIR construction", "a while condition yields one bool"));
            };
            let flag = inner.get(flag);
            let forwarded: Vec<Value> = (0..types.len()).map(|i| before.argument(i).expect("condition argument").into()).collect();
            before.append_operation(scf::condition(flag, &forwarded, self.loc));
        }
        let after = Block::new(&arg_types);
        {
            let mut inner = s.nested(&after);
            for (i, r) in body.args.iter().enumerate() {
                inner.set(*r, after.argument(i).expect("body argument").into());
            }
            self.insts(&mut inner, &body.insts)?;
            let yields: Vec<Value> = body.yields.iter().map(|y| inner.get(*y)).collect();
            after.append_operation(scf::r#yield(&yields, self.loc));
        }
        let (before_region, after_region) = (Region::new(), Region::new());
        before_region.append_block(before);
        after_region.append_block(after);
        let op = s.block.append_operation(scf::r#while(&inits, &types, before_region, after_region, self.loc));
        Ok((0..types.len()).map(|i| op.result(i).expect("while result").into()).collect())
    }

    pub fn if_else<'a>(&self, s: &Scope<'c, 'a>, cond: Reg, then_block: &ThreadBlock, else_block: &ThreadBlock, results: &[Reg]) -> Result<Vec<Value<'c, 'a>>, CodegenError> {
        let types: Vec<Type<'c>> = results.iter().map(|r| self.ty(self.reg_ty(*r))).collect();
        let mut regions = Vec::new();
        for branch in [then_block, else_block] {
            let block = Block::new(&[]);
            {
                let mut inner = s.nested(&block);
                self.insts(&mut inner, &branch.insts)?;
                let yields: Vec<Value> = branch.yields.iter().map(|y| inner.get(*y)).collect();
                block.append_operation(scf::r#yield(&yields, self.loc));
            }
            let region = Region::new();
            region.append_block(block);
            regions.push(region);
        }
        let else_region = regions.pop().expect("two regions");
        let then_region = regions.pop().expect("two regions");
        let op = s.block.append_operation(scf::r#if(s.get(cond), &types, then_region, else_region, self.loc));
        Ok((0..types.len()).map(|i| op.result(i).expect("if result").into()).collect())
    }
}
