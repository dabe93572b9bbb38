//! The thread-level emitter (`tilec_backend::mlir::thread`) on a hand-made program that uses every
//! op kind of the thread IR: the PTX holds the instruction each op names (docs/thread.md), and the
//! real ptxas accepts it for sm_80 and sm_90 without spills. `stmatrix` is sm_90 only, and refused
//! on sm_80 with a diagnostic. On AMD, shuffles become `ds_bpermute`, integer atomic adds
//! `global_atomic_add`, and the NVIDIA-only
//! instructions are refused.

use crate::{root, tool};
use std::process::Command;
use tilec::thread::{BinOp, Builder, CmpOp, MmaKind, Program, ShflMode, Special, Ty, UnOp};
use tilec::{Stage, Target};
use tilec::dtype::DType;

/// A program with every op kind (`with_stmatrix`: also `stmatrix`, sm_90 only). Every result is
/// stored, so none is optimised away.
fn every_op(with_stmatrix: bool) -> Program {
    let mut b = Builder::new("every_op");
    let pin = b.param_global("x", DType::F32);
    let pout = b.param_global("out", DType::U32);
    let ph = b.param_global("h", DType::F16);
    let pscale = b.param_scalar("scale", DType::F32);
    let pflag = b.param_scalar("flag", DType::Bool);
    let pn = b.param_dim("N");
    let tile = b.shared("tile", 16 * 16 * 2, 128);
    let stage = b.shared("stage", 512, 16);

    let mut slot = 0i64;
    let mut sink = |b: &mut Builder, v| {
        let at = b.i64(slot * 16);
        slot += 1;
        b.store_global(pout, at, v, None);
    };

    // Specials and parameters.
    let tid = b.thread_id();
    let lane = b.lane_id();
    let warp = b.warp_id();
    let nt = b.special(Special::NumThreads);
    let bx = b.block_id(0);
    let nb = b.special(Special::NumBlocks(1));
    let scale = b.param(pscale);
    let flag = b.param(pflag);
    let n = b.param(pn);
    for v in [tid, lane, warp, nt, bx, nb] {
        sink(&mut b, v);
    }

    // Integer arithmetic (every binary op), comparisons, select.
    let three = b.i32(3);
    let mut acc = tid;
    for op in [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Rem, BinOp::Min, BinOp::Max, BinOp::And, BinOp::Or, BinOp::Xor, BinOp::Shl, BinOp::Shr] {
        acc = b.binary(op, acc, three);
    }
    let u = b.cast(acc, DType::U32);
    let u = b.shr(u, u);
    sink(&mut b, u);
    for op in [UnOp::Neg, UnOp::Not, UnOp::Abs] {
        let r = b.unary(op, acc);
        sink(&mut b, r);
    }
    let lt = b.cmp(CmpOp::Lt, acc, three);
    let both = b.and(lt, flag);
    let sel = b.select(both, acc, three);
    let fm = b.fma(sel, three, acc);
    sink(&mut b, fm);

    // Float arithmetic, math functions, fma; f16x2 fragments.
    let tid64 = b.cast(tid, DType::I64);
    let four = b.i64(4);
    let off = b.mul(tid64, four);
    let in_bounds = b.cmp(CmpOp::Lt, tid64, n);
    let zero = b.const_float(DType::F32, 0.0);
    let x = b.load_global(pin, off, Ty::F32, Some(in_bounds), Some(zero));
    let mut f = b.mul(x, scale);
    for op in [UnOp::Neg, UnOp::Abs, UnOp::Sqrt, UnOp::Rsqrt, UnOp::Ex2, UnOp::Lg2] {
        f = b.unary(op, f);
    }
    for op in [BinOp::Add, BinOp::Sub, BinOp::Div, BinOp::Rem, BinOp::Min, BinOp::Max] {
        f = b.binary(op, f, x);
    }
    let f = b.fma(f, x, scale);
    sink(&mut b, f);
    let hv = b.cast(f, DType::F16);
    let h2 = b.pack(&[hv, hv]);
    let h2 = b.fma(h2, h2, h2);
    let h2 = b.add(h2, h2);
    sink(&mut b, h2);
    let tf = b.cast(f, DType::TF32);
    sink(&mut b, tf);
    let sat = b.cast(f, DType::I8);
    let sat = b.cast(sat, DType::I32);
    sink(&mut b, sat);

    // Fragments: undef, insert, extract, bitcast (also of sub-byte lanes), small-float decode.
    let frag = b.undef(Ty::vec(DType::U32, 4));
    let w = b.bitcast(h2, Ty::U32);
    let frag = b.insert(frag, 0, w);
    let frag = b.insert(frag, 1, u);
    let frag = b.insert(frag, 2, w);
    let frag = b.insert(frag, 3, u);
    let nib = b.bitcast(w, Ty::vec("u4".parse().unwrap(), 8));
    let nib3 = b.extract(nib, 3);
    let nib = b.insert(nib, 5, nib3);
    let back = b.bitcast(nib, Ty::U32);
    sink(&mut b, back);
    let f8 = b.bitcast(w, Ty::vec("f8e4m3".parse().unwrap(), 4));
    let f8 = b.extract(f8, 1);
    let decoded = b.cast(f8, DType::F32);
    sink(&mut b, decoded);

    // lop3 / prmt.
    let e1 = b.extract(frag, 1);
    let l3 = b.lop3(w, e1, u, 0xF0 & 0xCC | 0xAA);
    let sel = b.u32(0x5140);
    let pr = b.prmt(l3, w, sel);
    sink(&mut b, pr);

    // A 16-byte vector load and store, predicated.
    let sixteen = b.i64(16);
    let voff = b.mul(tid64, sixteen);
    let vec4 = b.load_global(pin, voff, Ty::vec(DType::F32, 4), Some(in_bounds), None);
    b.store_global(pin, voff, vec4, Some(in_bounds));

    // Global atomic adds (predicated f32, unpredicated u32 and f16).
    let e0 = b.extract(vec4, 0);
    b.atomic_add_global(pin, voff, e0, Some(in_bounds));
    let top = b.i64(1024);
    let utid = b.cast(tid, DType::U32);
    b.atomic_add_global(pout, top, utid, None);
    let half = b.cast(e0, DType::F16);
    let two = b.i64(2);
    let hoff2 = b.mul(tid64, two);
    b.atomic_add_global(ph, hoff2, half, None);

    // Shared memory, cp.async, barriers, ldmatrix, mma, stmatrix, loops, if.
    let c16 = b.i32(16);
    let soff = b.mul(lane, c16);
    let hoff = b.cast(soff, DType::I64);
    b.cp_async(tile, soff, ph, hoff, 16, None);
    b.cp_async(stage, soff, pin, hoff, 8, Some(in_bounds));
    b.cp_async_commit();
    b.cp_async_wait(0);
    b.bar_sync();
    let c0 = b.i32(0);
    let cnt = b.i32(2);
    let one = b.i32(1);
    let accf = b.pack(&[zero; 4]);
    let zero_i = b.i32(0);
    let acci = b.pack(&[zero_i; 4]);
    let out = b.for_(c0, cnt, one, &[accf, acci], |b, _iv, c| {
        let fa = b.ldmatrix(tile, soff, 4, false);
        let fb = b.ldmatrix(tile, soff, 2, true);
        let f1 = b.ldmatrix(tile, soff, 1, false);
        let fb1 = b.pack(&[f1, f1]);
        let mut d = b.mma(MmaKind::M16N8K16F16, fa, fb, c[0]);
        d = b.mma(MmaKind::M16N8K16BF16, fa, fb1, d);
        d = b.mma(MmaKind::M16N8K8TF32, fa, fb, d);
        // A and B of other 128- and 64-bit types: the same registers.
        let fa_h = b.bitcast(fa, Ty::vec(DType::F16, 8));
        let fb_h = b.bitcast(fb, Ty::vec(DType::BF16, 4));
        d = b.mma(MmaKind::M16N8K16F16, fa_h, fb_h, d);
        let mut di = b.mma(MmaKind::M16N8K32S8, fa, fb, c[1]);
        di = b.mma(MmaKind::M16N8K32U8, fa, fb, di);
        vec![d, di]
    });
    b.bar_sync();
    let s0 = b.extract(out[0], 0);
    b.store_shared(stage, soff, s0, None);
    b.store_shared(stage, soff, out[1], Some(in_bounds));
    b.bar_sync();
    let back = b.load_shared(stage, soff, Ty::vec(DType::I32, 4));
    sink(&mut b, back);
    let bits = b.extract(back, 0);
    let mut v = bits;
    for mode in [ShflMode::Bfly, ShflMode::Idx, ShflMode::Up, ShflMode::Down] {
        v = b.shfl(mode, v, one, 0xffff_ffff);
    }
    let fv = b.bitcast(v, Ty::F32);
    let pos = b.cmp(CmpOp::Gt, fv, zero);
    let chosen = b.if_(pos, &[Ty::F32], |b| vec![b.add(fv, fv)], |_| vec![fv]);
    sink(&mut b, chosen[0]);
    if with_stmatrix {
        b.bar_sync();
        b.stmatrix(tile, soff, out[1], false);
        let halves = b.bitcast(out[1], Ty::vec(DType::F16, 8));
        b.stmatrix(tile, soff, halves, true);
        let pair = b.extract(out[1], 0);
        b.stmatrix(tile, soff, pair, false);
    }
    b.finish()
}

