//! Small validated values: keys, bounded text, RAG, risk levels, states, timezones.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Invalid;

macro_rules! string_newtype_serde {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $ty::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
        impl FromStr for $ty {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                $ty::parse(s)
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A short slug naming a program, project or milestone: `atlas`, `api-beta`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(String);

impl Key {
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let ok_shape = raw.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !raw.ends_with('-');
        if !ok_shape || raw.len() > Self::MAX_LEN {
            return Err(Invalid(format!(
                "`{}` is not a valid key: use lowercase letters, digits and '-', starting with a letter, at most {} characters (e.g. `api-beta`)",
                truncate_for_error(raw),
                Self::MAX_LEN
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_newtype_serde!(Key);

/// Bidirectional embeddings, overrides and isolates: they reorder what a reader sees
/// (U+202A–U+202E, U+2066–U+2069). The plain marks (LRM, RLM) stay allowed.
fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The first invisible character in a title that could make two names look alike: zero-width
/// space, word joiner, byte-order mark, invisible operators, Mongolian vowel separator. The
/// zero-width (non-)joiner is allowed only between two non-ASCII characters, where emoji
/// sequences and Persian or Indic scripts need it.
fn hidden_in_title(text: &str) -> Option<char> {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        let hidden = match c {
            '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' => true,
            '\u{200C}' | '\u{200D}' => {
                let before = i.checked_sub(1).and_then(|j| chars.get(j));
                let after = chars.get(i + 1);
                !matches!((before, after), (Some(b), Some(a)) if !b.is_ascii() && !a.is_ascii())
            }
            _ => false,
        };
        hidden.then_some(c)
    })
}

/// A one-line human text: a name or a title. Not empty, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Invalid::new("a name or title cannot be empty"));
        }
        let chars = trimmed.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(Invalid(format!(
                "a name or title is at most {} characters (this one has {chars})",
                Self::MAX_CHARS
            )));
        }
        if trimmed.chars().any(|c| c.is_control()) {
            return Err(Invalid::new(
                "a name or title must be one line, without control characters",
            ));
        }
        if let Some(c) = trimmed.chars().find(|c| is_direction_override(*c)) {
            return Err(Invalid(format!(
                "a name or title must not contain the invisible direction control U+{:04X}: it makes text read differently from how it is stored",
                c as u32
            )));
        }
        if let Some(c) = hidden_in_title(trimmed) {
            return Err(Invalid(format!(
                "a name or title must not contain the invisible character U+{:04X}: two names would look alike and differ",
                c as u32
            )));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_newtype_serde!(Title);

/// A key is always a valid title: the default name of what it keys.
impl From<&Key> for Title {
    fn from(key: &Key) -> Self {
        Self(key.0.clone())
    }
}

/// An email address, as a tracker export or a directory gives it: one `@` with a local part
/// before it and a domain with a dot after it, no spaces, at most 254 characters. Kept as
/// written; compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        let bad = || {
            Invalid(format!(
                "`{}` is not an email address: write it as name@example.com",
                truncate_for_error(trimmed)
            ))
        };
        if trimmed.len() > Self::MAX_LEN {
            return Err(Invalid(format!(
                "an email address is at most {} characters (this one has {})",
                Self::MAX_LEN,
                trimmed.len()
            )));
        }
        let (local, domain) = trimmed.split_once('@').ok_or_else(bad)?;
        let domain_ok = !domain.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.chars().all(|c| {
                !c.is_whitespace()
                    && !c.is_control()
                    && !matches!(c, '<' | '>' | '@' | ',' | ';' | '"')
            });
        if !domain_ok || !local_ok {
            return Err(bad());
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_newtype_serde!(Email);

/// The id a record has in the tracker it was imported from (a Jira issue key, a Linear id, a
/// GitHub milestone's address): one line, at most 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId(String);

impl ExternalId {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Invalid::new("a tracker id cannot be empty"));
        }
        if trimmed.chars().count() > Self::MAX_CHARS || trimmed.chars().any(char::is_control) {
            return Err(Invalid(format!(
                "`{}` is not a tracker id: one line, at most {} characters",
                truncate_for_error(trimmed),
                Self::MAX_CHARS
            )));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_newtype_serde!(ExternalId);

/// A paragraph of free text (summary, mitigation, context). At most 4000 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Prose(String);

impl Prose {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(Invalid(format!(
                "a text field is at most {} characters (this one has {chars})",
                Self::MAX_CHARS
            )));
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(Invalid::new("text must not contain control characters"));
        }
        if let Some(c) = trimmed.chars().find(|c| is_direction_override(*c)) {
            return Err(Invalid(format!(
                "text must not contain the invisible direction control U+{:04X}: it makes text read differently from how it is stored",
                c as u32
            )));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
string_newtype_serde!(Prose);

/// A program timezone, an IANA name known to chrono-tz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timezone(pub chrono_tz::Tz);

impl Timezone {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        raw.parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            Invalid(format!(
                "unknown timezone `{}`: use an IANA name such as `Europe/Berlin`, `America/New_York` or `UTC`",
                truncate_for_error(raw)
            ))
        })
    }

    pub fn as_str(&self) -> &str {
        self.0.name()
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }
}
string_newtype_serde!(Timezone);

impl Default for Timezone {
    fn default() -> Self {
        Self(chrono_tz::UTC)
    }
}

/// Shortens user input quoted back in an error, so a pasted novel does not flood the reply,
/// and escapes it: quoted inside backticks, a backtick cannot end the code span early, and a
/// newline, control or invisible character shows as its escape instead of acting.
pub fn truncate_for_error(raw: &str) -> String {
    const MAX: usize = 40;
    let mut out = String::with_capacity(raw.len().min(4 * MAX));
    for (i, c) in raw.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        match c {
            '`' => out.push('\''),
            '\n' | '\r' | '\t' => out.extend(c.escape_default()),
            c if c.is_control()
                || is_direction_override(c)
                || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}') =>
            {
                out.extend(c.escape_unicode())
            }
            c => out.push(c),
        }
    }
    out
}

