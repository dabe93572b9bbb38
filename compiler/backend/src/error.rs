//! Errors of code generation.

use tilec_core::syntax::Span;

#[derive(Clone, Debug, thiserror::Error)]
pub enum CodegenError {
    /// The kernel uses something this backend cannot lower yet; a user-facing limitation.
    #[error("{message}")]
    Unsupported { message: String, span: Span },
    /// `--codegen thread` was asked for and the thread-level lowering refused the kernel: its
    /// diagnostic, at the construct it cannot lower.
    #[error("{}", .0.message)]
    Lowering(Box<tilec_core::Diagnostic>),
    /// MLIR or LLVM rejected what tilec produced: a compiler bug.
    #[error("internal compiler error in {stage}: {message}")]
    Internal { stage: &'static str, message: String },
}

impl CodegenError {
    pub fn unsupported(span: Span, message: impl Into<String>) -> CodegenError {
        CodegenError::Unsupported { message: message.into(), span }
    }

    pub fn internal(stage: &'static str, message: impl Into<String>) -> CodegenError {
        CodegenError::Internal { stage, message: message.into() }
    }

    /// As a diagnostic, pointing at the source where there is a span.
    pub fn to_diagnostic(&self) -> tilec_core::Diagnostic {
        match self {
            CodegenError::Unsupported { message, span } => {
                tilec_core::Diagnostic::at(*span, message.clone(), "not supported by the GPU backend yet")
                    .with_note("the CPU interpreter (`tilec run --device cpu`) runs every construct of the language")
            }
            CodegenError::Lowering(d) => (**d).clone(),
            CodegenError::Internal { .. } => tilec_core::Diagnostic::error(self.to_string())
                .with_note("this is a bug in tilec; please report it with the kernel that triggered it"),
        }
    }
}
