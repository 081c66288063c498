//! What a button or a form asks for. One type writes the ids that messages carry
//! (`status:atlas:api:amber`, `dep:atlas:3:deliver`) and reads them back when the button is
//! clicked or the form sent, on every platform.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Audience, Invalid, Key, Rag};

/// A button's or a form's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ActionId {
    /// A status prompt's colour button, and the form it opens: `status:PROGRAM:PROJECT:RAG`.
    Status {
        program: Key,
        project: Key,
        rag: Rag,
    },
    /// A blocker ping's "Delivered": `dep:PROGRAM:N:deliver`.
    DepDeliver { program: Key, number: i64 },
    /// A blocker ping's "Snooze a week": `dep:PROGRAM:N:snooze`.
    DepSnooze { program: Key, number: i64 },
    /// A dependency request's "Accept": `dep:PROGRAM:N:accept`.
    DepAccept { program: Key, number: i64 },
    /// A dependency request's "Propose a date", and the form it opens: `dep:PROGRAM:N:propose`.
    DepPropose { program: Key, number: i64 },
    /// A dependency request's "Decline", and the form it opens: `dep:PROGRAM:N:decline`.
    DepDecline { program: Key, number: i64 },
    /// A reminder's "Done" for an action item: `action:PROGRAM:N:done`.
    ActionDone { program: Key, number: i64 },
    /// A report's "Full digest": `digest:PROGRAM:AUDIENCE`.
    Digest { program: Key, audience: Audience },
    /// A reminder's "My inbox": everything waiting on whoever clicks, `inbox`.
    Inbox,
}

/// Ids are at most this long (Slack's `action_id` and Discord's `custom_id` both take 100,
/// and Discord's carries the guild before it).
pub const ACTION_ID_MAX: usize = 70;

impl ActionId {
    /// Reads an id written by [`fmt::Display`]; anything else is `None` (a button of an
    /// older version, or not ours).
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() > ACTION_ID_MAX {
            return None;
        }
        let parts: Vec<&str> = raw.split(':').collect();
        match parts.as_slice() {
            ["status", program, project, rag] => Some(Self::Status {
                program: Key::parse(program).ok()?,
                project: Key::parse(project).ok()?,
                rag: Rag::parse(rag).ok()?,
            }),
            ["digest", program, audience] => Some(Self::Digest {
                program: Key::parse(program).ok()?,
                audience: Audience::parse(audience)
                    .ok()
                    .filter(|a| a.as_str() == *audience)?,
            }),
            ["inbox"] => Some(Self::Inbox),
            ["action", program, n, "done"] => Some(Self::ActionDone {
                program: Key::parse(program).ok()?,
                number: number(n)?,
            }),
            ["dep", program, n, verb] => {
                let program = Key::parse(program).ok()?;
                let number = number(n)?;
                match *verb {
                    "deliver" => Some(Self::DepDeliver { program, number }),
                    "snooze" => Some(Self::DepSnooze { program, number }),
                    "accept" => Some(Self::DepAccept { program, number }),
                    "propose" => Some(Self::DepPropose { program, number }),
                    "decline" => Some(Self::DepDecline { program, number }),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The command the button stands for, as a person would type it: shown where buttons
    /// cannot be, and what a click runs.
    pub fn command_line(&self) -> String {
        match self {
            Self::Status {
                program,
                project,
                rag,
            } => format!(
                "status post {program} {project} --rag {} --summary \"…\"",
                rag.as_str()
            ),
            Self::DepDeliver { program, number } => format!("dep deliver {program} {number}"),
            Self::DepSnooze { program, number } => {
                format!("dep snooze {program} {number} --until +1w")
            }
            Self::DepAccept { program, number } => format!("dep accept {program} {number}"),
            Self::ActionDone { program, number } => format!("action done {program} {number}"),
            Self::DepPropose { program, number } => {
                format!("dep propose {program} {number} --by DATE --reason \"…\"")
            }
            Self::DepDecline { program, number } => {
                format!("dep decline {program} {number} --reason \"…\"")
            }
            Self::Digest { program, audience } => {
                format!("digest show {program} --audience {}", audience.as_str())
            }
            Self::Inbox => "inbox".to_owned(),
        }
    }

    /// The words a click runs at once, or `None` for a button that asks for more first (a
    /// status colour opens a form).
    pub fn words(&self) -> Option<Vec<String>> {
        let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect();
        match self {
            Self::Status { .. } | Self::DepPropose { .. } | Self::DepDecline { .. } => None,
            Self::DepAccept { program, number } => Some(words(&[
                "dep",
                "accept",
                program.as_str(),
                &number.to_string(),
            ])),
            Self::ActionDone { program, number } => Some(words(&[
                "action",
                "done",
                program.as_str(),
                &number.to_string(),
            ])),
            Self::DepDeliver { program, number } => Some(words(&[
                "dep",
                "deliver",
                program.as_str(),
                &number.to_string(),
            ])),
            Self::DepSnooze { program, number } => Some(words(&[
                "dep",
                "snooze",
                program.as_str(),
                &number.to_string(),
                "--until",
                "+1w",
            ])),
            Self::Digest { program, audience } => Some(words(&[
                "digest",
                "show",
                program.as_str(),
                "--audience",
                audience.as_str(),
            ])),
            Self::Inbox => Some(words(&["inbox"])),
        }
    }
}

/// A record number as an id carries it: 1 to 1,000,000, digits only.
fn number(raw: &str) -> Option<i64> {
    if raw.is_empty() || raw.len() > 7 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok().filter(|n| (1..=1_000_000).contains(n))
}

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status {
                program,
                project,
                rag,
            } => write!(f, "status:{program}:{project}:{}", rag.as_str()),
            Self::DepDeliver { program, number } => write!(f, "dep:{program}:{number}:deliver"),
            Self::DepSnooze { program, number } => write!(f, "dep:{program}:{number}:snooze"),
            Self::DepAccept { program, number } => write!(f, "dep:{program}:{number}:accept"),
            Self::ActionDone { program, number } => write!(f, "action:{program}:{number}:done"),
            Self::DepPropose { program, number } => write!(f, "dep:{program}:{number}:propose"),
            Self::DepDecline { program, number } => write!(f, "dep:{program}:{number}:decline"),
            Self::Digest { program, audience } => {
                write!(f, "digest:{program}:{}", audience.as_str())
            }
            Self::Inbox => f.write_str("inbox"),
        }
    }
}

