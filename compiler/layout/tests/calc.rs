//! The `tilec layout` calculator: printing, tabulating, drawing, diagnostics, and that no
//! input makes it panic.

use proptest::prelude::*;
use tilec_layout::calc::{run, CalcOptions};

fn last(expr: &str) -> String {
    let out = run(expr, &CalcOptions::default())
        .unwrap_or_else(|e| panic!("{expr}: {}", e.render(expr, false)));
    out.stdout.lines().last().unwrap_or_default().to_string()
}

fn table(expr: &str) -> String {
    let out = run(
        expr,
        &CalcOptions {
            table: true,
            svg: false,
        },
    )
    .unwrap();
    out.stdout.lines().last().unwrap().to_string()
}

fn err(expr: &str) -> tilec_layout::calc::CalcError {
    run(expr, &CalcOptions::default()).expect_err(expr)
}

#[test]
fn layouts_print_in_cute_notation() {
    assert_eq!(last("(4,2):(1,4)"), "(4,2):(1,4)");
    assert_eq!(last("((2,2),4):((1,4),2)"), "((2,2),4):((1,4),2)");
    assert_eq!(last("8:1"), "8:1");
    assert_eq!(last("(4,8)"), "(4,8):(1,4)");
    assert_eq!(last("8"), "8:1");
    assert_eq!(last("((2,3),4)"), "((2,3),4):((1,2),6)");
    assert_eq!(last("coalesce((4,8))"), "32:1");
    assert_eq!(last("make_layout(8, (2,2):(8,16))"), "(8,(2,2)):(1,(8,16))");
    assert_eq!(last("(4, 2) : (1, 4)"), "(4,2):(1,4)");
    assert_eq!(last("8:-1"), "8:-1");
}

#[test]
fn algebra_calls() {
    assert_eq!(
        last("logical_divide((4,2,3):(2,1,8), 4:2)"),
        "((2,2),(2,3)):((4,1),(2,8))"
    );
    assert_eq!(
        last("composition((6,2):(8,2), (4,3):(3,1))"),
        "((2,2),3):((24,2),8)"
    );
    assert_eq!(last("(6,2):(8,2) o (4,3):(3,1)"), "((2,2),3):((24,2),8)");
    assert_eq!(
        last("composition((12,(4,8)):(59,(13,1)), <3:4,8:2>)"),
        "(3,(2,4)):(236,(26,1))"
    );
    assert_eq!(last("complement(4:2, 24)"), "(2,3):(1,8)");
    assert_eq!(last("complement((2,2):(1,6), 24)"), "(3,2):(2,12)");
    assert_eq!(last("complement(4:2, (4,6))"), "(2,3):(1,8)");
    assert_eq!(last("complement(4:2)"), "2:1");
    assert_eq!(last("right_inverse((4,8):(8,1))"), "(8,4):(4,1)");
    assert_eq!(last("left_inverse(4:2)"), "(2,4):(4,1)");
    assert_eq!(last("filter((4,2,3):(1,0,4))"), "12:1");
    assert_eq!(
        last("coalesce(((2,4),(3,5)):((1,2),(8,24)), (1,1))"),
        "(8,15):(1,8)"
    );
    assert_eq!(last("flatten(((2,2),4):((1,4),2))"), "(2,2,4):(1,4,2)");
    let t = "<3:3,(2,4):(1,8)>";
    let a = "(9,(4,8)):(59,(13,1))";
    assert_eq!(
        last(&format!("logical_divide({a}, {t})")),
        "((3,3),((2,4),(2,2))):((177,59),((13,2),(26,1)))"
    );
    assert_eq!(
        last(&format!("zipped_divide({a}, {t})")),
        "((3,(2,4)),(3,(2,2))):((177,(13,2)),(59,(26,1)))"
    );
    assert_eq!(
        last(&format!("tiled_divide({a}, {t})")),
        "((3,(2,4)),3,(2,2)):((177,(13,2)),59,(26,1))"
    );
    assert_eq!(
        last(&format!("flat_divide({a}, {t})")),
        "(3,(2,4),3,(2,2)):(177,(13,2),59,(26,1))"
    );
    assert_eq!(last("logical_divide(16:3, 4)"), "(4,4):(3,12)");
    assert_eq!(
        last("zipped_divide((8,8), (2,4))"),
        "((2,4),(4,2)):((1,8),(2,32))"
    );
    assert_eq!(
        last("logical_product((2,2):(1,2), (3,4):(4,1))"),
        "((2,2),(3,4)):((1,2),(16,4))"
    );
    assert_eq!(
        last("tiled_product((2,2):(1,2), (3,4):(4,1))"),
        "((2,2),3,4):((1,2),16,4)"
    );
    assert_eq!(
        last("zipped_product((2,2):(1,2), <3:1,4:1>)"),
        "((2,2),(3,(2,2))):((1,2),(2,(1,4)))"
    );
    assert_eq!(
        last("flat_product((2,2):(1,2), <3:1,4:1>)"),
        "(2,2,3,(2,2)):(1,2,2,(1,4))"
    );
    assert_eq!(
        last("blocked_product((2,2):(1,2), (3,4):(4,1))"),
        "((2,3),8):((1,16),2)"
    );
    assert_eq!(
        last("raked_product((2,2):(1,2), (3,4):(4,1))"),
        "((3,2),(4,2)):((16,1),(4,2))"
    );
    assert_eq!(
        last("tile_to_shape((2,2):(1,2), (4,6))"),
        "((2,2),(2,3)):((1,4),(2,8))"
    );
    assert_eq!(
        last("tile_to_shape((2,2):(1,2), (4,6), (1,0))"),
        "((2,2),6):((1,12),2)"
    );
}

