//! From rows to commands. Each row is compared with what the program holds (found by its
//! tracker id, its key or number, or its title): a new record becomes its `add`, a changed
//! one the `set` of what changed and a `milestone move … --reason` for a new date (a slip
//! with the import as its reason), an unchanged one nothing. Nothing is ever deleted. The
//! commands run as one plan: all or nothing, with a refusal reported against its row and
//! column.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use chrono::NaiveDate;

use super::{Field, Kind, Row, Sheet};
use crate::command::{self, CommandError, Ctx, PlanLine};
use crate::domain::{
    Endpoint, ItemKind, Key, Level, MilestoneState, Person, PersonId, PersonRef, Severity, Snapshot,
};
use crate::store::{self, ExternalIds, Store};

/// What became of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new record, named.
    Added(String),
    /// An existing record, named, with what changed.
    Changed(String, Vec<String>),
    Unchanged(String),
    /// Left out, with why.
    Skipped(String),
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone)]
pub struct Report {
    /// Each row's place in its file and its outcome, in file order.
    pub rows: Vec<(String, Outcome)>,
    /// Names that matched nobody known here, with the places they were read.
    pub unmatched: BTreeMap<String, Vec<String>>,
    /// The importing person, who owns what an unmatched name would have.
    pub actor: String,
    pub dry_run: bool,
    pub commands: usize,
}

impl Report {
    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.rows.iter().filter(|(_, o)| f(o)).count()
    }

    pub fn added(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Added(_)))
    }

    pub fn changed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Changed(..)))
    }

    pub fn unchanged(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Unchanged(_)))
    }

    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped(_)))
    }

    /// The report as printed: added, changed, unchanged and skipped rows, the names that
    /// matched nobody, and what was written.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let section = |out: &mut String, title: &str, pick: &dyn Fn(&Outcome) -> Option<String>| {
            let lines: Vec<String> = self
                .rows
                .iter()
                .filter_map(|(place, o)| pick(o).map(|what| format!("  {place}: {what}")))
                .collect();
            if !lines.is_empty() {
                let _ = writeln!(out, "{title} ({}):", lines.len());
                for l in lines {
                    let _ = writeln!(out, "{l}");
                }
            }
        };
        section(&mut out, "Added", &|o| match o {
            Outcome::Added(w) => Some(w.clone()),
            _ => None,
        });
        section(&mut out, "Changed", &|o| match o {
            Outcome::Changed(w, what) => Some(format!("{w}: {}", what.join("; "))),
            _ => None,
        });
        section(&mut out, "Unchanged", &|o| match o {
            Outcome::Unchanged(w) => Some(w.clone()),
            _ => None,
        });
        section(&mut out, "Skipped", &|o| match o {
            Outcome::Skipped(w) => Some(w.clone()),
            _ => None,
        });
        if !self.unmatched.is_empty() {
            let _ = writeln!(
                out,
                "Not matched to anyone here by name or email, so owned by you (@{}) (`person set @name --email ADDRESS` lets the next import find them):",
                self.actor
            );
            for (name, places) in &self.unmatched {
                let _ = writeln!(out, "  {name}: {}", places.join(", "));
            }
        }
        let totals = format!(
            "{} added, {} changed, {} unchanged, {} skipped",
            self.added(),
            self.changed(),
            self.unchanged(),
            self.skipped()
        );
        if self.dry_run {
            let _ = writeln!(out, "Dry run: {totals}. Nothing was written.");
        } else {
            let _ = writeln!(
                out,
                "Imported: {totals} ({} commands in one transaction).",
                self.commands
            );
        }
        out
    }
}

/// Where a command line came from: its row, and which column fed each option, so a
/// refusal can name the column.
struct Origin {
    sheet: usize,
    row: usize,
    options: Vec<(&'static str, String)>,
    values: Vec<(String, String)>,
}

/// The people of the tenant, found by handle, email or display name (ignoring case).
struct People {
    by_handle: HashMap<String, PersonId>,
    by_email: HashMap<String, PersonId>,
    by_name: HashMap<String, Vec<PersonId>>,
    refs: HashMap<PersonId, String>,
}

impl People {
    fn new(people: &HashMap<PersonId, Person>) -> Self {
        let mut p = People {
            by_handle: HashMap::new(),
            by_email: HashMap::new(),
            by_name: HashMap::new(),
            refs: HashMap::new(),
        };
        for person in people.values() {
            p.by_handle.insert(person.handle.to_lowercase(), person.id);
            if let Some(e) = &person.email {
                p.by_email.insert(e.as_str().to_lowercase(), person.id);
            }
            p.by_name
                .entry(person.display_name.to_lowercase())
                .or_default()
                .push(person.id);
            // A console name is written @name; a platform id as a mention.
            let r = match PersonRef::parse(&format!("@{}", person.handle)) {
                Ok(PersonRef::Name(n)) if n == person.handle => format!("@{n}"),
                _ => format!("<@{}>", person.handle),
            };
            p.refs.insert(person.id, r);
        }
        p
    }

