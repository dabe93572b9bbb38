//! SVG pictures of layouts: a grid of the tile, one labelled, coloured cell per element, in
//! the manner of CuTe's printed layouts.

use super::value::{kind, Value};
use super::CalcError;
use std::fmt::Write;
use std::ops::Range;

/// Eight pastel colours, cycled by offset (layouts) or by thread (register layouts).
const PALETTE: [&str; 8] = [
    "#afafff", "#afffaf", "#ffffaf", "#ffafaf", "#d2d2ff", "#d2ffd2", "#ffffd2", "#ffd2d2",
];

struct Cell {
    label: String,
    color: usize,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn grid(title: &str, rows: i64, cols: i64, cells: &[Cell], cell_w: i64) -> String {
    let (cw, ch, mx, my) = (cell_w, 28i64, 40i64, 56i64);
    let (w, h) = (mx + cols * cw + 10, my + rows * ch + 10);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="monospace" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="4" y="16" font-size="12">{}</text>"#,
        escape(title)
    );
    for j in 0..cols {
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{j}</text>"#,
            mx + j * cw + cw / 2,
            my - 6
        );
    }
    for i in 0..rows {
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{i}</text>"#,
            mx - 6,
            my + i * ch + ch / 2 + 4
        );
        for j in 0..cols {
            let c = &cells[(i * cols + j) as usize];
            let (x, y) = (mx + j * cw, my + i * ch);
            let _ = writeln!(
                s,
                r#"<rect x="{x}" y="{y}" width="{cw}" height="{ch}" fill="{}" stroke="black" stroke-width="0.5"/><text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                PALETTE[c.color % PALETTE.len()],
                x + cw / 2,
                y + ch / 2 + 4,
                escape(&c.label)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

/// Draws a layout, swizzled layout or register layout.
pub(crate) fn svg(
    v: &Value,
    expr: &str,
    whole: &Range<usize>,
    max_cells: i64,
) -> Result<String, CalcError> {
    let err = |m: String| CalcError::new(m, whole.clone());
    let too_big = |n: i64| {
        err(format!(
            "{n} cells are too many to draw (limit {max_cells})"
        ))
    };
    match v {
        Value::Layout(_) | Value::Swizzled(_) => {
            let (l, img) = match v {
                Value::Layout(l) => (l, None),
                Value::Swizzled(s) => (&s.layout, Some(s)),
                _ => unreachable!("matched above"),
            };
            let n = l.size();
            if n > max_cells {
                return Err(too_big(n));
            }
            let rows = if l.rank() >= 2 {
                l.mode(0).map(|m| m.size()).unwrap_or(1)
            } else {
                1
            };
            let cols = n / rows;
            let image = match img {
                Some(s) => s.image(),
                None => l.image(),
            };
            let mut cells = Vec::with_capacity(n as usize);
            for i in 0..rows {
                for j in 0..cols {
                    let o = image[(i + j * rows) as usize];
                    cells.push(Cell {
                        label: o.to_string(),
                        color: o.rem_euclid(8) as usize,
                    });
                }
            }
            let title = match img {
                Some(s) => s.to_string(),
                None => l.to_string(),
            };
            Ok(grid(&format!("{expr}  =  {title}"), rows, cols, &cells, 40))
        }
        Value::Tv(t) => {
            let n = t.size();
            if n > max_cells || t.replication() > max_cells {
                return Err(too_big(n.max(t.replication())));
            }
            let shape = t.shape();
            let rows = if shape.len() >= 2 { shape[0] } else { 1 };
            let cols = n / rows;
            let mut cells = Vec::with_capacity(n as usize);
            for idx in 0..n {
                // Row-major linear index -> coordinate.
                let mut coord = vec![0i64; shape.len()];
                let mut rest = idx;
                for d in (0..shape.len()).rev() {
                    coord[d] = rest % shape[d];
                    rest /= shape[d];
                }
                let h = t.holders(&coord).map_err(|e| err(e.to_string()))?;
                let (th, val) = h.first().copied().unwrap_or((0, 0));
                let more = if h.len() > 1 {
                    format!(" +{}", h.len() - 1)
                } else {
                    String::new()
                };
                cells.push(Cell {
                    label: format!("T{th} V{val}{more}"),
                    color: th as usize,
                });
            }
            Ok(grid(
                &format!(
                    "{expr}  (tile ({}), {} threads)",
                    shape
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                    t.num_threads()
                ),
                rows,
                cols,
                &cells,
                64,
            ))
        }
        other => Err(err(format!("--svg draws layouts, not {}", kind(other)))),
    }
}
