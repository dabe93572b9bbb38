//! Diagnostics of the compute operations: every misuse is reported with its span (snapshots).

mod ops_common;
use ops_common::diags;

/// A kernel with a few tiles in scope, around `body`.
fn k(body: &str) -> String {
    format!(
        "kernel k(x: global f32[M, N], h: global f16[M, N], i: global i32[N], m: global bool[N], o: global f32[M]) {{
    let v = load(x, [8, 16]);
    let w = load(h, [8, 16]);
    let n = load(i, [16]);
    let c = load(m, [16]);
    {body}
}}
"
    )
}

/// Every case's rendered diagnostics, one after another.
fn all(cases: &[&str]) -> String {
    cases.iter().map(|body| format!("── {body}\n{}", diags(&k(body)))).collect::<Vec<_>>().join("\n")
}

#[test]
fn math_where_fma() {
    insta::assert_snapshot!(all(&[
        "let y = exp(n);",
        "let y = sqrt(v, v);",
        "let y = abs(c);",
        "let y = log(v, base: 2);",
        "let y = where(n, v, v);",
        "let y = where(c, v, w);",
        "let y = where(v > 0.0, v, n);",
        "let y = where(c, zeros<f32>[8, 3], v);",
        "let y = fma(n, n, n);",
        "let y = fma(v, w, v);",
        "let y = fma(v, v);",
    ]));
}

#[test]
fn dot() {
    insta::assert_snapshot!(all(&[
        "let y = dot(v, v);",
        "let y = dot(w, transpose(v));",
        "let y = dot(n, v);",
        "let y = dot(v);",
        "let y = dot(w, transpose(w), zeros<f16>[8, 8]);",
        "let y = dot(w, transpose(w), zeros<f32>[8, 4]);",
        "let y = dot(w, transpose(w), 0.0);",
        "let y = dot(cast<f64>(v), transpose(cast<f64>(v)));",
        "let y = dot(c, c);",
    ]));
}

#[test]
fn reductions() {
    insta::assert_snapshot!(all(&[
        "let y = sum(v, dim: 2);",
        "let y = sum(v, dim: -3);",
        "let y = sum(v, axis: 0);",
        "let y = sum(v, dim: 0, dim: 1);",
        "let y = sum(v, v);",
        "let y = max(v, v, dim: 0);",
        "let y = sum(c);",
        "let y = any(v);",
        "let y = sum(v, keepdim: 1);",
        "let y = sum(v, dim: block.x);",
        "let y = sum(1.0);",
        "let y = cumsum(v);",
        "let y = cumsum(c, dim: 0);",
    ]));
}

#[test]
fn shape_ops() {
    insta::assert_snapshot!(all(&[
        "let y = transpose(n);",
        "let y = permute(v, [0, 0]);",
        "let y = permute(v, [1, 0, 2]);",
        "let y = reshape(v, [3, 8]);",
        "let y = reshape(v, 128);",
        "let y = squeeze(v, 0);",
        "let y = unsqueeze(v, 3);",
        "let y = broadcast(v, [4, 16]);",
        "let y = broadcast(v, [2, 8, 32]);",
        "let y = repeat(v, [2]);",
        "let y = repeat(v, [2, 0]);",
        "let y = repeat(v, [1024, 1024]);",
        "let y = transpose(v, [1, 0]);",
    ]));
}

#[test]
fn arange_and_view() {
    insta::assert_snapshot!(all(&[
        "let y = arange(block.x);",
        "let y = arange(5, 5);",
        "let y = arange(1, 2, 3);",
        "let y = view<f32>(load(h, [8, 3]));",
        "let y = view<u3>(n);",
        "let y = view<i16>(sum(v));",
        "let y = view(v);",
        "let y = view<f32, f16>(v);",
        "let y = exp<f32>(v);",
    ]));
}

#[test]
fn atomic_add_and_print() {
    insta::assert_snapshot!(all(&[
        "atomic_add(o, v);",
        "atomic_add(o[0..], cast<f16>(sum(v, dim: 1)));",
        "atomic_add(m, c);",
        "atomic_add(o, 1.0);",
        "atomic_add(v, v);",
        "let y = atomic_add(o, sum(v, dim: 1));",
        "print(v);",
        "print();",
        "print(\"x\", y);",
        "print(\"x\", o);",
        "let y = print(\"x\");",
    ]));
}