#[test]
fn numbers() {
    assert_eq!(last("size((4,2,3):(2,1,8))"), "24");
    assert_eq!(last("cosize((4,2):(2,1))"), "8");
    assert_eq!(last("rank((4,2,3):(2,1,8))"), "3");
    assert_eq!(last("depth(((2,2),4):((1,4),2))"), "2");
    assert_eq!(last("eval((4,8):(8,1), (1,2))"), "10");
    assert_eq!(last("eval((4,8):(8,1), 9)"), "10");
    assert_eq!(last("eval(((2,2),4):((1,4),2), ((1,1),3))"), "11");
    assert_eq!(last("eval(Sw<3,3,3> o (8,64):(64,1), (1,0))"), "72");
    assert_eq!(last("shape((4,2):(1,4))"), "(4,2)");
    assert_eq!(last("stride((4,2):(1,4))"), "(1,4)");
    assert_eq!(last("size(mma(m16n8k16, f16, a))"), "256");
}

#[test]
fn swizzles() {
    assert_eq!(last("Sw<3,3,3>"), "Sw<3,3,3>");
    assert_eq!(last("swizzle(2,3,3)"), "Sw<2,3,3>");
    assert_eq!(
        last("composition(Sw<3,3,3>, (8,64):(64,1))"),
        "Sw<3,3,3> o (8,64):(64,1)"
    );
    assert_eq!(
        last("Sw<3,3,3> o (8,64):(64,1) o (8,8):(1,8)"),
        "Sw<3,3,3> o (8,8):(64,1)"
    );
    assert_eq!(table("Sw<1,0,1>"), "0 1 3 2");
    assert_eq!(table("Sw<1,1,1> o 8:1"), "0 1 2 3 6 7 4 5");
    assert_eq!(last("bank_conflicts((32,64):(64,1), 16, x4)"), "224");
    assert_eq!(
        last("bank_conflicts(Sw<3,3,3> o (32,64):(64,1), 16, x4)"),
        "0"
    );
    assert_eq!(last("bank_conflicts((32,64):(64,1), 16, vec16)"), "0");
    assert_eq!(last("choose_swizzle((32,64), 16, x4)"), "Sw<3,3,3>");
    assert_eq!(last("choose_swizzle((32,32), 16, x4)"), "Sw<2,3,3>");
}

