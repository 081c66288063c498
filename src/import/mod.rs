//! Importing the plan people already keep elsewhere: a spreadsheet saved as CSV
//! (`import-csv`), Jira's and Linear's CSV exports and GitHub's milestones JSON
//! (`import-jira`, `import-linear`, `import-github`), and writing a program back out as the
//! same sheets (`export --csv`).
//!
//! Every source is first read into [`Sheet`]s: rows of fields, each remembering the column
//! that fed it. Each row then becomes the commands a person would type (`milestone add`,
//! `milestone move … --reason`, `dep set`, …), and all of them run as one plan through the
//! command layer: the same validation and permissions as typed commands, all or nothing,
//! and a refusal is reported against the row and column it came from.

mod apply;
mod export;
mod sheet;
mod trackers;

use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use apply::{apply, Outcome, Report};
pub use export::export_csv;
pub use sheet::{parse_date, read_csv, CsvOptions};
pub use trackers::{read_github, read_jira, read_linear};

/// Reads one file into its sheets, or says what is wrong with it (naming the file, row and
/// column).
pub type Reader<'a> = &'a dyn Fn(&str, &str) -> Result<Vec<Sheet>, String>;

/// What a sheet holds: one kind of record per sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Projects,
    Milestones,
    Dependencies,
    Risks,
    Assumptions,
    Issues,
    Actions,
}

impl Kind {
    /// The kinds `import-csv --kind` takes, in the order `export --csv` writes them.
    pub const SHEETS: &'static [Kind] = &[
        Kind::Milestones,
        Kind::Dependencies,
        Kind::Risks,
        Kind::Assumptions,
        Kind::Issues,
        Kind::Actions,
    ];

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::SHEETS
            .iter()
            .copied()
            .find(|k| k.as_str() == raw.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!(
                    "`{}` is not a kind of sheet: use one of {}",
                    crate::domain::truncate_for_error(raw),
                    Self::SHEETS
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Projects => "projects",
            Kind::Milestones => "milestones",
            Kind::Dependencies => "dependencies",
            Kind::Risks => "risks",
            Kind::Assumptions => "assumptions",
            Kind::Issues => "issues",
            Kind::Actions => "actions",
        }
    }

    /// The fields a sheet of this kind may carry, each with the column names that are read
    /// as it (compared without case, spaces or punctuation), most likely first.
    pub fn fields(&self) -> &'static [(Field, &'static [&'static str])] {
        use Field::*;
        const NUMBER: (Field, &[&str]) = (Number, &["number", "no", "num", "#"]);
        const ID: (Field, &[&str]) = (Id, &["externalid", "trackerid", "tracker", "issuekey"]);
        const OWNER: (Field, &[&str]) = (
            Owner,
            &["owner", "assignee", "lead", "responsible", "assignedto"],
        );
        const PROJECT: (Field, &[&str]) =
            (Project, &["project", "team", "workstream", "projectkey"]);
        match self {
            Kind::Projects => &[
                (Key, &["key", "project", "projectkey", "id"]),
                (Title, &["name", "title", "projectname"]),
                OWNER,
                ID,
            ],
            Kind::Milestones => &[
                (Key, &["key", "milestone", "milestonekey", "slug", "id"]),
                (Title, &["title", "name", "summary", "milestonename"]),
                PROJECT,
                (
                    Due,
                    &[
                        "due",
                        "target",
                        "duedate",
                        "end",
                        "enddate",
                        "targetdate",
                        "date",
                        "deadline",
                    ],
                ),
                OWNER,
                (
                    After,
                    &["after", "dependson", "predecessors", "depends", "blockedby"],
                ),
                (State, &["state", "status"]),
                ID,
            ],
            Kind::Dependencies => &[
                NUMBER,
                (
                    What,
                    &[
                        "what",
                        "title",
                        "deliverable",
                        "summary",
                        "name",
                        "description",
                    ],
                ),
                (
                    From,
                    &[
                        "from",
                        "provider",
                        "providedby",
                        "fromproject",
                        "supplier",
                        "providingteam",
                    ],
                ),
                (External, &["external", "externalprovider"]),
                (
                    Needs,
                    &["needs", "consumer", "needsproject", "neededfor", "for"],
                ),
                (
                    Due,
                    &[
                        "needby",
                        "by",
                        "due",
                        "duedate",
                        "date",
                        "deadline",
                        "needbydate",
                    ],
                ),
                (Owner, &["owner", "assignee", "providerowner"]),
                (Id, &["externalid", "trackerid", "tracker", "id"]),
            ],
            Kind::Risks => &[
                NUMBER,
                (Title, &["title", "risk", "name", "summary"]),
                (Likelihood, &["likelihood", "probability", "l"]),
                (Impact, &["impact", "i", "consequence"]),
                OWNER,
                (
                    Mitigation,
                    &["mitigation", "mitigationplan", "response", "plan"],
                ),
                PROJECT,
                (Due, &["reviewby", "review", "reviewdate", "nextreview"]),
                ID,
            ],
            Kind::Assumptions => &[
                NUMBER,
                (Title, &["title", "assumption", "name", "summary"]),
                OWNER,
                (
                    Due,
                    &["validateby", "due", "duedate", "date", "by", "deadline"],
                ),
                PROJECT,
                ID,
            ],
            Kind::Issues => &[
                NUMBER,
                (Title, &["title", "issue", "name", "summary"]),
                OWNER,
                (Severity, &["severity", "priority"]),
                PROJECT,
                (Due, &["due", "duedate", "date", "resolveby", "deadline"]),
                ID,
            ],
            Kind::Actions => &[
                NUMBER,
                (Title, &["title", "action", "task", "name", "summary"]),
                OWNER,
                (Due, &["due", "duedate", "date", "by", "deadline"]),
                PROJECT,
                ID,
            ],
        }
    }

    /// Fields a sheet must have a column for; for dependencies, `from` or `external`.
    pub fn required(&self) -> &'static [Field] {
        match self {
            Kind::Projects => &[Field::Key],
            Kind::Milestones => &[Field::Key, Field::Due],
            Kind::Dependencies => &[Field::What, Field::Needs, Field::Due],
            Kind::Risks => &[Field::Title, Field::Likelihood, Field::Impact],
            Kind::Assumptions => &[Field::Title, Field::Due],
            Kind::Issues => &[Field::Title],
            Kind::Actions => &[Field::Title, Field::Due],
        }
    }

    /// The record a row of this kind becomes, in the report.
    pub fn noun(&self) -> &'static str {
        match self {
            Kind::Projects => "project",
            Kind::Milestones => "milestone",
            Kind::Dependencies => "dependency",
            Kind::Risks => "risk",
            Kind::Assumptions => "assumption",
            Kind::Issues => "issue",
            Kind::Actions => "action",
        }
    }
}

