//! Discord rendering: a reply becomes one or more payloads for
//! `POST /channels/{id}/messages` (embeds, with buttons on the last message), each within
//! every Discord size limit, so a digest of any length is delivered whole.
//!
//! No user text can ping. The guarantee is `allowed_mentions`: `parse` is always empty and
//! `users` holds only people the reply names as typed mentions. As a second line, user text
//! is escaped and mention syntax in it (`@everyone`, `<@…>`, `<@&…>`, `<#…>`) is broken with a
//! zero-width space, so it neither pings, nor renders as a mention, nor formats.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::markdown::{char_len, code_span, pack, split_line, truncate};
use super::{Action, Block, Field, Mention, Reply, Span, Text, Tone};
use crate::domain::Rag;

pub const CONTENT_MAX: usize = 2000;
pub const EMBEDS_PER_MESSAGE: usize = 10;
pub const EMBED_TITLE_MAX: usize = 256;
pub const EMBED_DESCRIPTION_MAX: usize = 4096;
pub const EMBED_FIELDS_MAX: usize = 25;
pub const FIELD_NAME_MAX: usize = 256;
pub const FIELD_VALUE_MAX: usize = 1024;
pub const FOOTER_MAX: usize = 2048;
/// Titles, descriptions, field names and values and footers of all embeds in one message.
pub const EMBEDS_TOTAL_MAX: usize = 6000;
pub const ALLOWED_USERS_MAX: usize = 100;
pub const ACTION_ROWS_MAX: usize = 5;
pub const BUTTONS_PER_ROW: usize = 5;
pub const BUTTON_LABEL_MAX: usize = 80;
pub const CUSTOM_ID_MAX: usize = 100;

pub const GREEN: u32 = 0x2ECC71;
pub const AMBER: u32 = 0xF1C40F;
pub const RED: u32 = 0xE74C3C;
/// Discord's own blurple, for neutral information.
pub const BLURPLE: u32 = 0x5865F2;

const COMPONENT_ACTION_ROW: u8 = 1;
const COMPONENT_BUTTON: u8 = 2;

const ZWSP: char = '\u{200B}';
/// Short fields sit side by side; longer ones get the full width.
const INLINE_VALUE_MAX: usize = 40;
const INLINE_NAME_MAX: usize = 24;

