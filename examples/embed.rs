//! Embedding tilec in a Rust program: compile a kernel from a string, list its signature, run it on
//! host arrays in the tile interpreter, and get PTX and AMDGCN with the runtime's manifest.
//!
//! `cargo run --release -p tilec --example embed`

use tilec::execute::{run, RunDevice};
use tilec::runtime::args::ScalarValue;
use tilec::runtime::bind::Binding;
use tilec::runtime::host::HostArray;
use tilec::{Compiler, Target};
use tilec_dtype::DType;

const SOURCE: &str = "
use std::elementwise::axpby;

// y = alpha * x + y, elementwise, for any length N.
kernel saxpy<BLOCK: int = 512>(alpha: f32, x: global f32[N], y: global f32[N], out: global f32[N])
    grid(cdiv(N, BLOCK)) warps(4)
{
    let i = block.x * BLOCK;
    store(out[i..], axpby(alpha, load(x[i..], [BLOCK]), 1.0, load(y[i..], [BLOCK])));
}
";

fn f32_array(values: &[f32]) -> Binding {
    let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    Binding::Array(HostArray::from_bytes(DType::F32, vec![values.len()], bytes).expect("consistent array"))
}

fn main() {
    // 1. Compile from a string, with a compile-time parameter set from the program.
    let program = Compiler::new().define("BLOCK", "256").compile_str("saxpy.tile", SOURCE).unwrap_or_else(|e| panic!("{e}"));
    let kernel = &program.kernels[0];
    println!("kernel: {}", kernel.signature());

    // 2. Run it in the interpreter on host arrays (N = 1000, not a multiple of the block).
    let n = 1000;
    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let y: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
    let args = vec![("alpha".to_string(), Binding::Scalar(ScalarValue::Float(2.0))), ("x".into(), f32_array(&x)), ("y".into(), f32_array(&y))];
    let results = run(kernel, args, RunDevice::Cpu).unwrap_or_else(|e| panic!("{e}"));
    let out = &results.iter().find(|(name, _)| name == "out").expect("output").1;
    let out: Vec<f32> = out.data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    let wrong = (0..n).filter(|&i| out[i] != 2.0 * x[i] + y[i]).count();
    println!("interpreter: {n} elements, {wrong} differ from 2x + y");
    assert_eq!(wrong, 0);

    // 3. GPU code and the manifest a runtime needs to launch it.
    for target in [Target::Sm90, Target::Gfx942] {
        let artifact = tilec::build(kernel, target).unwrap_or_else(|e| panic!("{e}"));
        println!("{target}: {} lines of assembly, grid {:?}, block {:?}", artifact.code.lines().count(), artifact.manifest.grid, artifact.manifest.block);
        assert!(artifact.code.contains("saxpy"));
    }
}

#[test]
fn embedding_example_runs() {
    main();
}