#[test]
fn register_layouts() {
    let a = last("spatial(8,4).local(1,2)");
    assert_eq!(a, "tv((8,8), ((4,8),2):((2,8),1))");
    assert_eq!(last(&a), a, "the printed form parses back");
    assert_eq!(last("spatial(8,4) * local(1,2)"), a);
    assert_eq!(
        last("local(2,1) * spatial(8,4)"),
        "tv((16,4), ((4,8),2):((1,4),32))"
    );
    assert_eq!(
        last("column_spatial(4,8)"),
        "tv((4,8), ((4,8),1):((8,1),0))"
    );
    assert_eq!(last("column_local(2,2)"), "tv((2,2), (1,(2,2)):(0,(2,1)))");
    assert_eq!(
        last("mma(m16n8k16, f16, c)"),
        "tv((16,8), ((4,8),(2,2)):((2,8),(1,64)))"
    );
    assert_eq!(last("mma(m16n8k16, bf16, a)"), last("ldmatrix(x4)"));
    assert_eq!(last("mma(m16n8k16, f16, b)"), last("ldmatrix(x2, trans)"));
    assert_eq!(
        last("local(2,2) * mma(m16n8k16, f16, a) / mma(m16n8k16, f16, a)"),
        last("local(2,2)")
    );
    assert_eq!(
        last("left_divide(local(2,2) * ldmatrix(x1), local(2,2))"),
        last("ldmatrix(x1)")
    );
    assert_eq!(
        last("wgmma_acc(64) / mma(m16n8k16, f16, c)"),
        last("spatial(4,1).local(1,8)")
    );
    assert_eq!(
        last("reduce(spatial(8,4), 1)"),
        "tv((8), ((4,8),1):((0,1),0))"
    );
    assert_eq!(last("reshape(spatial(8,4), (32))"), last("spatial(32)"));
    assert_eq!(
        last("permute(spatial(8,4), (1,0))"),
        last("column_spatial(4,8)")
    );
    assert_eq!(
        last("concat(spatial(8), local(2))"),
        last("spatial(8,1).local(1,2)")
    );
    assert_eq!(
        last("holders(spatial(4,8).replicate(2), (0,1))"),
        "T2 V0, T3 V0"
    );
    assert_eq!(last("eval(mma(m16n8k16, f16, a), 5, 6)"), "(9,10)");
    assert_eq!(
        last("to_layout(spatial(8,4).local(1,2))"),
        "((4,8),2):((2,8),1)"
    );
    assert_eq!(last("stmatrix(x4, trans)"), last("ldmatrix(x4, trans)"));
    assert!(last("mfma(16x16x16, f16, c)").starts_with("tv((16,16)"));
    assert!(last("mfma(32x32x8, f16, a)").starts_with("tv((32,8)"));
    let out = run("spatial(8,4).local(1,2)", &CalcOptions::default()).unwrap();
    assert!(
        out.stdout.contains("32 threads x 2 values per thread"),
        "{}",
        out.stdout
    );
    let out = run("reduce(spatial(8,4), 1)", &CalcOptions::default()).unwrap();
    assert!(out.stdout.contains("held by 4 threads"), "{}", out.stdout);
}

#[test]
fn tables() {
    assert_eq!(table("(4,2):(1,4)"), "0 1 2 3 4 5 6 7");
    assert_eq!(table("(4,2):(2,1)"), "0 2 4 6 1 3 5 7");
    assert_eq!(table("complement(4:2, 24)"), "0 1 8 9 16 17");
    // Register layouts: thread-major, row-major index of the coordinate.
    assert_eq!(table("spatial(2,2).local(1,2)"), "0 1 2 3 4 5 6 7");
    assert_eq!(table("column_spatial(2,2)"), "0 2 1 3");
    let t = table("mma(m16n8k16, f16, c)");
    let v: Vec<i64> = t.split(' ').map(|x| x.parse().unwrap()).collect();
    assert_eq!(v.len(), 128);
    assert_eq!(&v[0..8], &[0, 1, 64, 65, 2, 3, 66, 67]);
    assert!(run(
        "size((4,2))",
        &CalcOptions {
            table: true,
            svg: false
        }
    )
    .is_err());
}

