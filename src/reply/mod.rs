//! Platform-neutral replies. A handler returns a [`Reply`]; renderers turn it into plain
//! text, Markdown, Discord embeds and Slack blocks, and serde into JSON. People appear as
//! typed mentions, never as text, so renderers alone decide who may be pinged.

pub mod discord;
pub mod markdown;
pub mod slack;
pub mod text;

/// Helpers the renderers' tests share.
#[cfg(test)]
mod test_support {
    /// Each of `wanted` appears in `text`, in order: nothing dropped, nothing reordered.
    pub(crate) fn assert_in_order(text: &str, wanted: &[String]) {
        let mut at = 0;
        for w in wanted {
            match text[at..].find(w.as_str()) {
                Some(i) => at += i + w.len(),
                None => panic!("missing or out of order: {w}"),
            }
        }
    }

    /// Filler that escaping leaves alone, so input can be found verbatim in the output.
    pub(crate) fn filler(tag: &str, len: usize) -> String {
        let mut s = format!("{tag} ");
        let words = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur"];
        let mut i = 0;
        while s.chars().count() < len {
            s.push_str(words[i % words.len()]);
            s.push(' ');
            i += 1;
        }
        s.chars()
            .take(len)
            .collect::<String>()
            .trim_end()
            .to_owned()
    }
}

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{ChartKind, Key, Person, Rag};

/// How a reply should look: a RAG colour, or a neutral tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "rag")]
pub enum Tone {
    Info,
    Success,
    Warning,
    Health(Rag),
}

/// A person named in a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// Console name, Discord user id or Slack user id.
    pub handle: String,
    pub name: String,
}

impl Mention {
    /// The person as plain text, `@dana`, or `nobody`: named without being pinged (digests
    /// and documents name owners; only pings carry typed mentions).
    pub fn plain(m: Option<&Mention>) -> String {
        m.map_or_else(|| "nobody".to_owned(), |m| format!("@{}", m.name))
    }
}

impl From<&Person> for Mention {
    fn from(p: &Person) -> Self {
        Self {
            handle: p.handle.clone(),
            name: p.display_name.clone(),
        }
    }
}

/// A run of inline content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type", content = "value")]
pub enum Span {
    Text(String),
    Strong(String),
    Code(String),
    Person(Mention),
    Rag(Rag),
    Date(NaiveDate),
}

/// Inline content: text with typed people, dates and RAG values in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(pub Vec<Span>);

impl Text {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn plain(s: impl Into<String>) -> Self {
        Self(vec![Span::Text(s.into())])
    }

    /// Text whose `backticked` parts are code, as analysis writes its reasons. An unpaired
    /// backtick stays text.
    pub fn marked(s: &str) -> Self {
        let mut t = Self::new();
        let parts: Vec<&str> = s.split('`').collect();
        let paired = parts.len() % 2 == 1;
        for (i, part) in parts.iter().enumerate() {
            let last_unpaired = !paired && i == parts.len() - 1;
            if i % 2 == 1 && !last_unpaired {
                t = t.code(*part);
            } else if last_unpaired {
                t = t.text(format!("`{part}"));
            } else if !part.is_empty() {
                t = t.text(*part);
            }
        }
        t
    }

    pub fn text(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::Text(s.into()));
        self
    }

    pub fn strong(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::Strong(s.into()));
        self
    }

    pub fn code(mut self, s: impl Into<String>) -> Self {
        self.0.push(Span::Code(s.into()));
        self
    }

    pub fn person(mut self, p: impl Into<Mention>) -> Self {
        self.0.push(Span::Person(p.into()));
        self
    }

    pub fn maybe_person(self, p: Option<impl Into<Mention>>) -> Self {
        match p {
            Some(p) => self.person(p),
            None => self.text("nobody"),
        }
    }

    pub fn rag(mut self, r: Rag) -> Self {
        self.0.push(Span::Rag(r));
        self
    }

    pub fn date(mut self, d: NaiveDate) -> Self {
        self.0.push(Span::Date(d));
        self
    }

    /// True when nothing would be shown.
    pub fn is_empty(&self) -> bool {
        self.0
            .iter()
            .all(|s| matches!(s, Span::Text(t) | Span::Strong(t) | Span::Code(t) if t.is_empty()))
    }

    pub fn mentions(&self) -> impl Iterator<Item = &Mention> {
        self.0.iter().filter_map(|s| match s {
            Span::Person(m) => Some(m),
            _ => None,
        })
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::plain(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::plain(s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub value: Text,
}

/// One block of a reply, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type")]
pub enum Block {
    Heading {
        text: String,
    },
    Paragraph {
        text: Text,
    },
    Fields {
        fields: Vec<Field>,
    },
    List {
        items: Vec<Text>,
    },
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<Text>>,
    },
    Preformatted {
        text: String,
    },
    /// A picture by URL (a signed chart link), for platforms that show images from
    /// addresses; the others show `alt` and the link.
    Image {
        url: String,
        alt: String,
    },
}

/// Something the reader can do next: a button on platforms that have them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// A stable id that carries what the handler needs, e.g. `status:atlas:api:amber`.
    pub id: String,
    pub label: String,
    pub command: String,
}

