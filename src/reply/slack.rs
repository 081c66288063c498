//! Slack rendering: a reply becomes one or more Block Kit messages for incoming webhooks and
//! `chat.postMessage`, each within Slack's block and text limits, so a digest of any length
//! is delivered whole.
//!
//! No user text can ping. All of it is escaped (`&`, `<`, `>`), so `<!channel>` or `<@U…>`
//! typed by a user is inert text, and mrkdwn is sent `verbatim` so Slack does not turn a
//! bare `@here` into a mention either. Only people the reply names as typed mentions, with
//! a Slack user id, become `<@U…>`.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::markdown::{char_len, pack, split_line, truncate};
use super::{Action, Block as ReplyBlock, Field, Mention, Reply, Span, Text, Tone};
use crate::domain::Rag;

pub const BLOCKS_MAX: usize = 50;
pub const SECTION_TEXT_MAX: usize = 3000;
pub const HEADER_TEXT_MAX: usize = 150;
pub const SECTION_FIELDS_MAX: usize = 10;
pub const FIELD_TEXT_MAX: usize = 2000;
pub const CONTEXT_ELEMENTS_MAX: usize = 10;
pub const CONTEXT_TEXT_MAX: usize = 3000;
pub const ACTIONS_ELEMENTS_MAX: usize = 25;
pub const BUTTON_TEXT_MAX: usize = 75;
pub const ACTION_ID_MAX: usize = 255;
pub const BUTTON_VALUE_MAX: usize = 2000;
pub const IMAGE_URL_MAX: usize = 3000;
pub const IMAGE_ALT_MAX: usize = 2000;
/// Slack truncates a message's `text` beyond this.
pub const FALLBACK_TEXT_MAX: usize = 40_000;
/// What the renderer keeps the fallback to: it is a notification line, not the message.
pub const FALLBACK_TEXT_TARGET: usize = 3000;

const ZWSP: char = '\u{200B}';
/// Real Slack user ids are about 11 characters; the cap keeps a mention short enough that
/// splitting long text can always step around it.
const USER_ID_MAX: usize = 32;

/// A message payload: `text` is the fallback shown in notifications, `blocks` the message.
/// It deserializes too, so a fake Slack can check what it receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Block>,
}