    fn find(&self, raw: &str) -> Option<PersonId> {
        let raw = raw.trim();
        let bare = raw.strip_prefix('@').unwrap_or(raw).to_lowercase();
        if let Some(id) = self.by_email.get(&bare) {
            return Some(*id);
        }
        if let Some(id) = self.by_handle.get(&bare) {
            return Some(*id);
        }
        match self.by_name.get(&bare).map(Vec::as_slice) {
            Some([one]) => Some(*one),
            _ => None,
        }
    }
}

struct Builder<'a> {
    program: &'a str,
    snap: &'a Snapshot,
    ext: &'a ExternalIds,
    people: People,
    today: NaiveDate,
    reason: String,
    lines: Vec<PlanLine>,
    origins: Vec<Origin>,
    report: Report,
    project_keys: HashMap<i64, &'a Key>,
    milestone_keys: HashMap<i64, &'a Key>,
}

/// One command being made from a row: its words, and which field fed each option.
struct Cmd {
    words: Vec<String>,
    options: Vec<(&'static str, Field)>,
}

impl Cmd {
    fn new(words: &[&str]) -> Self {
        Cmd {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            options: Vec::new(),
        }
    }

    fn arg(&mut self, flag: &'static str, value: impl Into<String>, field: Field) -> &mut Self {
        self.words.push(flag.to_owned());
        self.words.push(value.into());
        self.options.push((flag, field));
        self
    }

    fn flag(&mut self, flag: &str) -> &mut Self {
        self.words.push(flag.to_owned());
        self
    }

    fn len(&self) -> usize {
        self.options.len()
    }
}

impl<'a> Builder<'a> {
    fn push(&mut self, sheet: usize, row: &Row, cmd: Cmd) -> Result<(), CommandError> {
        let text = shlex::try_join(cmd.words.iter().map(String::as_str))
            .map_err(|e| CommandError::user(format!("a value cannot be quoted: {e}")))?;
        let options = cmd
            .options
            .iter()
            .filter_map(|(flag, f)| row.column(*f).map(|c| (*flag, c.to_owned())))
            .collect();
        let values = row
            .cells
            .values()
            .map(|c| (c.value.clone(), c.column.clone()))
            .collect();
        self.lines.push(PlanLine {
            number: self.lines.len() + 1,
            text,
        });
        self.origins.push(Origin {
            sheet,
            row: row.number,
            options,
            values,
        });
        Ok(())
    }

    /// The owner a row names, as a person reference for a command: someone known, or the
    /// importing person (and the name is reported) when nobody matches.
    fn owner(&mut self, sheet: &Sheet, row: &Row) -> Option<(Option<PersonId>, String)> {
        let raw = row.get(Field::Owner)?;
        match self.people.find(raw) {
            Some(id) => Some((Some(id), self.people.refs[&id].clone())),
            None => {
                let place = sheet.place(row.number, row.column(Field::Owner));
                let places = self.report.unmatched.entry(raw.to_owned()).or_default();
                if !places.contains(&place) {
                    places.push(place);
                }
                Some((None, "@me".to_owned()))
            }
        }
    }

    /// A project or milestone as a cell names it: its key, or its name or title.
    fn resolve(&self, raw: &str) -> String {
        if let Some(p) = self.snap.projects.iter().find(|p| p.key.as_str() == raw) {
            return p.key.to_string();
        }
        if let Some(m) = self.snap.milestones.iter().find(|m| m.key.as_str() == raw) {
            return m.key.to_string();
        }
        let lower = raw.to_lowercase();
        if let Some(p) = self
            .snap
            .projects
            .iter()
            .find(|p| !p.removed && p.name.as_str().to_lowercase() == lower)
        {
            return p.key.to_string();
        }
        if let Some(m) = self
            .snap
            .milestones
            .iter()
            .find(|m| m.title.as_str().to_lowercase() == lower)
        {
            return m.key.to_string();
        }
        if Key::parse(&lower).is_ok() {
            return lower;
        }
        raw.to_owned()
    }

