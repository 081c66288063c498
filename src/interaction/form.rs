//! The forms a button opens: the status form of a prompt's colour button (what comes back
//! becomes a `status post`), and the answer forms of a dependency request's "Propose a
//! date" and "Decline" (a `dep propose` or `dep decline`). Each knows its fields and their
//! words, and which command its values make.

use std::collections::HashMap;

use crate::command::grammar::{DepCmd, ForProject, Numbered, StatusCmd};
use crate::command::Command;
use crate::domain::{ActionId, DateSpec, Key, Prose, Rag, StatusField};
use crate::reply::Reply;

/// A form a button opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    Status(StatusForm),
    Answer(AnswerForm),
}

/// How the provider answers a dependency request in a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Another date, and why.
    Propose,
    /// No, and why.
    Decline,
}

/// The form of a dependency request's "Propose a date" or "Decline".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerForm {
    pub program: Key,
    pub number: i64,
    pub answer: Answer,
}

/// The ids of the answer forms' fields.
pub const FIELD_BY: &str = "by";
pub const FIELD_REASON: &str = "reason";

impl Form {
    /// The form a button opens, or `None` for a button that runs its command at once.
    pub fn of(id: &ActionId) -> Option<Self> {
        match id.clone() {
            ActionId::Status {
                program,
                project,
                rag,
            } => Some(Self::Status(StatusForm::new(program, project, rag))),
            ActionId::DepPropose { program, number } => Some(Self::Answer(AnswerForm {
                program,
                number,
                answer: Answer::Propose,
            })),
            ActionId::DepDecline { program, number } => Some(Self::Answer(AnswerForm {
                program,
                number,
                answer: Answer::Decline,
            })),
            _ => None,
        }
    }

    /// The button that opens it, whose id the form is sent back under.
    pub fn action(&self) -> ActionId {
        match self {
            Self::Status(f) => ActionId::Status {
                program: f.program.clone(),
                project: f.project.clone(),
                rag: f.rag,
            },
            Self::Answer(f) => {
                let (program, number) = (f.program.clone(), f.number);
                match f.answer {
                    Answer::Propose => ActionId::DepPropose { program, number },
                    Answer::Decline => ActionId::DepDecline { program, number },
                }
            }
        }
    }

    /// The id the form is sent back under.
    pub fn id(&self) -> String {
        self.action().to_string()
    }

    pub fn title(&self) -> String {
        match self {
            Self::Status(f) => f.title(),
            Self::Answer(f) => format!(
                "Dependency #{} of {}: {}",
                f.number,
                f.program,
                f.short_title()
            ),
        }
    }

    /// A title short enough for platforms whose form titles are short (24 characters).
    pub fn short_title(&self) -> String {
        match self {
            Self::Status(f) => f.short_title(),
            Self::Answer(f) => f.short_title().to_owned(),
        }
    }

    /// The label of the button that sends it.
    pub fn submit_label(&self) -> &'static str {
        match self {
            Self::Status(_) => "Post",
            Self::Answer(_) => "Send",
        }
    }

    pub fn fields(&self) -> Vec<FormField> {
        match self {
            Self::Status(f) => f.fields().to_vec(),
            Self::Answer(f) => f.fields(),
        }
    }

    /// The command the values make, or the field that cannot be read and why.
    pub fn command(&self, values: &FormValues) -> Result<Command, (&'static str, String)> {
        match self {
            Self::Status(f) => f.command(values),
            Self::Answer(f) => f.command(values),
        }
    }

    /// The field a refusal of the command is about, when it is a rule of one field (an amber
    /// update without blockers): the form can show it there.
    pub fn field_of(&self, values: &FormValues, refusal: &str) -> Option<&'static str> {
        match self {
            Self::Status(f) => match f.missing(&f.given(values)) {
                Some((field, rule)) if rule == refusal => Some(field),
                _ => None,
            },
            Self::Answer(_) => None,
        }
    }

    /// The field a refusal of the whole form is shown under, on platforms that show
    /// refusals under a field.
    pub fn first_field(&self) -> &'static str {
        match self {
            Self::Status(_) => StatusField::Summary.id(),
            Self::Answer(f) => f.fields()[0].id,
        }
    }

    /// Where a form cannot open: what to send instead, and the line to type.
    pub fn instead(&self) -> (String, String, String) {
        let line = self.action().command_line();
        match self {
            Self::Status(f) => (
                format!(
                    "{} status for {}",
                    f.rag.as_str().to_uppercase(),
                    f.project.as_str()
                ),
                "Send this, with your summary (and blockers or next steps for amber and red):"
                    .to_owned(),
                line,
            ),
            Self::Answer(f) => (
                format!("{} dependency #{}", f.short_title(), f.number),
                match f.answer {
                    Answer::Propose => "Send this, with the date you can deliver by and why:",
                    Answer::Decline => "Send this, with why it cannot be done:",
                }
                .to_owned(),
                line,
            ),
        }
    }
}

