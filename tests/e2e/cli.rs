//! The command line end to end: the acceptance runs, help texts, artifacts.

use crate::tilec;
use tilec::runtime::host::HostArray;
use tilec::runtime::manifest::Manifest;
use tilec_dtype::DType;

#[test]
fn run_vector_add_on_the_interpreter_for_n_100003() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = |f: &str| dir.path().join(f).to_str().unwrap().to_string();
    let n = 100_003;
    let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 1e3).collect();
    let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
    let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    HostArray::from_bytes(DType::F32, vec![n], bytes(&a)).unwrap().to_npy(p("a.npy")).unwrap();
    HostArray::from_bytes(DType::F32, vec![n], bytes(&b)).unwrap().to_npy(p("b.npy")).unwrap();
    let out = tilec(&["run", "examples/vector_add.tile", "--device", "cpu", &format!("a={}", p("a.npy")), &format!("b={}", p("b.npy")), "--out", &format!("c={}", p("c.npy"))]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let npy = tilec::runtime::npy::read(p("c.npy")).expect("c.npy readable");
    let c = HostArray::from_npy(npy, DType::F32, "c", None).expect("f32 array");
    assert_eq!(c.shape, vec![n]);
    for i in 0..n {
        let got = f32::from_le_bytes(c.data[4 * i..4 * i + 4].try_into().unwrap());
        assert_eq!(got.to_bits(), ((a[i] as f64 + b[i] as f64) as f32).to_bits(), "element {i}");
    }
}

#[test]
fn build_writes_code_and_a_manifest_that_describe_the_kernel() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ptx = dir.path().join("k.ptx");
    let out = tilec(&["build", "examples/vector_add.tile", "--target", "sm_90", "--emit", "ptx", "-o", ptx.to_str().unwrap(), "-D", "BLOCK=512"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(&ptx).unwrap().contains(".entry vector_add"));
    let m = Manifest::load(dir.path().join("k.json")).expect("manifest");
    assert_eq!(m.kernel, "vector_add");
    assert_eq!(m.dims, vec!["N".to_string()]);
    assert_eq!(m.grid[0], "cdiv(N, 512)");
    assert_eq!(m.block, [128, 1, 1]);
    assert_eq!(m.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
}

#[test]
fn every_subcommand_explains_itself_with_an_example() {
    for sub in ["check", "build", "run"] {
        let out = tilec(&[sub, "--help"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.contains("Example"), "`tilec {sub} --help`:\n{text}");
    }
}

#[test]
fn check_accepts_every_example() {
    for file in crate::kernel_files() {
        let out = tilec(&["check", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    }
}
