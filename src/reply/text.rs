//! Plain-text rendering for the console and `drumbeat exec`.

use std::fmt::Write as _;

use super::{Block, Reply, Span, Text, Tone};

pub fn render_text(t: &Text) -> String {
    let mut out = String::new();
    for span in &t.0 {
        match span {
            Span::Text(s) | Span::Strong(s) => out.push_str(s),
            Span::Code(s) => {
                out.push('`');
                out.push_str(s);
                out.push('`');
            }
            Span::Person(m) => {
                out.push('@');
                out.push_str(&m.name);
            }
            Span::Rag(r) => out.push_str(&r.as_str().to_uppercase()),
            Span::Date(d) => {
                let _ = write!(out, "{d}");
            }
        }
    }
    out
}

/// Renders a reply as plain text, with aligned tables.
pub fn render(reply: &Reply) -> String {
    let mut out = String::new();
    let badge = match reply.tone {
        Tone::Health(r) => format!(" [{}]", r.as_str().to_uppercase()),
        _ => String::new(),
    };
    let _ = writeln!(out, "{}{badge}", reply.title);
    for block in &reply.blocks {
        match block {
            Block::Heading { text } => {
                let _ = writeln!(out, "\n{text}");
                let _ = writeln!(out, "{}", "-".repeat(text.chars().count()));
            }
            Block::Paragraph { text } => {
                let _ = writeln!(out, "{}", render_text(text));
            }
            Block::Fields { fields } => {
                let width = fields
                    .iter()
                    .map(|f| f.name.chars().count())
                    .max()
                    .unwrap_or(0);
                for f in fields {
                    let value = render_text(&f.value);
                    let mut lines = value.lines();
                    let first = lines.next().unwrap_or("");
                    let _ = writeln!(out, "  {:<width$}  {first}", f.name);
                    for more in lines {
                        let _ = writeln!(out, "  {:<width$}  {more}", "");
                    }
                }
            }
            Block::List { items } => {
                for item in items {
                    let _ = writeln!(out, "  - {}", render_text(item));
                }
            }
            Block::Table { columns, rows } => {
                let cells: Vec<Vec<String>> = rows
                    .iter()
                    .map(|r| {
                        r.iter()
                            .map(|c| render_text(c).replace('\n', " "))
                            .collect()
                    })
                    .collect();
                let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
                for row in &cells {
                    for (i, c) in row.iter().enumerate() {
                        if let Some(w) = widths.get_mut(i) {
                            *w = (*w).max(c.chars().count());
                        }
                    }
                }
                let line = |row: &[String]| {
                    let mut l = String::from(" ");
                    for (i, c) in row.iter().enumerate() {
                        let w = widths.get(i).copied().unwrap_or(0);
                        let pad = w.saturating_sub(c.chars().count());
                        let _ = write!(l, " {c}{}", " ".repeat(pad));
                        if i + 1 < row.len() {
                            l.push(' ');
                        }
                    }
                    l.trim_end().to_owned()
                };
                let _ = writeln!(out, "{}", line(columns));
                let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
                let _ = writeln!(out, "{}", line(&rule));
                for row in &cells {
                    let _ = writeln!(out, "{}", line(row));
                }
            }
            Block::Preformatted { text } => {
                let _ = writeln!(out, "{}", text.trim_end());
            }
            Block::Image { url, alt } => {
                let _ = writeln!(out, "{alt}: {url}");
            }
        }
    }
    if !reply.actions.is_empty() {
        let _ = writeln!(out, "\nNext:");
        for a in &reply.actions {
            let _ = writeln!(out, "  {}: {}", a.label, a.command);
        }
    }
    out
}