    fn endpoint_key(&self, e: &Endpoint) -> Option<String> {
        match e {
            Endpoint::Project(id) => self.project_keys.get(id).map(|k| k.to_string()),
            Endpoint::Milestone(id) => self.milestone_keys.get(id).map(|k| k.to_string()),
            Endpoint::External(_) => None,
        }
    }

    fn done_word(raw: &str) -> bool {
        matches!(
            raw.trim().to_ascii_lowercase().as_str(),
            "done"
                | "closed"
                | "complete"
                | "completed"
                | "resolved"
                | "finished"
                | "shipped"
                | "delivered"
        )
    }

    fn projects(&mut self, ix: usize, sheet: &Sheet) -> Result<(), CommandError> {
        for row in &sheet.rows {
            let place = sheet.place(row.number, None);
            let Some(raw_key) = row.get(Field::Key) else {
                self.report
                    .rows
                    .push((place, Outcome::Skipped("no key".into())));
                continue;
            };
            let existing = row
                .get(Field::Id)
                .and_then(|id| self.ext.projects.get(id))
                .and_then(|k| self.snap.projects.iter().find(|p| &p.key == k))
                .or_else(|| {
                    self.snap
                        .projects
                        .iter()
                        .find(|p| p.key.as_str() == raw_key)
                });
            let owner = self.owner(sheet, row);
            match existing {
                None => {
                    let mut c = Cmd::new(&["project", "add", self.program, raw_key]);
                    if let Some(t) = row.get(Field::Title) {
                        c.arg("--name", t, Field::Title);
                    }
                    if let Some((_, r)) = &owner {
                        c.arg("--owner", r, Field::Owner);
                    }
                    if let Some(id) = row.get(Field::Id) {
                        c.arg("--external-id", id, Field::Id);
                    }
                    self.push(ix, row, c)?;
                    self.report
                        .rows
                        .push((place, Outcome::Added(format!("project `{raw_key}`"))));
                }
                Some(p) => {
                    let key = p.key.to_string();
                    let mut c = Cmd::new(&["project", "set", self.program, &key]);
                    let mut what = Vec::new();
                    if let Some(t) = row.get(Field::Title).filter(|t| *t != p.name.as_str()) {
                        what.push(format!("name `{}` -> `{t}`", p.name));
                        c.arg("--name", t, Field::Title);
                    }
                    if let Some((Some(id), r)) = &owner {
                        if *id != p.owner {
                            what.push(format!("owner -> {r}"));
                            c.arg("--owner", r, Field::Owner);
                        }
                    }
                    self.finish_change(ix, row, place, format!("project `{key}`"), c, what)?;
                }
            }
        }
        Ok(())
    }

    fn finish_change(
        &mut self,
        ix: usize,
        row: &Row,
        place: String,
        name: String,
        set: Cmd,
        what: Vec<String>,
    ) -> Result<(), CommandError> {
        if set.len() > 0 {
            self.push(ix, row, set)?;
        }
        self.report.rows.push((
            place,
            if what.is_empty() {
                Outcome::Unchanged(name)
            } else {
                Outcome::Changed(name, what)
            },
        ));
        Ok(())
    }

    fn after_keys(&self, row: &Row) -> Option<Vec<String>> {
        if !row.after.is_empty() {
            return Some(row.after.clone());
        }
        let raw = row.get(Field::After)?;
        Some(
            raw.split([',', ';', '\n'])
                .flat_map(|part| {
                    let part = part.trim();
                    // Keys have no spaces: several keys may be written space-separated.
                    if Key::parse(part).is_err()
                        && part.split_whitespace().all(|w| Key::parse(w).is_ok())
                    {
                        part.split_whitespace()
                            .map(str::to_owned)
                            .collect::<Vec<_>>()
                    } else {
                        vec![part.to_owned()]
                    }
                })
                .filter(|p| !p.is_empty())
                .map(|p| self.resolve(&p))
                .collect(),
        )
    }