/// What an attachment holds: text (a rendered digest, a Markdown report) or bytes (a chart).
/// In JSON, text is a string and bytes are `{"base64": "…"}`, so outbox rows stay JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BodyJson", into = "BodyJson")]
pub enum Body {
    Text(String),
    Bytes(Vec<u8>),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum BodyJson {
    Text(String),
    Bytes { base64: String },
}

impl From<Body> for BodyJson {
    fn from(b: Body) -> Self {
        use base64::Engine as _;
        match b {
            Body::Text(t) => BodyJson::Text(t),
            Body::Bytes(b) => BodyJson::Bytes {
                base64: base64::engine::general_purpose::STANDARD.encode(b),
            },
        }
    }
}

impl TryFrom<BodyJson> for Body {
    type Error = base64::DecodeError;

    fn try_from(j: BodyJson) -> Result<Self, Self::Error> {
        use base64::Engine as _;
        Ok(match j {
            BodyJson::Text(t) => Body::Text(t),
            BodyJson::Bytes { base64 } => {
                Body::Bytes(base64::engine::general_purpose::STANDARD.decode(base64)?)
            }
        })
    }
}

impl Body {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Text(t) => t.as_bytes(),
            Body::Bytes(b) => b,
        }
    }

    /// The text, for a body that is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Body::Text(t) => Some(t),
            Body::Bytes(_) => None,
        }
    }

    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::Text(s)
    }
}

impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Body::Bytes(b)
    }
}

/// A file that goes with a reply: a rendered digest, a Markdown report, a chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// A file name for platforms that upload files, e.g. `atlas-postmortem.md`.
    pub filename: String,
    pub media_type: String,
    pub body: Body,
    /// Where the console writes it (`--out`); `None` to show it (text) or upload it (on
    /// platforms that take files). The first attachment to save goes to this path, or into
    /// it when it is a directory; the others go beside the first, under their own names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_to: Option<String>,
}

impl Attachment {
    /// A PNG chart to upload (or save, with [`Attachment::save_to`]).
    pub fn png(filename: impl Into<String>, bytes: Vec<u8>) -> Self {
        Self {
            filename: filename.into(),
            media_type: "image/png".into(),
            body: Body::Bytes(bytes),
            save_to: None,
        }
    }

    pub fn is_image(&self) -> bool {
        self.media_type.starts_with("image/")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub title: String,
    pub tone: Tone,
    pub blocks: Vec<Block>,
    pub actions: Vec<Action>,
    /// Shown only to the one who asked, where the platform can.
    pub ephemeral: bool,
    /// Files that go with it, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The structured value behind the reply (a digest, a path), which `--json` prints.
    #[serde(skip, default)]
    pub data: Option<serde_json::Value>,
    /// The chart its picture is, for platforms that show a chart at a link rather than
    /// take the file (Slack through a response URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<ChartOf>,
}

/// Which chart of which program a reply's picture is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartOf {
    pub program: Key,
    pub chart: ChartKind,
}