/// The Block Kit blocks a reply needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Header {
        text: TextObject,
    },
    Section {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<TextObject>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fields: Vec<TextObject>,
    },
    Context {
        elements: Vec<TextObject>,
    },
    Actions {
        elements: Vec<Element>,
    },
    Image {
        image_url: String,
        alt_text: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TextObject {
    PlainText {
        text: String,
        #[serde(default)]
        emoji: bool,
    },
    /// Always `verbatim`: Slack must not find mentions or channel names in plain words.
    Mrkdwn {
        text: String,
        #[serde(default)]
        verbatim: bool,
    },
}

impl TextObject {
    fn plain(text: impl Into<String>) -> Self {
        Self::PlainText {
            text: text.into(),
            emoji: true,
        }
    }

    fn mrkdwn(text: impl Into<String>) -> Self {
        Self::Mrkdwn {
            text: text.into(),
            verbatim: true,
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Self::PlainText { text, .. } | Self::Mrkdwn { text, .. } => text,
        }
    }
}

/// An interactive element of an `actions` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Element {
    Button {
        text: TextObject,
        action_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
}

/// Renders a reply as one or more messages, in order; buttons come last.
pub fn render(reply: &Reply) -> Vec<Message> {
    let title = escape_line(&reply.title);
    let mut layout = Layout::new(title.clone());
    layout.heading(&title);
    if let Tone::Health(rag) = reply.tone {
        let dot = match rag {
            Rag::Green => ":large_green_circle:",
            Rag::Amber => ":large_yellow_circle:",
            Rag::Red => ":red_circle:",
        };
        let badge = format!("{dot} Health: *{}*", rag.as_str().to_uppercase());
        layout.push(Block::Context {
            elements: vec![TextObject::mrkdwn(badge)],
        });
    }

    for block in &reply.blocks {
        match block {
            ReplyBlock::Heading { text } => layout.heading(&escape_line(text)),
            ReplyBlock::Paragraph { text } => layout.sections(inline(text).split('\n')),
            ReplyBlock::List { items } => {
                let mut lines = Vec::new();
                for item in items {
                    for (i, line) in inline(item).split('\n').enumerate() {
                        let bullet = if i == 0 { "• " } else { "   " };
                        lines.push(format!("{bullet}{line}"));
                    }
                }
                layout.sections(lines.iter().map(String::as_str));
            }
            ReplyBlock::Table { columns, rows } => {
                let mut lines = Vec::new();
                if !columns.is_empty() {
                    let header: Vec<String> = columns.iter().map(|c| escape_line(c)).collect();
                    lines.push(format!("*{}*", header.join(" · ")));
                }
                for row in rows {
                    let cells: Vec<String> = row
                        .iter()
                        .map(|c| {
                            let cell = inline(c).replace('\n', " ");
                            if cell.trim().is_empty() {
                                "–".to_owned()
                            } else {
                                cell
                            }
                        })
                        .collect();
                    lines.push(cells.join(" · "));
                }
                layout.sections(lines.iter().map(String::as_str));
            }
            ReplyBlock::Fields { fields } => layout.fields(fields),
            ReplyBlock::Preformatted { text } => layout.preformatted(text),
            ReplyBlock::Image { url, alt } => layout.push(Block::Image {
                image_url: url.clone(),
                alt_text: alt.chars().take(IMAGE_ALT_MAX).collect(),
            }),
        }
    }
    layout.actions(&reply.actions);

    let badge = match reply.tone {
        Tone::Health(r) => format!(" — {}", r.as_str().to_uppercase()),
        _ => String::new(),
    };
    let name = if title.trim().is_empty() {
        "Drumbeat".to_owned()
    } else {
        title
    };
    layout.finish(&name, &badge)
}

/// Checks a message against Slack's limits and the mention policy, and says what is wrong
/// in words. Empty means Slack will accept it and nobody can be pinged by user text.
pub fn violations(msg: &Message) -> Vec<String> {
    let mut v = Vec::new();
    if msg.blocks.len() > BLOCKS_MAX {
        v.push(format!(
            "{} blocks; the limit is {BLOCKS_MAX} per message",
            msg.blocks.len()
        ));
    }
    if msg.text.trim().is_empty() {
        v.push("the fallback text is empty; notifications need it".into());
    }
    check_len(&mut v, "the fallback text", &msg.text, FALLBACK_TEXT_MAX);
    check_markup(&mut v, "the fallback text", &msg.text);
    let mut ids = HashSet::new();
    for (i, block) in msg.blocks.iter().enumerate() {
        let n = i + 1;
        match block {
            Block::Header { text } => {
                if !matches!(text, TextObject::PlainText { .. }) {
                    v.push(format!("block {n}: a header's text must be plain_text"));
                }
                check_text(&mut v, &format!("block {n} header"), text, HEADER_TEXT_MAX);
            }
            Block::Section { text, fields } => {
                if text.is_none() && fields.is_empty() {
                    v.push(format!("block {n}: a section needs text or fields"));
                }
                if let Some(t) = text {
                    check_text(&mut v, &format!("block {n} section"), t, SECTION_TEXT_MAX);
                }
                if fields.len() > SECTION_FIELDS_MAX {
                    v.push(format!(
                        "block {n}: {} fields; the limit is {SECTION_FIELDS_MAX}",
                        fields.len()
                    ));
                }
                for (j, f) in fields.iter().enumerate() {
                    let what = format!("block {n} field {}", j + 1);
                    check_text(&mut v, &what, f, FIELD_TEXT_MAX);
                }
            }
            Block::Context { elements } => {
                if elements.is_empty() || elements.len() > CONTEXT_ELEMENTS_MAX {
                    v.push(format!(
                        "block {n}: a context needs 1 to {CONTEXT_ELEMENTS_MAX} elements, not {}",
                        elements.len()
                    ));
                }
                for (j, e) in elements.iter().enumerate() {
                    let what = format!("block {n} context element {}", j + 1);
                    check_text(&mut v, &what, e, CONTEXT_TEXT_MAX);
                }
            }
            Block::Actions { elements } => {
                if elements.is_empty() || elements.len() > ACTIONS_ELEMENTS_MAX {
                    v.push(format!(
                        "block {n}: an actions block needs 1 to {ACTIONS_ELEMENTS_MAX} elements, not {}",
                        elements.len()
                    ));
                }
                for (
                    j,
                    Element::Button {
                        text,
                        action_id,
                        value,
                    },
                ) in elements.iter().enumerate()
                {
                    let what = format!("block {n} button {}", j + 1);
                    if !matches!(text, TextObject::PlainText { .. }) {
                        v.push(format!("{what}: its text must be plain_text"));
                    }
                    check_text(&mut v, &what, text, BUTTON_TEXT_MAX);
                    if action_id.is_empty() {
                        v.push(format!("{what} has no action_id"));
                    }
                    check_len(
                        &mut v,
                        &format!("{what} action_id"),
                        action_id,
                        ACTION_ID_MAX,
                    );
                    if !ids.insert(action_id.as_str()) {
                        v.push(format!("{what} repeats action_id `{action_id}`"));
                    }
                    if let Some(value) = value {
                        if value.is_empty() {
                            v.push(format!("{what} has an empty value"));
                        }
                        check_len(&mut v, &format!("{what} value"), value, BUTTON_VALUE_MAX);
                    }
                }
            }
            Block::Image {
                image_url,
                alt_text,
            } => {
                if !(image_url.starts_with("https://") || image_url.starts_with("http://")) {
                    v.push(format!("block {n}: an image needs an http(s) image_url"));
                }
                check_len(
                    &mut v,
                    &format!("block {n} image_url"),
                    image_url,
                    IMAGE_URL_MAX,
                );
                if alt_text.trim().is_empty() {
                    v.push(format!("block {n}: an image needs alt_text"));
                }
                check_len(
                    &mut v,
                    &format!("block {n} alt_text"),
                    alt_text,
                    IMAGE_ALT_MAX,
                );
            }
        }
    }
    v
}

fn check_len(v: &mut Vec<String>, what: &str, s: &str, max: usize) {
    let n = char_len(s);
    if n > max {
        v.push(format!("{what} has {n} characters; the limit is {max}"));
    }
}

fn check_text(v: &mut Vec<String>, what: &str, t: &TextObject, max: usize) {
    let text = t.text();
    if text.trim().is_empty() {
        v.push(format!("{what} has empty text"));
    }
    check_len(v, what, text, max);
    check_markup(v, what, text);
}

/// Every `<` must open a typed user mention and every `&` an entity: anything else means
/// user text went out unescaped. A bare `@here` is flagged too, belt and braces.
fn check_markup(v: &mut Vec<String>, what: &str, text: &str) {
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        let rest = &text[i..];
        let bad = match c {
            '<' => match mention_len(rest) {
                Some(len) => {
                    // Step over the mention; its characters are all ASCII.
                    for _ in 1..len {
                        chars.next();
                    }
                    None
                }
                None => Some("an unescaped `<`"),
            },
            '>' => Some("an unescaped `>`"),
            '&' if !["&amp;", "&lt;", "&gt;"]
                .iter()
                .any(|e| rest.starts_with(e)) =>
            {
                Some("an unescaped `&`")
            }
            '@' if is_mass_mention(&rest[1..]) => Some("a bare `@channel`, `@here` or `@everyone`"),
            _ => None,
        };
        if let Some(bad) = bad {
            let near: String = rest.chars().take(20).collect();
            v.push(format!("{what} has {bad} at `{near}`"));
            return;
        }
    }
}

