//! `print` at the thread level: the interpreter writes one line per block with whole tiles, so the
//! tiles are gathered to one thread. Each tile argument is staged row-major in a scratch buffer
//! (`Lowering::stage`: one writer per element, then `bar.sync`); thread 0 reads every element back
//! and runs one [`crate::thread::Op::Print`] whose format spells out the interpreter's text
//! (`[block (x, y, z)] fmt: v, dtype[shape] [[...]]`) with a `{}` hole per scalar; a final
//! `bar.sync` ends the buffers' reads so later scratch may reuse their bytes.
//!
//! The block-wide barriers need `print` under block-uniform control flow, which the lowering's
//! `if`/loops guarantee as for every other barrier it emits.

use super::{packed, Lowering};
use crate::diag::Diagnostic;
use crate::thread::{print_escape, CmpOp, Reg, Ty};
use crate::tir::{Inst, ValueId};
use std::fmt::Write;
use tilec_dtype::DType;

/// A tile argument staged for printing: its buffer, the type the buffer holds, the tile's dtype
/// and element count.
struct Staged {
    buf: usize,
    held: DType,
    dtype: DType,
    numel: i64,
}

/// What fills the holes of the format, in order.
enum Arg {
    Scalar(Reg),
    Tile(Staged),
}

/// The text of a row-major tile of `shape` with a hole per element, as `format_value` nests it.
fn nested(shape: &[i64], out: &mut String) {
    out.push('[');
    for i in 0..shape[0] {
        if i > 0 {
            out.push_str(", ");
        }
        if shape.len() == 1 {
            out.push_str("{}");
        } else {
            nested(&shape[1..], out);
        }
    }
    out.push(']');
}

impl Lowering<'_> {
    pub(super) fn print(&mut self, inst: &Inst, format: &str, args: &[ValueId]) -> Result<(), Diagnostic> {
        let mut text = format!("[block ({{}}, {{}}, {{}})] {}", print_escape(format));
        let mut fill = vec![];
        for axis in 0..3 {
            fill.push(Arg::Scalar(self.b.block_id(axis)));
        }
        if !args.is_empty() {
            text.push_str(": ");
        }
        for (i, &a) in args.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            let dtype = self.kernel.ty(a).dtype();
            match self.layout_of(a) {
                None => {
                    text.push_str("{}");
                    fill.push(Arg::Scalar(self.get(a)[0]));
                }
                Some(l) => {
                    let dims: Vec<String> = l.shape().iter().map(|d| d.to_string()).collect();
                    write!(text, "{dtype}[{}] ", dims.join(", ")).expect("a String");
                    nested(l.shape(), &mut text);
                    let regs = self.get(a);
                    let (buf, held) = self.stage(&regs, &l, dtype, inst.span)?;
                    fill.push(Arg::Tile(Staged { buf, held, dtype, numel: l.size() }));
                }
            }
        }
        let zero = self.b.i64(0);
        let first = self.b.cmp(CmpOp::Eq, self.tid, zero);
        self.b.if_(
            first,
            &[],
            |b| {
                let mut regs = vec![];
                for f in &fill {
                    match f {
                        Arg::Scalar(r) => regs.push(*r),
                        Arg::Tile(s) => {
                            let bytes = i64::from(s.held.bits() / 8);
                            for e in 0..s.numel {
                                let off = b.i64(e * bytes);
                                let x = b.load_shared(s.buf, off, Ty::scalar(s.held));
                                regs.push(if s.dtype.is_sub_byte() { packed::view_code(b, x, s.dtype) } else { x });
                            }
                        }
                    }
                }
                b.print(&text, &regs);
                vec![]
            },
            |_| vec![],
        );
        // Thread 0's reads end before any later use of the buffers' bytes.
        let staged: Vec<usize> = fill.iter().filter_map(|f| if let Arg::Tile(s) = f { Some(s.buf) } else { None }).collect();
        if !staged.is_empty() {
            self.b.bar_sync();
        }
        for buf in staged {
            self.release_scratch(buf);
        }
        Ok(())
    }
}