    fn milestones(&mut self, ix: usize, sheet: &Sheet) -> Result<(), CommandError> {
        for row in &sheet.rows {
            let place = sheet.place(row.number, None);
            let (Some(raw_key), Some(due)) = (row.get(Field::Key), row.get(Field::Due)) else {
                let why = if row.get(Field::Key).is_none() {
                    "no key"
                } else {
                    "no date"
                };
                self.report.rows.push((place, Outcome::Skipped(why.into())));
                continue;
            };
            let done = row.get(Field::State).is_some_and(Self::done_word);
            let existing = row
                .get(Field::Id)
                .and_then(|id| self.ext.milestones.get(id))
                .and_then(|k| self.snap.milestones.iter().find(|m| &m.key == k))
                .or_else(|| {
                    self.snap
                        .milestones
                        .iter()
                        .find(|m| m.key.as_str() == raw_key)
                });
            let owner = self.owner(sheet, row);
            let project = row.get(Field::Project).map(|p| self.resolve(p));
            let after = self.after_keys(row);
            let due_date = NaiveDate::parse_from_str(due, "%Y-%m-%d").ok();
            match existing {
                None => {
                    let mut c = Cmd::new(&["milestone", "add", self.program, raw_key]);
                    c.arg("--target", due, Field::Due);
                    if let Some(t) = row.get(Field::Title) {
                        c.arg("--title", t, Field::Title);
                    }
                    if let Some(p) = &project {
                        c.arg("--project", p, Field::Project);
                    }
                    if let Some(a) = after.as_ref().filter(|a| !a.is_empty()) {
                        c.arg("--after", a.join(","), Field::After);
                    }
                    if let Some((_, r)) = &owner {
                        c.arg("--owner", r, Field::Owner);
                    }
                    if let Some(id) = row.get(Field::Id) {
                        c.arg("--external-id", id, Field::Id);
                    }
                    self.push(ix, row, c)?;
                    if done {
                        let on = due_date.map_or(self.today, |d| d.min(self.today));
                        let mut c = Cmd::new(&["milestone", "done", self.program, raw_key]);
                        c.arg("--on", on.to_string(), Field::State);
                        self.push(ix, row, c)?;
                    }
                    self.report.rows.push((
                        place,
                        Outcome::Added(format!(
                            "milestone `{raw_key}`{}",
                            if done { " (done)" } else { "" }
                        )),
                    ));
                }
                Some(m) => {
                    let key = m.key.to_string();
                    let mut c = Cmd::new(&["milestone", "set", self.program, &key]);
                    let mut what = Vec::new();
                    if let Some(t) = row.get(Field::Title).filter(|t| *t != m.title.as_str()) {
                        what.push(format!("title `{}` -> `{t}`", m.title));
                        c.arg("--title", t, Field::Title);
                    }
                    if let Some(p) = &project {
                        let now = m.project.and_then(|id| self.project_keys.get(&id));
                        if now.map(|k| k.as_str()) != Some(p.as_str()) {
                            what.push(format!(
                                "project {} -> {p}",
                                now.map_or("(none)".to_owned(), |k| k.to_string())
                            ));
                            c.arg("--project", p, Field::Project);
                        }
                    }
                    if let Some((Some(id), r)) = &owner {
                        if Some(*id) != m.owner {
                            what.push(format!("owner -> {r}"));
                            c.arg("--owner", r, Field::Owner);
                        }
                    }
                    if let Some(a) = &after {
                        let now: HashSet<String> = m
                            .after
                            .iter()
                            .filter_map(|id| self.milestone_keys.get(id).map(|k| k.to_string()))
                            .collect();
                        let want: HashSet<String> = a.iter().cloned().collect();
                        if now != want {
                            what.push(format!("after -> {}", a.join(", ")));
                            c.arg(
                                "--after",
                                if a.is_empty() {
                                    "none".to_owned()
                                } else {
                                    a.join(",")
                                },
                                Field::After,
                            );
                        }
                    }
                    let set = c;
                    let planned = m.state == MilestoneState::Planned;
                    let moved = planned && due_date.is_some_and(|d| d != m.target);
                    let finish = planned && done;
                    if set.len() > 0 {
                        self.push(ix, row, set)?;
                    }
                    if moved {
                        what.push(format!(
                            "target {} -> {due} (a slip: {})",
                            m.target, self.reason
                        ));
                        let mut c = Cmd::new(&["milestone", "move", self.program, &key]);
                        c.arg("--target", due, Field::Due);
                        c.flag("--reason").flag(&self.reason.clone());
                        self.push(ix, row, c)?;
                    }
                    if finish {
                        let on = due_date.map_or(self.today, |d| d.min(self.today));
                        what.push("done".into());
                        let mut c = Cmd::new(&["milestone", "done", self.program, &key]);
                        c.arg("--on", on.to_string(), Field::State);
                        self.push(ix, row, c)?;
                    }
                    let name = format!("milestone `{key}`");
                    self.report.rows.push((
                        place,
                        if what.is_empty() {
                            Outcome::Unchanged(name)
                        } else {
                            Outcome::Changed(name, what)
                        },
                    ));
                }
            }
        }
        Ok(())
    }