/// The length of the typed mention `<@U…>` that `s` starts with, if it does.
fn mention_len(s: &str) -> Option<usize> {
    let end = s.find('>')?;
    let id = s[..end].strip_prefix("<@")?;
    is_user_id(id).then_some(end + 1)
}

/// A Slack user id: `U` or `W`, then upper-case letters and digits.
fn is_user_id(handle: &str) -> bool {
    let mut chars = handle.chars();
    matches!(chars.next(), Some('U' | 'W'))
        && (3..=USER_ID_MAX).contains(&handle.len())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn display_name(m: &Mention) -> &str {
    if m.name.trim().is_empty() {
        &m.handle
    } else {
        &m.name
    }
}

fn inline(t: &Text) -> String {
    let mut out = String::new();
    for span in &t.0 {
        match span {
            Span::Text(s) => escape_into(&mut out, s),
            Span::Strong(s) => {
                // Bold needs its stars flush against the words.
                let inner = s.trim();
                if inner.is_empty() {
                    escape_into(&mut out, s);
                } else {
                    escape_into(&mut out, &s[..s.len() - s.trim_start().len()]);
                    out.push('*');
                    escape_into(&mut out, inner);
                    out.push('*');
                    escape_into(&mut out, &s[s.trim_end().len()..]);
                }
            }
            Span::Code(s) if s.is_empty() => {}
            Span::Code(s) => {
                out.push('`');
                escape_into(&mut out, &s.replace(['\r', '\n'], " "));
                out.push('`');
            }
            Span::Person(m) if is_user_id(&m.handle) => {
                let _ = write!(out, "<@{}>", m.handle);
            }
            Span::Person(m) => escape_into(&mut out, &format!("@{}", display_name(m))),
            Span::Rag(r) => {
                let _ = write!(out, "*{}*", r.as_str().to_uppercase());
            }
            Span::Date(d) => {
                let _ = write!(out, "{d}");
            }
        }
    }
    out
}

/// `rest` (the text after an `@`) would make a mass mention if Slack parsed it.
fn is_mass_mention(rest: &str) -> bool {
    ["channel", "here", "everyone"].iter().any(|word| {
        rest.get(..word.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(word))
    })
}

/// Escapes user text for mrkdwn. Slack has no backslash escapes for `*` or `_`, so those
/// may still format; they cannot link, mention or ping.
fn escape_into(out: &mut String, s: &str) {
    let mut line_start = out.is_empty() || out.ends_with('\n');
    for (i, c) in s.char_indices() {
        if line_start && !matches!(c, ' ' | '\t') {
            line_start = false;
            if c == '>' {
                // Slack quotes a line that starts with `&gt;`; the invisible space stops it.
                out.push(ZWSP);
            }
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' if is_mass_mention(&s[i + 1..]) => {
                out.push('@');
                out.push(ZWSP);
            }
            '\r' => {}
            '\n' => {
                out.push('\n');
                line_start = true;
            }
            _ => out.push(c),
        }
    }
}