#[test]
fn pictures() {
    let svg = run(
        "(4,2):(2,1)",
        &CalcOptions {
            table: false,
            svg: true,
        },
    )
    .unwrap()
    .svg
    .unwrap();
    assert!(svg.starts_with("<svg"));
    assert_eq!(svg.matches("<rect x=").count(), 8);
    assert!(svg.contains(">7</text>"));
    let svg = run(
        "mma(m16n8k16, f16, c)",
        &CalcOptions {
            table: false,
            svg: true,
        },
    )
    .unwrap()
    .svg
    .unwrap();
    assert_eq!(svg.matches("<rect x=").count(), 128);
    assert!(svg.contains(">T0 V0</text>") && svg.contains(">T31 V3</text>"));
    let svg = run(
        "reduce(spatial(8,4), 1)",
        &CalcOptions {
            table: false,
            svg: true,
        },
    )
    .unwrap()
    .svg
    .unwrap();
    assert!(svg.contains(">T0 V0 +3</text>"));
    let svg = run(
        "Sw<3,3,3> o (8,64):(64,1)",
        &CalcOptions {
            table: false,
            svg: true,
        },
    )
    .unwrap()
    .svg
    .unwrap();
    assert_eq!(svg.matches("<rect x=").count(), 512);
    assert!(run(
        "size(8)",
        &CalcOptions {
            table: false,
            svg: true
        }
    )
    .is_err());
    let svg = run(
        "8",
        &CalcOptions {
            table: false,
            svg: true,
        },
    )
    .unwrap()
    .svg
    .unwrap();
    assert_eq!(svg.matches("<rect x=").count(), 8);
}

#[test]
fn diagnostics_point_at_the_problem() {
    let e = err("coalese((4,2):(1,4))");
    assert_eq!(e.span(), 0..7);
    assert!(e.message().contains("unknown function `coalese`"));
    assert!(e.help().unwrap().contains("coalesce"));
    let r = e.render("coalese((4,2):(1,4))", false);
    assert!(r.contains("unknown function"), "{r}");
    assert!(r.contains("^^^^^^^"), "{r}");
    assert!(e.render("coalese((4,2):(1,4))", true).contains("\u{1b}["));

    let e = err("composition((4,2):(1,4))");
    assert!(
        e.message().contains("takes 2 arguments, got 1"),
        "{}",
        e.message()
    );
    assert!(e.help().unwrap().contains("composition(A, B)"));

    let e = err("size((4,2):(1,4), 3)");
    assert_eq!(e.span().start, 18);

    let e = err("coalesce((4,2):(1,4)");
    assert!(e.message().contains("unbalanced"), "{}", e.message());
    assert_eq!(e.span(), 8..9);

    let e = err("(4,2):(1,4))");
    assert!(
        e.message().contains("unexpected `)`") || e.message().contains("unbalanced"),
        "{}",
        e.message()
    );
    assert_eq!(e.span(), 11..12);

    let e = err("(4,x):(1,4)");
    assert!(
        e.message().contains("expected an integer"),
        "{}",
        e.message()
    );
    assert_eq!(e.span(), 3..4);

    let e = err("(4,2.5):(1,4)");
    assert!(e.span().start >= 4 && e.span().start <= 6, "{:?}", e.span());

    let e = err("(4,2):(1,4,2)");
    assert!(e.message().contains("not congruent"), "{}", e.message());

    let e = err("composition((4,3):(3,1), 2:3)");
    assert!(e.message().contains("divisibility"), "{}", e.message());

    let e = err("mma(m16n8k16, f8, a)");
    assert!(e.message().contains("takes f16, bf16"), "{}", e.message());

    let e = err("ldmatrix(x3)");
    assert_eq!(e.span(), 9..11);

    let e = err("spatial(8,4) / spatial(4,8)");
    assert!(e.message().contains("not"), "{}", e.message());

    let e = err("99999999999999999999");
    assert!(e.message().contains("64 bits"));

    let e = err("(4,2):(1,4) $");
    assert_eq!(e.span(), 12..13);
    assert!(err("").message().contains("found end of input"));
    assert!(err("f16").message().contains("is a name"));
    assert!(err("(4,2) * (2,2)")
        .help()
        .unwrap()
        .contains("logical_product"));
    assert!(err("spatial(8,4).bogus(1)")
        .message()
        .contains("unknown method"));
    assert!(err("Sw<3,3,2>")
        .message()
        .contains("|S| must be at least B"));
    assert!(err("complement((2,2):(1,1), 8)")
        .message()
        .contains("not injective"));
    assert!(err(&"(".repeat(1000))
        .message()
        .contains("nested too deeply"));
}