impl AnswerForm {
    pub fn short_title(&self) -> &'static str {
        match self.answer {
            Answer::Propose => "Propose a date",
            Answer::Decline => "Decline",
        }
    }

    pub fn fields(&self) -> Vec<FormField> {
        let reason = FormField {
            id: FIELD_REASON,
            label: "Why",
            required: true,
            hint: match self.answer {
                Answer::Propose => "Why this date: the consuming team reads it".to_owned(),
                Answer::Decline => "Why it cannot be done: the consuming team reads it".to_owned(),
            },
            max_chars: Prose::MAX_CHARS,
            multiline: true,
        };
        match self.answer {
            Answer::Propose => vec![
                FormField {
                    id: FIELD_BY,
                    label: "Date you can deliver by",
                    required: true,
                    hint: "2027-01-15, +2w or fri".to_owned(),
                    max_chars: 20,
                    multiline: false,
                },
                reason,
            ],
            Answer::Decline => vec![reason],
        }
    }

    pub fn command(&self, values: &FormValues) -> Result<Command, (&'static str, String)> {
        let reason = match values.get(FIELD_REASON) {
            Some(v) => Prose::parse(v.trim()).map_err(|e| (FIELD_REASON, e.0))?,
            None => {
                return Err((
                    FIELD_REASON,
                    "say why: the consuming team is told".to_owned(),
                ))
            }
        };
        let target = Numbered {
            first: Some(self.program.as_str().to_owned()),
            second: Some(self.number.to_string()),
        };
        Ok(Command::Dep(match self.answer {
            Answer::Propose => {
                let by = match values.get(FIELD_BY) {
                    Some(v) => DateSpec::parse(v.trim()).map_err(|e| (FIELD_BY, e.0))?,
                    None => return Err((FIELD_BY, "give the date you can deliver by".to_owned())),
                };
                DepCmd::Propose { target, by, reason }
            }
            Answer::Decline => DepCmd::Decline { target, reason },
        }))
    }
}

/// One text field of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    /// The id the platform sends the value back under.
    pub id: &'static str,
    pub label: &'static str,
    pub required: bool,
    /// A line under or inside the field.
    pub hint: String,
    /// The most characters it takes.
    pub max_chars: usize,
    /// Several lines (prose) or one (a date).
    pub multiline: bool,
}

/// A status prompt's form for one project and colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusForm {
    pub program: Key,
    pub project: Key,
    pub rag: Rag,
}

/// What a form sent back, by field id; empty values count as not given.
#[derive(Debug, Clone, Default)]
pub struct FormValues(HashMap<String, String>);

impl FormValues {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(&mut self, field: &str, value: &str) {
        self.0.insert(field.to_owned(), value.to_owned());
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .get(field)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

impl FromIterator<(String, String)> for FormValues {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// What came of a sent form.
pub enum Submitted {
    /// Posted; the reply to show the one who sent it.
    Done(Reply),
    /// One field is wrong: the platform shows the message against it and may keep the form
    /// open.
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Refused as a whole (not allowed, the project is gone, an internal error), in words.
    Refused(String),
}

impl StatusForm {
    pub fn new(program: Key, project: Key, rag: Rag) -> Self {
        Self {
            program,
            project,
            rag,
        }
    }

    /// The id the form is sent back under.
    pub fn id(&self) -> String {
        ActionId::Status {
            program: self.program.clone(),
            project: self.project.clone(),
            rag: self.rag,
        }
        .to_string()
    }

    /// `api in atlas: Amber`.
    pub fn title(&self) -> String {
        format!(
            "{} in {}: {}",
            self.project,
            self.program,
            capitalised(self.rag.as_str())
        )
    }

    /// `Status: Amber`, for platforms whose form titles are short.
    pub fn short_title(&self) -> String {
        format!("Status: {}", capitalised(self.rag.as_str()))
    }

