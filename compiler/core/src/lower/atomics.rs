//! `atomic_add(tensor[offsets..], tile)`: one `red.global.add` per element of the tile.
//!
//! Addresses and bounds are a `store`'s (`memory.rs`'s [`Lowering::addresses`]): each element is
//! added by the **first holder** of its slot only, inside the tensor only, so a replicated layout
//! (a tile smaller than the block, or a reduction's result held by every thread of the reduced
//! mode) adds every element exactly once. Accesses are not vectorised: PTX's vector reductions
//! (`red.global.add.v2.f32`, sm_90) are an optimisation left out here.
//!
//! Only the dtypes PTX adds atomically in global memory are lowered ([`atomic_add_supported`]);
//! any other is refused with a diagnostic naming the dtype, since no GPU target can do it in one
//! instruction (a compare-and-swap loop on the enclosing word would be the way to add one).

use super::Lowering;
use crate::diag::Diagnostic;
use crate::thread::atomic_add_supported;
use crate::tir::{Inst, ValueId};

impl Lowering<'_> {
    /// `atomic_add(tensor[offsets..], value)`.
    pub(super) fn atomic_add(&mut self, inst: &Inst, value: ValueId, tensor: usize, offsets: &[ValueId]) -> Result<(), Diagnostic> {
        let dtype = self.kernel.ty(value).dtype();
        if !atomic_add_supported(dtype) {
            let name = &self.kernel.params[tensor].name;
            return Err(Diagnostic::at(inst.span, format!("GPUs have no atomic add of {dtype} elements (`{name}` holds {dtype})"), format!("`atomic_add` of {dtype}"))
                .with_note("global atomic adds exist for i32, u32, i64, u64, f16, bf16, f32 and f64")
                .with_help("accumulate into a tensor of one of those dtypes"));
        }
        // Groups of one element: every slot is its own access.
        let acc = self.addresses(value, tensor, offsets, dtype.bits(), 0)?;
        let param = self.params[tensor];
        let bytes = self.b.i64(i64::from(dtype.bits() / 8));
        for (slot, v) in self.get(value).into_iter().enumerate() {
            let off = self.b.mul(acc.index[slot], bytes);
            let pred = self.b.and(acc.inside[slot], acc.first);
            self.b.atomic_add_global(param, off, v, Some(pred));
        }
        Ok(())
    }
}
