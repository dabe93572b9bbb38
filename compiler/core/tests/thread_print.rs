//! The `Print` op of the thread IR: its format (holes `{}`, escaped braces), the verifier's checks,
//! and the emulator's lines — one per executing thread, in block order, values written as the tile
//! interpreter writes them.

use tilec_core::thread::{emulate_capture, print_escape, print_holes, print_pieces, verify, ArgValue, Builder, CmpOp};
use tilec_dtype::DType;

#[test]
fn formats_split_at_holes_and_keep_escaped_braces() {
    assert_eq!(print_pieces("a {} b {}").unwrap(), vec!["a ", " b ", ""]);
    assert_eq!(print_pieces("{{x}} = {}").unwrap(), vec!["{x} = ", ""]);
    assert_eq!(print_pieces("100%").unwrap(), vec!["100%"]);
    assert_eq!(print_holes("{}{}{}").unwrap(), 3);
    assert_eq!(print_pieces(&print_escape("{t}")).unwrap(), vec!["{t}"]);
    for bad in ["{", "}", "a { b", "{x}"] {
        let err = print_pieces(bad).unwrap_err();
        assert!(err.contains("lone"), "{bad:?}: {err}");
    }
}

#[test]
fn the_verifier_checks_holes_against_arguments_and_only_prints_scalars() {
    let mut b = Builder::new("bad_count");
    let t = b.thread_id();
    b.print("{} and {}", &[t]);
    let e = verify(&b.finish()).unwrap_err();
    assert!(e.message.contains("1 arguments for a format with 2 holes"), "{}", e.message);

    let mut b = Builder::new("vector");
    let x = b.const_float(DType::F32, 1.0);
    let v = b.pack(&[x, x]);
    b.print("{}", &[v]);
    let e = verify(&b.finish()).unwrap_err();
    assert!(e.message.contains("only scalars print"), "{}", e.message);

    let mut b = Builder::new("lone");
    b.print("oops {", &[]);
    assert!(verify(&b.finish()).is_err());
}

#[test]
fn the_emulator_prints_one_line_per_executing_thread_in_block_order() {
    // Thread 0 of each block prints its block index and two values; the others skip the line.
    let mut b = Builder::new("show");
    let t = b.thread_id();
    let blk = b.block_id(0);
    let zero = b.i32(0);
    let first = b.cmp(CmpOp::Eq, t, zero);
    let half = b.const_float(DType::F32, 0.5);
    let yes = b.bool(true);
    b.begin_if(first, &[]);
    b.print("[block {}] {{x}}: {}, {}", &[blk, half, yes]);
    b.else_(vec![]);
    b.end_if(vec![]);
    let program = b.finish();
    let lines = emulate_capture(&program, &mut [] as &mut [ArgValue], [3, 1, 1], 64).unwrap();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for (i, line) in lines.iter().enumerate() {
        assert!(line.starts_with(&format!("[block {i}] {{x}}: ")), "{line}");
    }
    // The values are written as the interpreter writes them (`interp::format_scalar`).
    let half_text = tilec_core::interp::format_scalar(DType::F32, tilec_core::interp::Scalar::Float(0.5));
    assert!(lines[0].ends_with(&format!("{half_text}, true")), "{}", lines[0]);
}
