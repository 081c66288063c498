//! GitHub-flavoured Markdown rendering, for document exports (charters, status reports,
//! post-mortems) and for pasting a reply into a wiki page or an issue.
//!
//! User text is escaped so that it reads as typed: a `*` in a risk title stays a star, a
//! `<script>` stays text, and a `# heading` typed into a summary does not become one.

use std::fmt::Write as _;

use super::{Block, Field, Mention, Reply, Span, Text, Tone};

/// Where inline text is going. At the start of a line in a block, typed block syntax
/// (`# `, `- `, `1. `) must be neutralised; a table cell has no block syntax but must stay on
/// one row and keep its pipes from splitting the cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Block,
    Cell,
}

/// Renders inline text as Markdown, escaping user text.
pub fn render_text(t: &Text) -> String {
    inline(t, Place::Block)
}

/// Renders a whole reply as a Markdown document ending in a newline.
pub fn render(reply: &Reply) -> String {
    let mut parts: Vec<String> = Vec::new();
    let badge = match reply.tone {
        Tone::Health(r) => format!(" **{}**", r.as_str().to_uppercase()),
        _ => String::new(),
    };
    if !reply.title.trim().is_empty() || !badge.is_empty() {
        parts.push(format!("# {}{badge}", heading_text(&reply.title)));
    }
    for block in &reply.blocks {
        let part = match block {
            Block::Heading { text } if text.trim().is_empty() => continue,
            Block::Heading { text } => format!("## {}", heading_text(text)),
            Block::Paragraph { text } if text.is_empty() => continue,
            Block::Paragraph { text } => render_text(text),
            Block::Fields { fields } if fields.is_empty() => continue,
            Block::Fields { fields } => fields_block(fields),
            Block::List { items } if items.is_empty() => continue,
            Block::List { items } => items.iter().map(list_item).collect::<Vec<_>>().join("\n"),
            Block::Table { columns, rows } => match table(columns, rows) {
                Some(t) => t,
                None => continue,
            },
            Block::Preformatted { text } => fenced(text),
            Block::Image { url, alt } => {
                format!("![{}](<{}>)", escaped(alt), url.replace('>', "%3E"))
            }
        };
        parts.push(part);
    }
    if !reply.actions.is_empty() {
        let mut next = String::from("**Next:**");
        for a in &reply.actions {
            let label = a.label.trim();
            if label.is_empty() {
                let _ = write!(next, "\n- {}", code_span(&a.command));
            } else {
                let _ = write!(next, "\n- {}: {}", escaped(label), code_span(&a.command));
            }
        }
        parts.push(next);
    }
    let mut out = parts.join("\n\n");
    out.push('\n');
    out
}

fn inline(t: &Text, place: Place) -> String {
    let mut out = String::new();
    for span in &t.0 {
        match span {
            Span::Text(s) => escape_into(&mut out, s, place),
            Span::Strong(s) => strong_into(&mut out, s, place),
            Span::Code(s) => {
                let code = code_span(s);
                // GFM splits table rows on pipes before it looks at code spans.
                if place == Place::Cell {
                    out.push_str(&code.replace('|', "\\|"));
                } else {
                    out.push_str(&code);
                }
            }
            Span::Person(m) => {
                out.push('@');
                escape_into(&mut out, display_name(m), place);
            }
            Span::Rag(r) => {
                let _ = write!(out, "**{}**", r.as_str().to_uppercase());
            }
            Span::Date(d) => {
                let _ = write!(out, "{d}");
            }
        }
    }
    out
}

fn display_name(m: &Mention) -> &str {
    if m.name.trim().is_empty() {
        &m.handle
    } else {
        &m.name
    }
}

/// Bold needs its markers flush against the words (`** x**` is not bold), so surrounding
/// whitespace goes outside them.
fn strong_into(out: &mut String, s: &str, place: Place) {
    let inner = s.trim();
    if inner.is_empty() {
        escape_into(out, s, place);
        return;
    }
    let lead = &s[..s.len() - s.trim_start().len()];
    let trail = &s[s.trim_end().len()..];
    escape_into(out, lead, place);
    out.push_str("**");
    escape_into(out, inner, place);
    out.push_str("**");
    escape_into(out, trail, place);
}

fn escaped(s: &str) -> String {
    let mut out = String::new();
    escape_into(&mut out, s, Place::Block);
    out
}