    /// The three fields: summary, blockers, next steps.
    pub fn fields(&self) -> [FormField; 3] {
        let needs = match self.rag {
            Rag::Green => "optional",
            _ => "amber and red need blockers or next steps",
        };
        let field = |id, label, required, hint: String| FormField {
            id,
            label,
            required,
            hint,
            max_chars: Prose::MAX_CHARS,
            multiline: true,
        };
        [
            field(
                StatusField::Summary.id(),
                "Summary",
                true,
                "Where things stand this week".to_owned(),
            ),
            field(
                StatusField::Blockers.id(),
                "Blockers",
                false,
                format!("What is in the way ({needs})"),
            ),
            field(
                StatusField::Next.id(),
                "Next steps",
                false,
                format!("What happens next ({needs})"),
            ),
        ]
    }

    /// The `status post` the values make, or the field that cannot be read (or the
    /// missing summary) and why. Whether amber and red say what is in the way is the
    /// command's to check, after who may post: see [`StatusForm::missing`].
    pub fn command(&self, values: &FormValues) -> Result<Command, (&'static str, String)> {
        let prose = |field: StatusField| -> Result<Option<Prose>, (&'static str, String)> {
            values
                .get(field.id())
                .map(|v| Prose::parse(v.trim()).map_err(|e| (field.id(), e.0)))
                .transpose()
        };
        let summary = prose(StatusField::Summary)?;
        let blockers = prose(StatusField::Blockers)?;
        let next_steps = prose(StatusField::Next)?;
        let Some(summary) = summary else {
            let (field, msg) = self
                .missing(&[false, blockers.is_some(), next_steps.is_some()])
                .expect("a missing summary is always refused");
            return Err((field, msg));
        };
        Ok(Command::Status(StatusCmd::Post {
            target: ForProject {
                first: Some(self.program.as_str().to_owned()),
                second: Some(self.project.as_str().to_owned()),
            },
            rag: self.rag,
            summary,
            blockers,
            next_steps,
        }))
    }

    /// Which of summary, blockers and next steps were given.
    pub fn given(&self, values: &FormValues) -> [bool; 3] {
        [
            StatusField::Summary,
            StatusField::Blockers,
            StatusField::Next,
        ]
        .map(|f| values.get(f.id()).is_some())
    }

    /// The field the update's rule finds missing, with the command's words for it.
    pub fn missing(&self, given: &[bool; 3]) -> Option<(&'static str, String)> {
        crate::domain::check_status_fields(self.rag, given[0], given[1], given[2])
            .err()
            .map(|(field, msg)| (field.id(), msg))
    }
}

fn capitalised(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(rag: Rag) -> StatusForm {
        StatusForm::new(
            Key::parse("atlas").unwrap(),
            Key::parse("api").unwrap(),
            rag,
        )
    }

    fn values(pairs: &[(&str, &str)]) -> FormValues {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_form_is_about_one_project_and_colour() {
        let f = form(Rag::Amber);
        assert_eq!(f.title(), "api in atlas: Amber");
        assert_eq!(f.short_title(), "Status: Amber");
        assert_eq!(f.id(), "status:atlas:api:amber");
        let fields = f.fields();
        assert_eq!(
            fields.iter().map(|f| f.id).collect::<Vec<_>>(),
            ["summary", "blockers", "next"]
        );
        assert!(fields[1].hint.contains("amber and red need"));
        assert!(form(Rag::Green).fields()[1].hint.contains("optional"));
    }

    #[test]
    fn each_wrong_field_is_named() {
        let amber = form(Rag::Amber);
        let err = |v: &[(&str, &str)]| amber.command(&values(v)).err().map(|(f, _)| f);
        assert_eq!(err(&[]), Some("summary"));
        assert_eq!(err(&[("summary", "   ")]), Some("summary"));
        // Blockers for amber are the command's to ask for, after who may post.
        assert_eq!(err(&[("summary", "Beta slipping")]), None);
        assert_eq!(
            amber.missing(&amber.given(&values(&[("summary", "Beta slipping")]))),
            Some((
                "blockers",
                "an amber update needs --blockers or --next, so readers know what is in the way"
                    .to_owned()
            ))
        );
        assert_eq!(
            err(&[("summary", "ok"), ("next", "a\u{202e}b")]),
            Some("next")
        );
        assert_eq!(err(&[("summary", "ok"), ("blockers", "perf")]), None);
        assert!(form(Rag::Green)
            .command(&values(&[("summary", "all good")]))
            .is_ok());
    }
}
