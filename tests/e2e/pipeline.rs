//! Snapshots of each stage of the pipeline for the examples (`tilec build --emit STAGE`), by the
//! direct emitter and by the thread-level path.

use crate::tilec;

fn stage(file: &str, emit: &str, target: &str) -> String {
    stage_by(file, emit, target, "direct")
}

/// A stage by code generator `codegen` (`--codegen`); [`stage`] is the direct emitter's.
fn stage_by(file: &str, emit: &str, target: &str, codegen: &str) -> String {
    let out = tilec(&["build", file, "--target", target, "--emit", emit, "--codegen", codegen]);
    assert!(out.status.success(), "tilec build --emit {emit} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn vector_add_every_stage() {
    let f = "examples/vector_add.tile";
    insta::assert_snapshot!("vector_add.tokens", stage(f, "tokens", "sm_90"));
    insta::assert_snapshot!("vector_add.ast", stage(f, "ast", "sm_90"));
    insta::assert_snapshot!("vector_add.tir", stage(f, "tir", "sm_90"));
    insta::assert_snapshot!("vector_add.mlir", stage(f, "mlir", "sm_90"));
    insta::assert_snapshot!("vector_add.sm_90.ptx", stage(f, "ptx", "sm_90"));
    insta::assert_snapshot!("vector_add.gfx942.amdgcn", stage(f, "amdgcn", "gfx942"));
}

/// The thread-level path (`--codegen thread`): the MLIR the thread emitter builds, and the PTX.
#[test]
fn thread_path_mlir_and_ptx() {
    insta::assert_snapshot!("vector_add.thread.mlir", stage_by("examples/vector_add.tile", "mlir", "sm_90", "thread"));
    insta::assert_snapshot!("vector_add.thread.sm_90.ptx", stage_by("examples/vector_add.tile", "ptx", "sm_90", "thread"));
    insta::assert_snapshot!("softmax.thread.sm_90.ptx", stage_by("examples/softmax.tile", "ptx", "sm_90", "thread"));
    insta::assert_snapshot!("fold_columns.thread.mlir", stage_by("tests/kernels/fold_columns.tile", "mlir", "sm_90", "thread"));
}

/// Issue 6's matmul: f16 `dot` selected to `mma.sync` with `ldmatrix` operand loads, global loads 16
/// bytes wide; the pipelined variant copies with `cp.async` into swizzled tiles read by `ldmatrix`.
#[test]
fn matmul_ptx_uses_mma_ldmatrix_and_16_byte_loads() {
    let ptx = stage_by("examples/matmul.tile", "ptx", "sm_90", "thread");
    for needle in ["mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", "ldmatrix.sync.aligned.m8n8.x4.shared.b16", "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16", "ld.global.v4.b32"] {
        assert!(ptx.contains(needle), "matmul PTX lacks `{needle}`");
    }
    insta::assert_snapshot!("matmul.thread.sm_90.ptx", ptx);
    let out = tilec(&["build", "examples/matmul.tile", "-D", "PIPELINED=true", "--target", "sm_80", "--emit", "ptx"]);
    let ptx = String::from_utf8_lossy(&out.stdout);
    for needle in ["cp.async.cg.shared.global", "cp.async.wait_group", "ldmatrix.sync.aligned.m8n8.x4.shared.b16", "mma.sync.aligned.m16n8k16"] {
        assert!(out.status.success() && ptx.contains(needle), "pipelined matmul PTX lacks `{needle}`");
    }
}

#[test]
fn loops_and_casts_tile_ir_and_mlir() {
    insta::assert_snapshot!("fold_columns.tir", stage("tests/kernels/fold_columns.tile", "tir", "sm_90"));
    insta::assert_snapshot!("fold_columns.mlir", stage("tests/kernels/fold_columns.tile", "mlir", "sm_90"));
    insta::assert_snapshot!("axpy_f16.tir", stage("tests/kernels/axpy_f16.tile", "tir", "sm_90"));
    insta::assert_snapshot!("int_ops.tir", stage("tests/kernels/int_ops.tile", "tir", "sm_90"));
}

#[test]
fn lowered_mlir_uses_the_target_dialect() {
    let nv = stage("examples/vector_add.tile", "mlir-lowered", "sm_90");
    assert!(nv.contains("nvvm.read.ptx.sreg.tid.x") && nv.contains("nvvm.kernel"), "{nv}");
    let amd = stage("examples/vector_add.tile", "mlir-lowered", "gfx942");
    assert!(amd.contains("rocdl.workitem.id.x") && amd.contains("rocdl.kernel"), "{amd}");
}
