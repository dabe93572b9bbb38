//! `.npy` reading/writing and the HostArray conversions, through real files in a temp dir.

use tile_runtime::npy::{self, NpyArray, NpyError};
use tile_runtime::{DType, HostArray};

fn t(name: &str) -> DType {
    name.parse().unwrap()
}

/// Deterministic bytes so every round trip checks real content.
fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(37).wrapping_add(seed)).collect()
}

/// A hand-made .npy file: header dict text plus data, padded like numpy does.
fn raw_npy(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.to_string();
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn natural_dtypes_round_trip_through_files() {
    let dir = tempfile::tempdir().unwrap();
    let cases = ["f16", "f32", "f64", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "bf16", "tf32"];
    for (k, name) in cases.iter().enumerate() {
        for shape in [vec![], vec![0], vec![1], vec![7], vec![3, 5], vec![2, 3, 5]] {
            let dtype = t(name);
            let numel: usize = shape.iter().product();
            let a = HostArray { dtype, shape: shape.clone(), data: bytes(dtype.nbytes(numel), k as u8) };
            let path = dir.path().join(format!("{name}_{}.npy", shape.len()));
            a.to_npy(&path).unwrap();
            let back = HostArray::from_npy(npy::read(&path).unwrap(), dtype, "x", None).unwrap();
            assert_eq!(back, a, "{name} {shape:?}");
        }
    }
}

#[test]
fn bool_is_bytes_in_the_file_and_bits_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let a = HostArray { dtype: DType::Bool, shape: vec![3, 3], data: vec![0b1010_0101, 0b1] };
    let path = dir.path().join("b.npy");
    a.to_npy(&path).unwrap();
    let raw = npy::read(&path).unwrap();
    assert_eq!(raw.descr, "|b1");
    assert_eq!(raw.data, vec![1, 0, 1, 0, 0, 1, 0, 1, 1]);
    assert_eq!(HostArray::from_npy(raw, DType::Bool, "m", None).unwrap(), a);
}

#[test]
fn packed_dtypes_travel_as_uint8_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for (name, shape) in [("i4", vec![7]), ("u1", vec![3, 3]), ("u3", vec![5]), ("f8e4m3", vec![2, 2]), ("f4e2m1", vec![9]), ("e8m0", vec![4]), ("i7", vec![1])] {
        let dtype = t(name);
        let n = dtype.nbytes(shape.iter().product());
        let a = HostArray { dtype, shape: shape.clone(), data: bytes(n, 3) };
        let path = dir.path().join(format!("{name}.npy"));
        a.to_npy(&path).unwrap();
        let raw = npy::read(&path).unwrap();
        assert_eq!((raw.descr.as_str(), raw.shape.clone()), ("|u1", vec![n]), "{name}");
        assert_eq!(HostArray::from_npy(raw, dtype, "w", Some(&shape)).unwrap(), a, "{name}");
    }
}

#[test]
fn packed_byte_count_and_shape_are_checked() {
    let raw = NpyArray { path: "w.npy".into(), descr: "|u1".into(), shape: vec![3], data: vec![0; 3] };
    let e = HostArray::from_npy(raw.clone(), t("i4"), "w", Some(&[7])).unwrap_err();
    assert_eq!(e.to_string(), "`w.npy` holds 3 packed bytes but parameter `w` (i4, shape [7]) needs 4");
    let e = HostArray::from_npy(raw.clone(), t("i4"), "w", None).unwrap_err();
    assert!(matches!(e, NpyError::PackedNeedsShape { .. }), "{e}");
    let f = NpyArray { descr: "<f4".into(), data: vec![0; 12], ..raw };
    let e = HostArray::from_npy(f, t("i4"), "w", Some(&[6])).unwrap_err();
    assert!(e.to_string().contains("holds float32 (a i4 parameter must be given as uint8 bytes"), "{e}");
}

#[test]
fn wrong_dtype_names_file_parameter_and_both_types() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.npy");
    HostArray { dtype: DType::F64, shape: vec![2], data: vec![0; 16] }.to_npy(&path).unwrap();
    let e = HostArray::from_npy(npy::read(&path).unwrap(), DType::F32, "a", None).unwrap_err();
    assert_eq!(e.to_string(), format!("`{}` holds float64 but parameter `a` is f32", path.display()));
    let e = HostArray::from_npy(npy::read(&path).unwrap(), DType::F64, "a", Some(&[3])).unwrap_err();
    assert!(e.to_string().contains("has shape [2] but parameter `a` has shape [3]"), "{e}");
}

#[test]
fn bf16_accepts_ml_dtypes_void_and_uint16() {
    let v2 = raw_npy("{'descr': '|V2', 'fortran_order': False, 'shape': (2,), }", &[0x80, 0x3f, 0, 0x40]);
    let arr = npy::parse("bf.npy", &v2).unwrap();
    let a = HostArray::from_npy(arr, DType::BF16, "x", None).unwrap();
    assert_eq!(a.data, vec![0x80, 0x3f, 0, 0x40]);
    assert_eq!(a.to_npy_array().descr, "<u2");
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, content: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    };
    let fortran = write("f.npy", &raw_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", &[0; 16]));
    let e = npy::read(&fortran).unwrap_err().to_string();
    assert!(e.contains("is stored in Fortran order"), "{e}");
    let fortran_1d = write("f1.npy", &raw_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", &[0; 8]));
    assert!(npy::read(&fortran_1d).is_ok(), "1-D Fortran order is the same as C order");

    let big = write("big.npy", &raw_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", &[0; 4]));
    assert!(npy::read(&big).unwrap_err().to_string().contains("is big-endian (>f4)"));

    let trunc = write("t.npy", &raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", &[0; 20]));
    let e = npy::read(&trunc).unwrap_err().to_string();
    assert!(e.contains("is truncated: its header announces 32 data bytes but the file has 20"), "{e}");

    let extra = write("x.npy", &raw_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }", &[0; 5]));
    assert!(npy::read(&extra).unwrap_err().to_string().contains("1 unexpected bytes"));

    let text = write("n.npy", b"hello, world");
    let e = npy::read(&text).unwrap_err().to_string();
    assert!(e.ends_with("is not an .npy file (it does not start with the \\x93NUMPY magic)"), "{e}");

    let bad_header = write("h.npy", b"\x93NUMPY\x01\x00\x05\x00{'de");
    assert!(npy::read(&bad_header).unwrap_err().to_string().contains("malformed .npy header"));

    let complex = write("c.npy", &raw_npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", &[0; 8]));
    assert!(npy::read(&complex).unwrap_err().to_string().contains("holds <c8, which is not supported"));

    let missing = dir.path().join("missing.npy");
    assert!(npy::read(&missing).unwrap_err().to_string().starts_with(&format!("cannot read `{}`", missing.display())));
}

#[test]
fn writing_checks_the_byte_count() {
    let dir = tempfile::tempdir().unwrap();
    let bad = NpyArray { path: String::new(), descr: "<f4".into(), shape: vec![3], data: vec![0; 11] };
    let e = npy::write_raw(dir.path().join("w.npy"), &bad).unwrap_err().to_string();
    assert!(e.contains("shape [3] of <f4 needs 12 bytes, the array has 11"), "{e}");
    let bad = HostArray { dtype: DType::F32, shape: vec![3], data: vec![0; 11] };
    let e = npy::write(dir.path().join("h.npy"), &bad).unwrap_err().to_string();
    assert!(e.ends_with("h.npy`: a f32 array of shape [3] needs 12 bytes but holds 11"), "{e}");
}
