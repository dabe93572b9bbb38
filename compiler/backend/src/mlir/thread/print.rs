//! `print` → `gpu.printf`, which `convert-gpu-to-nvvm` lowers to a call of CUDA's `vprintf`.
//!
//! Each hole of the thread program's format becomes a printf conversion of a widened value: bools
//! as `%d` of an i32 (`1`/`0`, where the interpreter writes `true`/`false`), signed integers as
//! `%lld` of an i64, unsigned ones as `%llu` of a u64, floats of every width as `%g` of an f64
//! (six significant digits, where the interpreter writes Rust's shortest round-trip form: `1` for
//! `1.0`, `0.333333` for `0.33333334`). Integers therefore print exactly as in the interpreter and
//! the emulator; bools and floats do not (docs/ops.md §print).
//!
//! CUDA's printf takes at most 32 arguments after the format, so a line with more holes is written
//! by several `vprintf` calls of at most 32 each; the last ends the line. Lines of different blocks
//! may then interleave in the output.
//!
//! On AMD `gpu.printf` needs the device libraries' hostcall printf, which this backend does not
//! link: `print` is refused there, and `--codegen auto` falls back to the direct path or the
//! interpreter.

use super::{Emitter, Scope};
use crate::error::CodegenError;
use melior::ir::attribute::StringAttribute;
use melior::ir::block::BlockLike;
use melior::ir::operation::OperationBuilder;
use melior::ir::{Identifier, Value};
use tilec_core::syntax::Span;
use tilec_core::thread::{print_pieces, Reg};
use tilec_dtype::DType;

/// The most arguments one CUDA printf call takes after its format.
const MAX_ARGS: usize = 32;

impl<'c> Emitter<'c, '_> {
    pub fn print(&self, s: &Scope<'c, '_>, format: &str, args: &[Reg], span: Span) -> Result<(), CodegenError> {
        if self.is_amd() {
            return Err(CodegenError::unsupported(span, format!("`print` needs a printf of the device libraries on `{}`, which the thread-level backend does not link", self.target)));
        }
        let pieces = print_pieces(format).map_err(|m| CodegenError::unsupported(span, m))?;
        let escape = |t: &str| t.replace('%', "%%");
        let mut text = escape(&pieces[0]);
        let mut vals: Vec<Value<'c, '_>> = vec![];
        for (&a, piece) in args.iter().zip(&pieces[1..]) {
            let dt = self.reg_ty(a).dtype;
            let (spec, wide) = if dt.is_bool() {
                ("%d", DType::I32)
            } else if dt.is_float() {
                ("%g", DType::F64)
            } else if dt.is_signed() {
                ("%lld", DType::I64)
            } else {
                ("%llu", DType::U64)
            };
            vals.push(self.cast_scalar(s, dt, wide, s.get(a))?);
            text.push_str(spec);
            text.push_str(&escape(piece));
            if vals.len() == MAX_ARGS {
                self.printf(s, &std::mem::take(&mut text), &std::mem::take(&mut vals));
            }
        }
        text.push('\n');
        self.printf(s, &text, &vals);
        Ok(())
    }

    fn printf(&self, s: &Scope<'c, '_>, format: &str, args: &[Value<'c, '_>]) {
        s.block.append_operation(
            OperationBuilder::new("gpu.printf", self.loc)
                .add_attributes(&[(Identifier::new(self.ctx, "format"), StringAttribute::new(self.ctx, format).into())])
                .add_operands(args)
                .build()
                .expect("valid operation"),
        );
    }
}