/// User text that must stay on one line: titles, headings, field names.
fn escape_line(s: &str) -> String {
    let mut out = String::new();
    escape_into(&mut out, &s.replace(['\r', '\n'], " "));
    out
}

/// Where long mrkdwn may be cut: not inside an entity (`&amp;`) or a mention (`<@U…>`).
fn can_cut(s: &str, at: usize) -> bool {
    let head = &s[..at];
    let mut from = at.saturating_sub(USER_ID_MAX + 8);
    while !head.is_char_boundary(from) {
        from -= 1;
    }
    let tail = &head[from..];
    let in_entity = tail.rfind('&').is_some_and(|i| !tail[i..].contains(';'));
    let in_mention = tail.rfind('<').is_some_and(|i| !tail[i..].contains('>'));
    !in_entity && !in_mention
}

/// Splits an over-long line; a piece that now starts a line must not start a quote.
fn split_text(line: &str, max: usize) -> Vec<String> {
    let mut pieces = split_line(line, max.saturating_sub(1), can_cut);
    for piece in pieces.iter_mut().skip(1) {
        if piece.starts_with("&gt;") {
            piece.insert(0, ZWSP);
        }
    }
    pieces
}

fn section(text: impl Into<String>) -> Block {
    Block::Section {
        text: Some(TextObject::mrkdwn(text)),
        fields: Vec::new(),
    }
}

