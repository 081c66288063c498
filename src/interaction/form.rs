//! The status form a prompt's colour button opens: its fields and their words, and how
//! what comes back becomes a `status post`.

use std::collections::HashMap;

use crate::command::grammar::{ForProject, StatusCmd};
use crate::command::Command;
use crate::domain::{ActionId, Key, Prose, Rag, StatusField};
use crate::reply::Reply;

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

    fn get(&self, field: &str) -> Option<&str> {
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
