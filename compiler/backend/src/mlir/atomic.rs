//! Global atomic adds, shared by both emitters: one `llvm.atomicrmw add` (integers) or `fadd`
//! (floats) on an `!llvm.ptr<1>`, `monotonic` (PTX `.relaxed`) at device scope — the ordering
//! `atomic_add` promises: every update of an element happens exactly once, atomically, in some
//! order, with nothing ordered around it. The old value is not used, so PTX may make it a `red`.
//!
//! LLVM selects `atom.global.add.{u32,u64,f32,f64,noftz.f16}` on sm_80 and adds `bf16` natively
//! from sm_90 (a compare-and-swap loop before); on AMD (`agent` scope) integers are
//! `global_atomic_add`, floats may become compare-and-swap loops. Callers admit only the dtypes of
//! `tilec_core::thread::atomic_add_supported`.

use crate::target::{Target, Vendor};
use melior::ir::attribute::StringAttribute;
use melior::ir::operation::OperationBuilder;
use melior::ir::{Attribute, Identifier, Location, Operation, Value, ValueLike};
use melior::Context;

/// `llvm.atomicrmw {add|fadd} ptr, value syncscope(device scope) monotonic`; `float` picks `fadd`.
pub(super) fn atomic_add<'c>(ctx: &'c Context, loc: Location<'c>, target: Target, ptr: Value<'c, '_>, value: Value<'c, '_>, float: bool) -> Operation<'c> {
    // The LLVM dialect's enums in generic form: AtomicBinOp `add` = 1, `fadd` = 11; AtomicOrdering
    // `monotonic` = 2.
    let bin_op = if float { "11 : i64" } else { "1 : i64" };
    let scope = match target.vendor() {
        Vendor::Nvidia => "device",
        Vendor::Amd => "agent",
    };
    OperationBuilder::new("llvm.atomicrmw", loc)
        .add_operands(&[ptr, value])
        .add_attributes(&[
            (Identifier::new(ctx, "bin_op"), Attribute::parse(ctx, bin_op).expect("valid attribute")),
            (Identifier::new(ctx, "ordering"), Attribute::parse(ctx, "2 : i64").expect("valid attribute")),
            (Identifier::new(ctx, "syncscope"), StringAttribute::new(ctx, scope).into()),
        ])
        .add_results(&[value.r#type()])
        .build()
        .expect("valid operation")
}