/// Escapes what would change how user text renders, and nothing else, so the Markdown
/// source stays readable: `api_beta` keeps its underscore because intraword `_` is inert.
fn escape_into(out: &mut String, s: &str, place: Place) {
    let chars: Vec<char> = s.chars().collect();
    let mut line_start = place == Place::Block && (out.is_empty() || out.ends_with('\n'));
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if line_start && !matches!(c, ' ' | '\t') {
            line_start = false;
            let next = chars.get(i + 1).copied();
            let marker = match c {
                // Headings and list items need a space (or more #) after the marker.
                '#' => matches!(next, None | Some(' ' | '#')),
                '-' | '+' => matches!(next, None | Some(' ')),
                // Setext underlines.
                '=' => true,
                _ => false,
            };
            if marker {
                out.push('\\');
            } else if c.is_ascii_digit() {
                // `1. ` or `1) ` starts an ordered list; escaping the dot keeps the number.
                let digits = chars[i..].iter().take_while(|d| d.is_ascii_digit()).count();
                if let Some(&p @ ('.' | ')')) = chars.get(i + digits) {
                    out.extend(&chars[i..i + digits]);
                    out.push('\\');
                    out.push(p);
                    i += digits + 1;
                    continue;
                }
            }
        }
        match c {
            '\\' | '*' | '`' | '[' | ']' | '<' | '>' | '~' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '_' => {
                let intraword = i > 0
                    && chars[i - 1].is_alphanumeric()
                    && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if !intraword {
                    out.push('\\');
                }
                out.push('_');
            }
            '\r' => {}
            '\n' if place == Place::Cell => out.push_str("<br>"),
            '\n' => {
                out.push('\n');
                line_start = true;
            }
            _ => out.push(c),
        }
        i += 1;
    }
}

/// A heading is one line; a trailing run of `#` after a space would be eaten as the
/// optional closing sequence, so its last `#` is escaped.
fn heading_text(s: &str) -> String {
    let mut out = String::new();
    escape_into(&mut out, &s.replace(['\r', '\n'], " "), Place::Block);
    let kept = out.trim_end_matches('#');
    if kept.len() < out.len() && (kept.is_empty() || kept.ends_with([' ', '\t'])) {
        out.insert(out.len() - 1, '\\');
    }
    out
}