/// What a column can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Key,
    Number,
    Title,
    What,
    Project,
    Needs,
    From,
    External,
    Due,
    Owner,
    After,
    State,
    Likelihood,
    Impact,
    Mitigation,
    Severity,
    Id,
}

impl Field {
    /// The field's name in `--map COLUMN=FIELD` and in the mapping report. `due` is the
    /// date of the kind: a milestone's target, a dependency's need-by, a risk's review-by,
    /// an assumption's validate-by.
    pub fn as_str(&self) -> &'static str {
        match self {
            Field::Key => "key",
            Field::Number => "number",
            Field::Title => "title",
            Field::What => "what",
            Field::Project => "project",
            Field::Needs => "needs",
            Field::From => "from",
            Field::External => "external",
            Field::Due => "due",
            Field::Owner => "owner",
            Field::After => "after",
            Field::State => "state",
            Field::Likelihood => "likelihood",
            Field::Impact => "impact",
            Field::Mitigation => "mitigation",
            Field::Severity => "severity",
            Field::Id => "id",
        }
    }

    /// `--map` also takes the words the commands use for a kind's date.
    fn parse_for(kind: Kind, raw: &str) -> Option<Field> {
        let raw = raw.trim().to_ascii_lowercase().replace('-', "_");
        let alias = match raw.as_str() {
            "target" | "need_by" | "by" | "review_by" | "validate_by" => "due",
            "name" if kind == Kind::Projects => "title",
            "external_id" | "tracker_id" => "id",
            other => other,
        };
        kind.fields()
            .iter()
            .map(|(f, _)| *f)
            .find(|f| f.as_str() == alias)
    }
}

/// One value of a row, with the column it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub value: String,
    pub column: String,
}

/// One record to import: where it is in the file (a CSV row counting the header as row 1,
/// or an entry of a JSON array counting from 1) and its fields.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub number: usize,
    pub cells: BTreeMap<Field, Cell>,
    /// Predecessors made by a tracker import, when they are not one cell.
    pub after: Vec<String>,
}