/// A message payload. It deserializes too, so a fake Discord can check what it receives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    #[serde(default)]
    pub embeds: Vec<Embed>,
    /// Required when deserializing: a payload without it would let Discord parse mentions.
    pub allowed_mentions: AllowedMentions,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ActionRow>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Embed {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub color: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EmbedField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<EmbedFooter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedField {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub inline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedFooter {
    pub text: String,
}

/// Who may be pinged. `parse` and `roles` stay empty; `users` lists typed mentions only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedMentions {
    pub parse: Vec<String>,
    pub users: Vec<String>,
    pub roles: Vec<String>,
    pub replied_user: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRow {
    /// Always 1 (action row).
    #[serde(rename = "type")]
    pub kind: u8,
    pub components: Vec<Button>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// Always 2 (button).
    #[serde(rename = "type")]
    pub kind: u8,
    pub style: ButtonStyle,
    pub label: String,
    pub custom_id: String,
}

/// The button styles that carry a `custom_id` (link and premium buttons do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum ButtonStyle {
    Primary = 1,
    Secondary = 2,
    Success = 3,
    Danger = 4,
}

impl From<ButtonStyle> for u8 {
    fn from(style: ButtonStyle) -> u8 {
        style as u8
    }
}

impl TryFrom<u8> for ButtonStyle {
    type Error = String;

    fn try_from(n: u8) -> Result<Self, Self::Error> {
        match n {
            1 => Ok(Self::Primary),
            2 => Ok(Self::Secondary),
            3 => Ok(Self::Success),
            4 => Ok(Self::Danger),
            _ => Err(format!(
                "button style {n} is not one with a custom_id (1 to 4)"
            )),
        }
    }
}

/// Renders a reply as one or more messages, in order; buttons go on the last one.
///
/// People mentioned in embeds show as mentions but are not notified (Discord never pings
/// from embeds); a caller that wants to ping puts their `<@id>` in `content`, which
/// `allowed_mentions.users` already permits.
pub fn render(reply: &Reply) -> Vec<Message> {
    let mut layout = Layout::new(colour(reply.tone));

    let title = escape_line(&reply.title);
    let badge = match reply.tone {
        Tone::Health(r) => r.as_str().to_uppercase(),
        _ => String::new(),
    };
    let room = if badge.is_empty() {
        EMBED_TITLE_MAX
    } else {
        EMBED_TITLE_MAX.saturating_sub(char_len(&badge) + " · ".chars().count())
    };
    let shown = truncate(&title, room, can_cut);
    let first = match (shown.is_empty(), badge.is_empty()) {
        (_, true) => shown.clone(),
        (true, false) => badge,
        (false, false) => format!("{shown} · {badge}"),
    };
    layout.start_embed(first, shown.clone());
    if shown != title {
        layout.push_text(&format!("**{title}**"));
    }

    for block in &reply.blocks {
        match block {
            Block::Heading { text } if text.trim().is_empty() => {}
            Block::Heading { text } => {
                let heading = escape_line(text);
                let shown = truncate(&heading, EMBED_TITLE_MAX, can_cut);
                layout.start_embed(shown.clone(), shown.clone());
                if shown != heading {
                    layout.push_text(&format!("**{heading}**"));
                }
            }
            Block::Paragraph { text } if text.is_empty() => {}
            Block::Paragraph { text } => {
                layout.gap();
                for line in inline(text).trim_end_matches('\n').split('\n') {
                    layout.push_text(line);
                }
            }
            Block::List { items } => {
                layout.gap();
                for item in items {
                    for (i, line) in inline(item).split('\n').enumerate() {
                        let bullet = if i == 0 { "• " } else { "  " };
                        layout.push_text(&format!("{bullet}{line}"));
                    }
                }
            }
            Block::Table { columns, rows } => {
                layout.gap();
                if !columns.is_empty() {
                    let header: Vec<String> = columns.iter().map(|c| escape_line(c)).collect();
                    layout.push_text(&format!("**{}**", header.join(" · ")));
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
                    layout.push_text(&cells.join(" · "));
                }
            }
            Block::Fields { fields } => push_fields(&mut layout, fields),
            Block::Preformatted { text } => {
                layout.gap();
                for chunk in code_blocks(text) {
                    layout.push_line(&chunk);
                }
            }
            Block::Image { url, alt } => {
                layout.gap();
                layout.push_text(&format!("{}: <{url}>", escape_line(alt)));
            }
        }
    }

    let (rows, unbuttoned) = buttons(&reply.actions);
    if !unbuttoned.is_empty() {
        layout.gap();
        layout.push_text("**Next:**");
        for a in unbuttoned {
            let command = code_span(&neutralize(&a.command));
            if a.label.trim().is_empty() {
                layout.push_text(&format!("• {command}"));
            } else {
                layout.push_text(&format!("• {}: {command}", escape_line(a.label.trim())));
            }
        }
    }
    layout.finish(rows)
}

/// Checks a message against every Discord limit and against the mention policy, and says
/// what is wrong in words. Empty means Discord will accept it and nobody can be pinged by
/// user text.
pub fn violations(msg: &Message) -> Vec<String> {
    let mut v = Vec::new();
    check_len(&mut v, "content", &msg.content, CONTENT_MAX);
    if msg.content.is_empty() && msg.embeds.is_empty() && msg.components.is_empty() {
        v.push("the message is empty: it needs content, an embed or components".into());
    }
    if msg.embeds.len() > EMBEDS_PER_MESSAGE {
        v.push(format!(
            "{} embeds; the limit is {EMBEDS_PER_MESSAGE} per message",
            msg.embeds.len()
        ));
    }
    let mut total = 0;
    for (i, e) in msg.embeds.iter().enumerate() {
        let n = i + 1;
        check_len(
            &mut v,
            &format!("embed {n} title"),
            &e.title,
            EMBED_TITLE_MAX,
        );
        check_len(
            &mut v,
            &format!("embed {n} description"),
            &e.description,
            EMBED_DESCRIPTION_MAX,
        );
        total += char_len(&e.title) + char_len(&e.description);
        if e.fields.len() > EMBED_FIELDS_MAX {
            v.push(format!(
                "embed {n} has {} fields; the limit is {EMBED_FIELDS_MAX}",
                e.fields.len()
            ));
        }
        for (j, f) in e.fields.iter().enumerate() {
            let what = format!("embed {n} field {}", j + 1);
            check_len(&mut v, &format!("{what} name"), &f.name, FIELD_NAME_MAX);
            check_len(&mut v, &format!("{what} value"), &f.value, FIELD_VALUE_MAX);
            if f.name.trim().is_empty() || f.value.trim().is_empty() {
                v.push(format!("{what} needs a non-blank name and value"));
            }
            total += char_len(&f.name) + char_len(&f.value);
        }
        if let Some(footer) = &e.footer {
            check_len(
                &mut v,
                &format!("embed {n} footer"),
                &footer.text,
                FOOTER_MAX,
            );
            total += char_len(&footer.text);
        }
    }
    if total > EMBEDS_TOTAL_MAX {
        v.push(format!(
            "the embeds have {total} characters in all; the limit is {EMBEDS_TOTAL_MAX}"
        ));
    }

    if msg.components.len() > ACTION_ROWS_MAX {
        v.push(format!(
            "{} action rows; the limit is {ACTION_ROWS_MAX}",
            msg.components.len()
        ));
    }
    let mut ids = HashSet::new();
    for (i, row) in msg.components.iter().enumerate() {
        let n = i + 1;
        if row.kind != COMPONENT_ACTION_ROW {
            v.push(format!("component row {n} has type {}, not 1", row.kind));
        }
        if row.components.is_empty() || row.components.len() > BUTTONS_PER_ROW {
            v.push(format!(
                "action row {n} has {} buttons; it needs 1 to {BUTTONS_PER_ROW}",
                row.components.len()
            ));
        }
        for (j, b) in row.components.iter().enumerate() {
            let what = format!("row {n} button {}", j + 1);
            if b.kind != COMPONENT_BUTTON {
                v.push(format!("{what} has type {}, not 2", b.kind));
            }
            if b.label.is_empty() {
                v.push(format!("{what} has no label"));
            }
            check_len(&mut v, &format!("{what} label"), &b.label, BUTTON_LABEL_MAX);
            if b.custom_id.is_empty() {
                v.push(format!("{what} has no custom_id"));
            }
            check_len(
                &mut v,
                &format!("{what} custom_id"),
                &b.custom_id,
                CUSTOM_ID_MAX,
            );
            if !ids.insert(b.custom_id.as_str()) {
                v.push(format!("{what} repeats custom_id `{}`", b.custom_id));
            }
        }
    }

    let am = &msg.allowed_mentions;
    if !am.parse.is_empty() {
        v.push(format!(
            "allowed_mentions.parse is {:?}; it must be empty so text cannot ping",
            am.parse
        ));
    }
    if !am.roles.is_empty() {
        v.push("allowed_mentions.roles must be empty: roles are never pinged".into());
    }
    if am.replied_user {
        v.push("allowed_mentions.replied_user must be false".into());
    }
    if am.users.len() > ALLOWED_USERS_MAX {
        v.push(format!(
            "allowed_mentions.users has {} ids; the limit is {ALLOWED_USERS_MAX}",
            am.users.len()
        ));
    }
    if let Some(bad) = am.users.iter().find(|u| !is_snowflake(u)) {
        v.push(format!("allowed_mentions.users has `{bad}`, not a user id"));
    }
    for text in texts(msg) {
        let lower = text.to_lowercase();
        for raw in ["@everyone", "@here", "<@&", "<#"] {
            if lower.contains(raw) {
                v.push(format!(
                    "text contains a raw `{raw}` that user text must not carry"
                ));
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

fn colour(tone: Tone) -> u32 {
    match tone {
        Tone::Health(Rag::Green) | Tone::Success => GREEN,
        Tone::Health(Rag::Amber) | Tone::Warning => AMBER,
        Tone::Health(Rag::Red) => RED,
        Tone::Info => BLURPLE,
    }
}

/// A Discord user id: a snowflake, written in decimal.
fn is_snowflake(handle: &str) -> bool {
    (15..=21).contains(&handle.len()) && handle.bytes().all(|b| b.is_ascii_digit())
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
            Span::Strong(s) => strong_into(&mut out, s),
            Span::Code(s) => out.push_str(&code_span(&neutralize(s))),
            Span::Person(m) if is_snowflake(&m.handle) => {
                let _ = write!(out, "<@{}>", m.handle);
            }
            // Console people have no Discord id: their name is text like any other.
            Span::Person(m) => escape_into(&mut out, &format!("@{}", display_name(m))),
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

/// Bold needs its markers flush against the words, so surrounding whitespace goes outside.
fn strong_into(out: &mut String, s: &str) {
    let inner = s.trim();
    if inner.is_empty() {
        escape_into(out, s);
        return;
    }
    escape_into(out, &s[..s.len() - s.trim_start().len()]);
    out.push_str("**");
    escape_into(out, inner);
    out.push_str("**");
    escape_into(out, &s[s.trim_end().len()..]);
}

/// `rest` (the text after an `@`) would make a mass mention.
fn is_mass_mention(rest: &str) -> bool {
    ["everyone", "here"].iter().any(|word| {
        rest.get(..word.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(word))
    })
}

/// Escapes Discord markdown in user text and breaks mention syntax. Quote, heading and
/// list markers only mean something at the start of a line, so only there are they escaped.
fn escape_into(out: &mut String, s: &str) {
    let mut line_start = out.is_empty() || out.ends_with('\n');
    for (i, c) in s.char_indices() {
        if line_start && !matches!(c, ' ' | '\t') {
            line_start = false;
            if matches!(c, '>' | '#' | '-') {
                out.push('\\');
            }
        }
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '[' => {
                out.push('\\');
                out.push(c);
            }
            '<' => {
                out.push('<');
                out.push(ZWSP);
            }
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

/// Breaks mention syntax in text that is shown literally (code), where escapes would show.
fn neutralize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        out.push(c);
        if c == '<' || (c == '@' && is_mass_mention(&s[i + 1..])) {
            out.push(ZWSP);
        }
    }
    out
}

/// Where an over-long line of Discord markdown may be cut: not between a backslash and the
/// character it escapes, and not inside a typed mention `<@123…>`.
fn can_cut(s: &str, at: usize) -> bool {
    let head = &s[..at];
    let backslashes = head.bytes().rev().take_while(|&b| b == b'\\').count();
    if backslashes % 2 == 1 {
        return false;
    }
    // A mention is `<@` + at most 21 digits + `>`; user `<` always has a ZWSP after it.
    let mut from = at.saturating_sub(32);
    while !head.is_char_boundary(from) {
        from -= 1;
    }
    let tail = &head[from..];
    match tail.rfind("<@") {
        Some(i) => tail[i..].contains('>'),
        None => true,
    }
}

/// Splits an over-long line. A piece that now starts a line must not start with quote,
/// heading or list syntax that was harmless mid-line, hence the room for one backslash.
fn split_text(line: &str, max: usize) -> Vec<String> {
    let mut pieces = split_line(line, max.saturating_sub(1), can_cut);
    for piece in pieces.iter_mut().skip(1) {
        if piece.starts_with(['>', '#', '-']) {
            piece.insert(0, '\\');
        }
    }
    pieces
}

/// Code blocks in Discord only close with exactly three backticks and cannot be escaped, so
/// runs of backticks in the text are broken up instead; each chunk is its own block.
fn code_blocks(text: &str) -> Vec<String> {
    const FENCES: usize = "```\n".len() + "\n```".len();
    let mut body = String::new();
    let mut prev = None;
    for c in neutralize(text.trim_end()).chars() {
        if c == '`' && prev == Some('`') {
            body.push(ZWSP);
        }
        if c != '\r' {
            body.push(c);
        }
        prev = Some(c);
    }
    pack(
        body.split('\n'),
        EMBED_DESCRIPTION_MAX - FENCES,
        |line, max| split_line(line, max, |_, _| true),
    )
    .into_iter()
    .filter(|chunk| !chunk.trim().is_empty())
    .map(|chunk| format!("```\n{chunk}\n```"))
    .collect()
}

fn continued(title: &str, max: usize) -> String {
    const MORE: &str = " (cont.)";
    if title.is_empty() {
        return MORE.trim_start().to_owned();
    }
    format!("{}{MORE}", truncate(title, max - MORE.len(), can_cut))
}

fn push_fields(layout: &mut Layout, fields: &[Field]) {
    for f in fields {
        let mut name = escape_line(f.name.trim());
        if name.is_empty() {
            // Discord refuses a field without a name.
            name = ZWSP.to_string();
        }
        let mut value = inline(&f.value);
        if value.trim().is_empty() {
            value = "—".to_owned();
        }
        if char_len(&name) > FIELD_NAME_MAX {
            // Too long to be a field's name: shown as lines instead, so none of it is lost.
            layout.gap();
            for (i, line) in value.split('\n').enumerate() {
                if i == 0 {
                    layout.push_text(&format!("**{name}:** {line}"));
                } else {
                    layout.push_text(line);
                }
            }
            continue;
        }
        let pieces: Vec<String> = pack(value.split('\n'), FIELD_VALUE_MAX, split_text)
            .into_iter()
            .filter(|p| !p.trim().is_empty())
            .collect();
        let inline = pieces.len() == 1
            && !value.contains('\n')
            && char_len(&value) <= INLINE_VALUE_MAX
            && char_len(&name) <= INLINE_NAME_MAX;
        for (i, piece) in pieces.into_iter().enumerate() {
            let name = if i == 0 {
                name.clone()
            } else {
                continued(&name, FIELD_NAME_MAX)
            };
            layout.push_field(EmbedField {
                name,
                value: piece,
                inline,
            });
        }
    }
}

/// Buttons for the actions that can be buttons; the rest are returned to be shown as text.
fn buttons(actions: &[Action]) -> (Vec<ActionRow>, Vec<&Action>) {
    let mut seen = HashSet::new();
    let mut made: Vec<Button> = Vec::new();
    let mut rest = Vec::new();
    for a in actions {
        let fits = !a.id.is_empty()
            && char_len(&a.id) <= CUSTOM_ID_MAX
            && made.len() < ACTION_ROWS_MAX * BUTTONS_PER_ROW;
        // Discord refuses a message whose custom_ids repeat.
        if !fits || !seen.insert(a.id.as_str()) {
            rest.push(a);
            continue;
        }
        let label = [&a.label, &a.command, &a.id]
            .into_iter()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
            .unwrap_or("Go");
        made.push(Button {
            kind: COMPONENT_BUTTON,
            style: if made.is_empty() {
                ButtonStyle::Primary
            } else {
                ButtonStyle::Secondary
            },
            label: truncate(label, BUTTON_LABEL_MAX, |_, _| true),
            custom_id: a.id.clone(),
        });
    }
    let rows = made
        .chunks(BUTTONS_PER_ROW)
        .map(|row| ActionRow {
            kind: COMPONENT_ACTION_ROW,
            components: row.to_vec(),
        })
        .collect();
    (rows, rest)
}

/// Every `<@id>` the message shows: rendered only from typed mentions, because user text
/// never carries `<@` unbroken.
fn typed_mentions(msg: &Message) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut users = Vec::new();
    for text in texts(msg) {
        let mut rest = text;
        while let Some(i) = rest.find("<@") {
            rest = &rest[i + 2..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let id = &rest[..digits];
            if rest[digits..].starts_with('>') && is_snowflake(id) && seen.insert(id) {
                users.push(id.to_owned());
            }
        }
    }
    // Past Discord's cap the rest still show as mentions; they are just not pingable.
    users.truncate(ALLOWED_USERS_MAX);
    users
}

fn texts(msg: &Message) -> impl Iterator<Item = &str> {
    std::iter::once(msg.content.as_str()).chain(msg.embeds.iter().flat_map(|e| {
        [e.title.as_str(), e.description.as_str()]
            .into_iter()
            .chain(
                e.fields
                    .iter()
                    .flat_map(|f| [f.name.as_str(), f.value.as_str()]),
            )
            .chain(e.footer.iter().map(|f| f.text.as_str()))
    }))
}

/// Fills embeds and messages in reading order, opening a new embed or message whenever the
/// next piece would break a limit.
struct Layout {
    colour: u32,
    /// The title that continuation embeds repeat, so a reader knows what a part belongs to.
    section: String,
    done: Vec<Message>,
    /// Embeds of the message being filled; the last one is open for content.
    embeds: Vec<Embed>,
    /// Embed characters in the message being filled.
    used: usize,
    /// A new embed, with this title, is to start before the next content.
    pending: Option<String>,
    /// The next description line starts a new block: leave a blank line before it.
    gap: bool,
}

enum Fit {
    Placed,
    /// The open embed has fields, which show below its description.
    AfterFields,
    Full,
}

impl Layout {
    fn new(colour: u32) -> Self {
        Self {
            colour,
            section: String::new(),
            done: Vec::new(),
            embeds: Vec::new(),
            used: 0,
            pending: None,
            gap: false,
        }
    }

    fn start_embed(&mut self, title: String, section: String) {
        self.open_pending_title();
        self.section = section;
        self.pending = Some(title);
        self.gap = false;
    }

    fn gap(&mut self) {
        self.gap = true;
    }

    /// A heading with nothing under it still shows.
    fn open_pending_title(&mut self) {
        if let Some(title) = self.pending.take() {
            if !title.is_empty() {
                self.open_embed(title, 0);
            }
        }
    }

    /// Opens an embed, in a new message unless this one has room for its title and `need`
    /// more characters.
    fn open_embed(&mut self, mut title: String, need: usize) {
        if self.embeds.len() >= EMBEDS_PER_MESSAGE
            || self.used + char_len(&title) + need > EMBEDS_TOTAL_MAX
        {
            self.flush();
            if title.is_empty() {
                // The first embed of a message says what it continues.
                title = continued(&self.section, EMBED_TITLE_MAX);
            }
        }
        self.used += char_len(&title);
        self.embeds.push(Embed {
            title,
            color: self.colour,
            ..Embed::default()
        });
    }

    /// Adds user-derived text, splitting a line too long for any description.
    fn push_text(&mut self, line: &str) {
        for piece in split_text(line, EMBED_DESCRIPTION_MAX) {
            self.push_line(&piece);
        }
    }

    /// Adds one description line of at most [`EMBED_DESCRIPTION_MAX`] characters.
    fn push_line(&mut self, line: &str) {
        let n = char_len(line);
        loop {
            if let Some(title) = self.pending.take() {
                if line.trim().is_empty() {
                    // A blank line is no reason to open an embed.
                    self.pending = Some(title);
                    return;
                }
                self.open_embed(title, n);
                if let Some(e) = self.embeds.last_mut() {
                    e.description.push_str(line);
                    self.used += n;
                }
                break;
            }
            let fit = match self.embeds.last_mut() {
                Some(e) if e.fields.is_empty() => {
                    let sep = match (e.description.is_empty(), self.gap) {
                        (true, _) => "",
                        (false, true) => "\n\n",
                        (false, false) => "\n",
                    };
                    let add = sep.len() + n;
                    if char_len(&e.description) + add <= EMBED_DESCRIPTION_MAX
                        && self.used + add <= EMBEDS_TOTAL_MAX
                    {
                        e.description.push_str(sep);
                        e.description.push_str(line);
                        self.used += add;
                        Fit::Placed
                    } else {
                        Fit::Full
                    }
                }
                Some(_) | None => Fit::AfterFields,
            };
            match fit {
                Fit::Placed => break,
                Fit::AfterFields => self.pending = Some(String::new()),
                Fit::Full => self.pending = Some(continued(&self.section, EMBED_TITLE_MAX)),
            }
        }
        self.gap = false;
    }

    fn push_field(&mut self, field: EmbedField) {
        let n = char_len(&field.name) + char_len(&field.value);
        loop {
            if let Some(title) = self.pending.take() {
                self.open_embed(title, n);
                if let Some(e) = self.embeds.last_mut() {
                    e.fields.push(field);
                    self.used += n;
                }
                return;
            }
            match self.embeds.last_mut() {
                Some(e)
                    if e.fields.len() < EMBED_FIELDS_MAX && self.used + n <= EMBEDS_TOTAL_MAX =>
                {
                    e.fields.push(field);
                    self.used += n;
                    return;
                }
                _ => self.pending = Some(continued(&self.section, EMBED_TITLE_MAX)),
            }
        }
    }

    fn flush(&mut self) {
        if !self.embeds.is_empty() {
            self.done.push(Message {
                embeds: std::mem::take(&mut self.embeds),
                ..Message::default()
            });
        }
        self.used = 0;
    }

    fn finish(mut self, rows: Vec<ActionRow>) -> Vec<Message> {
        self.open_pending_title();
        self.flush();
        if self.done.is_empty() {
            // Nothing to show (no title, no content): Discord refuses an empty message.
            self.done.push(Message {
                embeds: vec![Embed {
                    description: "(empty reply)".into(),
                    color: self.colour,
                    ..Embed::default()
                }],
                ..Message::default()
            });
        }
        if let Some(last) = self.done.last_mut() {
            last.components = rows;
        }
        for msg in &mut self.done {
            msg.allowed_mentions.users = typed_mentions(msg);
        }
        self.done
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
        messages
            .iter()
            .flat_map(|m| texts(m).map(str::to_owned).collect::<Vec<_>>())
            .collect::<Vec<_>>()
            .join("\n")
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
        let long_line = "abcdefghij".repeat(1000);
        let mut reply = Reply::new(title.clone())
            .tone(Tone::Health(Rag::Amber))
            .heading("Everything")
            .list(items.iter().map(|s| Text::plain(s.as_str())).collect())
            .paragraph(Text::plain(long_line.as_str()));
        reply.blocks.push(Block::Fields {
            fields: values
                .iter()
                .enumerate()
                .map(|(i, v)| Field {
                    name: format!("Field {i}"),
                    value: Text::plain(v.as_str()),
                })
                .collect(),
        });
        for i in 0..40 {
            reply = reply.action(format!("act:{i}"), format!("Do {i}"), format!("do {i}"));
        }
        reply = reply.action("x".repeat(150), "Too long id", "status show atlas");

        let messages = render(&reply);
        assert_valid(&messages);
        assert!(messages.len() > 5);

        let text = all_text(&messages);
        assert!(text.contains(&title), "the full title is shown");
        assert_in_order(&text, &items);
        let descriptions: String = messages
            .iter()
            .flat_map(|m| &m.embeds)
            .map(|e| e.description.replace('\n', ""))
            .collect();
        assert!(descriptions.contains(&long_line));
        let values_out: String = messages
            .iter()
            .flat_map(|m| &m.embeds)
            .flat_map(|e| &e.fields)
            .map(|f| f.value.as_str())
            .collect();
        assert_in_order(&values_out, &values);
        // 25 buttons; the rest are text lines on the last message.
        for m in &messages[..messages.len() - 1] {
            assert!(m.components.is_empty());
        }
        let last = &messages[messages.len() - 1];
        let buttons: usize = last.components.iter().map(|r| r.components.len()).sum();
        assert_eq!(buttons, 25);
        assert!(text.contains("• Do 39: `do 39`"));
        assert!(text.contains("• Too long id: `status show atlas`"));
        assert!(messages[0].embeds[0].title.ends_with("… · AMBER"));
        assert!(messages[0].embeds.iter().all(|e| e.color == AMBER));
    }

    #[test]
    fn user_text_cannot_ping_or_inject_mentions() {
        let reply = Reply::new("@everyone <@&1> title")
            .heading("<#123> @here")
            .paragraph(
                Text::plain("@everyone <@&123> <!channel> <@456> @here ")
                    .person(person("123456789012345678", "Dana"))
                    .text(" and ")
                    .person(person("li", "everyone"))
                    .code(" <@&9> @Everyone ")
                    .strong("<@789>"),
            )
            .fields(vec![("<@1> @here", Text::plain("@everyone"))])
            .preformatted("``` <@&5> @here");
        let messages = render(&reply);
        assert_valid(&messages);
        assert_eq!(messages.len(), 1);
        let json = serde_json::to_value(&messages[0]).unwrap();
        assert_eq!(
            json["allowed_mentions"],
            serde_json::json!({
                "parse": [],
                "users": ["123456789012345678"],
                "roles": [],
                "replied_user": false
            })
        );
        let text = all_text(&messages);
        for raw in [
            "@everyone",
            "@here",
            "<@&",
            "<@456>",
            "<@789>",
            "<#",
            "<@1>",
        ] {
            assert!(
                !text.to_lowercase().contains(&raw.to_lowercase()),
                "{raw} in {text}"
            );
        }
        assert!(text.contains("<@123456789012345678>"));
        assert!(text.contains("@\u{200B}everyone"));
    }

    #[test]
    fn payload_is_the_json_discord_expects() {
        let reply = Reply::success("Milestone moved")
            .paragraph(Text::plain(
                "a *b* _c_ ~d~ `e` |f| \\g [h](i)\n> quote\n# head",
            ))
            .fields(vec![("Owner", Text::plain("Dana"))])
            .action("ms:undo", "Undo", "milestone move atlas api-beta --undo");
        let messages = render(&reply);
        assert_eq!(messages.len(), 1);
        let json = serde_json::to_value(&messages[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "embeds": [{
                    "title": "Milestone moved",
                    "description": "a \\*b\\* \\_c\\_ \\~d\\~ \\`e\\` \\|f\\| \\\\g \\[h](i)\n\\> quote\n\\# head",
                    "color": GREEN,
                    "fields": [{"name": "Owner", "value": "Dana", "inline": true}]
                }],
                "allowed_mentions": {"parse": [], "users": [], "roles": [], "replied_user": false},
                "components": [{
                    "type": 1,
                    "components": [{"type": 2, "style": 1, "label": "Undo", "custom_id": "ms:undo"}]
                }]
            })
        );
        let back: Message = serde_json::from_value(json).unwrap();
        assert_eq!(back, messages[0]);
    }

    #[test]
    fn text_after_fields_keeps_its_place() {
        let reply = Reply::new("t")
            .fields(vec![("A", Text::plain("1"))])
            .paragraph(Text::plain("after"));
        let messages = render(&reply);
        let embeds = &messages[0].embeds;
        assert_eq!(embeds.len(), 2);
        assert_eq!(embeds[0].fields.len(), 1);
        assert_eq!(embeds[1].description, "after");
        assert!(embeds[1].title.is_empty());
    }

    #[test]
    fn violations_name_each_broken_limit() {
        let msg = Message {
            content: "x".repeat(2001),
            embeds: vec![
                Embed {
                    title: "t".repeat(257),
                    description: "d".repeat(4097),
                    ..Embed::default()
                };
                11
            ],
            allowed_mentions: AllowedMentions {
                parse: vec!["everyone".into()],
                ..AllowedMentions::default()
            },
            components: vec![],
        };
        let v = violations(&msg);
        assert!(v.iter().any(|s| s.starts_with("content has 2001")));
        assert!(v.iter().any(|s| s.starts_with("11 embeds")));
        assert!(v.iter().any(|s| s.starts_with("embed 1 title has 257")));
        assert!(v
            .iter()
            .any(|s| s.starts_with("embed 11 description has 4097")));
        assert!(v.iter().any(|s| s.contains("in all")));
        assert!(v.iter().any(|s| s.starts_with("allowed_mentions.parse")));
    }

    #[test]
    fn splitting_never_breaks_a_mention_or_an_escape() {
        let people: Vec<Mention> = (0..600)
            .map(|i| person(&format!("{}", 100_000_000_000_000_000u64 + i), "x"))
            .collect();
        let mut text = Text::new();
        for p in &people {
            text = text.person(p.clone()).text(" ");
        }
        let stars = "*".repeat(9000);
        let reply = Reply::new("t")
            .paragraph(text)
            .paragraph(Text::plain(stars.as_str()));
        let messages = render(&reply);
        assert_valid(&messages);
        let mut users = HashSet::new();
        for m in &messages {
            assert!(m.allowed_mentions.users.len() <= ALLOWED_USERS_MAX);
            users.extend(m.allowed_mentions.users.iter().cloned());
            for e in &m.embeds {
                for line in e.description.lines() {
                    let trailing = line.bytes().rev().take_while(|&b| b == b'\\').count();
                    assert!(trailing % 2 == 0, "a cut left a dangling escape: {line}");
                    assert!(!line.starts_with('*'), "a cut left a loose star");
                }
                let mut rest = e.description.as_str();
                while let Some(i) = rest.find("<@") {
                    rest = &rest[i + 2..];
                    assert_eq!(rest.find('>'), Some(18), "a mention was cut");
                }
            }
        }
        // Every typed person is pingable in the message that shows them, within the cap.
        assert!(users.len() >= ALLOWED_USERS_MAX);
        let shown: String = messages
            .iter()
            .flat_map(|m| &m.embeds)
            .map(|e| e.description.replace('\n', ""))
            .collect();
        assert!(shown.contains(&"\\*".repeat(9000)));
    }
}