/// Fills messages with blocks in reading order, starting a new message at the block limit.
struct Layout {
    /// The escaped reply title, which continuation messages repeat.
    title: String,
    done: Vec<Vec<Block>>,
    blocks: Vec<Block>,
}

impl Layout {
    fn new(title: String) -> Self {
        Self {
            title,
            done: Vec::new(),
            blocks: Vec::new(),
        }
    }

    /// Starts a new message unless `n` more blocks fit in this one.
    fn room_for(&mut self, n: usize) {
        if self.blocks.len() + n <= BLOCKS_MAX {
            return;
        }
        self.done.push(std::mem::take(&mut self.blocks));
        // Each message arrives on its own, so a continuation says what it continues.
        let title = truncate(&self.title, HEADER_TEXT_MAX, can_cut);
        let note = if title.is_empty() {
            "(cont.)".to_owned()
        } else {
            format!("{title} (cont.)")
        };
        self.blocks.push(Block::Context {
            elements: vec![TextObject::mrkdwn(note)],
        });
    }

    fn push(&mut self, block: Block) {
        self.room_for(1);
        self.blocks.push(block);
    }

    /// A header, or bold sections when the text is too long for one: headers cannot hold
    /// more than 150 characters and nothing may be cut off.
    fn heading(&mut self, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        if char_len(text) <= HEADER_TEXT_MAX {
            // Keep a header with what follows it.
            self.room_for(2);
            self.blocks.push(Block::Header {
                text: TextObject::plain(text),
            });
            return;
        }
        self.bold_lines(text);
    }