macro_rules! word_enum {
    ($(#[$meta:meta])* $ty:ident, $what:literal, { $($variant:ident => $word:literal),+ $(,)? }) => {
        word_enum!($(#[$meta])* $ty, $what, { $($variant => $word),+ }, aliases {});
    };
    ($(#[$meta:meta])* $ty:ident, $what:literal, { $($variant:ident => $word:literal),+ $(,)? },
     aliases { $($alias:literal => $target:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $ty { $($variant),+ }

        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                match raw.trim().to_ascii_lowercase().as_str() {
                    $($word => Ok($ty::$variant),)+
                    $($alias => Ok($ty::$target),)*
                    _ => Err(Invalid(format!(
                        concat!("`{}` is not a ", $what, ": use one of {}"),
                        truncate_for_error(raw),
                        [$($word),+].join(", ")
                    ))),
                }
            }

            pub fn as_str(&self) -> &'static str {
                match self { $($ty::$variant => $word),+ }
            }
        }
        string_newtype_serde!($ty);
    };
}

word_enum!(
    /// Red / amber / green health. Ordered so that `max` is the worst. `yellow` is read
    /// as amber, as many teams call it.
    Rag, "RAG value", { Green => "green", Amber => "amber", Red => "red" },
    aliases { "yellow" => Amber }
);
word_enum!(
    /// Where a milestone stands.
    MilestoneState, "milestone state", { Planned => "planned", Done => "done", Cancelled => "cancelled" }
);
word_enum!(
    /// Where a dependency stands.
    DepState, "dependency state", { Open => "open", AtRisk => "at-risk", Blocked => "blocked", Delivered => "delivered", Cancelled => "cancelled" }
);
word_enum!(
    /// Where a risk stands.
    RiskState, "risk state", { Open => "open", Mitigating => "mitigating", Accepted => "accepted", Closed => "closed", Realized => "realized" }
);
word_enum!(
    /// Where a dependency's agreement stands: asked of the provider, agreed (with an
    /// optional committed date), answered with another date, or declined.
    Agreement, "agreement", { Requested => "requested", Accepted => "accepted", Proposed => "proposed", Declined => "declined" }
);
word_enum!(
    /// The entries of the RAID log kept in one table: assumptions (to validate by a date),
    /// issues (problems happening now) and action items.
    ItemKind, "kind of entry", { Assumption => "assumption", Issue => "issue", Action => "action" }
);
word_enum!(
    /// Where an assumption, issue or action stands: open; an assumption validated or
    /// invalidated; an issue resolved; an action done.
    ItemState, "state", { Open => "open", Validated => "validated", Invalidated => "invalidated", Resolved => "resolved", Done => "done" }
);
word_enum!(
    /// How bad an issue is. Ordered so that `max` is the worst.
    Severity, "severity", { Low => "low", Medium => "medium", High => "high", Critical => "critical" }
);
word_enum!(
    /// What an invalidated assumption is raised as.
    Raise, "record to raise", { Risk => "risk", Issue => "issue" }
);
word_enum!(
    /// Where a change request stands.
    ChangeState, "change request state", { Proposed => "proposed", Approved => "approved", Rejected => "rejected" }
);
word_enum!(
    /// What an action is for, or where an issue came from.
    LinkKind, "record kind", { Decision => "decision", Risk => "risk", Issue => "issue", Dep => "dep", Assumption => "assumption" }
);
word_enum!(
    /// What a milestone's duration counts: the program's working days (work days minus
    /// holidays), or, for durations entered before working days were kept, calendar days.
    DurationUnit, "duration unit", { Work => "work", Calendar => "calendar" }
);
word_enum!(
    /// A person's role on a program. The owner is the TPM.
    Role, "role", { Viewer => "viewer", Editor => "editor", Owner => "owner" }
);
word_enum!(
    /// How bad a risk is, from its score.
    RiskBand, "risk band", { Low => "low", Medium => "medium", High => "high", Critical => "critical" }
);

word_enum!(
    /// Who a digest is for.
    Audience, "digest audience", { Engineering => "engineering", Executive => "executive", Product => "product" }
);

word_enum!(
    /// What a schedule runs: status prompts, reminders to those who did not answer,
    /// digests, or the daily nudges (blockers, risk reviews, milestones due).
    ScheduleKind, "schedule kind", { Prompt => "prompt", Reminder => "reminder", Digest => "digest", Nudge => "nudge" }
);

word_enum!(
    /// How a digest is rendered: for reading here, or as the payload a platform is sent.
    Format, "format", { Text => "text", Markdown => "markdown", Discord => "discord", Slack => "slack", Json => "json" }
);

word_enum!(
    /// Which picture `chart show` draws.
    ChartKind, "chart", { Timeline => "timeline", Risks => "risks", Deps => "deps", Trend => "trend" }
);

word_enum!(
    /// How `path map` draws the dependency map: Mermaid or Graphviz DOT text, or a PNG.
    MapFormat, "map format", { Mermaid => "mermaid", Dot => "dot", Png => "png" }
);

/// A risk likelihood or impact, 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Level(u8);

impl Level {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim().parse::<u8>() {
            Ok(n @ 1..=5) => Ok(Self(n)),
            _ => Err(Invalid(format!(
                "`{}` is out of range: likelihood and impact are whole numbers from 1 to 5",
                truncate_for_error(raw)
            ))),
        }
    }

    pub fn new(n: i64) -> Result<Self, Invalid> {
        Self::parse(&n.to_string())
    }

    pub fn get(&self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        Level::new(n).map_err(serde::de::Error::custom)
    }
}

impl FromStr for Level {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Level::parse(s)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl RiskBand {
    /// Bands of a likelihood × impact score: low ≤ 4, medium 5–9, high 10–14, critical ≥ 15.
    pub fn of_score(score: u8) -> Self {
        match score {
            0..=4 => RiskBand::Low,
            5..=9 => RiskBand::Medium,
            10..=14 => RiskBand::High,
            _ => RiskBand::Critical,
        }
    }
}

/// Likelihood × impact.
pub fn risk_score(likelihood: Level, impact: Level) -> u8 {
    likelihood.get() * impact.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_slugs() {
        assert!(Key::parse("atlas").is_ok());
        assert!(Key::parse("api-beta2").is_ok());
        for bad in ["", "Atlas", "2fast", "a_b", "a-", "a b", &"x".repeat(33)] {
            assert!(Key::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn echoed_input_is_shortened_and_escaped() {
        assert_eq!(truncate_for_error("api-beta"), "api-beta");
        assert_eq!(truncate_for_error("a`b"), "a'b");
        assert_eq!(truncate_for_error("line\nbreak"), "line\\nbreak");
        assert_eq!(truncate_for_error("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(truncate_for_error("\u{7}"), "\\u{7}");
        let long = truncate_for_error(&"é".repeat(10_000));
        assert_eq!(long.chars().count(), 41);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn invisible_characters_are_refused_where_they_could_deceive() {
        // Trojan-source style reordering, in titles and in free text.
        for bad in ["admin\u{202E}gnp.exe", "a\u{2066}b\u{2069}", "\u{202D}x"] {
            let e = Title::parse(bad).unwrap_err().0;
            assert!(e.contains("direction control U+"), "{e}");
            let e = Prose::parse(bad).unwrap_err().0;
            assert!(e.contains("direction control U+"), "{e}");
        }
        // Zero-width characters that make two names look alike.
        for bad in [
            "Pub\u{200B}lic API",
            "API\u{FEFF}",
            "a\u{2060}b",
            "api\u{200D}beta",
            "\u{200C}API",
        ] {
            let e = Title::parse(bad).unwrap_err().0;
            assert!(e.contains("invisible character U+"), "{bad:?}: {e}");
        }
        // Joiners where scripts and emoji need them, and the plain direction marks.
        for good in [
            "Launch \u{1F468}\u{200D}\u{1F4BB} team",
            "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}",
            "\u{05E9}\u{05DC}\u{05D5}\u{05DD}\u{200F} API",
        ] {
            assert!(Title::parse(good).is_ok(), "{good:?}");
        }
        assert!(Prose::parse("zero\u{200B}width in free text is harmless").is_ok());
    }

    #[test]
    fn titles_are_bounded() {
        assert_eq!(Title::parse("  API beta ").unwrap().as_str(), "API beta");
        assert!(Title::parse("").is_err());
        assert!(Title::parse(&"a".repeat(201)).is_err());
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert!(Title::parse("two\nlines").is_err());
    }

    #[test]
    fn levels_are_one_to_five() {
        assert_eq!(Level::parse("4").unwrap().get(), 4);
        for bad in ["0", "6", "7", "-1", "x", "2.5"] {
            let err = Level::parse(bad).unwrap_err();
            assert!(err.0.contains("1 to 5"), "{err}");
        }
    }

    #[test]
    fn bands_follow_design() {
        let band = |s| RiskBand::of_score(s);
        assert_eq!(band(4), RiskBand::Low);
        assert_eq!(band(5), RiskBand::Medium);
        assert_eq!(band(9), RiskBand::Medium);
        assert_eq!(band(10), RiskBand::High);
        assert_eq!(band(14), RiskBand::High);
        assert_eq!(band(15), RiskBand::Critical);
        assert_eq!(band(25), RiskBand::Critical);
    }

    #[test]
    fn rag_orders_worst_last() {
        assert!(Rag::Red > Rag::Amber && Rag::Amber > Rag::Green);
        assert_eq!(Rag::parse("AMBER").unwrap(), Rag::Amber);
        assert!(Rag::parse("blue")
            .unwrap_err()
            .0
            .contains("green, amber, red"));
    }

    #[test]
    fn timezones_are_iana() {
        assert_eq!(
            Timezone::parse("Europe/Berlin").unwrap().as_str(),
            "Europe/Berlin"
        );
        assert!(Timezone::parse("Mars/Olympus")
            .unwrap_err()
            .0
            .contains("IANA"));
    }
}