    fn dependencies(&mut self, ix: usize, sheet: &Sheet) -> Result<(), CommandError> {
        for row in &sheet.rows {
            let place = sheet.place(row.number, None);
            let (Some(what_text), Some(needs), Some(by)) = (
                row.get(Field::What),
                row.get(Field::Needs),
                row.get(Field::Due),
            ) else {
                self.report.rows.push((
                    place,
                    Outcome::Skipped("needs what, needs and a need-by date".into()),
                ));
                continue;
            };
            let needs = self.resolve(needs);
            let from = row.get(Field::From).map(|f| self.resolve(f));
            let external = row.get(Field::External);
            if from.is_none() && external.is_none() {
                self.report.rows.push((
                    place,
                    Outcome::Skipped("no provider (from or external)".into()),
                ));
                continue;
            }
            let by_id = row
                .get(Field::Id)
                .and_then(|id| self.ext.dependencies.get(id))
                .and_then(|n| self.snap.deps.iter().find(|d| d.number == *n));
            let by_number = || {
                row.get(Field::Number)
                    .and_then(|n| n.trim_start_matches('#').parse::<i64>().ok())
                    .and_then(|n| self.snap.deps.iter().find(|d| d.number == n))
            };
            let by_ends = || {
                self.snap.deps.iter().find(|d| {
                    d.what.as_str().eq_ignore_ascii_case(what_text)
                        && self.endpoint_key(&d.needs).as_deref() == Some(needs.as_str())
                        && match (&d.from, &from, external) {
                            (Endpoint::External(e), _, Some(x)) => e.eq_ignore_ascii_case(x),
                            (f, Some(k), _) => self.endpoint_key(f).as_deref() == Some(k.as_str()),
                            _ => false,
                        }
                })
            };
            let existing = by_id.or_else(by_number).or_else(by_ends);
            let owner = self.owner(sheet, row);
            match existing {
                None => {
                    let mut c = Cmd::new(&["dep", "add", self.program]);
                    c.arg("--needs", &needs, Field::Needs);
                    match (&from, external) {
                        (Some(f), _) => c.arg("--from", f, Field::From),
                        (None, Some(x)) => c.arg("--external", x, Field::External),
                        (None, None) => unreachable!("checked above"),
                    };
                    c.arg("--what", what_text, Field::What);
                    c.arg("--by", by, Field::Due);
                    if let Some((_, r)) = &owner {
                        c.arg("--owner", r, Field::Owner);
                    }
                    if let Some(id) = row.get(Field::Id) {
                        c.arg("--external-id", id, Field::Id);
                    }
                    // The plan being imported is already agreed between the teams: no
                    // request goes out for each of its dependencies.
                    c.flag("--accepted");
                    self.push(ix, row, c)?;
                    self.report.rows.push((
                        place,
                        Outcome::Added(format!("dependency `{what_text}` ({needs} needs)")),
                    ));
                }
                Some(d) => {
                    let n = d.number.to_string();
                    let mut c = Cmd::new(&["dep", "set", self.program, &n]);
                    let mut what = Vec::new();
                    if what_text != d.what.as_str() {
                        what.push(format!("what `{}` -> `{what_text}`", d.what));
                        c.arg("--what", what_text, Field::What);
                    }
                    if by != d.need_by.to_string() {
                        what.push(format!("need-by {} -> {by}", d.need_by));
                        c.arg("--by", by, Field::Due);
                    }
                    if self.endpoint_key(&d.needs).as_deref() != Some(needs.as_str()) {
                        what.push(format!("needs -> {needs}"));
                        c.arg("--needs", &needs, Field::Needs);
                    }
                    match (&d.from, &from, external) {
                        (Endpoint::External(e), None, Some(x)) if e != x => {
                            what.push(format!("external -> {x}"));
                            c.arg("--external", x, Field::External);
                        }
                        (f, Some(k), _) if self.endpoint_key(f).as_deref() != Some(k.as_str()) => {
                            what.push(format!("from -> {k}"));
                            c.arg("--from", k, Field::From);
                        }
                        _ => {}
                    }
                    if let Some((Some(id), r)) = &owner {
                        if Some(*id) != d.owner {
                            what.push(format!("owner -> {r}"));
                            c.arg("--owner", r, Field::Owner);
                        }
                    }
                    self.finish_change(ix, row, place, format!("dependency {n}"), c, what)?;
                }
            }
        }
        Ok(())
    }