impl Row {
    pub fn get(&self, f: Field) -> Option<&str> {
        self.cells.get(&f).map(|c| c.value.as_str())
    }

    pub fn column(&self, f: Field) -> Option<&str> {
        self.cells.get(&f).map(|c| c.column.as_str())
    }

    pub fn set(&mut self, f: Field, value: impl Into<String>, column: &str) {
        let value = value.into();
        if !value.trim().is_empty() {
            self.cells.insert(
                f,
                Cell {
                    value: value.trim().to_owned(),
                    column: column.to_owned(),
                },
            );
        }
    }
}

/// How a source names a place in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// "row 4, column `Due date`"
    Csv,
    /// "entry 4, field `due_on`"
    Json,
}

/// Rows of one kind, read from one file.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub kind: Kind,
    /// The file, as the reader named it.
    pub label: String,
    pub style: Style,
    /// Every column of the source in order, and the field it feeds (none: ignored).
    pub mapping: Vec<(String, Option<Field>)>,
    pub rows: Vec<Row>,
    /// Rows left out while reading, with why: (row, reason).
    pub skipped: Vec<(usize, String)>,
}

impl Sheet {
    /// "milestones.csv row 4, column `Due`".
    pub fn place(&self, row: usize, column: Option<&str>) -> String {
        let (r, c) = match self.style {
            Style::Csv => ("row", "column"),
            Style::Json => ("entry", "field"),
        };
        match column {
            Some(col) => format!("{} {r} {row}, {c} `{col}`", self.label),
            None => format!("{} {r} {row}", self.label),
        }
    }
}

/// The mapping report of what was read, before anything is written: which column feeds
/// which field, which are ignored, and how many rows each sheet has.
pub fn mapping_report(sheets: &[Sheet]) -> String {
    let mut out = String::new();
    for sheet in sheets {
        let _ = writeln!(
            out,
            "{} ({}): {} {}",
            sheet.label,
            sheet.kind.as_str(),
            sheet.rows.len(),
            if sheet.rows.len() == 1 { "row" } else { "rows" }
        );
        let mut ignored = Vec::new();
        for (column, field) in &sheet.mapping {
            match field {
                Some(f) => {
                    let _ = writeln!(out, "  {column:<24} -> {}", f.as_str());
                }
                None => ignored.push(format!("`{column}`")),
            }
        }
        if !ignored.is_empty() {
            let _ = writeln!(out, "  ignored: {}", ignored.join(", "));
        }
    }
    out
}

/// A key made from a tracker's id or a name: lower case, letters and digits with single
/// dashes between, starting with a letter, at most 32 characters.
pub fn key_from(raw: &str, prefix: &str) -> String {
    let mut key = String::new();
    for c in raw.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            key.push(c);
        } else if !key.is_empty() && !key.ends_with('-') {
            key.push('-');
        }
    }
    let mut key = key.trim_end_matches('-').to_owned();
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        key = format!("{prefix}-{key}").trim_end_matches('-').to_owned();
    }
    key.truncate(crate::domain::Key::MAX_LEN);
    key.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_from_tracker_ids_are_valid_keys() {
        for (raw, want) in [
            ("ATL-12", "atl-12"),
            ("Public API", "public-api"),
            ("  Auth -- ready!  ", "auth-ready"),
            ("123", "m-123"),
            ("Ünïcode name", "n-code-name"),
        ] {
            let key = key_from(raw, "m");
            assert!(crate::domain::Key::parse(&key).is_ok(), "{raw} -> {key}");
            if raw != "Ünïcode name" {
                assert_eq!(key, want, "{raw}");
            }
        }
        let long = key_from(&"a-".repeat(40), "m");
        assert!(long.len() <= 32 && !long.ends_with('-'), "{long}");
    }

    #[test]
    fn map_takes_field_names_and_the_commands_words() {
        assert_eq!(
            Field::parse_for(Kind::Milestones, "target"),
            Some(Field::Due)
        );
        assert_eq!(
            Field::parse_for(Kind::Dependencies, "need-by"),
            Some(Field::Due)
        );
        assert_eq!(Field::parse_for(Kind::Milestones, "likelihood"), None);
        assert_eq!(Kind::parse("Risks"), Ok(Kind::Risks));
        assert!(Kind::parse("projects").is_err());
    }
}
