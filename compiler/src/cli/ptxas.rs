//! `tilec build -v`: what ptxas says about each kernel (registers, spills, shared memory).

use std::path::PathBuf;
use std::process::Command;
use tilec::Target;

/// ptxas: $PTXAS, the project's tools/cuda/bin/ptxas (scripts/setup.sh installs it), or PATH.
fn find_ptxas() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PTXAS") {
        return Some(PathBuf::from(p));
    }
    let beside = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors().map(|d| d.join("tools/cuda/bin/ptxas")).find(|p| p.exists())
    });
    beside.or_else(|| {
        let tools = PathBuf::from("tools/cuda/bin/ptxas");
        tools.exists().then_some(tools)
    }).or_else(|| Command::new("ptxas").arg("--version").output().ok().filter(|o| o.status.success()).map(|_| PathBuf::from("ptxas")))
}

/// Assembles `ptx` for `target` and prints one line per kernel to standard error.
pub fn report(ptx: &str, target: Target) {
    let Some(ptxas) = find_ptxas() else {
        eprintln!("note: -v needs ptxas (set PTXAS, or run scripts/setup.sh); no resource report");
        return;
    };
    let dir = std::env::temp_dir().join(format!("tilec-ptxas-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let (src, out) = (dir.join("k.ptx"), dir.join("k.cubin"));
    if std::fs::write(&src, ptx).is_err() {
        eprintln!("note: cannot write a temporary file for ptxas");
        return;
    }
    let result = Command::new(&ptxas).arg(format!("-arch={}", target.name())).arg("-v").arg(&src).arg("-o").arg(&out).output();
    let _ = std::fs::remove_dir_all(&dir);
    let output = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("note: cannot run `{}`: {e}", ptxas.display());
            return;
        }
    };
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        eprintln!("ptxas rejected the PTX (a tilec bug; please report it):\n{log}");
        return;
    }
    eprintln!("{:<24} {:>9} {:>13} {:>12} {:>10}", "kernel", "registers", "spill stores", "spill loads", "smem bytes");
    for k in parse(&log) {
        eprintln!("{:<24} {:>9} {:>13} {:>12} {:>10}", k.name, k.registers, k.spill_stores, k.spill_loads, k.smem);
    }
}

/// One kernel's resources as ptxas -v reports them.
#[derive(Debug, Default, PartialEq)]
pub struct Resources {
    pub name: String,
    pub registers: u32,
    pub spill_stores: u32,
    pub spill_loads: u32,
    pub smem: u32,
}

/// Reads `ptxas -v` output: a "Compiling entry function 'k'" line, then its properties and usage.
pub fn parse(log: &str) -> Vec<Resources> {
    let number_before = |line: &str, word: &str| -> Option<u32> {
        let i = line.find(word)?;
        line[..i].split_whitespace().last()?.parse().ok()
    };
    let mut out: Vec<Resources> = Vec::new();
    for line in log.lines() {
        if let Some(rest) = line.split("Compiling entry function '").nth(1) {
            out.push(Resources { name: rest.split('\'').next().unwrap_or("?").to_string(), ..Default::default() });
        } else if let Some(k) = out.last_mut() {
            if line.contains("spill stores") {
                k.spill_stores = number_before(line, "bytes spill stores").unwrap_or(0);
                k.spill_loads = number_before(line, "bytes spill loads").unwrap_or(0);
            }
            if line.contains("Used") && line.contains("registers") {
                k.registers = number_before(line, "registers").unwrap_or(0);
                k.smem = number_before(line, "bytes smem").unwrap_or(0);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_ptxas_verbose_output() {
        let log = "ptxas info    : 0 bytes gmem\nptxas info    : Compiling entry function 'k' for 'sm_90'\nptxas info    : Function properties for k\n    0 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads\nptxas info    : Used 27 registers, used 0 barriers, 1024 bytes smem, 384 bytes cmem[0]\n";
        let r = super::parse(log);
        assert_eq!(r, vec![super::Resources { name: "k".into(), registers: 27, spill_stores: 8, spill_loads: 4, smem: 1024 }]);
    }
}