impl TryFrom<String> for ActionId {
    type Error = Invalid;
    fn try_from(raw: String) -> Result<Self, Invalid> {
        Self::parse(&raw).ok_or_else(|| Invalid(format!("`{raw}` is not a button id")))
    }
}

impl From<ActionId> for String {
    fn from(a: ActionId) -> String {
        a.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Key {
        Key::parse(k).unwrap()
    }

    #[test]
    fn ids_read_back_what_they_write() {
        let ids = [
            ActionId::Status {
                program: key("atlas"),
                project: key("api"),
                rag: Rag::Amber,
            },
            ActionId::DepDeliver {
                program: key("atlas"),
                number: 3,
            },
            ActionId::DepSnooze {
                program: key("atlas"),
                number: 1_000_000,
            },
            ActionId::DepAccept {
                program: key("atlas"),
                number: 4,
            },
            ActionId::DepPropose {
                program: key("a-very-long-program-key-xx"),
                number: 1_000_000,
            },
            ActionId::DepDecline {
                program: key("atlas"),
                number: 5,
            },
            ActionId::ActionDone {
                program: key("atlas"),
                number: 7,
            },
            ActionId::Digest {
                program: key("atlas"),
                audience: Audience::Engineering,
            },
            ActionId::Inbox,
        ];
        for id in ids {
            let raw = id.to_string();
            assert!(raw.len() <= ACTION_ID_MAX, "{raw}");
            assert_eq!(ActionId::parse(&raw), Some(id.clone()), "{raw}");
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<ActionId>(&json).unwrap(), id);
        }
        assert_eq!(
            ActionId::parse("status:atlas:api:amber")
                .unwrap()
                .to_string(),
            "status:atlas:api:amber"
        );
        assert_eq!(
            ActionId::parse("dep:atlas:3:snooze")
                .unwrap()
                .words()
                .unwrap(),
            ["dep", "snooze", "atlas", "3", "--until", "+1w"]
        );
        assert_eq!(
            ActionId::parse("status:atlas:api:red")
                .unwrap()
                .command_line(),
            "status post atlas api --rag red --summary \"…\""
        );
    }

    #[test]
    fn anything_else_is_not_an_id() {
        for bad in [
            "",
            "nope",
            "status:atlas:api",
            "status:atlas:api:purple",
            "status:Atlas:api:red",
            "status:BAD KEY:api:red",
            "status:atlas:api:red:x",
            "dep:atlas:3",
            "dep:atlas:3:frobnicate",
            "dep:atlas:0:deliver",
            "dep:atlas:-1:deliver",
            "dep:atlas:+1:deliver",
            "dep:atlas:99999999:deliver",
            "42:status:atlas:api:red",
            "digest:atlas",
            "digest:atlas:board",
            "digest:atlas:Engineering",
            "inbox:atlas",
            "Inbox",
        ] {
            assert_eq!(ActionId::parse(bad), None, "{bad}");
        }
        assert!(serde_json::from_str::<ActionId>("\"dep:x\"").is_err());
    }
}
