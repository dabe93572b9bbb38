//! The `tilec layout EXPR` calculator: parse an expression in CuTe notation, evaluate it with
//! the layout algebra, and print, tabulate or draw the result.
//!
//! * Layouts: `(4,2):(1,4)`, `((2,2),4):((1,4),2)`, `8:1`; a bare shape `(4,8)` or `8` is the
//!   compact column-major layout; a tiler `<3:3,(2,4):(1,8)>`; a swizzle `Sw<3,3,3>`; a
//!   swizzled layout `Sw<3,3,3> o (8,64):(64,1)` (`o` is composition).
//! * Calls: `composition(A,B)`, `complement(L, 24)`, `logical_divide(L, <..>)`, `size(L)`, ...
//!   (an unknown name lists them all).
//! * Register layouts: `spatial(8,4).local(1,2)`, `local(2,1) * spatial(8,4)`,
//!   `mma(m16n8k16, f16, a) / ldmatrix(x4)`, `reduce(L, 1)`, ... printed as
//!   `tv(SHAPE, ((thread modes),(value modes)):(..))`: the tile shape and the `shape:stride`
//!   layout from `(thread, value)` to the tile's row-major linear index. That form parses back.
//!
//! The result is the last line of [`CalcOutput::stdout`]; lines before it describe it.
//! `--table` ([`CalcOptions::table`]) makes the last line the image of every index, separated
//! by single spaces: `L(0) L(1) ... L(size-1)` for a layout (swizzled offsets for a swizzled
//! layout), and for a register layout the row-major linear index of the coordinate held by
//! `(thread 0, value 0), (thread 0, value 1), ..., (thread 1, value 0), ...` — thread-major.
//! `--svg` ([`CalcOptions::svg`]) draws the tile: for a layout the grid of its first mode by
//! the rest, each cell labelled with its offset; for a register layout each cell coloured by
//! the (first) thread holding it and labelled `T3 V1`.

mod draw;
mod eval;
mod functions;
mod syntax;
mod value;

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;
use std::ops::Range;
use value::Value;

/// What to produce besides the result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CalcOptions {
    /// Print the image of every index on the last line.
    pub table: bool,
    /// Also draw an SVG picture.
    pub svg: bool,
}

/// The calculator's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalcOutput {
    /// Text to print; the result is on the last line.
    pub stdout: String,
    /// The SVG document when requested.
    pub svg: Option<String>,
}

/// A diagnostic about the expression: a message, the byte span it is about, optional help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalcError {
    message: String,
    span: Range<usize>,
    help: Option<String>,
}

impl CalcError {
    pub(crate) fn new(message: String, span: Range<usize>) -> CalcError {
        CalcError {
            message,
            span,
            help: None,
        }
    }

    pub(crate) fn with_help(mut self, help: &str) -> CalcError {
        if self.help.is_none() {
            self.help = Some(help.to_string());
        }
        self
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The byte range of the expression the error is about.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// A hint on how to fix it.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// Renders the diagnostic with the offending columns underlined (ANSI colours if `color`).
    pub fn render(&self, expr: &str, color: bool) -> String {
        let file = SimpleFile::new("<expr>", expr);
        let start = self.span.start.min(expr.len());
        let mut end = self.span.end.clamp(start, expr.len());
        while !expr.is_char_boundary(end) {
            end += 1;
        }
        let mut d = Diagnostic::error()
            .with_message(self.message.clone())
            .with_labels(vec![Label::primary((), start..end)]);
        if let Some(h) = &self.help {
            d = d.with_notes(vec![format!("help: {h}")]);
        }
        let config = term::Config::default();
        if color {
            let mut w = term::termcolor::Ansi::new(Vec::new());
            if term::emit_to_write_style(&mut w, &config, &file, &d).is_ok() {
                return String::from_utf8_lossy(&w.into_inner()).into_owned();
            }
        }
        term::emit_into_string(&config, &file, &d)
            .unwrap_or_else(|_| format!("error: {}\n", self.message))
    }
}

impl std::fmt::Display for CalcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (at {}..{})",
            self.message, self.span.start, self.span.end
        )
    }
}

impl std::error::Error for CalcError {}

/// Largest domain `--table` and `--svg` will enumerate.
const MAX_CELLS: i64 = 1 << 16;

/// Evaluates `expr` to a register (thread-value) layout: what a layout annotation in the tile language
/// holds, e.g. `spatial(8,4).local(1,2)` or `mma(m16n8k16, f16, a)`.
pub fn register_layout(expr: &str) -> Result<crate::TvLayout, CalcError> {
    let toks = syntax::lex(expr)?;
    let ast = syntax::Parser::new(toks).parse_all()?;
    match eval::eval(&ast)? {
        Value::Tv(t) => Ok(t),
        other => Err(CalcError::new(
            format!("expected a register layout (such as `spatial(8,4).local(1,2)`), found a {}", value::kind(&other)),
            0..expr.len(),
        )),
    }
}