/// The longest run of `ch` in `s`, to pick a fence that the content cannot close.
pub(crate) fn longest_run(s: &str, ch: char) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == ch {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// An inline code span that shows `code` exactly, backticks included. Code spans are one
/// line, so line breaks become spaces.
pub(crate) fn code_span(code: &str) -> String {
    let code = code.replace("\r\n", " ").replace(['\r', '\n'], " ");
    if code.is_empty() {
        return String::new();
    }
    let fence = "`".repeat(longest_run(&code, '`') + 1);
    // One space each side is stripped by the parser; it lets the content start or end with
    // a backtick, and keeps content that is itself padded with spaces intact.
    let pad = code.starts_with('`')
        || code.ends_with('`')
        || (code.starts_with(' ') && code.ends_with(' ') && !code.trim().is_empty());
    if pad {
        format!("{fence} {code} {fence}")
    } else {
        format!("{fence}{code}{fence}")
    }
}

fn fenced(text: &str) -> String {
    let body = text.trim_end_matches(['\n', '\r']);
    let fence = "`".repeat(longest_run(body, '`').max(2) + 1);
    format!("{fence}\n{body}\n{fence}")
}

/// Fields are consecutive lines of one paragraph, so each line ends in a hard break (`\`)
/// to keep them apart. Blank lines inside a value would end the paragraph and are skipped.
fn fields_block(fields: &[Field]) -> String {
    let mut lines: Vec<String> = Vec::new();
    for f in fields {
        let value = render_text(&f.value);
        let mut value_lines = value.split('\n').filter(|l| !l.trim().is_empty());
        let name = escaped(f.name.trim());
        match value_lines.next() {
            Some(first) => lines.push(format!("**{name}:** {first}")),
            None => lines.push(format!("**{name}:**")),
        }
        lines.extend(value_lines.map(str::to_owned));
    }
    lines.join("\\\n")
}

/// Continuation lines are indented so they stay inside the item.
fn list_item(item: &Text) -> String {
    let body = render_text(item);
    let mut out = String::new();
    for (i, line) in body.split('\n').enumerate() {
        if i == 0 {
            out.push('-');
            if !line.is_empty() {
                out.push(' ');
                out.push_str(line);
            }
        } else {
            out.push('\n');
            if !line.is_empty() {
                out.push_str("  ");
                out.push_str(line);
            }
        }
    }
    out
}

/// A pipe table. GFM ignores cells beyond the header's count, so the header is widened to
/// the longest row rather than letting cells vanish.
fn table(columns: &[String], rows: &[Vec<Text>]) -> Option<String> {
    let width = rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(columns.len());
    if width == 0 {
        return None;
    }
    let row_line = |cells: Vec<String>| {
        let mut line = String::from("|");
        for i in 0..width {
            let cell = cells.get(i).map(String::as_str).unwrap_or("");
            let _ = write!(line, " {cell} |");
        }
        line
    };
    let header = columns
        .iter()
        .map(|c| {
            let mut out = String::new();
            escape_into(&mut out, c, Place::Cell);
            out
        })
        .collect();
    let mut lines = vec![row_line(header), format!("|{}", " --- |".repeat(width))];
    for row in rows {
        lines.push(row_line(
            row.iter().map(|c| inline(c, Place::Cell)).collect(),
        ));
    }
    Some(lines.join("\n"))
}

// Helpers for the chat renderers (Discord, Slack), whose Markdown dialects have size limits
// that force long text to be split.

/// Length as Discord and Slack count it: Unicode scalar values.
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Splits one line into pieces of at most `max` characters. It prefers to cut after
/// whitespace in the later half of a piece, and never cuts at a byte offset where
/// `can_cut(rest, offset)` says no (inside an escape, an entity or a mention) unless a piece
/// offers no allowed cut at all. The pieces concatenate back to `line`.
pub(crate) fn split_line(
    line: &str,
    max: usize,
    can_cut: impl Fn(&str, usize) -> bool,
) -> Vec<String> {
    let max = max.max(1);
    let mut pieces = Vec::new();
    let mut rest = line;
    while let Some((hard, _)) = rest.char_indices().nth(max) {
        let mut fallback = None;
        let mut chosen = None;
        let bounds = std::iter::once(hard)
            .chain(rest[..hard].char_indices().rev().map(|(i, _)| i))
            .filter(|&b| b > 0);
        for (back, b) in bounds.enumerate() {
            if !can_cut(rest, b) {
                continue;
            }
            if fallback.is_none() {
                fallback = Some(b);
            }
            if back > max / 2 {
                break;
            }
            if rest[..b].ends_with(char::is_whitespace) {
                chosen = Some(b);
                break;
            }
        }
        let cut = chosen.or(fallback).unwrap_or(hard);
        pieces.push(rest[..cut].to_owned());
        rest = &rest[cut..];
    }
    pieces.push(rest.to_owned());
    pieces
}

/// Joins lines with `\n` into chunks of at most `max` characters, splitting a line that is
/// longer on its own with `split(line, max)`.
pub(crate) fn pack<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    max: usize,
    split: impl Fn(&str, usize) -> Vec<String>,
) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current: Option<(String, usize)> = None;
    for line in lines {
        for piece in split(line, max) {
            let n = char_len(&piece);
            current = match current.take() {
                Some((mut chunk, len)) if len + 1 + n <= max => {
                    chunk.push('\n');
                    chunk.push_str(&piece);
                    Some((chunk, len + 1 + n))
                }
                Some((full, _)) => {
                    chunks.push(full);
                    Some((piece, n))
                }
                None => Some((piece, n)),
            };
        }
    }
    chunks.extend(current.map(|(chunk, _)| chunk));
    chunks
}

