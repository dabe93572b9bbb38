//! The textual tile IR of every compute operation, and the verifier's checks of them.

mod ops_common;
use ops_common::kernel;
use tilec_core::tir::{self, Op, Program};

const ALL: &str = "kernel all(x: global f16[M, 32], y: global f32[M, 16], z: global u4[M, 64], q: global f32[M]) grid(cdiv(M, 16)) {
    let r = block.x * 16;
    let a = load(x[r.., ..], [16, 32]);
    let b = load(x, [32, 16]);
    let acc = dot(a, b);
    let e = exp(acc) + exp2(acc) + log(acc) + log2(acc) + sqrt(acc) + rsqrt(acc) + abs(acc) + neg(acc);
    let f = fma(acc, acc, 1.0);
    let g = where(f > 0.0, f, e);
    let s = sum(g, dim: 1) + max(g, dim: 0) + min(g, dim: -1, keepdim: false);
    let h = cumsum(g, dim: 0);
    let t = transpose(permute(reshape(h, [16, 16]), [1, 0]));
    let u = squeeze(unsqueeze(t, 0), 0) + broadcast(repeat(sum(t, dim: 0, keepdim: true), [1, 1]), [16, 16]);
    let bits = view<u8>(view<f16>(view<u8>(cast<f16>(u))));
    store(z[r.., ..], view<u4>(bits));
    atomic_add(q[r..], s + cast<f32>(arange(3, 19)));
    print(\"done\", any(g > 0.0), all(g > 0.0));
    store(y[r.., ..], u);
}";

#[test]
fn every_op_prints() {
    let k = kernel(ALL);
    assert!(tir::verify_kernel(&k).is_ok());
    insta::assert_snapshot!(tir::print_program(&Program { kernels: vec![k] }));
}

fn find(k: &mut tir::Kernel, pred: impl Fn(&Op) -> bool) -> &mut tir::Inst {
    k.body.insts.iter_mut().find(|i| pred(&i.op)).expect("op present")
}

#[test]
fn verifier_rejects_broken_compute_ops() {
    let src = "kernel k(x: global f16[16, 16], y: global f32[16, 16]) {
    let a = load(x, [16, 16]);
    let d = dot(a, a);
    let s = sum(d, dim: 0);
    let p = transpose(d);
    let v = view<u8>(a);
    store(y, p + exp(d));
}";
    let base = kernel(src);
    let a = base.body.insts.iter().find(|i| matches!(i.op, Op::Load { .. })).unwrap().results[0];
    let d = base.body.insts.iter().find(|i| matches!(i.op, Op::Dot { .. })).unwrap().results[0];
    type Breaker = Box<dyn Fn(&mut tir::Kernel)>;
    let breakers: Vec<(&str, Breaker)> = vec![
        ("dot with f16 accumulator", Box::new(move |k| find(k, |o| matches!(o, Op::Dot { .. })).op = Op::Dot { a, b: a, acc: a })),
        ("reduce over a missing dim", Box::new(|k| if let Op::Reduce { dim, .. } = &mut find(k, |o| matches!(o, Op::Reduce { .. })).op { *dim = Some(5) })),
        ("permute twice the same dim", Box::new(|k| if let Op::Permute { perm, .. } = &mut find(k, |o| matches!(o, Op::Permute { .. })).op { *perm = vec![0, 0] })),
        ("bitcast to another width", Box::new(move |k| find(k, |o| matches!(o, Op::Bitcast(_))).op = Op::Bitcast(d))),
        ("exp of a bool", Box::new(move |k| find(k, |o| matches!(o, Op::Math(..))).op = Op::Math(tir::MathOp::Exp, a))),
    ];
    for (what, brk) in breakers {
        let mut k = base.clone();
        brk(&mut k);
        assert!(tir::verify_kernel(&k).is_err(), "{what} passed the verifier");
    }
}