impl Reply {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            tone: Tone::Info,
            blocks: vec![],
            actions: vec![],
            ephemeral: false,
            attachments: vec![],
            data: None,
            chart: None,
        }
    }

    pub fn success(title: impl Into<String>) -> Self {
        Self {
            tone: Tone::Success,
            ..Self::new(title)
        }
    }

    pub fn tone(mut self, tone: Tone) -> Self {
        self.tone = tone;
        self
    }

    pub fn attach(mut self, a: Attachment) -> Self {
        self.attachments.push(a);
        self
    }

    /// The first attachment, if any: the document a reply in another format stands for.
    pub fn attachment(&self) -> Option<&Attachment> {
        self.attachments.first()
    }

    pub fn data(mut self, v: impl Serialize) -> Self {
        self.data = serde_json::to_value(v).ok();
        self
    }

    /// Says which chart the attached picture is.
    pub fn shows_chart(mut self, program: Key, chart: ChartKind) -> Self {
        self.chart = Some(ChartOf { program, chart });
        self
    }

    pub fn ephemeral(mut self) -> Self {
        self.ephemeral = true;
        self
    }

    pub fn heading(mut self, s: impl Into<String>) -> Self {
        self.blocks.push(Block::Heading { text: s.into() });
        self
    }

    pub fn paragraph(mut self, t: impl Into<Text>) -> Self {
        self.blocks.push(Block::Paragraph { text: t.into() });
        self
    }

    pub fn fields(mut self, fields: Vec<(&str, Text)>) -> Self {
        let fields = fields
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| Field {
                name: n.to_owned(),
                value: v,
            })
            .collect();
        self.blocks.push(Block::Fields { fields });
        self
    }

    pub fn list(mut self, items: Vec<Text>) -> Self {
        self.blocks.push(Block::List { items });
        self
    }

    pub fn table(mut self, columns: &[&str], rows: Vec<Vec<Text>>) -> Self {
        self.blocks.push(Block::Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
        });
        self
    }

    pub fn preformatted(mut self, s: impl Into<String>) -> Self {
        self.blocks.push(Block::Preformatted { text: s.into() });
        self
    }

    pub fn image(mut self, url: impl Into<String>, alt: impl Into<String>) -> Self {
        self.blocks.push(Block::Image {
            url: url.into(),
            alt: alt.into(),
        });
        self
    }

    pub fn action(
        mut self,
        id: impl Into<String>,
        label: impl Into<String>,
        command: impl Into<String>,
    ) -> Self {
        self.actions.push(Action {
            id: id.into(),
            label: label.into(),
            command: command.into(),
        });
        self
    }

    /// Every person the reply names, in order, once each: the only people a platform may ping.
    pub fn mentions(&self) -> Vec<&Mention> {
        let mut texts: Vec<&Text> = Vec::new();
        for b in &self.blocks {
            match b {
                Block::Paragraph { text } => texts.push(text),
                Block::Fields { fields } => texts.extend(fields.iter().map(|f| &f.value)),
                Block::List { items } => texts.extend(items.iter()),
                Block::Table { rows, .. } => texts.extend(rows.iter().flatten()),
                Block::Heading { .. } | Block::Preformatted { .. } | Block::Image { .. } => {}
            }
        }
        let mut seen = std::collections::HashSet::new();
        texts
            .into_iter()
            .flat_map(|t| t.mentions())
            .filter(|m| seen.insert(m.handle.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(handle: &str) -> Mention {
        Mention {
            handle: handle.into(),
            name: handle.into(),
        }
    }

    #[test]
    fn mentions_are_the_typed_people_once_each_in_order() {
        let reply = Reply::new("t")
            .paragraph(Text::plain("<@999> @everyone in text is not a mention ").person(m("dana")))
            .fields(vec![("Owner", Text::new().person(m("li")))])
            .table(
                &["Who"],
                vec![
                    vec![Text::new().person(m("dana"))],
                    vec![Text::new().person(m("sam"))],
                ],
            )
            .list(vec![Text::new().person(m("li"))]);
        let handles: Vec<&str> = reply.mentions().iter().map(|m| m.handle.as_str()).collect();
        assert_eq!(handles, ["dana", "li", "sam"]);
    }

    #[test]
    fn marked_text_turns_backticks_into_code() {
        assert_eq!(
            Text::marked("needs `Auth API` from X"),
            Text::new().text("needs ").code("Auth API").text(" from X")
        );
        assert_eq!(
            Text::marked("a `b` c `d"),
            Text::new().text("a ").code("b").text(" c ").text("`d")
        );
    }

    #[test]
    fn empty_text_is_empty_and_fields_drop_it() {
        assert!(Text::plain("").is_empty());
        assert!(!Text::new().person(m("x")).is_empty());
        let reply =
            Reply::new("t").fields(vec![("Gone", Text::plain("")), ("Kept", Text::plain("v"))]);
        let Block::Fields { fields } = &reply.blocks[0] else {
            panic!()
        };
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].name, "Kept");
    }
}