    fn risks(&mut self, ix: usize, sheet: &Sheet) -> Result<(), CommandError> {
        for row in &sheet.rows {
            let place = sheet.place(row.number, None);
            let (Some(title), Some(l), Some(i)) = (
                row.get(Field::Title),
                row.get(Field::Likelihood),
                row.get(Field::Impact),
            ) else {
                self.report.rows.push((
                    place,
                    Outcome::Skipped("needs a title, likelihood and impact".into()),
                ));
                continue;
            };
            let existing = row
                .get(Field::Id)
                .and_then(|id| self.ext.risks.get(id))
                .and_then(|n| self.snap.risks.iter().find(|r| r.number == *n))
                .or_else(|| {
                    row.get(Field::Number)
                        .and_then(|n| n.trim_start_matches('#').parse::<i64>().ok())
                        .and_then(|n| self.snap.risks.iter().find(|r| r.number == n))
                })
                .or_else(|| {
                    self.snap
                        .risks
                        .iter()
                        .find(|r| r.title.as_str().eq_ignore_ascii_case(title))
                });
            let owner = self.owner(sheet, row);
            match existing {
                None => {
                    let mut c = Cmd::new(&["risk", "add", self.program, title]);
                    c.arg("--likelihood", l, Field::Likelihood);
                    c.arg("--impact", i, Field::Impact);
                    if let Some((_, r)) = &owner {
                        c.arg("--owner", r, Field::Owner);
                    }
                    if let Some(m) = row.get(Field::Mitigation) {
                        c.arg("--mitigation", m, Field::Mitigation);
                    }
                    if let Some(p) = row.get(Field::Project) {
                        c.arg("--project", self.resolve(p), Field::Project);
                    }
                    if let Some(d) = row.get(Field::Due) {
                        c.arg("--review-by", d, Field::Due);
                    }
                    if let Some(id) = row.get(Field::Id) {
                        c.arg("--external-id", id, Field::Id);
                    }
                    self.push(ix, row, c)?;
                    self.report
                        .rows
                        .push((place, Outcome::Added(format!("risk `{title}`"))));
                }
                Some(r) => {
                    let n = r.number.to_string();
                    let mut c = Cmd::new(&["risk", "set", self.program, &n]);
                    let mut what = Vec::new();
                    if title != r.title.as_str() {
                        what.push(format!("title -> `{title}`"));
                        c.arg("--title", title, Field::Title);
                    }
                    if Level::parse(l).ok() != Some(r.likelihood) {
                        what.push(format!("likelihood {} -> {l}", r.likelihood.get()));
                        c.arg("--likelihood", l, Field::Likelihood);
                    }
                    if Level::parse(i).ok() != Some(r.impact) {
                        what.push(format!("impact {} -> {i}", r.impact.get()));
                        c.arg("--impact", i, Field::Impact);
                    }
                    if let Some(m) = row.get(Field::Mitigation).filter(|m| *m != r.mitigation) {
                        what.push("mitigation".into());
                        c.arg("--mitigation", m, Field::Mitigation);
                    }
                    if let Some(d) = row
                        .get(Field::Due)
                        .filter(|d| r.review_by.map(|x| x.to_string()).as_deref() != Some(*d))
                    {
                        what.push(format!("review by -> {d}"));
                        c.arg("--review-by", d, Field::Due);
                    }
                    if let Some((Some(id), who)) = &owner {
                        if Some(*id) != r.owner {
                            what.push(format!("owner -> {who}"));
                            c.arg("--owner", who, Field::Owner);
                        }
                    }
                    self.finish_change(ix, row, place, format!("risk {n}"), c, what)?;
                }
            }
        }
        Ok(())
    }