/// Evaluates `expr` and formats the result.
pub fn run(expr: &str, opts: &CalcOptions) -> Result<CalcOutput, CalcError> {
    let toks = syntax::lex(expr)?;
    let ast = syntax::Parser::new(toks).parse_all()?;
    let mut value = eval::eval(&ast)?;
    let whole = 0..expr.len();
    // A literal shape on its own is the compact column-major layout of that shape.
    if let (syntax::ExprKind::Int(_) | syntax::ExprKind::Tuple(_), Value::Tuple(t)) =
        (&ast.kind, &value)
    {
        value = Value::Layout(
            crate::Layout::column_major(t.clone())
                .map_err(|e| CalcError::new(e.to_string(), whole.clone()))?,
        );
    }
    let mut lines = describe(&value, &whole)?;
    if opts.table {
        let t = table(&value, &whole)?;
        lines.push(t.iter().map(i64::to_string).collect::<Vec<_>>().join(" "));
    }
    let svg = if opts.svg {
        Some(draw::svg(&value, expr, &whole, MAX_CELLS)?)
    } else {
        None
    };
    let mut stdout = lines.join("\n");
    stdout.push('\n');
    Ok(CalcOutput { stdout, svg })
}

/// Info lines and the result line.
fn describe(v: &Value, whole: &Range<usize>) -> Result<Vec<String>, CalcError> {
    Ok(match v {
        Value::Tuple(t) => vec![t.to_string()],
        Value::Layout(l) => {
            vec![
                format!(
                    "size {}, cosize {}, rank {}, depth {}",
                    l.size(),
                    l.cosize(),
                    l.rank(),
                    l.depth()
                ),
                l.to_string(),
            ]
        }
        Value::Tiler(ls) => vec![crate::divide::Tiler::Modes(ls.clone()).to_string()],
        Value::Swizzle(s) if s.is_identity() => vec![
            "the identity swizzle: no bits move".to_string(),
            s.to_string(),
        ],
        Value::Swizzle(s) => {
            let (b, m, sh) = s.params();
            vec![
                format!(
                    "XORs the {b} bits at {}.. into the {b} bits at {m}.. of each offset",
                    m + sh.max(0)
                ),
                s.to_string(),
            ]
        }
        Value::Swizzled(s) => vec![
            format!("size {}, cosize {}", s.size(), s.cosize()),
            s.to_string(),
        ],
        Value::Tv(t) => {
            let shape: Vec<String> = t.shape().iter().map(i64::to_string).collect();
            let mut info = format!(
                "register layout: tile ({}), {} thread{} x {} value{} per thread",
                shape.join(","),
                t.num_threads(),
                if t.num_threads() == 1 { "" } else { "s" },
                t.num_values(),
                if t.num_values() == 1 { "" } else { "s" }
            );
            if t.replication() > 1 {
                info.push_str(&format!(
                    ", each element held by {} threads",
                    t.replication()
                ));
            }
            let mut lines = vec![info];
            if let Some(f) = t.factorize() {
                lines.push(format!("= {}", crate::tv_factor::chain_string(&f)));
            }
            lines.push("(thread, value) -> row-major index of the tile:".to_string());
            lines.push(t.to_string());
            lines
        }
        Value::Text(s) => s.lines().map(str::to_string).collect(),
        Value::Sym(s) => return Err(CalcError::new(
            format!("`{s}` is a name, not a value"),
            whole.clone(),
        )
        .with_help(
            "names such as f16, x4 or trans are arguments of calls like mma(...) or ldmatrix(...)",
        )),
    })
}

/// The `--table` image.
fn table(v: &Value, whole: &Range<usize>) -> Result<Vec<i64>, CalcError> {
    let too_big = |n: i64| {
        CalcError::new(
            format!("{n} entries are too many to tabulate (limit {MAX_CELLS})"),
            whole.clone(),
        )
    };
    match v {
        Value::Layout(l) if l.size() <= MAX_CELLS => Ok(l.image()),
        Value::Swizzled(s) if s.size() <= MAX_CELLS => Ok(s.image()),
        Value::Layout(l) => Err(too_big(l.size())),
        Value::Swizzled(s) => Err(too_big(s.size())),
        Value::Swizzle(s) if s.span() <= MAX_CELLS => {
            Ok((0..s.span()).map(|i| s.apply(i)).collect())
        }
        Value::Tv(t) => {
            let n = t.num_threads().saturating_mul(t.num_values());
            if n > MAX_CELLS {
                return Err(too_big(n));
            }
            let mut out = Vec::with_capacity(n as usize);
            for th in 0..t.num_threads() {
                for val in 0..t.num_values() {
                    out.push(
                        t.linear(th, val)
                            .map_err(|e| CalcError::new(e.to_string(), whole.clone()))?,
                    );
                }
            }
            Ok(out)
        }
        Value::Tuple(_) => Err(CalcError::new(
            "--table needs a layout, not a number".to_string(),
            whole.clone(),
        )
        .with_help("try a shape:stride layout or a register layout")),
        other => Err(CalcError::new(
            format!("--table cannot tabulate {}", value::kind(other)),
            whole.clone(),
        )),
    }
}