#[test]
fn huge_values_are_errors() {
    assert!(run("(4611686018427387904,4):(1,1)", &CalcOptions::default()).is_err());
    assert!(run("local(4294967296, 4294967296)", &CalcOptions::default()).is_err());
    assert!(run(
        "1048576:1",
        &CalcOptions {
            table: true,
            svg: false
        }
    )
    .is_err());
    assert!(run(
        "local(1024, 1024)",
        &CalcOptions {
            table: false,
            svg: true
        }
    )
    .is_err());
    assert!(run(
        "holders(replicate(1099511627776), ())",
        &CalcOptions::default()
    )
    .is_err());
    assert!(run(
        "spatial(2).replicate(1099511627776)",
        &CalcOptions {
            table: false,
            svg: true
        }
    )
    .is_err());
    let out = run(
        "Sw<3,3,3> o (1048576,1048576):(1048576,1)",
        &CalcOptions::default(),
    )
    .unwrap();
    assert!(out
        .stdout
        .lines()
        .last()
        .unwrap()
        .starts_with("Sw<3,3,3> o"));
}

const WORDS: &[&str] = &[
    "(",
    ")",
    "<",
    ">",
    ",",
    ":",
    ".",
    "*",
    "/",
    " ",
    "o",
    "Sw",
    "-",
    "0",
    "1",
    "2",
    "3",
    "4",
    "8",
    "16",
    "64",
    "size",
    "coalesce",
    "composition",
    "complement",
    "logical_divide",
    "zipped_divide",
    "blocked_product",
    "raked_product",
    "tile_to_shape",
    "right_inverse",
    "left_inverse",
    "eval",
    "spatial",
    "local",
    "column_local",
    "replicate",
    "reduce",
    "reshape",
    "permute",
    "concat",
    "mma",
    "ldmatrix",
    "wgmma_acc",
    "mfma",
    "m16n8k16",
    "f16",
    "a",
    "c",
    "x4",
    "trans",
    "32x32x8",
    "tv",
    "holders",
    "bank_conflicts",
    "choose_swizzle",
    "é",
    "\u{0}",
    "99999999999999999999",
    "9223372036854775807",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]

    /// Random token soups never panic; errors carry spans inside the input and render.
    #[test]
    fn random_input_never_panics(parts in prop::collection::vec(prop::sample::select(WORDS), 0..24)) {
        let expr: String = parts.concat();
        for opts in [CalcOptions::default(), CalcOptions { table: true, svg: true }] {
            match run(&expr, &opts) {
                Ok(out) => prop_assert!(!out.stdout.is_empty()),
                Err(e) => {
                    prop_assert!(e.span().end <= expr.len());
                    let _ = e.render(&expr, false);
                }
            }
        }
    }

    /// Arbitrary strings never panic either.
    #[test]
    fn random_strings_never_panic(expr in ".{0,40}") {
        if let Err(e) = run(&expr, &CalcOptions { table: true, svg: true }) {
            let _ = e.render(&expr, true);
        }
    }

    /// Every printed layout parses back to itself.
    #[test]
    fn printed_layouts_parse_back(s in prop::collection::vec((1i64..6, -3i64..20), 1..4)) {
        let shape: Vec<String> = s.iter().map(|x| x.0.to_string()).collect();
        let stride: Vec<String> = s.iter().map(|x| x.1.to_string()).collect();
        let expr = format!("(({}),{}):(({}),{})", shape.join(","), s[0].0, stride.join(","), s[0].1);
        let printed = last(&expr);
        prop_assert_eq!(last(&printed), printed);
    }
}

