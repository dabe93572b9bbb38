//! The artifact manifest: a JSON file the compiler writes next to the kernel code so that the
//! runtime can launch it without the compiler (see docs/runtime.md for the format).
//!
//! Loading validates everything that does not depend on the arguments (names, shapes, grid
//! expressions), so that a bad manifest is reported once, clearly, before any device work.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tilec_dtype::DType;

use crate::expr::Expr;

/// The manifest format version this runtime reads and the compiler writes.
pub const FORMAT_VERSION: u32 = 1;

/// A compiled kernel's description: its code kind, parameters, symbolic dims and launch shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT_VERSION`].
    pub format: u32,
    /// The kernel's entry-point name in the code object.
    pub kernel: String,
    /// The compilation target, e.g. `sm_90` or `gfx942` (informative).
    pub target: String,
    pub code: CodeKind,
    /// In ABI order.
    pub params: Vec<Param>,
    /// The symbolic dims, in ABI order: each is passed as an `i64` after the params.
    #[serde(default)]
    pub dims: Vec<String>,
    /// Grid size in blocks, `[x, y, z]`, as expressions over `dims` (an integer is accepted too).
    #[serde(deserialize_with = "grid_from_json")]
    pub grid: [String; 3],
    /// Threads per block, `[x, y, z]`.
    pub block: [u32; 3],
    /// Dynamic shared memory per block, in bytes.
    #[serde(default)]
    pub shared_bytes: u32,
}

/// The kind of code object next to the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeKind {
    /// NVIDIA PTX assembly text (JIT-compiled by the driver).
    Ptx,
    /// An NVIDIA cubin ELF.
    Cubin,
    /// An AMD code object (ELF) for HIP.
    Hsaco,
}

impl CodeKind {
    /// The file extension the compiler uses for this kind, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            CodeKind::Ptx => "ptx",
            CodeKind::Cubin => "cubin",
            CodeKind::Hsaco => "hsaco",
        }
    }

    pub fn name(self) -> &'static str {
        self.extension()
    }
}

/// One kernel parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
    #[serde(serialize_with = "dtype_to_json", deserialize_with = "dtype_from_json")]
    pub dtype: DType,
    /// For tensors: one entry per axis, row-major. Absent for scalars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Vec<DimSpec>>,
    /// For strided tensors: the stride of each axis in elements. A strided tensor's array is its
    /// storage (any shape, large enough for the furthest element); its dims come from other
    /// parameters or explicit bindings, and an unbound stride name defaults to the row-major stride.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strides: Option<Vec<DimSpec>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    /// A global-memory tensor, passed as one device pointer.
    Tensor,
    /// A value passed by value in its natural width.
    Scalar,
}

/// One axis of a declared tensor shape: a symbolic dim name or a fixed size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DimSpec {
    Fixed(u64),
    Sym(String),
}

impl std::fmt::Display for DimSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DimSpec::Fixed(n) => write!(f, "{n}"),
            DimSpec::Sym(s) => f.write_str(s),
        }
    }
}

/// A manifest that cannot be read or does not describe a launchable kernel.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest `{path}`: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("manifest `{path}` is not valid: {message}")]
    Json { path: String, message: String },
    #[error("manifest `{path}` is not valid: {message}")]
    Invalid { path: String, message: String },
}

fn dtype_to_json<S: Serializer>(t: &DType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_string())
}

fn dtype_from_json<'de, D: Deserializer<'de>>(d: D) -> Result<DType, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|e: tilec_dtype::ParseDTypeError| serde::de::Error::custom(e.to_string().replace('\n', ";")))
}

fn grid_from_json<'de, D: Deserializer<'de>>(d: D) -> Result<[String; 3], D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Int(u64),
        Text(String),
    }
    let v: [Entry; 3] = Deserialize::deserialize(d)?;
    Ok(v.map(|e| match e {
        Entry::Int(n) => n.to_string(),
        Entry::Text(s) => s,
    }))
}

impl Manifest {
    /// Reads and validates a manifest file.
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest, ManifestError> {
        let p = path.as_ref().display().to_string();
        let text = std::fs::read_to_string(path.as_ref()).map_err(|source| ManifestError::Io { path: p.clone(), source })?;
        Manifest::from_json(&text, &p)
    }

    /// Parses and validates manifest JSON; `origin` names it in messages.
    pub fn from_json(text: &str, origin: &str) -> Result<Manifest, ManifestError> {
        let m: Manifest =
            serde_json::from_str(text).map_err(|e| ManifestError::Json { path: origin.to_string(), message: e.to_string() })?;
        m.validate().map_err(|message| ManifestError::Invalid { path: origin.to_string(), message })?;
        Ok(m)
    }

    /// Serialises to pretty JSON (what the compiler writes).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The default code file for a manifest at `manifest_path`: same stem, extension per `code`.
    pub fn default_code_path(&self, manifest_path: &Path) -> PathBuf {
        manifest_path.with_extension(self.code.extension())
    }

