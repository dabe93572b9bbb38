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
