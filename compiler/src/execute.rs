//! Running a kernel on host arrays: on the tile interpreter (CPU), as a thread-level program on the
//! CPU emulator, or on a CUDA GPU.
//!
//! Both paths bind arguments through the runtime's manifest, so they check and infer exactly the same
//! way: symbolic dims from the arrays bound to them, outputs allocated from their declared shape.

use crate::artifact;
use crate::Target;
use tile_runtime::bind::{Binding, BoundParam, Launch};
use tile_runtime::host::HostArray;
use tile_runtime::manifest::CodeKind;
use tile_runtime::RuntimeError;
use tilec_core::interp::{self, Arg};
use tilec_core::thread::{self, ArgValue};
use tilec_core::tir::Kernel;

/// Where a kernel runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunDevice {
    /// The tile interpreter on this machine's CPU.
    Cpu,
    /// The thread-level program (lowered by the inferred layouts) on the CPU emulator: every thread of
    /// every block, checking races, barriers and uninitialised reads.
    Emu,
    /// The CUDA GPU with this ordinal.
    Cuda(usize),
}

/// Why a run failed.
#[derive(Debug)]
pub enum RunError {
    /// Arguments that do not fit the kernel (names, dtypes, shapes, dims).
    Bind(tile_runtime::bind::BindError),
    /// A parameter the kernel reads was given no value.
    Missing { kernel: String, param: String, what: String },
    /// The interpreter or the emulator stopped, or lowering refused: a diagnostic pointing into the
    /// kernel's source.
    Interp(Box<tilec_core::Diagnostic>),
    /// Code generation for the GPU failed.
    Codegen(crate::CodegenError),
    Runtime(Box<RuntimeError>),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Bind(e) => write!(f, "{e}"),
            RunError::Missing { kernel, param, what } => write!(f, "missing argument: kernel `{kernel}` reads `{param}` ({what}); give it as {param}=..."),
            RunError::Interp(d) => write!(f, "{}", d.message),
            RunError::Codegen(e) => write!(f, "{e}"),
            RunError::Runtime(e) => write!(f, "{e}"),
        }
    }
}

/// The best device present: the first CUDA GPU if a driver and a device are there, else the CPU.
pub fn best_device() -> RunDevice {
    match tile_runtime::cuda::device_count() {
        Ok(n) if n > 0 => RunDevice::Cuda(0),
        _ => RunDevice::Cpu,
    }
}

/// Runs `kernel` with named arguments; returns every tensor parameter after the run, in order.
pub fn run(kernel: &Kernel, args: Vec<(String, Binding)>, device: RunDevice) -> Result<Vec<(String, HostArray)>, RunError> {
    run_with(kernel, args, device, crate::Codegen::Auto)
}

/// [`run`], compiling for a GPU with the code generator `codegen`.
pub fn run_with(kernel: &Kernel, args: Vec<(String, Binding)>, device: RunDevice, codegen: crate::Codegen) -> Result<Vec<(String, HostArray)>, RunError> {
    match device {
        RunDevice::Cpu => {
            let launch = artifact::manifest(kernel, Target::Sm90).bind(args).map_err(RunError::Bind)?;
            check_inputs(kernel, &launch)?;
            run_interpreter(kernel, launch)
        }
        RunDevice::Emu => {
            let launch = artifact::manifest(kernel, Target::Sm90).bind(args).map_err(RunError::Bind)?;
            check_inputs(kernel, &launch)?;
            run_emulator(kernel, launch)
        }
        RunDevice::Cuda(ordinal) => {
            let gpu = tile_runtime::cuda::CudaDevice::open(ordinal).map_err(|e| RunError::Runtime(Box::new(e)))?;
            let (major, _) = gpu.compute_capability().map_err(|e| RunError::Runtime(Box::new(e)))?;
            let target = match major {
                9.. => Target::Sm90,
                8 => Target::Sm80,
                _ => return Err(RunError::Runtime(Box::new(RuntimeError::InvalidLaunch(format!("tilec targets sm_80 and newer; this GPU is sm_{major}x"))))),
            };
            // The manifest of the path the kernel took (its dynamic shared memory, if any).
            let built = crate::build_with(kernel, target, codegen).map_err(RunError::Codegen)?;
            let launch = built.manifest.bind(args).map_err(RunError::Bind)?;
            check_inputs(kernel, &launch)?;
            let out = tile_runtime::launch::run_launch(&gpu, built.code.as_bytes(), CodeKind::Ptx, &launch, None).map_err(|e| RunError::Runtime(Box::new(e)))?;
            Ok(out.tensors)
        }
    }
}