    /// Looks a parameter up by name.
    pub fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Checks the invariants every consumer relies on; the message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != FORMAT_VERSION {
            return Err(format!("format {} is not supported (this runtime reads format {FORMAT_VERSION})", self.format));
        }
        if !is_ident(&self.kernel) {
            return Err(format!("kernel name `{}` is not an identifier", self.kernel));
        }
        let mut names = BTreeSet::new();
        for d in &self.dims {
            if !is_ident(d) {
                return Err(format!("dim name `{d}` is not an identifier"));
            }
            if !names.insert(d.as_str()) {
                return Err(format!("dim `{d}` is listed twice"));
            }
        }
        for p in &self.params {
            if !is_ident(&p.name) {
                return Err(format!("parameter name `{}` is not an identifier", p.name));
            }
            if !names.insert(p.name.as_str()) {
                return Err(format!("name `{}` is used twice (parameters and dims share one namespace)", p.name));
            }
            match (p.kind, &p.shape) {
                (ParamKind::Tensor, None) => return Err(format!("tensor parameter `{}` has no shape", p.name)),
                (ParamKind::Scalar, Some(_)) => return Err(format!("scalar parameter `{}` has a shape", p.name)),
                (ParamKind::Tensor, Some(shape)) => {
                    for s in shape {
                        if let DimSpec::Sym(d) = s {
                            if !self.dims.contains(d) {
                                return Err(format!("shape of `{}` uses dim `{d}`, which is not in `dims`", p.name));
                            }
                        }
                    }
                }
                (ParamKind::Scalar, None) => {}
            }
        }
        for (axis, text) in ["x", "y", "z"].iter().zip(&self.grid) {
            let e = Expr::parse(text).map_err(|e| format!("grid {axis}: {e}"))?;
            if let Some(n) = e.names().into_iter().find(|n| !self.dims.iter().any(|d| d == n)) {
                return Err(format!("grid {axis} `{text}` uses `{n}`, which is not in `dims`"));
            }
        }
        if self.block.contains(&0) {
            return Err(format!("block {:?} has a zero entry", self.block));
        }
        Ok(())
    }
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_') && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"{ "format": 1, "kernel": "vector_add", "target": "sm_90", "code": "ptx",
      "params": [ {"name": "a", "kind": "tensor", "dtype": "f32", "shape": ["N"]},
                  {"name": "c", "kind": "tensor", "dtype": "f32", "shape": ["N", 16]},
                  {"name": "alpha", "kind": "scalar", "dtype": "f32"} ],
      "dims": ["N"],
      "grid": ["cdiv(N, 1024)", "1", 1], "block": [128, 1, 1], "shared_bytes": 0 }"#;

    #[test]
    fn parses_the_documented_example() {
        let m = Manifest::from_json(EXAMPLE, "ex.json").unwrap();
        assert_eq!(m.kernel, "vector_add");
        assert_eq!(m.code, CodeKind::Ptx);
        assert_eq!(m.params[1].shape, Some(vec![DimSpec::Sym("N".into()), DimSpec::Fixed(16)]));
        assert_eq!(m.params[2].dtype, DType::F32);
        assert_eq!(m.grid, ["cdiv(N, 1024)".to_string(), "1".into(), "1".into()]);
        assert_eq!(m.default_code_path(Path::new("out/k.json")), PathBuf::from("out/k.ptx"));
        let again = Manifest::from_json(&m.to_json(), "again").unwrap();
        assert_eq!(again, m);
    }

    fn err(edit: impl Fn(&mut serde_json::Value)) -> String {
        let mut v: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        edit(&mut v);
        Manifest::from_json(&v.to_string(), "m.json").unwrap_err().to_string()
    }

    #[test]
    fn invalid_manifests_are_rejected_with_reasons() {
        assert!(err(|v| v["format"] = 2.into()).contains("format 2 is not supported"));
        assert!(err(|v| v["code"] = "spirv".into()).contains("unknown variant `spirv`"));
        assert!(err(|v| v["params"][0]["dtype"] = "f33".into()).contains("unknown element type `f33`"));
        assert!(err(|v| v["params"][0]["shape"][0] = "M".into()).contains("uses dim `M`, which is not in `dims`"));
        assert!(err(|v| v["params"][1]["name"] = "a".into()).contains("`a` is used twice"));
        assert!(err(|v| v["params"][2]["shape"] = serde_json::json!([1])).contains("scalar parameter `alpha` has a shape"));
        assert!(err(|v| v["grid"][0] = "cdiv(N,".into()).contains("grid x"));
        assert!(err(|v| v["grid"][1] = "K".into()).contains("uses `K`"));
        assert!(err(|v| v["block"][2] = 0.into()).contains("zero entry"));
        assert!(err(|v| v["kernel"] = "a b".into()).contains("not an identifier"));
        let e = Manifest::from_json("{", "m.json").unwrap_err().to_string();
        assert!(e.starts_with("manifest `m.json` is not valid: EOF"), "{e}");
    }
}