    fn items(&mut self, ix: usize, sheet: &Sheet, kind: ItemKind) -> Result<(), CommandError> {
        let word = kind.as_str();
        for row in &sheet.rows {
            let place = sheet.place(row.number, None);
            let Some(title) = row.get(Field::Title) else {
                self.report
                    .rows
                    .push((place, Outcome::Skipped("no title".into())));
                continue;
            };
            let due = row.get(Field::Due);
            if due.is_none() && kind != ItemKind::Issue {
                self.report
                    .rows
                    .push((place, Outcome::Skipped("no date".into())));
                continue;
            }
            let of_kind = |n: i64| {
                self.snap
                    .items
                    .iter()
                    .find(|i| i.kind == kind && i.number == n)
            };
            let existing =
                row.get(Field::Id)
                    .and_then(|id| self.ext.items.get(&(kind, id.to_owned())))
                    .and_then(|n| of_kind(*n))
                    .or_else(|| {
                        row.get(Field::Number)
                            .and_then(|n| n.trim_start_matches('#').parse::<i64>().ok())
                            .and_then(of_kind)
                    })
                    .or_else(|| {
                        self.snap.items.iter().find(|i| {
                            i.kind == kind && i.title.as_str().eq_ignore_ascii_case(title)
                        })
                    });
            let owner = self.owner(sheet, row);
            let project = row.get(Field::Project).map(|p| self.resolve(p));
            match existing {
                None => {
                    let mut c = Cmd::new(&[word, "add", self.program, title]);
                    c.arg(
                        "--owner",
                        owner.as_ref().map_or("@me".to_owned(), |(_, r)| r.clone()),
                        Field::Owner,
                    );
                    match kind {
                        ItemKind::Assumption => {
                            c.arg("--validate-by", due.unwrap_or_default(), Field::Due);
                        }
                        ItemKind::Action => {
                            c.arg("--due", due.unwrap_or_default(), Field::Due);
                        }
                        ItemKind::Issue => {
                            c.arg(
                                "--severity",
                                row.get(Field::Severity).unwrap_or("medium"),
                                Field::Severity,
                            );
                            if let Some(d) = due {
                                c.arg("--due", d, Field::Due);
                            }
                        }
                    }
                    if let Some(p) = &project {
                        c.arg("--project", p, Field::Project);
                    }
                    if let Some(id) = row.get(Field::Id) {
                        c.arg("--external-id", id, Field::Id);
                    }
                    self.push(ix, row, c)?;
                    self.report
                        .rows
                        .push((place, Outcome::Added(format!("{word} `{title}`"))));
                }
                Some(item) => {
                    let n = item.number.to_string();
                    let mut c = Cmd::new(&[word, "set", self.program, &n]);
                    let mut what = Vec::new();
                    if title != item.title.as_str() {
                        what.push(format!("title -> `{title}`"));
                        c.arg("--title", title, Field::Title);
                    }
                    if let Some(d) =
                        due.filter(|d| item.due.map(|x| x.to_string()).as_deref() != Some(*d))
                    {
                        what.push(format!("due -> {d}"));
                        c.arg("--due", d, Field::Due);
                    }
                    if let Some((Some(id), r)) = &owner {
                        if Some(*id) != item.owner {
                            what.push(format!("owner -> {r}"));
                            c.arg("--owner", r, Field::Owner);
                        }
                    }
                    if kind == ItemKind::Issue {
                        if let Some(s) = row
                            .get(Field::Severity)
                            .filter(|s| Severity::parse(s).ok() != item.severity)
                        {
                            what.push(format!("severity -> {s}"));
                            c.arg("--severity", s, Field::Severity);
                        }
                        if let Some(p) = &project {
                            let now = item.project.and_then(|id| self.project_keys.get(&id));
                            if now.map(|k| k.as_str()) != Some(p.as_str()) {
                                what.push(format!("project -> {p}"));
                                c.arg("--project", p, Field::Project);
                            }
                        }
                    }
                    let name = format!("{word} {n}");
                    if kind == ItemKind::Assumption && !what.is_empty() {
                        // There is no command that changes an assumption.
                        self.report.rows.push((
                            place,
                            Outcome::Skipped(format!(
                                "{name} differs ({}), and an assumption cannot be changed: validate or invalidate it and record a new one",
                                what.join("; ")
                            )),
                        ));
                        continue;
                    }
                    if !item.is_open() && !what.is_empty() {
                        self.report.rows.push((
                            place,
                            Outcome::Skipped(format!(
                                "{name} differs ({}), but it is {} and stays as it was",
                                what.join("; "),
                                item.state.as_str()
                            )),
                        ));
                        continue;
                    }
                    self.finish_change(ix, row, place, name, c, what)?;
                }
            }
        }
        Ok(())
    }
}

/// Imports `sheets` into `program`, acting as `ctx`'s actor: every row through the
/// commands, in one transaction (rolled back at the end when `dry_run`). `source` names
/// the file in slips' reasons.
pub async fn apply(
    store: &Store,
    ctx: &Ctx,
    program: &str,
    sheets: &[Sheet],
    source: &str,
    dry_run: bool,
) -> Result<Report, CommandError> {
    let key = Key::parse(program).map_err(|e| CommandError::user(format!("--program: {}", e.0)))?;
    let mut tx = store.read().await?;
    let Some((scope, found)) = store::find_program(&mut tx, &ctx.tenant, &key).await? else {
        return Err(CommandError::user(format!(
            "there is no program `{key}`: `program list` shows the programs here"
        )));
    };
    let snap = store::load_snapshot(&mut tx, &scope, found, ctx.now, Some(ctx.now)).await?;
    let ext = store::external_ids(&mut tx, &scope).await?;
    tx.commit().await.map_err(anyhow::Error::from)?;

    let today = snap.program.today(ctx.now);
    let mut b = Builder {
        program: key.as_str(),
        snap: &snap,
        ext: &ext,
        people: People::new(&snap.people),
        today,
        reason: format!("imported from {source}"),
        lines: Vec::new(),
        origins: Vec::new(),
        report: Report {
            rows: Vec::new(),
            unmatched: BTreeMap::new(),
            actor: ctx.actor.handle.clone(),
            dry_run,
            commands: 0,
        },
        project_keys: snap.projects.iter().map(|p| (p.id, &p.key)).collect(),
        milestone_keys: snap.milestones.iter().map(|m| (m.id, &m.key)).collect(),
    };
    for (ix, sheet) in sheets.iter().enumerate() {
        for (row, why) in &sheet.skipped {
            b.report
                .rows
                .push((sheet.place(*row, None), Outcome::Skipped(why.clone())));
        }
        match sheet.kind {
            Kind::Projects => b.projects(ix, sheet)?,
            Kind::Milestones => b.milestones(ix, sheet)?,
            Kind::Dependencies => b.dependencies(ix, sheet)?,
            Kind::Risks => b.risks(ix, sheet)?,
            Kind::Assumptions => b.items(ix, sheet, ItemKind::Assumption)?,
            Kind::Issues => b.items(ix, sheet, ItemKind::Issue)?,
            Kind::Actions => b.items(ix, sheet, ItemKind::Action)?,
        }
    }
    let Builder {
        lines,
        origins,
        mut report,
        ..
    } = b;
    report.commands = lines.len();
    if lines.is_empty() {
        return Ok(report);
    }
    match command::run_plan_then(store, ctx, &lines, !dry_run).await {
        Ok(_) => Ok(report),
        Err((n, CommandError::User(msg))) => {
            let Some(origin) = n.checked_sub(1).and_then(|i| origins.get(i)) else {
                return Err(CommandError::User(format!("{msg}. Nothing was changed")));
            };
            let sheet = &sheets[origin.sheet];
            // The column behind the option the refusal names, else behind a value it names
            // (one fed to an option first: the row's own key is rarely what is wrong).
            let column = origin
                .options
                .iter()
                .find(|(flag, _)| mentions(&msg, flag))
                .or_else(|| {
                    origin.options.iter().find(|(_, col)| {
                        origin
                            .values
                            .iter()
                            .any(|(v, c)| c == col && mentions(&msg, v))
                    })
                })
                .map(|(_, c)| c.as_str())
                .or_else(|| {
                    origin
                        .values
                        .iter()
                        .find(|(v, _)| mentions(&msg, v))
                        .map(|(_, c)| c.as_str())
                });
            Err(CommandError::User(format!(
                "{}: {msg}. Nothing was changed",
                sheet.place(origin.row, column)
            )))
        }
        Err((_, e)) => Err(e),
    }
}

/// Whether a refusal names `word` whole (`--target`, not `--target-x`; `api`, not
/// `api-beta`).
fn mentions(msg: &str, word: &str) -> bool {
    let part = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    !word.is_empty()
        && msg.match_indices(word).any(|(i, _)| {
            let before = msg[..i].chars().next_back();
            let after = msg[i + word.len()..].chars().next();
            (word.starts_with('-') || before.is_none_or(|c| !part(c)))
                && after.is_none_or(|c| !part(c))
        })
}