fn ptx(program: &Program, target: Target) -> Result<String, tilec::CodegenError> {
    tilec::generate_thread_program(program, 32, target, Stage::Assembly)
}

#[test]
fn every_op_kind_emits_its_instruction() {
    let text = ptx(&every_op(true), Target::Sm90).unwrap_or_else(|e| panic!("{e}"));
    for needle in [
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32",
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32",
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32",
        "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32",
        "mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32",
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16",
        "ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16",
        "ldmatrix.sync.aligned.m8n8.x1.shared.b16",
        "stmatrix.sync.aligned.m8n8.x4.shared.b16",
        "stmatrix.sync.aligned.m8n8.x4.trans.shared.b16",
        "stmatrix.sync.aligned.m8n8.x1.shared.b16",
        "shfl.sync.bfly.b32",
        "shfl.sync.idx.b32",
        "shfl.sync.up.b32",
        "shfl.sync.down.b32",
        "cp.async.cg.shared.global",
        "cp.async.ca.shared.global",
        "cp.async.commit_group",
        "cp.async.wait_group 0",
        "ld.global.v4",
        "st.global.v4",
        "ld.shared.v4",
        "bar.sync",
        "lop3.b32",
        "prmt.b32",
        "fma.rn.f16x2",
        "ex2.approx",
        "lg2.approx",
        "rsqrt.approx",
        "sqrt.rn.f32",
    ] {
        assert!(text.contains(needle), "no `{needle}` in the PTX:\n{text}");
    }
    // Atomic adds whose old value is unused: LLVM 19 selects `atom` (ptxas makes it a `RED`).
    for ty in ["f32", "u32", "noftz.f16"] {
        assert!(text.contains(&format!("atom.global.add.{ty}")) || text.contains(&format!("red.global.add.{ty}")), "no atomic add of {ty} in the PTX:\n{text}");
    }
}