fn run_interpreter(kernel: &Kernel, mut launch: Launch) -> Result<Vec<(String, HostArray)>, RunError> {
    let dims: Vec<i64> = launch.dims.iter().map(|(_, v)| *v).collect();
    let mut scalars = Vec::new();
    for (p, b) in kernel.params.iter().zip(&launch.params) {
        if let (tilec_core::tir::ParamKind::Scalar(dt), BoundParam::Scalar { arg, .. }) = (&p.kind, b) {
            scalars.push(interp::scalar_from_le_bytes(*dt, &arg.to_le_bytes()));
        }
    }
    let mut scalars = scalars.into_iter();
    let mut args: Vec<Arg<'_>> = launch
        .params
        .iter_mut()
        .map(|b| match b {
            BoundParam::Tensor { array, .. } => Arg::Tensor(&mut array.data),
            BoundParam::Scalar { .. } => Arg::Scalar(scalars.next().expect("one scalar per scalar parameter")),
        })
        .collect();
    interp::run(kernel, &mut args, &dims).map_err(|d| RunError::Interp(Box::new(d)))?;
    drop(args);
    Ok(launch
        .params
        .into_iter()
        .filter_map(|b| match b {
            BoundParam::Tensor { name, array, .. } => Some((name, array)),
            BoundParam::Scalar { .. } => None,
        })
        .collect())
}

fn run_emulator(kernel: &Kernel, launch: Launch) -> Result<Vec<(String, HostArray)>, RunError> {
    let program = tilec_core::lower::lower(kernel).map_err(|d| RunError::Interp(Box::new(d)))?;
    let mut args = Vec::new();
    for b in &launch.params {
        args.push(match b {
            BoundParam::Tensor { array, .. } => ArgValue::Global { dtype: array.dtype, bytes: array.data.clone() },
            BoundParam::Scalar { arg, .. } => {
                let mut bits = [0u8; 8];
                let le = arg.to_le_bytes();
                bits[..le.len()].copy_from_slice(&le);
                let tilec_core::tir::ParamKind::Scalar(dtype) = kernel.params[args.len()].kind else { unreachable!("bound in ABI order") };
                ArgValue::Scalar { dtype, bits: u64::from_le_bytes(bits) }
            }
        });
    }
    args.extend(launch.dims.iter().map(|(_, v)| ArgValue::Dim(*v)));
    if launch.grid.iter().all(|&g| g > 0) {
        thread::emulate(&program, &mut args, launch.grid, kernel.threads()).map_err(|e| RunError::Interp(Box::new(e.to_diagnostic(&program))))?;
    }
    Ok(launch
        .params
        .into_iter()
        .zip(args)
        .filter_map(|(b, a)| match (b, a) {
            (BoundParam::Tensor { name, mut array, .. }, ArgValue::Global { bytes, .. }) => {
                array.data = bytes;
                Some((name, array))
            }
            _ => None,
        })
        .collect())
}

/// A tensor the kernel loads from must be given: the binder allocates (and poisons) only outputs.
fn check_inputs(kernel: &Kernel, launch: &Launch) -> Result<(), RunError> {
    for (i, (p, b)) in kernel.params.iter().zip(&launch.params).enumerate() {
        if let (tilec_core::tir::ParamKind::Tensor { dtype, .. }, BoundParam::Tensor { allocated: true, .. }) = (&p.kind, b) {
            if kernel.reads(i) {
                return Err(RunError::Missing { kernel: kernel.name.clone(), param: p.name.clone(), what: format!("{dtype} tensor it loads from") });
            }
        }
    }
    Ok(())
}
