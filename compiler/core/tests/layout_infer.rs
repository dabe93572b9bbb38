//! Layout inference (`passes::layout_infer`): every tile of every kernel in the repository gets a
//! layout of its shape over the whole block that holds every element; dots get mma fragments, global
//! loads coalesced vectors, and conflicts give conversions or diagnostics.

use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use tilec_core::passes::layout_infer::{self, blocked, blocked_along, DotKind, Layouts, Origin};
use tilec_core::sema::{Define, Options};
use tilec_core::tir::{Kernel, Op, Program, ValueId};
use tilec_core::Source;
use tilec_dtype::DType;
use tilec_layout::atoms::{self, Operand};
use tilec_layout::tv::Mode;
use tilec_layout::TvLayout;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.tile` file of the examples and test kernels, sorted.
fn tile_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["examples", "tests/kernels", "tests/lang"] {
        for e in std::fs::read_dir(repo().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "tile") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn compile_file(path: &Path, options: &Options) -> (Source, Program) {
    let text = std::fs::read_to_string(path).unwrap();
    let (source, program) = tilec_core::compile_source(&path.display().to_string(), &text, path.parent(), options);
    match program {
        Ok(p) => (source, p),
        Err(d) => panic!("{} does not compile:\n{}", path.display(), tilec_core::diag::render_all(&d, &source, false)),
    }
}

fn compile(src: &str) -> Kernel {
    match tilec_core::compile_to_tir(src, &Options::default()) {
        Ok(mut p) => p.kernels.remove(0),
        Err(d) => panic!("does not compile:\n{}", tilec_core::diag::render_all(&d, &Source::new("<source>", src), false)),
    }
}

fn infer(k: &Kernel) -> Layouts {
    layout_infer::infer(k).unwrap_or_else(|d| panic!("layout inference failed for {}: {d:?}", k.name))
}

/// Every element of the layout's tile is held by some (thread, value), `coords` and `holders`
/// agree, and every holder is a real (thread, value).
fn assert_covers(l: &TvLayout, what: &str) {
    let shape = l.shape().to_vec();
    let size: i64 = shape.iter().product();
    let mut seen = vec![0u32; size as usize];
    for t in 0..l.num_threads() {
        for v in 0..l.num_values() {
            let c = l.coords(t, v).unwrap();
            let lin = c.iter().zip(&shape).fold(0, |acc, (x, n)| acc * n + x);
            seen[lin as usize] += 1;
        }
    }
    for (lin, &n) in seen.iter().enumerate() {
        let mut coord = vec![0i64; shape.len()];
        let mut rest = lin as i64;
        for d in (0..shape.len()).rev() {
            coord[d] = rest % shape[d];
            rest /= shape[d];
        }
        assert!(n >= 1, "{what}: element {coord:?} of {l} is held by no thread");
        let holders = l.holders(&coord).unwrap();
        assert_eq!(holders.len() as u32, n, "{what}: holders of {coord:?} in {l}");
        for (t, v) in holders {
            assert_eq!(l.coords(t, v).unwrap(), coord, "{what}: holder ({t}, {v}) of {coord:?} in {l}");
        }
    }
}

/// The invariants of a successful inference: every tile value has a layout of its type's shape
/// over the whole block that covers the tile; scalars have none; conversions are between layouts
/// of their value's shape and really differ.
fn check_kernel(k: &Kernel, ls: &Layouts, what: &str) {
    let threads = k.warps as i64 * 32;
    let mut tiles = 0;
    for (i, data) in k.values.iter().enumerate() {
        let v = ValueId(i as u32);
        let shape: Vec<i64> = data.ty.shape().iter().map(|&d| d as i64).collect();
        match ls.of(v) {
            Some(l) => {
                assert!(data.ty.is_tile(), "{what}: scalar %{i} has a layout");
                assert_eq!(l.shape(), shape.as_slice(), "{what}: %{i}: {} laid out by {l}", data.ty);
                assert_eq!(l.num_threads(), threads, "{what}: %{i}");
                assert_covers(l, &format!("{what}: %{i}"));
                tiles += 1;
            }
            None => assert!(!data.ty.is_tile(), "{what}: tile %{i}: {} has no layout", data.ty),
        }
    }
    assert_eq!(tiles, ls.tiles().len(), "{what}: tiles() lists every tile once");
    for c in ls.conversions() {
        let shape: Vec<i64> = k.ty(c.value).shape().iter().map(|&d| d as i64).collect();
        assert_ne!(c.from, c.to, "{what}: a conversion to the same layout");
        assert_eq!(Some(&c.from), ls.of(c.value), "{what}: a conversion starts from the value's layout");
        assert_eq!(c.to.shape(), shape.as_slice(), "{what}");
        assert_eq!(c.to.num_threads(), threads, "{what}");
        assert_covers(&c.to, what);
    }
}

#[test]
fn every_tile_of_every_repository_kernel_gets_a_covering_block_layout() {
    let mut kernels = 0;
    for path in tile_files() {
        let (_, program) = compile_file(&path, &Options::default());
        for k in &program.kernels {
            let ls = infer(k);
            check_kernel(k, &ls, &format!("{} {}", path.display(), k.name));
            kernels += 1;
        }
    }
    assert!(kernels >= 18, "only {kernels} kernels found");
}

#[test]
fn every_point_of_the_matmul_schedule_space_uses_mma() {
    let path = repo().join("examples/matmul.tile");
    let (_, program) = compile_file(&path, &Options::default());
    let space = program.kernels[0].tune.clone().expect("matmul declares a schedule space");
    assert!(space.points.len() >= 8);
    for point in &space.points {
        for pipelined in ["false", "true"] {
            let mut defines: Vec<Define> = space.params.iter().zip(point).map(|(n, v)| Define { name: n.clone(), value: v.to_string() }).collect();
            defines.push(Define { name: "PIPELINED".into(), value: pipelined.into() });
            let (_, p) = compile_file(&path, &Options { defines });
            let k = &p.kernels[0];
            let ls = infer(k);
            let what = format!("matmul {point:?} pipelined={pipelined}");
            check_kernel(k, &ls, &what);
            assert_eq!(ls.dots().len(), 1, "{what}");
            let d = &ls.dots()[0];
            assert!(matches!(d.kind, DotKind::Mma { replicas: 1, .. }), "{what}: {:?}", d.kind);
            assert!(d.c.divisible_by(&atoms::mma("m16n8k16", "f16", Operand::C).unwrap()), "{what}");
            if pipelined == "true" {
                // Operands read from shared memory take the dot's layouts: nothing to convert.
                assert!(ls.conversions().is_empty(), "{what}: {}", ls.display(k));
            }
        }
    }
}

/// The instructions of a block and its nested blocks, in program order.
fn insts(b: &tilec_core::tir::Block) -> Vec<&tilec_core::tir::Inst> {
    let mut out = Vec::new();
    for i in &b.insts {
        out.push(i);
        match &i.op {
            Op::For { body, .. } => out.extend(insts(body)),
            Op::While { cond, body, .. } => {
                out.extend(insts(cond));
                out.extend(insts(body));
            }
            Op::If { then, els, .. } => {
                out.extend(insts(then));
                out.extend(insts(els));
            }
            _ => {}
        }
    }
    out
}

#[test]
fn matmul_uses_mma_fragments_fed_from_vectorised_loads() {
    let (_, program) = compile_file(&repo().join("examples/matmul.tile"), &Options::default());
    let k = &program.kernels[0];
    let ls = infer(k);
    let atom = |op| atoms::mma("m16n8k16", "f16", op).unwrap();
    let all = insts(&k.body);
    let dot = all.iter().find(|i| matches!(i.op, Op::Dot { .. })).expect("a dot");
    let Op::Dot { a, b, acc } = dot.op else { unreachable!() };
    let result = dot.results[0];

    // The accumulator, the result and the loop's carried value share the mma accumulator layout.
    let c = ls.of(result).unwrap();
    assert!(c.divisible_by(&atom(Operand::C)), "{c}");
    assert_eq!(ls.of(acc), Some(c));
    assert_eq!(ls.origin(result), Some(Origin::Dot));
    let plan = &ls.dots()[0];
    assert_eq!(plan.kind, DotKind::Mma { warps_m: 2, warps_n: 2, replicas: 1 });
    assert!(plan.a.divisible_by(&atom(Operand::A)), "{}", plan.a);
    assert!(plan.b.divisible_by(&atom(Operand::B)), "{}", plan.b);
    assert_eq!(&plan.c, c);

    // Each global load is coalesced: 8 contiguous f16 (16 bytes) innermost along the last dimension.
    let loads: Vec<ValueId> = all.iter().filter(|i| matches!(i.op, Op::Load { .. })).map(|i| i.results[0]).collect();
    assert_eq!(loads, vec![a, b]);
    for &v in &loads {
        let l = ls.of(v).unwrap();
        assert_eq!(l.value_modes()[0], Mode::along(8, 1, 1), "%{}: {l}", v.0);
        assert_eq!(ls.origin(v), Some(Origin::Memory));
        // Consecutive threads take consecutive vectors of a row.
        assert_eq!(l.thread_modes()[0], Mode::along(l.shape()[1] / 8, 1, 8), "%{}: {l}", v.0);
    }

    // Both operands are converted at the dot from the load layout to the fragment layout, and
    // nothing else is converted (the carried accumulator stays in registers; the store takes the
    // accumulator's layout).
    let convs: Vec<_> = ls.conversions().iter().map(|c| (c.value, c.user.op, c.user.operand, c.at)).collect();
    assert_eq!(convs, vec![(a, "dot", 0, dot.span), (b, "dot", 1, dot.span)]);
    assert_eq!(ls.conversions()[0].from, *ls.of(a).unwrap());
    assert_eq!(ls.conversions()[0].to, plan.a);
    assert_eq!(ls.conversions()[1].to, plan.b);
}

#[test]
fn elementwise_chains_keep_one_layout() {
    let (_, program) = compile_file(&repo().join("examples/vector_add.tile"), &Options::default());
    let k = &program.kernels[0];
    let ls = infer(k);
    assert!(ls.conversions().is_empty(), "{}", ls.display(k));
    let layouts: Vec<&TvLayout> = ls.tiles().iter().map(|&v| ls.of(v).unwrap()).collect();
    assert_eq!(layouts.len(), 3);
    assert!(layouts.windows(2).all(|w| w[0] == w[1]));
    // f32[1024] over 128 threads: 4 f32 (16 bytes) per vector, two vectors per thread.
    assert_eq!(layout_infer::show(layouts[0]), "local(2).spatial(128).local(4)");
}

#[test]
fn reductions_broadcasts_loops_and_shared_memory_need_no_conversion() {
    for file in ["examples/softmax.tile", "examples/layernorm.tile", "tests/lang/control.tile", "tests/lang/pipeline.tile", "tests/kernels/masked.tile", "tests/kernels/fold_columns.tile"] {
        let (_, program) = compile_file(&repo().join(file), &Options::default());
        for k in &program.kernels {
            let ls = infer(k);
            assert!(ls.conversions().is_empty(), "{file}:\n{}", ls.display(k));
        }
    }
}

fn render(src: &str, k: &Kernel) -> String {
    match layout_infer::infer(k) {
        Ok(ls) => panic!("expected a diagnostic, got\n{}", ls.display(k)),
        Err(d) => d.render(&Source::new("<source>", src), false),
    }
}

#[test]
fn two_annotations_of_one_tile_are_a_diagnostic() {
    let twice = "kernel k(x: global f32[M, N], y: global f32[M, N]) grid(cdiv(M, 16)) warps(1) {
    let t = load(x[block.x * 16.., 0..], [16, 16]);
    let a = layout(t, \"spatial(8,4).local(2,4)\");
    let b = layout(t, \"local(2,1).spatial(8,4).local(1,4)\");
    store(y[block.x * 16.., 0..], a + b);
}
";
    let chain = "kernel k(x: global f32[M, N], y: global f32[M, N]) grid(cdiv(M, 16)) warps(1) {
    let t = load(x[block.x * 16.., 0..], [16, 16]);
    store(y[block.x * 16.., 0..], layout(layout(t, \"spatial(8,4).local(2,4)\"), \"column_spatial(4,8).local(4,2)\"));
}
";
    insta::assert_snapshot!(format!("{}\n{}", render(twice, &compile(twice)), render(chain, &compile(chain))));
}

#[test]
fn annotations_that_do_not_fit_are_diagnostics() {
    // Sema rejects these in source; a pass handed such IR still reports rather than panics.
    let src = std::fs::read_to_string(repo().join("tests/lang/layouts.tile")).unwrap();
    let k = compile(&src);
    let mut wrong_shape = k.clone();
    let first = wrong_shape.body.insts.iter_mut().find_map(|i| match &mut i.op {
        Op::Annotate(_, l) => Some(l),
        _ => None,
    });
    let l = first.expect("an annotation");
    l.tv = tilec_layout::calc::register_layout("spatial(8,4).local(1,4)").unwrap();
    l.text = "spatial(8,4).local(1,4)".into();
    let mut wrong_threads = k.clone();
    wrong_threads.warps = 2;
    let d = layout_infer::infer(&wrong_shape).unwrap_err();
    assert!(d.message.contains("does not fit the tile `f32[16, 16]`"), "{}", d.message);
    assert!(d.span().is_some());
    let d = layout_infer::infer(&wrong_threads).unwrap_err();
    assert!(d.message.contains("over 32 threads but the block has 64"), "{}", d.message);
    insta::assert_snapshot!(format!("{}\n{}", render(&src, &wrong_shape), render(&src, &wrong_threads)));
}

#[test]
fn annotations_win_and_conflicting_uses_convert() {
    let src = std::fs::read_to_string(repo().join("tests/lang/layouts.tile")).unwrap();
    let k = compile(&src);
    let ls = infer(&k);
    // The load produces the annotated layout directly; `t * 2.0` is laid out as `u` says, so `t` is
    // converted at the multiplication.
    let all = insts(&k.body);
    let load = all.iter().find(|i| matches!(i.op, Op::Load { .. })).unwrap().results[0];
    assert_eq!(layout_infer::show(ls.of(load).unwrap()), "spatial(8,4).local(2,4)");
    assert_eq!(ls.origin(load), Some(Origin::Annotation));
    assert_eq!(ls.conversions().len(), 1);
    assert_eq!(ls.conversions()[0].user.op, "binary");
    insta::assert_snapshot!(ls.display(&k));
}

#[test]
fn annotated_accumulators_decide_the_dot() {
    let kernel = |acc: &str| {
        format!(
            "kernel k(a: global f16[M, K], b: global f16[K, N], c: global f32[M, N]) grid(1) warps(4) {{
    let acc = layout(zeros<f32>[32, 32], \"{acc}\");
    store(c[0.., 0..], dot(load(a[0.., 0..], [32, 16]), load(b[0.., 0..], [16, 32]), acc));
}}"
        )
    };
    // One of the mma tilings: the dot is planned around it.
    let mma = "spatial(2,2).local(1,2).local(2,1).spatial(8,4).local(1,2)";
    let k = compile(&kernel(mma));
    let ls = infer(&k);
    check_kernel(&k, &ls, "mma acc");
    assert_eq!(ls.dots()[0].kind, DotKind::Mma { warps_m: 2, warps_n: 2, replicas: 1 });
    assert_eq!(ls.dots()[0].c, tilec_layout::calc::register_layout(mma).unwrap());
    // Not an mma layout: FMA around it; the thread holding C[m, n] holds row m of A, column n of B.
    let k = compile(&kernel("spatial(32,4).local(1,8)"));
    let ls = infer(&k);
    check_kernel(&k, &ls, "fma acc");
    let d = &ls.dots()[0];
    assert_eq!(d.kind, DotKind::Fma);
    assert_eq!(d.a, d.c.reduce(&[1], true).unwrap().local(&[1, 16]).unwrap());
    assert_eq!(d.b, d.c.reduce(&[0], true).unwrap().local(&[16, 1]).unwrap());
    for t in 0..128 {
        for v in 0..d.c.num_values() {
            let mn = d.c.coords(t, v).unwrap();
            assert!((0..16).all(|kk| d.a.holders(&[mn[0], kk]).unwrap().iter().any(|h| h.0 == t)));
            assert!((0..16).all(|kk| d.b.holders(&[kk, mn[1]]).unwrap().iter().any(|h| h.0 == t)));
        }
    }
}

#[test]
fn dots_outside_the_mma_shapes_use_fma() {
    let k = compile(
        "kernel k(a: global f32[M, K], b: global f32[K, N], c: global f32[M, N]) grid(1) warps(2) {
    store(c[0.., 0..], dot(load(a[0.., 0..], [16, 8]), load(b[0.., 0..], [8, 16]), zeros<f32>[16, 16]));
}",
    );
    let ls = infer(&k);
    check_kernel(&k, &ls, "f32 dot");
    assert_eq!(ls.dots()[0].kind, DotKind::Fma);
    let k = compile(
        "kernel k(a: global f16[M, K], b: global f16[K, N], c: global f32[M, N]) grid(1) warps(4) {
    store(c[0.., 0..], dot(load(a[0.., 0..], [16, 8]), load(b[0.., 0..], [8, 16]), zeros<f32>[16, 16]));
}",
    );
    let ls = infer(&k);
    check_kernel(&k, &ls, "k = 8");
    assert_eq!(ls.dots()[0].kind, DotKind::Fma);
    // A single m16n8k16 atom for four warps: one warp's worth, replicated.
    let k = compile(
        "kernel k(a: global bf16[M, K], b: global bf16[K, N], c: global f32[M, N]) grid(1) warps(4) {
    store(c[0.., 0..], dot(load(a[0.., 0..], [16, 16]), load(b[0.., 0..], [16, 8]), zeros<f32>[16, 8]));
}",
    );
    let ls = infer(&k);
    check_kernel(&k, &ls, "one atom");
    assert_eq!(ls.dots()[0].kind, DotKind::Mma { warps_m: 1, warps_n: 1, replicas: 4 });
    assert_eq!(ls.dots()[0].c.replication(), 4);
}

#[test]
fn shape_operations_carry_layouts() {
    let k = compile(
        "kernel k(x: global f32[M, N], y: global f32[N, M], z: global f32[M, N]) grid(1) warps(4) {
    let t = load(x[0.., 0..], [32, 64]);
    store(y[0.., 0..], transpose(t));
    let r = reshape(t, [8, 4, 64]);
    store(z[0.., 0..], reshape(r * 2.0, [32, 64]));
    let s = sum(t, dim: 1);
    store(z[0.., 0..], t - unsqueeze(s, 1));
    store(z[0.., 0..], repeat(load(x[0.., 0..], [16, 64]), [2, 1]));
}",
    );
    let ls = infer(&k);
    check_kernel(&k, &ls, "shapes");
    assert!(ls.conversions().is_empty(), "{}", ls.display(&k));
    let all = insts(&k.body);
    let t = all[all.iter().position(|i| matches!(i.op, Op::Load { .. })).unwrap()].results[0];
    let lt = ls.of(t).unwrap();
    for i in &all {
        match &i.op {
            Op::Permute { perm, .. } => assert_eq!(ls.of(i.results[0]).unwrap(), &lt.permute(perm).unwrap()),
            Op::Reduce { .. } => assert_eq!(ls.of(i.results[0]).unwrap(), &lt.reduce(&[1], false).unwrap()),
            _ => {}
        }
    }
    insta::assert_snapshot!(ls.display(&k));
}

#[test]
fn the_attention_and_dequantising_matmul_layouts() {
    let mut out = String::new();
    for file in ["examples/attention.tile", "examples/matmul_a16wx.tile", "examples/softmax.tile"] {
        let (_, program) = compile_file(&repo().join(file), &Options::default());
        for k in &program.kernels {
            out.push_str(&infer(k).display(k));
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn inference_is_deterministic() {
    for path in tile_files() {
        let (_, a) = compile_file(&path, &Options::default());
        let (_, b) = compile_file(&path, &Options::default());
        for (ka, kb) in a.kernels.iter().zip(&b.kernels) {
            let (la, lb) = (infer(ka), infer(kb));
            assert_eq!(la.display(ka), lb.display(kb));
            assert_eq!(la.conversions(), lb.conversions());
        }
    }
}

#[test]
fn blocked_layouts_are_coalesced_vectors_over_the_block() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let dtypes = [DType::F16, DType::F32, DType::F64, DType::Bool, DType::I32, "u4".parse().unwrap(), "i8".parse().unwrap()];
    for _ in 0..300 {
        let rank = rng.random_range(1..=3);
        let shape: Vec<i64> = (0..rank).map(|_| [1, 2, 3, 4, 6, 8, 16, 32, 64, 128][rng.random_range(0..10)]).collect();
        let dtype = dtypes[rng.random_range(0..dtypes.len())];
        let threads = 32 * [1, 2, 4, 8][rng.random_range(0..4)];
        let l = blocked(&shape, dtype, threads).unwrap();
        let what = format!("blocked({shape:?}, {dtype}, {threads}) = {l}");
        assert_eq!(l.shape(), shape.as_slice(), "{what}");
        assert_eq!(l.num_threads(), threads, "{what}");
        assert_covers(&l, &what);
        // The innermost slots are contiguous along the last dimension: at most 16 bytes, unless no
        // thread shares the last dimension (then a thread's vectors of a row are adjacent and the
        // canonical form merges them).
        let bits = if dtype == DType::Bool { 8 } else { dtype.bits() as i64 };
        if let Some(m) = l.value_modes().first().filter(|m| m.dim == Some(rank - 1) && m.stride == 1) {
            let shared_rows = l.thread_modes().iter().any(|t| t.dim == Some(rank - 1));
            assert!(m.extent * bits <= 128 || !shared_rows, "{what}");
        }
        // Consecutive threads hold consecutive vectors of the last dimension when it has several.
        if let (Some(t), Some(v)) = (l.thread_modes().first(), l.value_modes().first()) {
            if t.dim == Some(rank - 1) && v.dim == Some(rank - 1) && v.stride == 1 {
                assert_eq!(t.stride, v.extent, "{what}");
            }
        }
        // As many distinct threads as the tile's extents allow: replication only where the tile
        // has fewer elements than the block has threads (or extents without enough factors of 2).
        let size: i64 = shape.iter().product();
        let gcd = |mut a: i64, mut b: i64| {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        };
        assert_eq!(l.replication(), threads / gcd(size, threads), "{what}");
    }
}

#[test]
fn random_elementwise_and_reduction_kernels() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for _ in 0..40 {
        let (m, n) = ([1, 2, 4, 8, 16, 32][rng.random_range(0..6)], [8, 16, 64, 128, 256][rng.random_range(0..5)]);
        let warps = [1, 2, 4, 8][rng.random_range(0..4)];
        let dt = ["f32", "f16", "i32"][rng.random_range(0..3)];
        let src = format!(
            "kernel k(x: global {dt}[M, N], y: global {dt}[M, N], s: global {dt}[M, 1]) grid(1) warps({warps}) {{
    let t = load(x[0.., 0..], [{m}, {n}]);
    let u = max(t, load(y[0.., 0..], [{m}, {n}]));
    let r = sum(u, dim: 1, keepdim: true);
    store(s[0.., 0..], r);
    store(y[0.., 0..], u - r);
}}"
        );
        let k = compile(&src);
        let ls = infer(&k);
        check_kernel(&k, &ls, &src);
        assert!(ls.conversions().is_empty(), "{src}\n{}", ls.display(&k));
    }
}

#[test]
fn control_flow_carries_layouts_and_converts_at_yields() {
    // The loop carries `acc`, annotated at the top of the body; one branch of the `if` yields a
    // value annotated otherwise, so that yield is converted to the carried layout. The other branch,
    // the `break` and the loop's result keep the carried layout.
    let src = "kernel k(x: global f32[M, N], y: global f32[M, N], n: i32) grid(1) warps(1) {
    let acc = zeros<f32>[16, 16];
    let i = 0;
    while i < 10 {
        i = i + 1;
        let t = load(x[0.., 0..], [16, 16]);
        if i > cast<i64>(n) {
            break;
        }
        let a = layout(acc, \"spatial(8,4).local(2,4)\");
        if i == 3 {
            acc = layout(a + t * 2.0, \"column_spatial(4,8).local(4,2)\");
        } else {
            acc = cumsum(a + t, dim: 1);
        }
    }
    store(y[0.., 0..], acc);
}";
    let k = compile(src);
    let ls = infer(&k);
    check_kernel(&k, &ls, "control");
    insta::assert_snapshot!(ls.display(&k));
    let uses: Vec<String> = ls.conversions().iter().map(|c| c.user.to_string()).collect();
    // `t` and `a` into the annotated sum, and the annotated branch's yield back to the carried layout.
    assert_eq!(uses, vec!["binary operand 0", "binary operand 0", "if yield 0"]);
    let carried = show_of(&ls, ls.conversions()[2].to.clone());
    assert_eq!(carried, "spatial(8,4).local(2,4)");
    // Every carried value and the loop's result share that layout.
    let store = insts(&k.body).into_iter().find(|i| matches!(i.op, Op::Store { .. })).unwrap();
    let Op::Store { value, .. } = store.op else { unreachable!() };
    assert_eq!(layout_infer::show(ls.of(value).unwrap()), "spatial(8,4).local(2,4)");
}

fn show_of(_: &Layouts, l: TvLayout) -> String {
    layout_infer::show(&l)
}

#[test]
fn views_regroup_slots_along_the_last_dimension() {
    let k = compile(
        "kernel k(x: global u8[M, N], y: global u4[M, N], z: global u32[M, N]) grid(1) warps(2) {
    let b = load(x[0.., 0..], [16, 64]);
    store(y[0.., 0..], view<u4>(b));
    store(z[0.., 0..], view<u32>(b));
}",
    );
    let ls = infer(&k);
    check_kernel(&k, &ls, "views");
    assert!(ls.conversions().is_empty(), "{}", ls.display(&k));
    let all = insts(&k.body);
    let b = all.iter().find(|i| matches!(i.op, Op::Load { .. })).unwrap().results[0];
    for i in all.iter().filter(|i| matches!(i.op, Op::Bitcast(_))) {
        let r = ls.of(i.results[0]).unwrap();
        // Every thread holds the bits of the bytes it loaded.
        let (lb, rbits) = (ls.of(b).unwrap(), k.ty(i.results[0]).dtype().bits() as i64);
        for t in 0..lb.num_threads() {
            for v in 0..r.num_values() {
                let c = r.coords(t, v).unwrap();
                let first_byte = c[1] * rbits / 8;
                assert!(lb.holders(&[c[0], first_byte]).unwrap().iter().any(|h| h.0 == t));
            }
        }
    }
}

#[test]
fn kernels_without_warps_are_reported() {
    let mut k = compile(&std::fs::read_to_string(repo().join("examples/vector_add.tile")).unwrap());
    k.warps = 0;
    let d = layout_infer::infer(&k).unwrap_err();
    assert!(d.message.contains("no warps"), "{}", d.message);
}

/// The conversions of every repository kernel (docs/passes.md tabulates them).
#[test]
fn conversions_of_the_repository_kernels() {
    let mut out = String::new();
    for path in tile_files() {
        let (_, program) = compile_file(&path, &Options::default());
        let name = path.strip_prefix(repo()).unwrap_or(&path).display().to_string();
        for k in &program.kernels {
            let ls = infer(k);
            let dots: Vec<String> = ls.dots().iter().map(|d| format!("{:?}", d.kind)).collect();
            out.push_str(&format!("{name} {}: {} tiles, dots [{}]\n", k.name, ls.tiles().len(), dots.join(", ")));
            for c in ls.conversions() {
                out.push_str(&format!("  %{}: {} at {}\n", c.value.0, k.ty(c.value), c.user));
            }
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn loads_from_column_major_tensors_vectorise_along_their_contiguous_dimension() {
    let k = compile(
        "kernel k(x: global f16[M, N] strides(1, LDX), y: global f16[M, N]) grid(1) warps(4) {
    store(y[0.., 0..], load(x[0.., 0..], [64, 32]));
}",
    );
    let ls = infer(&k);
    check_kernel(&k, &ls, "column-major");
    let load = insts(&k.body).into_iter().find(|i| matches!(i.op, Op::Load { .. })).unwrap().results[0];
    let l = ls.of(load).unwrap();
    // 8 f16 down a column per thread, consecutive threads down the column, then across columns.
    assert_eq!(l.value_modes()[0], Mode::along(8, 0, 1), "{l}");
    assert_eq!(l.thread_modes()[0], Mode::along(8, 0, 8), "{l}");
    assert_eq!(l, &blocked_along(&[64, 32], DType::F16, 128, 0).unwrap());
    // The row-major store takes the loaded layout: stores accept any layout.
    assert!(ls.conversions().is_empty());
    // Any contiguous dimension gives a covering layout over the block.
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    for _ in 0..100 {
        let shape: Vec<i64> = (0..3).map(|_| [1, 2, 4, 6, 16, 64][rng.random_range(0..6)]).collect();
        let contig = rng.random_range(0..3);
        let l = blocked_along(&shape, DType::F32, 128, contig).unwrap();
        assert_covers(&l, &format!("blocked_along({shape:?}, f32, 128, {contig})"));
        assert_eq!(l.num_threads(), 128);
    }
}

#[test]
fn an_annotated_reduction_is_converted_at_the_annotation() {
    // A reduction's result is what the reduction gives; the annotation converts it.
    let kernel = |l: &str| {
        compile(&format!(
            "kernel k(x: global f32[M, N], y: global f32[M]) grid(1) warps(1) {{
    store(y[0..], layout(sum(load(x[0.., 0..], [16, 8]), dim: 1), \"{l}\"));
}}"
        ))
    };
    let k = kernel("replicate(2).spatial(16)");
    let ls = infer(&k);
    check_kernel(&k, &ls, "annotated sum");
    assert_eq!(ls.conversions().len(), 1, "{}", ls.display(&k));
    let c = &ls.conversions()[0];
    assert_eq!(c.user.to_string(), "layout operand 0");
    assert_eq!(layout_infer::show(&c.from), "spatial(16).replicate(2)");
    assert_eq!(layout_infer::show(&c.to), "replicate(2).spatial(16)");
    // The layout the reduction gives anyway: nothing to convert.
    let k = kernel("spatial(16).replicate(2)");
    assert!(infer(&k).conversions().is_empty());
}

#[test]
fn agreeing_annotations_are_fine() {
    let k = compile(
        "kernel k(x: global f32[M, N], y: global f32[M, N]) grid(1) warps(1) {
    let t = load(x[0.., 0..], [16, 16]);
    let a = layout(t, \"spatial(8,4).local(2,4)\");
    let b = layout(layout(t, \"spatial(8,4).local(2,4)\"), \"spatial(8,4).local(2,4)\");
    store(y[0.., 0..], a + b);
}",
    );
    let ls = infer(&k);
    check_kernel(&k, &ls, "agreeing");
    assert!(ls.conversions().is_empty());
    assert!(ls.tiles().iter().all(|&v| layout_infer::show(ls.of(v).unwrap()) == "spatial(8,4).local(2,4)" && ls.origin(v) == Some(Origin::Annotation)));
}