    fn sections<'a>(&mut self, lines: impl IntoIterator<Item = &'a str>) {
        for chunk in pack(lines, SECTION_TEXT_MAX, split_text) {
            if !chunk.trim().is_empty() {
                self.push(section(chunk));
            }
        }
    }

    fn fields(&mut self, fields: &[Field]) {
        // A name too long to head a field is shown as a bold line over its value instead.
        const NAME_MAX: usize = 200;
        let mut batch: Vec<TextObject> = Vec::new();
        for f in fields {
            let name = escape_line(f.name.trim());
            let mut value = inline(&f.value);
            if value.trim().is_empty() {
                value = "—".to_owned();
            }
            if char_len(&name) > NAME_MAX {
                self.field_sections(&mut batch);
                self.bold_lines(&name);
                self.sections(value.split('\n'));
                continue;
            }
            let head = if name.is_empty() {
                String::new()
            } else {
                format!("*{name}*\n")
            };
            if char_len(&head) + char_len(&value) <= FIELD_TEXT_MAX {
                batch.push(TextObject::mrkdwn(head + &value));
                continue;
            }
            let more = format!("*{name} (cont.)*\n");
            let room = FIELD_TEXT_MAX - char_len(&more);
            let pieces = pack(value.split('\n'), room, split_text)
                .into_iter()
                .filter(|p| !p.trim().is_empty());
            for (i, piece) in pieces.enumerate() {
                let head = if i == 0 { &head } else { &more };
                batch.push(TextObject::mrkdwn(format!("{head}{piece}")));
            }
        }
        self.field_sections(&mut batch);
    }

    fn field_sections(&mut self, batch: &mut Vec<TextObject>) {
        for chunk in batch.chunks(SECTION_FIELDS_MAX) {
            self.push(Block::Section {
                text: None,
                fields: chunk.to_vec(),
            });
        }
        batch.clear();
    }

    /// One line of text in bold sections, split where it is too long for one.
    fn bold_lines(&mut self, text: &str) {
        for piece in split_text(text, SECTION_TEXT_MAX - 2) {
            let piece = piece.trim();
            if !piece.is_empty() {
                self.push(section(format!("*{piece}*")));
            }
        }
    }

    /// Code blocks cannot be escaped, so runs of backticks in the text are broken up to keep
    /// it from closing the block; each chunk is its own block.
    fn preformatted(&mut self, text: &str) {
        const FENCES: usize = "```\n".len() + "\n```".len();
        let mut escaped = String::new();
        escape_into(&mut escaped, text.trim_end());
        let mut body = String::new();
        let mut prev = None;
        for c in escaped.chars() {
            if c == '`' && prev == Some('`') {
                body.push(ZWSP);
            }
            body.push(c);
            prev = Some(c);
        }
        let split = |line: &str, max: usize| split_line(line, max, can_cut);
        for chunk in pack(body.split('\n'), SECTION_TEXT_MAX - FENCES, split) {
            if !chunk.trim().is_empty() {
                self.push(section(format!("```\n{chunk}\n```")));
            }
        }
    }

    /// Buttons for the actions that can be buttons; the others are listed as text, so none
    /// is lost.
    fn actions(&mut self, actions: &[Action]) {
        let mut seen = HashSet::new();
        let mut buttons = Vec::new();
        let mut as_text = Vec::new();
        for a in actions {
            let fits = !a.id.is_empty()
                && char_len(&a.id) <= ACTION_ID_MAX
                && char_len(&a.command) <= BUTTON_VALUE_MAX;
            if !fits || !seen.insert(a.id.as_str()) {
                as_text.push(a);
                continue;
            }
            let label = [&a.label, &a.command, &a.id]
                .into_iter()
                .map(|s| s.trim())
                .find(|s| !s.is_empty())
                .unwrap_or("Go");
            buttons.push(Element::Button {
                text: TextObject::plain(truncate(&escape_line(label), BUTTON_TEXT_MAX, can_cut)),
                action_id: a.id.clone(),
                value: (!a.command.is_empty()).then(|| a.command.clone()),
            });
        }
        if !as_text.is_empty() {
            let mut lines = vec!["*Next:*".to_owned()];
            for a in as_text {
                let mut command = String::new();
                escape_into(&mut command, &a.command.replace(['\r', '\n'], " "));
                if a.label.trim().is_empty() {
                    lines.push(format!("• `{command}`"));
                } else {
                    lines.push(format!("• {}: `{command}`", escape_line(a.label.trim())));
                }
            }
            self.sections(lines.iter().map(String::as_str));
        }
        for chunk in buttons.chunks(ACTIONS_ELEMENTS_MAX) {
            self.push(Block::Actions {
                elements: chunk.to_vec(),
            });
        }
    }

    /// `name` is the escaped title (never empty); the first message's fallback carries the
    /// health badge, later ones say they continue it.
    fn finish(mut self, name: &str, badge: &str) -> Vec<Message> {
        if !self.blocks.is_empty() || self.done.is_empty() {
            self.done.push(std::mem::take(&mut self.blocks));
        }
        self.done
            .into_iter()
            .enumerate()
            .map(|(i, mut blocks)| {
                let text = if i == 0 {
                    format!("{name}{badge}")
                } else {
                    format!("{name} (cont.)")
                };
                if blocks.is_empty() {
                    blocks.push(section(name));
                }
                Message {
                    text: truncate(&text, FALLBACK_TEXT_TARGET, can_cut),
                    blocks,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_in_order, filler};
    use super::*;

    fn person(handle: &str, name: &str) -> Mention {
        Mention {
            handle: handle.into(),
            name: name.into(),
        }
    }

    fn all_text(messages: &[Message]) -> String {
        let mut out = Vec::new();
        for m in messages {
            out.push(m.text.clone());
            for b in &m.blocks {
                match b {
                    Block::Header { text } => out.push(text.text().to_owned()),
                    Block::Section { text, fields } => {
                        out.extend(text.iter().map(|t| t.text().to_owned()));
                        out.extend(fields.iter().map(|t| t.text().to_owned()));
                    }
                    Block::Context { elements } => {
                        out.extend(elements.iter().map(|t| t.text().to_owned()))
                    }
                    Block::Actions { elements } => {
                        for Element::Button { text, value, .. } in elements {
                            out.push(text.text().to_owned());
                            out.extend(value.clone());
                        }
                    }
                    Block::Image { alt_text, .. } => out.push(alt_text.clone()),
                }
            }
        }
        out.join("\n")
    }

    fn assert_valid(messages: &[Message]) {
        assert!(!messages.is_empty());
        for (i, m) in messages.iter().enumerate() {
            let v = violations(m);
            assert!(v.is_empty(), "message {i}: {v:#?}");
        }
    }

    #[test]
    fn a_huge_reply_fits_every_limit_and_loses_nothing() {
        let title = filler("Title", 300);
        let items: Vec<String> = (0..3000)
            .map(|i| filler(&format!("item{i}"), 300))
            .collect();
        let values: Vec<String> = (0..200)
            .map(|i| filler(&format!("value{i}"), 1500))
            .collect();
        let long_value = filler("longvalue", 5000);
        let long_line = "abcdefghij".repeat(1000);
        let mut reply = Reply::new(title.clone())
            .tone(Tone::Health(Rag::Red))
            .heading("Everything")
            .list(items.iter().map(|s| Text::plain(s.as_str())).collect())
            .paragraph(Text::plain(long_line.as_str()));
        let mut fields: Vec<Field> = values
            .iter()
            .enumerate()
            .map(|(i, v)| Field {
                name: format!("Field {i}"),
                value: Text::plain(v.as_str()),
            })
            .collect();
        fields.push(Field {
            name: "Long".into(),
            value: Text::plain(long_value.as_str()),
        });
        reply.blocks.push(ReplyBlock::Fields { fields });
        for i in 0..40 {
            reply = reply.action(format!("act:{i}"), format!("Do {i}"), format!("do {i}"));
        }
        reply = reply.action("x".repeat(300), "Too long id", "status show atlas");

        let messages = render(&reply);
        assert_valid(&messages);
        assert!(messages.len() > 5);

        let text = all_text(&messages);
        assert!(
            text.contains(&format!("*{title}*")),
            "the full title is shown"
        );
        assert_eq!(messages[0].text, format!("{title} — RED"));
        assert_in_order(&text, &items);
        assert_in_order(&text, &values);
        let sections: String = messages
            .iter()
            .flat_map(|m| &m.blocks)
            .filter_map(|b| match b {
                Block::Section { text: Some(t), .. } => Some(t.text().replace('\n', "")),
                _ => None,
            })
            .collect();
        assert!(sections.contains(&long_line));
        let long_out: String = messages
            .iter()
            .flat_map(|m| &m.blocks)
            .filter_map(|b| match b {
                Block::Section { fields, .. } => Some(fields),
                _ => None,
            })
            .flatten()
            .filter_map(|f| f.text().strip_prefix("*Long").map(str::to_owned))
            .map(|t| {
                t.split_once('\n')
                    .map(|(_, v)| v.to_owned())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(long_out, long_value);

        let buttons: usize = messages
            .iter()
            .flat_map(|m| &m.blocks)
            .map(|b| match b {
                Block::Actions { elements } => elements.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(buttons, 40);
        assert!(text.contains("• Too long id: `status show atlas`"));
        for m in &messages[1..] {
            assert!(m.text.ends_with(" (cont.)"));
            assert!(matches!(&m.blocks[0], Block::Context { .. }));
        }
    }

    #[test]
    fn user_text_cannot_ping_or_inject_mentions() {
        let reply = Reply::new("<!channel> & friends")
            .heading("<@U999> @here")
            .paragraph(
                Text::plain("@everyone <@&123> <!channel> <@456> @here ")
                    .person(person("U012ABCDEF", "Dana"))
                    .text(" and ")
                    .person(person("123456789012345678", "channel"))
                    .code("<!here>")
                    .strong("<@U1234567>"),
            )
            .fields(vec![("<!subteam^1>", Text::plain("<https://evil|click>"))])
            .table(&["<!everyone>"], vec![vec![Text::plain("> quoted")]])
            .preformatted("``` <!channel>");
        let messages = render(&reply);
        assert_valid(&messages);
        let text = all_text(&messages);
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        for raw in [
            "<!",
            "<@&",
            "<@456>",
            "<@U999>",
            "<@U1234567>",
            "<https",
            "<#",
        ] {
            assert!(!text.contains(raw), "{raw} in {text}");
        }
        assert!(text.contains("<@U012ABCDEF>"));
        assert!(text.contains("@\u{200B}channel"));
        assert!(!text.to_lowercase().contains("@everyone"));
        assert!(!text.to_lowercase().contains("@here"));
    }

    #[test]
    fn payload_is_block_kit_json() {
        let reply = Reply::success("Risk added")
            .fields(vec![("Score", Text::plain("20 (critical)"))])
            .action("risk:ack:7", "Acknowledge", "risk ack atlas 7");
        let messages = render(&reply);
        assert_eq!(messages.len(), 1);
        let json = serde_json::to_value(&messages[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "text": "Risk added",
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": "Risk added", "emoji": true}},
                    {"type": "section", "fields": [
                        {"type": "mrkdwn", "text": "*Score*\n20 (critical)", "verbatim": true}
                    ]},
                    {"type": "actions", "elements": [{
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Acknowledge", "emoji": true},
                        "action_id": "risk:ack:7",
                        "value": "risk ack atlas 7"
                    }]}
                ]
            })
        );
        let back: Message = serde_json::from_value(json).unwrap();
        assert_eq!(back, messages[0]);
    }

    #[test]
    fn violations_name_each_broken_limit() {
        let msg = Message {
            text: "<!channel>".into(),
            blocks: vec![
                Block::Header {
                    text: TextObject::plain("h".repeat(151)),
                };
                51
            ],
        };
        let v = violations(&msg);
        assert!(v.iter().any(|s| s.starts_with("51 blocks")));
        assert!(v.iter().any(|s| s.contains("unescaped `<`")));
        assert!(v.iter().any(|s| s.starts_with("block 1 header has 151")));
    }

    #[test]
    fn splitting_never_breaks_an_entity_or_a_mention() {
        let mut text = Text::plain("&<>".repeat(2000));
        for i in 0..400 {
            text = text.person(person(&format!("U{i:08}"), "x")).text("&");
        }
        let messages = render(&Reply::new("t").paragraph(text));
        // A broken `&amp;` or `<@U…>` shows up as an unescaped `&` or `<`.
        assert_valid(&messages);
        let sections: String = messages
            .iter()
            .flat_map(|m| &m.blocks)
            .filter_map(|b| match b {
                // A piece that would start with `&gt;` gets a ZWSP so it is not a quote.
                Block::Section { text: Some(t), .. } => Some(t.text().replace(['\n', ZWSP], "")),
                _ => None,
            })
            .collect();
        assert!(sections.contains(&"&amp;&lt;&gt;".repeat(2000)));
        assert!(sections.contains("<@U00000399>&amp;"));
    }
}