/// Shortens `s` to at most `max` characters ending in "…", cutting only where `can_cut`
/// allows. Only for text that is shown in full elsewhere, or that names rather than says.
pub(crate) fn truncate(s: &str, max: usize, can_cut: impl Fn(&str, usize) -> bool) -> String {
    if char_len(s) <= max {
        return s.to_owned();
    }
    let head = split_line(s, max.saturating_sub(1), can_cut)
        .into_iter()
        .next()
        .unwrap_or_default();
    format!("{}…", head.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Rag;

    fn person(handle: &str, name: &str) -> Mention {
        Mention {
            handle: handle.into(),
            name: name.into(),
        }
    }

    /// Cells in a GFM row: pipes not escaped by a backslash, minus the outer two.
    fn cell_count(line: &str) -> usize {
        let mut count = 0;
        let mut after_backslash = false;
        for c in line.chars() {
            if c == '|' && !after_backslash {
                count += 1;
            }
            after_backslash = c == '\\' && !after_backslash;
        }
        count - 1
    }

    #[test]
    fn table_cells_escape_pipes_and_newlines_and_keep_every_cell() {
        let reply = Reply::new("Risks").table(
            &["Risk", "Owner | team"],
            vec![
                vec![
                    Text::plain("a | b\nsecond line"),
                    Text::new().person(person("dana", "Dana")),
                ],
                vec![
                    Text::new().code("x | y"),
                    Text::plain("*not bold*"),
                    Text::plain("extra cell"),
                ],
            ],
        );
        let md = render(&reply);
        let lines: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(lines.len(), 4, "{md}");
        assert_eq!(lines[0], "| Risk | Owner \\| team |  |");
        assert_eq!(lines[1], "| --- | --- | --- |");
        assert_eq!(lines[2], "| a \\| b<br>second line | @Dana |  |");
        assert_eq!(lines[3], "| `x \\| y` | \\*not bold\\* | extra cell |");
        for line in &lines {
            assert_eq!(cell_count(line), 3, "{line}");
        }
    }

    #[test]
    fn user_text_cannot_change_the_structure() {
        let reply = Reply::new("Notes").paragraph(Text::plain(
            "# not a heading\n- not a list\n1. not ordered\n<script>x</script> [link](u) *a* _b_ api_beta a\\b",
        ));
        let md = render(&reply);
        assert!(md.contains("\\# not a heading\n"), "{md}");
        assert!(md.contains("\\- not a list\n"), "{md}");
        assert!(md.contains("1\\. not ordered\n"), "{md}");
        assert!(md.contains("\\<script\\>x\\</script\\>"), "{md}");
        assert!(
            md.contains("\\[link\\](u) \\*a\\* \\_b\\_ api_beta a\\\\b"),
            "{md}"
        );
    }

    #[test]
    fn title_badge_spans_and_actions() {
        let reply = Reply::new("Atlas weekly #")
            .tone(Tone::Health(Rag::Red))
            .heading("Risks")
            .paragraph(
                Text::new()
                    .strong(" late ")
                    .text("by ")
                    .code("a`b")
                    .text(" on ")
                    .date(chrono::NaiveDate::from_ymd_opt(2026, 12, 15).unwrap())
                    .text(" ")
                    .rag(Rag::Amber),
            )
            .fields(vec![
                ("Owner", Text::new().person(person("li", "Li"))),
                ("Why", Text::plain("one\n\ntwo")),
            ])
            .list(vec![Text::plain("first\nmore"), Text::plain("second")])
            .action(
                "status:atlas",
                "Post status",
                "status post atlas api --rag green",
            );
        let md = render(&reply);
        assert!(
            md.starts_with("# Atlas weekly \\# **RED**\n\n## Risks\n\n"),
            "{md}"
        );
        assert!(
            md.contains(" **late** by ``a`b`` on 2026-12-15 **AMBER**"),
            "{md}"
        );
        assert!(
            md.contains("**Owner:** @Li\\\n**Why:** one\\\ntwo\n"),
            "{md}"
        );
        assert!(md.contains("- first\n  more\n- second"), "{md}");
        assert!(md.ends_with("**Next:**\n- Post status: `status post atlas api --rag green`\n"));
    }

    #[test]
    fn code_fences_outrun_the_backticks_inside() {
        assert_eq!(code_span("`x`"), "`` `x` ``");
        assert_eq!(code_span("a\nb"), "`a b`");
        assert_eq!(code_span(""), "");
        let md = render(&Reply::new("t").preformatted("```\ncode\n````\n"));
        assert!(md.contains("\n`````\n```\ncode\n````\n`````\n"), "{md}");
    }

    #[test]
    fn splitting_prefers_spaces_never_cuts_where_told_not_to_and_loses_nothing() {
        let line = "alpha beta gamma delta epsilon zeta eta theta";
        let pieces = split_line(line, 12, |_, _| true);
        assert_eq!(pieces.concat(), line);
        assert!(pieces.iter().all(|p| char_len(p) <= 12), "{pieces:?}");
        assert_eq!(pieces[0], "alpha beta ");

        // No cut may fall inside a `[…]` token.
        let line = "[abcd][efgh][ijkl]".repeat(20);
        let outside =
            |s: &str, at: usize| s[..at].matches('[').count() == s[..at].matches(']').count();
        let pieces = split_line(&line, 10, outside);
        assert_eq!(pieces.concat(), line);
        assert!(
            pieces
                .iter()
                .all(|p| p.starts_with('[') && p.ends_with(']')),
            "{pieces:?}"
        );

        let chunks = pack(["aaaa", "bb", "", "cccccccccc"], 8, |l, max| {
            split_line(l, max, |_, _| true)
        });
        assert_eq!(chunks, ["aaaa\nbb\n", "cccccccc", "cc"]);
        assert_eq!(truncate("Atlas cloud launch", 10, |_, _| true), "Atlas…");
        assert_eq!(truncate("short", 10, |_, _| true), "short");
    }
}