#[test]
fn every_op_kind_assembles_without_spills() {
    let ptxas = tool(&root().join("tools/cuda/bin/ptxas"), "run scripts/setup.sh (it installs ptxas from the nvidia-cuda-nvcc-cu12 wheel)");
    let dir = tempfile::tempdir().expect("temp dir");
    for (target, with_stmatrix) in [(Target::Sm80, false), (Target::Sm90, true)] {
        let text = ptx(&every_op(with_stmatrix), target).unwrap_or_else(|e| panic!("{target}: {e}"));
        let path = dir.path().join("every_op.ptx");
        std::fs::write(&path, &text).expect("write PTX");
        let out = Command::new(&ptxas).arg(format!("-arch={}", target.name())).arg("-v").arg(&path).arg("-o").arg(dir.path().join("k.cubin")).output().expect("ptxas runs");
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "ptxas rejected the program for {target}:\n{log}\n{text}");
        assert!(log.contains("0 bytes spill stores, 0 bytes spill loads"), "spills on {target}:\n{log}");
    }
}

#[test]
fn stmatrix_is_refused_on_sm_80() {
    match ptx(&every_op(true), Target::Sm80) {
        Err(tilec::CodegenError::Unsupported { message, .. }) => assert!(message.contains("stmatrix needs sm_90"), "{message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A program of the ops AMD has: arithmetic, memory, barriers and every shuffle mode (with a
/// segmented one), `lop3` and `prmt`.
fn portable() -> Program {
    let mut b = Builder::new("portable");
    let pout = b.param_global("out", DType::U32);
    let buf = b.shared("buf", 32 * 4 * 4, 16);
    let tid = b.thread_id();
    let lane = b.lane_id();
    let four = b.i32(4);
    let soff = b.mul(tid, four);
    b.store_shared(buf, soff, tid, None);
    b.bar_sync();
    let v = b.load_shared(buf, soff, Ty::I32);
    let one = b.i32(1);
    let mut x = b.shfl(ShflMode::Bfly, v, one, u32::MAX);
    x = b.shfl(ShflMode::Up, x, one, u32::MAX);
    x = b.shfl(ShflMode::Down, x, one, u32::MAX);
    x = b.shfl(ShflMode::Idx, x, lane, u32::MAX);
    x = b.shfl_c(ShflMode::Idx, x, one, 0x181f, u32::MAX);
    let l3 = b.lop3(x, tid, lane, 0x96);
    let sel = b.u32(0x3210 | 0x8000);
    let p = b.prmt(l3, x, sel);
    let off = b.cast(soff, DType::I64);
    b.store_global(pout, off, p, None);
    let last = b.i64(32 * 4 * 4);
    let odd = b.cmp(CmpOp::Ne, lane, tid);
    b.atomic_add_global(pout, last, p, Some(odd));
    b.finish()
}

#[test]
fn amd_shuffles_are_ds_bpermute_within_32_lane_halves() {
    let asm = tilec::generate_thread_program(&portable(), 128, Target::Gfx942, Stage::Assembly).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(asm.matches("ds_bpermute_b32").count(), 5, "{asm}");
    assert!(asm.contains("global_atomic_add"), "{asm}");
    let mc = tool(std::path::Path::new("/usr/lib/llvm-19/bin/llvm-mc"), "run scripts/setup.sh (Debian package llvm-19)");
    let dir = tempfile::tempdir().expect("temp dir");
    let (s, o) = (dir.path().join("k.s"), dir.path().join("k.o"));
    std::fs::write(&s, &asm).expect("write assembly");
    let out = Command::new(&mc).args(["-triple=amdgcn-amd-amdhsa", "-mcpu=gfx942", "-filetype=obj", "-o"]).arg(&o).arg(&s).output().expect("llvm-mc runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The same program is plain PTX on NVIDIA.
    let ptx = ptx(&portable(), Target::Sm80).unwrap_or_else(|e| panic!("{e}"));
    assert!(ptx.contains("shfl.sync.idx.b32") && ptx.contains("lop3.b32") && ptx.contains("prmt.b32"), "{ptx}");
}

#[test]
fn nvidia_only_instructions_are_refused_on_amd() {
    match ptx(&every_op(false), Target::Gfx942) {
        Err(tilec::CodegenError::Unsupported { message, .. }) => assert!(message.contains("is an NVIDIA instruction"), "{message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// A program whose shared memory is `kib` KiB in two allocations, read and written at offsets in
/// the second one.
fn big_shared(kib: u32) -> Program {
    let mut b = Builder::new("big");
    let pout = b.param_global("out", DType::F32);
    let first = b.shared("first", kib * 512, 16);
    let second = b.shared("second", kib * 512, 16);
    let tid = b.thread_id();
    let c16 = b.i32(16);
    let off = b.mul(tid, c16);
    let x = b.const_float(DType::F32, 1.5);
    b.store_shared(first, off, x, None);
    b.store_shared(second, off, x, None);
    b.bar_sync();
    let y = b.load_shared(second, off, Ty::F32);
    let goff = b.cast(off, DType::I64);
    b.store_global(pout, goff, y, None);
    b.finish()
}

/// Above 48 KiB the allocations live in dynamic shared memory (the launch provides it: the manifest
/// says how much); above the target's maximum the program is refused.
#[test]
fn large_shared_memory_is_dynamic() {
    let ptxas = tool(&root().join("tools/cuda/bin/ptxas"), "run scripts/setup.sh (it installs ptxas from the nvidia-cuda-nvcc-cu12 wheel)");
    let dir = tempfile::tempdir().expect("temp dir");
    let small = ptx(&big_shared(32), Target::Sm90).unwrap_or_else(|e| panic!("{e}"));
    assert!(small.contains(".shared .align 16 .b8 __tilec_shared_big[32768]"), "{small}");
    for target in [Target::Sm80, Target::Sm90] {
        let text = ptx(&big_shared(96), target).unwrap_or_else(|e| panic!("{e}"));
        assert!(text.contains(".extern .shared .align 16 .b8 __tilec_dynamic_shared_big[]"), "{text}");
        let path = dir.path().join("big.ptx");
        std::fs::write(&path, &text).expect("write PTX");
        let out = Command::new(&ptxas).arg(format!("-arch={}", target.name())).arg(&path).arg("-o").arg(dir.path().join("big.cubin")).output().expect("ptxas runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(matches!(ptx(&big_shared(200), Target::Sm80), Err(tilec::CodegenError::Unsupported { .. })), "sm_80 has 163 KiB");
    assert!(ptx(&big_shared(200), Target::Sm90).is_ok(), "sm_90 has 227 KiB");
    let kernel = &tilec::compile_file(&root().join("examples/vector_add.tile"), &Default::default()).expect("compiles").kernels[0];
    let m = tilec::artifact::manifest_for(kernel, Target::Sm90, &tilec::KernelPath::Thread { dynamic_shared_bytes: 98304 });
    assert_eq!(m.shared_bytes, 98304);
}

/// A program that prints one line of every family of dtype, with a literal `%` and more holes
/// than one CUDA printf call takes (32 arguments).
fn printing() -> Program {
    let mut b = Builder::new("show");
    let x = b.param_global("x", DType::F16);
    let zero = b.i64(0);
    let h = b.load_global(x, zero, Ty::scalar(DType::F16), None, None);
    let block = b.block_id(0);
    let flag = b.bool(true);
    let small = b.const_int(DType::I8, -3);
    let big = b.const_int(DType::U64, 7);
    let mut args = vec![block, flag, small, big, h];
    args.extend((0..40).map(|i| b.const_float(DType::F32, f64::from(i) * 0.5)));
    let format = format!("[block {{}}] 100% {{}} {{}} {{}} {{}}: {}", vec!["{}"; 40].join(", "));
    b.print(&format, &args);
    b.finish()
}

#[test]
fn print_is_vprintf_on_nvidia_and_ptxas_accepts_it() {
    let ptxas = tool(&root().join("tools/cuda/bin/ptxas"), "run scripts/setup.sh (it installs ptxas from the nvidia-cuda-nvcc-cu12 wheel)");
    let text = ptx(&printing(), Target::Sm80).unwrap_or_else(|e| panic!("{e}"));
    // 45 arguments: two calls (32 + 13).
    assert_eq!(text.matches("\tvprintf,").count(), 2, "{text}");
    assert!(text.contains("vprintf"), "{text}");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("print.ptx");
    std::fs::write(&path, &text).expect("write PTX");
    let out = Command::new(&ptxas).arg("-arch=sm_80").arg(&path).arg("-o").arg(dir.path().join("print.cubin")).output().expect("ptxas runs");
    assert!(out.status.success(), "ptxas rejected print:\n{}\n{text}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn print_is_refused_on_amd() {
    match ptx(&printing(), Target::Gfx942) {
        Err(tilec::CodegenError::Unsupported { message, .. }) => assert!(message.contains("`print`"), "{message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