const FUNCS: &[&str] = &[
    "size",
    "cosize",
    "rank",
    "depth",
    "shape",
    "stride",
    "eval",
    "make_layout",
    "coalesce",
    "filter",
    "flatten",
    "composition",
    "complement",
    "right_inverse",
    "left_inverse",
    "logical_divide",
    "zipped_divide",
    "tiled_divide",
    "flat_divide",
    "logical_product",
    "zipped_product",
    "tiled_product",
    "flat_product",
    "blocked_product",
    "raked_product",
    "tile_to_shape",
    "swizzle",
    "local",
    "spatial",
    "column_local",
    "column_spatial",
    "replicate",
    "tv",
    "to_layout",
    "left_divide",
    "reduce",
    "reshape",
    "permute",
    "concat",
    "holders",
    "mma",
    "ldmatrix",
    "stmatrix",
    "wgmma_acc",
    "mfma",
    "bank_conflicts",
    "choose_swizzle",
];

const LEAVES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "4",
    "8",
    "16",
    "-1",
    "(4,2):(1,4)",
    "((2,2),4):((1,4),2)",
    "8:1",
    "(4,8)",
    "<3:3,(2,4):(1,8)>",
    "Sw<3,3,3>",
    "(8,64):(64,1)",
    "spatial(8,4)",
    "local(1,2)",
    "mma(m16n8k16, f16, a)",
    "ldmatrix(x4)",
    "m16n8k16",
    "f16",
    "a",
    "c",
    "x4",
    "trans",
    "vec16",
    "32x32x8",
    "(0,1)",
    "(1,0)",
    "(2,2)",
    "24",
];

/// Random well-formed expressions: calls of every function on random arguments.
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(LEAVES).prop_map(str::to_string);
    leaf.prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            (
                prop::sample::select(FUNCS),
                prop::collection::vec(inner.clone(), 0..4)
            )
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (
                inner.clone(),
                prop::sample::select(&["*", "/", " o "][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            (
                inner.clone(),
                prop::sample::select(&["local", "spatial", "column_spatial"][..]),
                1i64..4,
                1i64..4
            )
                .prop_map(|(a, m, x, y)| format!("{a}.{m}({x},{y})")),
            prop::collection::vec(inner, 1..4).prop_map(|v| format!("({})", v.join(","))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]

    /// Well-formed expressions exercise every function with odd arguments: results or
    /// diagnostics, never a panic; successful results print something that parses back.
    #[test]
    fn random_calls_never_panic(e in expr()) {
        match run(&e, &CalcOptions { table: true, svg: true }) {
            Ok(_) => {
                let out = run(&e, &CalcOptions::default()).unwrap();
                let printed = out.stdout.lines().last().unwrap().to_string();
                if printed.contains(':') && !printed.contains("T0") && !printed.contains("wavefronts") {
                    let again = run(&printed, &CalcOptions::default());
                    prop_assert!(again.is_ok(), "{} printed {} which does not parse", e, printed);
                    let again = again.unwrap().stdout;
                    prop_assert_eq!(again.lines().last().unwrap(), printed.as_str());
                }
            }
            Err(err) => prop_assert!(err.span().end <= e.len()),
        }
    }
}
