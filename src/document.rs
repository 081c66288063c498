//! The program document: one program, its people and its whole history as JSON, for
//! backups, moving between databases and tenants, and seeding. See `docs/program-document.md`.
//!
//! Import is all-or-nothing: the whole file is checked first, and the first bad field is
//! named by its path (`milestones[2].target`). Importing over a program with the same key
//! replaces it in place, in one transaction: what the document carries is replaced, what it
//! does not (schedules, routes, snoozes, the calendar feed, queued messages) is kept, so
//! importing the same file twice leaves the same state.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::analysis::graph;
use crate::domain::{
    check_year, Agreement, Charter, Days, Decision, DepState, Dependency, DurationUnit, Email,
    Endpoint, Item, ItemKind, ItemState, Key, Level, Link, MilestoneState, Person, Project, Prose,
    Rag, Risk, RiskState, Role, Severity, Slip, StatusUpdate, Tenant, Timezone, Title, WorkDays,
};
use crate::domain::{ChangeRequest, ChangeState, ChannelCheck, ChannelVerdict, Move};
use crate::store::{self, NewEvent, NewMilestone, NewProgram, ProgramContents, Store};

pub const FORMAT: &str = "drumbeat.program";

/// The `format` of a tenant's export: every program of the tenant as a program document.
pub const TENANT_FORMAT: &str = "drumbeat.tenant";

/// Everything a tenant keeps in Drumbeat, for the tenant to take away: each program (archived
/// ones too) as the document `export` writes, which `import` reads back one at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantDocument {
    pub format: String,
    pub tenant: String,
    pub programs: Vec<ProgramDocument>,
}

/// Every program of `tenant`, in key order, archived ones last.
pub async fn export_tenant(store: &Store, tenant: &Tenant) -> anyhow::Result<TenantDocument> {
    let keys: Vec<Key> = {
        let mut tx = store.read().await?;
        let programs = store::list_programs(&mut tx, tenant).await?;
        tx.commit().await?;
        programs.into_iter().map(|p| p.key).collect()
    };
    let mut programs = Vec::with_capacity(keys.len());
    for key in keys {
        // A program removed between the list and its export is simply not there.
        if let Some(doc) = export(store, tenant, &key).await? {
            programs.push(doc);
        }
    }
    Ok(TenantDocument {
        format: TENANT_FORMAT.into(),
        tenant: tenant.to_string(),
        programs,
    })
}
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramDocument {
    pub format: String,
    pub version: u32,
    pub program: ProgramDoc,
    pub charter: CharterDoc,
    pub people: Vec<PersonDoc>,
    #[serde(default)]
    pub roles: Vec<RoleDoc>,
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub projects: Vec<ProjectDoc>,
    #[serde(default)]
    pub milestones: Vec<MilestoneDoc>,
    #[serde(default)]
    pub dependencies: Vec<DependencyDoc>,
    #[serde(default)]
    pub risks: Vec<RiskDoc>,
    #[serde(default)]
    pub decisions: Vec<DecisionDoc>,
    /// Assumptions, issues and action items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<ChangeDoc>,
    /// The launch readiness checklist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readiness: Vec<CheckDoc>,
    /// The summaries TPMs wrote to lead a period's digests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digest_notes: Vec<NoteDoc>,
    #[serde(default)]
    pub status_updates: Vec<StatusDoc>,
    #[serde(default)]
    pub events: Vec<EventDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramDoc {
    pub key: Key,
    pub name: Title,
    /// A person's handle, listed in `people`.
    pub owner: String,
    pub timezone: Timezone,
    pub work_days: WorkDays,
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    pub staleness_days: Days,
    #[serde(default)]
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    /// The milestone that is the program's end, when the program names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Key>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CharterDoc {
    pub goal: Prose,
    pub scope_in: Prose,
    pub scope_out: Prose,
    pub success_metrics: Prose,
    pub stakeholders: Prose,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonDoc {
    pub handle: String,
    pub display_name: String,
    #[serde(default)]
    pub timezone: Option<Timezone>,
    #[serde(default)]
    pub away_until: Option<NaiveDate>,
    #[serde(default)]
    pub delegate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDoc {
    pub person: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectDoc {
    pub key: Key,
    pub name: Title,
    pub owner: String,
    #[serde(default)]
    pub removed: bool,
    /// The team's own holidays, on top of the program's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<NaiveDate>,
}

fn calendar_days() -> DurationUnit {
    DurationUnit::Calendar
}

fn is_calendar(u: &DurationUnit) -> bool {
    *u == DurationUnit::Calendar
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneDoc {
    pub key: Key,
    pub title: Title,
    #[serde(default)]
    pub project: Option<Key>,
    #[serde(default)]
    pub owner: Option<String>,
    pub baseline: NaiveDate,
    pub target: NaiveDate,
    #[serde(default)]
    pub duration_days: Option<Days>,
    /// What the duration counts: working days, or calendar days for durations entered
    /// before working days were kept (and documents from then, which do not say).
    #[serde(default = "calendar_days", skip_serializing_if = "is_calendar")]
    pub duration_unit: DurationUnit,
    pub state: MilestoneState,
    #[serde(default)]
    pub completed_on: Option<NaiveDate>,
    #[serde(default)]
    pub after: Vec<Key>,
    /// A key milestone, tracked by executives.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub key_milestone: bool,
    #[serde(default)]
    pub slips: Vec<SlipDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlipDoc {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub reason: Prose,
    #[serde(default)]
    pub actor: Option<String>,
    pub at: DateTime<Utc>,
}

/// One end of a dependency: exactly one of the three.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum EndDoc {
    Project(Key),
    Milestone(Key),
    External(Title),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyDoc {
    pub number: i64,
    pub needs: EndDoc,
    pub from: EndDoc,
    pub what: Title,
    pub need_by: NaiveDate,
    #[serde(default)]
    pub owner: Option<String>,
    pub state: DepState,
    #[serde(default)]
    pub blocked_since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub blocked_reason: Option<Prose>,
    #[serde(default)]
    pub delivered_on: Option<NaiveDate>,
    /// Why a cancelled dependency was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<Prose>,
    /// The provider's agreement; a document without it is accepted.
    #[serde(default = "accepted", skip_serializing_if = "is_accepted")]
    pub agreement: Agreement,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_on: Option<NaiveDate>,
    /// The provider's words with a proposal or a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_note: Option<Prose>,
    /// When a request still waiting for an answer was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<DateTime<Utc>>,
}

fn accepted() -> Agreement {
    Agreement::Accepted
}

fn is_accepted(a: &Agreement) -> bool {
    *a == Agreement::Accepted
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskDoc {
    pub number: i64,
    #[serde(default)]
    pub project: Option<Key>,
    pub title: Title,
    pub likelihood: Level,
    pub impact: Level,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub mitigation: Prose,
    #[serde(default)]
    pub customer_impact: Prose,
    #[serde(default)]
    pub review_by: Option<NaiveDate>,
    pub state: RiskState,
    /// Why an accepted risk was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_reason: Option<Prose>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionDoc {
    pub number: i64,
    pub title: Title,
    #[serde(default)]
    pub context: Prose,
    #[serde(default)]
    pub options: Prose,
    #[serde(default)]
    pub outcome: Prose,
    #[serde(default)]
    pub decided_by: Option<String>,
    pub decided_on: NaiveDate,
    /// Who must decide a pending decision (a person's handle), and by when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decide_by: Option<NaiveDate>,
}

/// A launch readiness checklist item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckDoc {
    pub number: i64,
    pub title: Title,
    /// The milestone it gates; none for the launch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<Key>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A summary written to lead a period's digests of one audience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteDoc {
    pub audience: crate::domain::Audience,
    pub body: Prose,
    #[serde(default)]
    pub author: Option<String>,
    pub written_at: DateTime<Utc>,
}

/// A change request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeDoc {
    pub number: i64,
    pub title: Title,
    pub why: Prose,
    #[serde(default)]
    pub moves: Vec<Move>,
    #[serde(default)]
    pub scope_out: Prose,
    pub state: ChangeState,
    #[serde(default)]
    pub decider: Option<String>,
    #[serde(default)]
    pub proposed_by: Option<String>,
    #[serde(default)]
    pub rebaseline: bool,
    #[serde(default)]
    pub reason: Prose,
    #[serde(default)]
    pub decision: Option<i64>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub decided_at: Option<DateTime<Utc>>,
}

/// An assumption, an issue or an action item; numbered per kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemDoc {
    pub kind: ItemKind,
    pub number: i64,
    pub title: Title,
    #[serde(default)]
    pub project: Option<Key>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub due: Option<NaiveDate>,
    pub state: ItemState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub note: Prose,
    /// What an action is for, or the risk an issue came from: `risk:3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusDoc {
    pub project: Key,
    pub rag: Rag,
    pub summary: Prose,
    #[serde(default)]
    pub blockers: Prose,
    #[serde(default)]
    pub next_steps: Prose,
    #[serde(default)]
    pub author: Option<String>,
    pub posted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDoc {
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub actor: Option<String>,
    pub kind: String,
    pub subject: String,
    #[serde(default)]
    pub before: Option<serde_json::Value>,
    #[serde(default)]
    pub after: Option<serde_json::Value>,
}

/// Why an import was refused: the path of the bad field and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ImportError {
    pub path: String,
    pub message: String,
}

fn bad(path: impl Into<String>, message: impl Into<String>) -> ImportError {
    ImportError {
        path: path.into(),
        message: message.into(),
    }
}

/// Reads a document from JSON text, checking every field and reference.
pub fn parse(json: &str) -> Result<ProgramDocument, ImportError> {
    let de = &mut serde_json::Deserializer::from_str(json);
    let doc: ProgramDocument = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            "document".to_owned()
        } else {
            path
        };
        bad(path, e.into_inner().to_string())
    })?;
    // One document per file: anything after it but whitespace is a mistake, not ignored.
    de.end().map_err(|e| {
        bad(
            "document",
            format!("the file goes on after the document ends ({e})"),
        )
    })?;
    validate(&doc)?;
    Ok(doc)
}

fn validate(doc: &ProgramDocument) -> Result<(), ImportError> {
    if doc.format != FORMAT {
        return Err(bad("format", format!("expected \"{FORMAT}\"")));
    }
    if doc.version != VERSION {
        return Err(bad(
            "version",
            format!("this Drumbeat reads version {VERSION}"),
        ));
    }
    let mut people = HashSet::new();
    let mut emails = HashSet::new();
    for (i, p) in doc.people.iter().enumerate() {
        if p.handle.is_empty()
            || p.handle.len() > 64
            || p.handle
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad(
                format!("people[{i}].handle"),
                "a handle is 1 to 64 characters without spaces or control characters",
            ));
        }
        Title::parse(&p.display_name).map_err(|e| bad(format!("people[{i}].display_name"), e.0))?;
        if !people.insert(p.handle.as_str()) {
            return Err(bad(
                format!("people[{i}].handle"),
                format!("`{}` is listed twice", p.handle),
            ));
        }
        if let Some(email) = &p.email {
            if !emails.insert(email.as_str().to_lowercase()) {
                return Err(bad(
                    format!("people[{i}].email"),
                    format!("`{email}` is the email of two people"),
                ));
            }
        }
    }
    let person = |path: String, h: &Option<String>| -> Result<(), ImportError> {
        match h {
            Some(h) if !people.contains(h.as_str()) => {
                Err(bad(path, format!("`{h}` is not in `people`")))
            }
            _ => Ok(()),
        }
    };
    for (i, p) in doc.people.iter().enumerate() {
        person(format!("people[{i}].delegate"), &p.delegate)?;
        if p.delegate.as_deref() == Some(p.handle.as_str()) {
            return Err(bad(
                format!("people[{i}].delegate"),
                "a person cannot be their own delegate",
            ));
        }
    }
    person("program.owner".into(), &Some(doc.program.owner.clone()))?;
    if !(1..=365).contains(&doc.program.staleness_days.get()) {
        return Err(bad(
            "program.staleness_days",
            "the staleness window is 1 to 365 days",
        ));
    }
    let mut role_people = HashSet::new();
    for (i, r) in doc.roles.iter().enumerate() {
        person(format!("roles[{i}].person"), &Some(r.person.clone()))?;
        if r.role == Role::Owner {
            return Err(bad(
                format!("roles[{i}].role"),
                "the owner is `program.owner`; roles are editor or viewer",
            ));
        }
        if !role_people.insert(&r.person) {
            return Err(bad(format!("roles[{i}].person"), "one role per person"));
        }
    }
    let mut channels = HashSet::new();
    for (i, c) in doc.channels.iter().enumerate() {
        if c.is_empty() || c.len() > 100 || c.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(
                format!("channels[{i}]"),
                "a channel id is 1 to 100 characters without spaces or control characters",
            ));
        }
        if !channels.insert(c.as_str()) {
            return Err(bad(
                format!("channels[{i}]"),
                format!("`{c}` is listed twice"),
            ));
        }
    }
    let mut keys: HashMap<&Key, &str> = HashMap::new();
    for (i, p) in doc.projects.iter().enumerate() {
        person(format!("projects[{i}].owner"), &Some(p.owner.clone()))?;
        if keys.insert(&p.key, "project").is_some() {
            return Err(bad(
                format!("projects[{i}].key"),
                format!("`{}` is used twice", p.key),
            ));
        }
    }
    let project_keys: HashSet<&Key> = doc.projects.iter().map(|p| &p.key).collect();
    for (i, m) in doc.milestones.iter().enumerate() {
        let at = |f: &str| format!("milestones[{i}].{f}");
        if keys.insert(&m.key, "milestone").is_some() {
            return Err(bad(
                at("key"),
                format!(
                    "`{}` is used twice (project and milestone keys share one namespace)",
                    m.key
                ),
            ));
        }
        if let Some(p) = &m.project {
            if !project_keys.contains(p) {
                return Err(bad(
                    at("project"),
                    format!("no project `{p}` in this document"),
                ));
            }
        }
        person(at("owner"), &m.owner)?;
        match (m.state, m.completed_on) {
            (MilestoneState::Done, None) => {
                return Err(bad(
                    at("completed_on"),
                    "a done milestone needs its completion date",
                ))
            }
            (MilestoneState::Planned | MilestoneState::Cancelled, Some(_)) => {
                return Err(bad(
                    at("completed_on"),
                    "only a done milestone has a completion date",
                ))
            }
            _ => {}
        }
        for (j, s) in m.slips.iter().enumerate() {
            person(format!("milestones[{i}].slips[{j}].actor"), &s.actor)?;
        }
    }
    let milestone_keys: HashSet<&Key> = doc.milestones.iter().map(|m| &m.key).collect();
    if let Some(end) = doc
        .program
        .end
        .as_ref()
        .filter(|e| !milestone_keys.contains(e))
    {
        return Err(bad(
            "program.end".to_owned(),
            format!("no milestone `{end}` in this document"),
        ));
    }
    let mut edges: Vec<(&Key, &Key)> = Vec::new();
    for (i, m) in doc.milestones.iter().enumerate() {
        for (j, a) in m.after.iter().enumerate() {
            if !milestone_keys.contains(a) {
                return Err(bad(
                    format!("milestones[{i}].after[{j}]"),
                    format!("no milestone `{a}` in this document"),
                ));
            }
            edges.push((a, &m.key));
        }
    }
    let mut numbers = HashSet::new();
    for (i, d) in doc.dependencies.iter().enumerate() {
        let at = |f: &str| format!("dependencies[{i}].{f}");
        number(at("number"), d.number, &mut numbers)?;
        let check_end = |f: &str, e: &EndDoc| -> Result<(), ImportError> {
            match e {
                EndDoc::Project(k) if !project_keys.contains(k) => {
                    Err(bad(at(f), format!("no project `{k}` in this document")))
                }
                EndDoc::Milestone(k) if !milestone_keys.contains(k) => {
                    Err(bad(at(f), format!("no milestone `{k}` in this document")))
                }
                _ => Ok(()),
            }
        };
        check_end("needs", &d.needs)?;
        check_end("from", &d.from)?;
        if matches!(d.needs, EndDoc::External(_)) {
            return Err(bad(
                at("needs"),
                "the needing side is a project or milestone of the program",
            ));
        }
        if d.needs == d.from {
            return Err(bad(at("from"), "a dependency cannot point at itself"));
        }
        person(at("owner"), &d.owner)?;
        if d.state == DepState::Blocked && d.blocked_since.is_none() {
            return Err(bad(
                at("blocked_since"),
                "a blocked dependency needs the time it was blocked",
            ));
        }
        if let (Some(a), Some(b)) = (end_key(&d.from), end_key(&d.needs)) {
            // Keys are unique across projects and milestones, so keys name graph nodes.
            edges.push((a, b));
        }
    }
    if let Some(cycle) = graph::find_cycle(&edges) {
        let names: Vec<&str> = cycle.iter().map(|k| k.as_str()).collect();
        return Err(bad(
            "dependencies",
            format!("the schedule graph has a cycle: {}", names.join(" → ")),
        ));
    }
    let mut numbers = HashSet::new();
    for (i, r) in doc.risks.iter().enumerate() {
        number(format!("risks[{i}].number"), r.number, &mut numbers)?;
        if let Some(p) = &r.project {
            if !project_keys.contains(p) {
                return Err(bad(
                    format!("risks[{i}].project"),
                    format!("no project `{p}` in this document"),
                ));
            }
        }
        person(format!("risks[{i}].owner"), &r.owner)?;
    }
    let mut item_numbers: HashMap<ItemKind, HashSet<i64>> = HashMap::new();
    for (i, it) in doc.items.iter().enumerate() {
        number(
            format!("items[{i}].number"),
            it.number,
            item_numbers.entry(it.kind).or_default(),
        )?;
        if let Some(p) = it.project.as_ref().filter(|p| !project_keys.contains(p)) {
            return Err(bad(
                format!("items[{i}].project"),
                format!("no project `{p}` in this document"),
            ));
        }
        person(format!("items[{i}].owner"), &it.owner)?;
        if let Some(l) = &it.link {
            l.parse::<Link>()
                .map_err(|e| bad(format!("items[{i}].link"), e.0))?;
        }
    }
    let mut change_numbers = HashSet::new();
    for (i, c) in doc.changes.iter().enumerate() {
        number(
            format!("changes[{i}].number"),
            c.number,
            &mut change_numbers,
        )?;
        person(format!("changes[{i}].decider"), &c.decider)?;
        person(format!("changes[{i}].proposed_by"), &c.proposed_by)?;
        for (j, m) in c.moves.iter().enumerate() {
            if !milestone_keys.contains(&m.milestone) {
                return Err(bad(
                    format!("changes[{i}].moves[{j}].milestone"),
                    format!("no milestone `{}` in this document", m.milestone),
                ));
            }
        }
    }
    let mut check_numbers = HashSet::new();
    for (i, c) in doc.readiness.iter().enumerate() {
        number(
            format!("readiness[{i}].number"),
            c.number,
            &mut check_numbers,
        )?;
        if let Some(m) = c.milestone.as_ref().filter(|m| !milestone_keys.contains(m)) {
            return Err(bad(
                format!("readiness[{i}].milestone"),
                format!("no milestone `{m}` in this document"),
            ));
        }
        person(format!("readiness[{i}].owner"), &c.owner)?;
        person(format!("readiness[{i}].checked_by"), &c.checked_by)?;
    }
    for (i, n) in doc.digest_notes.iter().enumerate() {
        person(format!("digest_notes[{i}].author"), &n.author)?;
        if n.body.as_str().is_empty() {
            return Err(bad(
                format!("digest_notes[{i}].body"),
                "a note is not empty",
            ));
        }
    }
    let mut numbers = HashSet::new();
    for (i, d) in doc.decisions.iter().enumerate() {
        number(format!("decisions[{i}].number"), d.number, &mut numbers)?;
        person(format!("decisions[{i}].decided_by"), &d.decided_by)?;
        person(format!("decisions[{i}].decider"), &d.decider)?;
    }
    for (i, s) in doc.status_updates.iter().enumerate() {
        if !project_keys.contains(&s.project) {
            return Err(bad(
                format!("status_updates[{i}].project"),
                format!("no project `{}` in this document", s.project),
            ));
        }
        if s.summary.is_empty() {
            return Err(bad(
                format!("status_updates[{i}].summary"),
                "a status update needs a summary",
            ));
        }
        person(format!("status_updates[{i}].author"), &s.author)?;
    }
    for (i, e) in doc.events.iter().enumerate() {
        person(format!("events[{i}].actor"), &e.actor)?;
        if e.kind.is_empty()
            || e.kind.len() > 64
            || e.kind.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad(
                format!("events[{i}].kind"),
                "an event kind is 1 to 64 characters without spaces or control characters",
            ));
        }
        // Subjects name what changed (`milestone:api-beta`): one line, like a title.
        if e.subject.trim() != e.subject {
            return Err(bad(
                format!("events[{i}].subject"),
                "a subject has no spaces around it",
            ));
        }
        Title::parse(&e.subject).map_err(|err| bad(format!("events[{i}].subject"), err.0))?;
    }
    check_dates(doc)
}

/// Every date within the years 1900 to 9999: what the command language can write, and what
/// date arithmetic can carry.
fn check_dates(doc: &ProgramDocument) -> Result<(), ImportError> {
    let check = |path: String, d: NaiveDate| -> Result<(), ImportError> {
        check_year(d).map(|_| ()).map_err(|e| bad(path, e.0))
    };
    let maybe = |path: String, d: Option<NaiveDate>| d.map_or(Ok(()), |d| check(path, d));
    for (i, d) in doc.program.holidays.iter().enumerate() {
        check(format!("program.holidays[{i}]"), *d)?;
    }
    for (i, p) in doc.people.iter().enumerate() {
        maybe(format!("people[{i}].away_until"), p.away_until)?;
    }
    for (i, m) in doc.milestones.iter().enumerate() {
        check(format!("milestones[{i}].baseline"), m.baseline)?;
        check(format!("milestones[{i}].target"), m.target)?;
        maybe(format!("milestones[{i}].completed_on"), m.completed_on)?;
        for (j, sl) in m.slips.iter().enumerate() {
            check(format!("milestones[{i}].slips[{j}].from"), sl.from)?;
            check(format!("milestones[{i}].slips[{j}].to"), sl.to)?;
        }
    }
    for (i, d) in doc.dependencies.iter().enumerate() {
        check(format!("dependencies[{i}].need_by"), d.need_by)?;
        maybe(format!("dependencies[{i}].delivered_on"), d.delivered_on)?;
    }
    for (i, r) in doc.risks.iter().enumerate() {
        maybe(format!("risks[{i}].review_by"), r.review_by)?;
    }
    for (i, d) in doc.decisions.iter().enumerate() {
        check(format!("decisions[{i}].decided_on"), d.decided_on)?;
        maybe(format!("decisions[{i}].decide_by"), d.decide_by)?;
    }
    for (i, it) in doc.items.iter().enumerate() {
        maybe(format!("items[{i}].due"), it.due)?;
        maybe(format!("items[{i}].closed_on"), it.closed_on)?;
    }
    for (i, c) in doc.readiness.iter().enumerate() {
        maybe(format!("readiness[{i}].due"), c.due)?;
        maybe(format!("readiness[{i}].checked_on"), c.checked_on)?;
    }
    Ok(())
}

/// The largest dependency, risk or decision number a document may carry: far beyond any
/// real program, and far from where the next number (the largest plus one) could overflow.
pub const MAX_RECORD_NUMBER: i64 = 1_000_000;

/// A record number: positive, at most [`MAX_RECORD_NUMBER`], and unique in its list.
fn number(path: String, n: i64, seen: &mut HashSet<i64>) -> Result<(), ImportError> {
    if !(1..=MAX_RECORD_NUMBER).contains(&n) {
        return Err(bad(
            path,
            format!("a number is 1 to {MAX_RECORD_NUMBER} (this one is {n})"),
        ));
    }
    if !seen.insert(n) {
        return Err(bad(path, format!("number {n} is used twice")));
    }
    Ok(())
}

fn end_key(e: &EndDoc) -> Option<&Key> {
    match e {
        EndDoc::Project(k) | EndDoc::Milestone(k) => Some(k),
        EndDoc::External(_) => None,
    }
}

/// Exports one program of the tenant.
pub async fn export(
    store: &Store,
    tenant: &Tenant,
    key: &Key,
) -> anyhow::Result<Option<ProgramDocument>> {
    // A document is of one moment, however many tables it reads.
    let mut tx = store.snapshot().await?;
    let Some((scope, program)) = store::find_program(&mut tx, tenant, key).await? else {
        return Ok(None);
    };
    let all_people = store::people(&mut tx, tenant).await?;
    let mut used: BTreeSet<i64> = BTreeSet::new();
    let handle = |id: i64, used: &mut BTreeSet<i64>| -> String {
        used.insert(id);
        all_people
            .get(&id)
            .map(|p| p.handle.clone())
            .unwrap_or_default()
    };
    let maybe = |id: Option<i64>, used: &mut BTreeSet<i64>| id.map(|i| handle(i, used));

    let charter = store::charter(&mut tx, &scope).await?;
    let roles = store::roles(&mut tx, &scope).await?;
    let channels = store::bound_channels(&mut tx, &scope).await?;
    let projects = store::projects(&mut tx, &scope).await?;
    let milestones = store::milestones(&mut tx, &scope).await?;
    let slips = store::slips(&mut tx, &scope).await?;
    let deps = store::dependencies(&mut tx, &scope).await?;
    let risks = store::risks(&mut tx, &scope).await?;
    let decisions = store::decisions(&mut tx, &scope).await?;
    let items = store::items(&mut tx, &scope).await?;
    let change_requests = store::change_requests(&mut tx, &scope).await?;
    let checks = store::checks(&mut tx, &scope).await?;
    let notes = store::digest_notes(&mut tx, &scope).await?;
    let mut updates = store::status_updates(&mut tx, &scope, None, i64::MAX).await?;
    updates.reverse();
    let events = store::events(&mut tx, &scope).await?;
    tx.commit().await?;

    let project_key: HashMap<i64, Key> = projects.iter().map(|p| (p.id, p.key.clone())).collect();
    let milestone_key: HashMap<i64, Key> =
        milestones.iter().map(|m| (m.id, m.key.clone())).collect();
    let end = |e: &Endpoint| -> anyhow::Result<EndDoc> {
        Ok(match e {
            Endpoint::Project(id) => {
                EndDoc::Project(project_key.get(id).context("dangling project")?.clone())
            }
            Endpoint::Milestone(id) => {
                EndDoc::Milestone(milestone_key.get(id).context("dangling milestone")?.clone())
            }
            Endpoint::External(x) => EndDoc::External(Title::parse(x)?),
        })
    };
    let prose = |s: &str| Prose::parse(s).map_err(anyhow::Error::from);

    let mut doc = ProgramDocument {
        format: FORMAT.into(),
        version: VERSION,
        program: ProgramDoc {
            key: program.key.clone(),
            name: program.name.clone(),
            owner: handle(program.owner, &mut used),
            timezone: program.timezone,
            work_days: program.work_days,
            holidays: program.holidays.clone(),
            staleness_days: Days::new(program.staleness_days.into())?,
            archived: program.archived,
            created_at: program.created_at,
            end: program.end_key.clone(),
        },
        charter: CharterDoc {
            goal: prose(&charter.goal)?,
            scope_in: prose(&charter.scope_in)?,
            scope_out: prose(&charter.scope_out)?,
            success_metrics: prose(&charter.success_metrics)?,
            stakeholders: prose(&charter.stakeholders)?,
        },
        people: vec![],
        roles: roles
            .iter()
            .map(|r| RoleDoc {
                person: handle(r.person, &mut used),
                role: r.role,
            })
            .collect(),
        channels,
        projects: projects
            .iter()
            .map(|p| ProjectDoc {
                key: p.key.clone(),
                name: p.name.clone(),
                owner: handle(p.owner, &mut used),
                removed: p.removed,
                holidays: p.holidays.clone(),
            })
            .collect(),
        milestones: vec![],
        dependencies: vec![],
        risks: vec![],
        decisions: vec![],
        items: vec![],
        readiness: vec![],
        digest_notes: vec![],
        changes: vec![],
        status_updates: vec![],
        events: vec![],
    };
    for m in &milestones {
        let mut after: Vec<Key> = m
            .after
            .iter()
            .filter_map(|id| milestone_key.get(id).cloned())
            .collect();
        after.sort();
        doc.milestones.push(MilestoneDoc {
            key: m.key.clone(),
            title: m.title.clone(),
            project: m.project.and_then(|id| project_key.get(&id).cloned()),
            owner: maybe(m.owner, &mut used),
            baseline: m.baseline,
            target: m.target,
            duration_days: m.duration,
            duration_unit: m.duration_unit,
            state: m.state,
            completed_on: m.completed_on,
            after,
            key_milestone: m.is_key,
            slips: slips
                .iter()
                .filter(|s| s.milestone == m.id)
                .map(|s| {
                    Ok(SlipDoc {
                        from: s.from,
                        to: s.to,
                        reason: Prose::parse(&s.reason)?,
                        actor: maybe(s.actor, &mut used),
                        at: s.at,
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        });
    }
    for d in &deps {
        doc.dependencies.push(DependencyDoc {
            number: d.number,
            needs: end(&d.needs)?,
            from: end(&d.from)?,
            what: d.what.clone(),
            need_by: d.need_by,
            owner: maybe(d.owner, &mut used),
            state: d.state,
            blocked_since: d.blocked_since,
            blocked_reason: d.blocked_reason.as_deref().map(Prose::parse).transpose()?,
            delivered_on: d.delivered_on,
            cancel_reason: d.cancel_reason.as_deref().map(prose).transpose()?,
            agreement: d.agreement,
            committed_on: d.committed_on,
            proposed_on: d.proposed_on,
            agreement_note: d.agreement_note.as_deref().map(prose).transpose()?,
            requested_at: d.requested_at,
        });
    }
    for r in &risks {
        doc.risks.push(RiskDoc {
            number: r.number,
            project: r.project.and_then(|id| project_key.get(&id).cloned()),
            title: r.title.clone(),
            likelihood: r.likelihood,
            impact: r.impact,
            owner: maybe(r.owner, &mut used),
            mitigation: prose(&r.mitigation)?,
            customer_impact: prose(&r.customer_impact)?,
            review_by: r.review_by,
            state: r.state,
            accepted_reason: r.accepted_reason.as_deref().map(prose).transpose()?,
        });
    }
    for d in &decisions {
        doc.decisions.push(DecisionDoc {
            number: d.number,
            title: d.title.clone(),
            context: prose(&d.context)?,
            options: prose(&d.options)?,
            outcome: prose(&d.outcome)?,
            decided_by: maybe(d.decided_by, &mut used),
            decided_on: d.decided_on,
            decider: maybe(d.decider, &mut used),
            decide_by: d.decide_by,
        });
    }
    for it in &items {
        doc.items.push(ItemDoc {
            kind: it.kind,
            number: it.number,
            title: it.title.clone(),
            project: it.project.and_then(|id| project_key.get(&id).cloned()),
            owner: maybe(it.owner, &mut used),
            due: it.due,
            state: it.state,
            severity: it.severity,
            note: prose(&it.note)?,
            link: it.link.map(|l| format!("{}:{}", l.kind.as_str(), l.number)),
            created_at: it.created_at,
            closed_on: it.closed_on,
        });
    }
    for n in &notes {
        doc.digest_notes.push(NoteDoc {
            audience: n.audience,
            body: prose(&n.body)?,
            author: maybe(n.author, &mut used),
            written_at: n.written_at,
        });
    }
    for c in &checks {
        doc.readiness.push(CheckDoc {
            number: c.number,
            title: c.title.clone(),
            milestone: c.milestone.and_then(|id| milestone_key.get(&id).cloned()),
            owner: maybe(c.owner, &mut used),
            due: c.due,
            checked_on: c.checked_on,
            checked_by: maybe(c.checked_by, &mut used),
            created_at: c.created_at,
        });
    }
    for c in &change_requests {
        doc.changes.push(ChangeDoc {
            number: c.number,
            title: c.title.clone(),
            why: prose(&c.why)?,
            moves: c.moves.clone(),
            scope_out: prose(&c.scope_out)?,
            state: c.state,
            decider: maybe(c.decider, &mut used),
            proposed_by: maybe(c.proposed_by, &mut used),
            rebaseline: c.rebaseline,
            reason: prose(&c.reason)?,
            decision: c.decision,
            created_at: c.created_at,
            decided_at: c.decided_at,
        });
    }
    for u in &updates {
        doc.status_updates.push(StatusDoc {
            project: project_key
                .get(&u.project)
                .context("dangling project")?
                .clone(),
            rag: u.rag,
            summary: u.summary.clone(),
            blockers: prose(&u.blockers)?,
            next_steps: prose(&u.next_steps)?,
            author: maybe(u.author, &mut used),
            posted_at: u.posted_at,
        });
    }
    for e in &events {
        doc.events.push(EventDoc {
            at: e.at,
            actor: maybe(e.actor, &mut used),
            kind: e.kind.clone(),
            subject: e.subject.clone(),
            before: e.before.clone(),
            after: e.after.clone(),
        });
    }
    // Delegates of listed people are listed too, so the document is self-contained.
    let mut frontier: Vec<i64> = used.iter().copied().collect();
    while let Some(id) = frontier.pop() {
        if let Some(d) = all_people.get(&id).and_then(|p| p.delegate) {
            if used.insert(d) {
                frontier.push(d);
            }
        }
    }
    let mut people: BTreeMap<String, PersonDoc> = BTreeMap::new();
    for id in used {
        if let Some(p) = all_people.get(&id) {
            people.insert(p.handle.clone(), person_doc(p, &all_people));
        }
    }
    doc.people = people.into_values().collect();
    Ok(Some(doc))
}

fn person_doc(p: &Person, all: &HashMap<i64, Person>) -> PersonDoc {
    PersonDoc {
        handle: p.handle.clone(),
        display_name: p.display_name.clone(),
        timezone: p.timezone,
        away_until: p.away_until,
        delegate: p
            .delegate
            .and_then(|d| all.get(&d))
            .map(|d| d.handle.clone()),
        email: p.email.clone(),
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub program: String,
    /// When the import replaced a program: what it held before, and what it holds beside
    /// the document's records now (kept, as the document does not carry them).
    pub replaced: Option<Replaced>,
    pub projects: usize,
    pub milestones: usize,
    pub dependencies: usize,
    pub risks: usize,
    pub decisions: usize,
    pub status_updates: usize,
    pub events: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Replaced {
    pub before: ProgramContents,
    pub after: ProgramContents,
}

/// "3 projects", "1 project": counts in words.
fn count(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for ImportSummary {
    /// One paragraph for the person who ran the import: what the program holds now, what it
    /// held before, and what was kept because the document does not carry it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        let records = |projects, milestones, deps, risks, decisions, updates, events| {
            [
                count(projects, "project", "projects"),
                count(milestones, "milestone", "milestones"),
                count(deps, "dependency", "dependencies"),
                count(risks, "risk", "risks"),
                count(decisions, "decision", "decisions"),
                count(updates, "status update", "status updates"),
                count(events, "event", "events"),
            ]
            .join(", ")
        };
        let now = records(
            n(self.projects),
            n(self.milestones),
            n(self.dependencies),
            n(self.risks),
            n(self.decisions),
            n(self.status_updates),
            n(self.events),
        );
        let Some(Replaced { before, after }) = &self.replaced else {
            return write!(f, "Imported program {}: {now}.", self.program);
        };
        write!(
            f,
            "Replaced program {} in place: {now}, where it had {}.",
            self.program,
            records(
                before.projects,
                before.milestones,
                before.dependencies,
                before.risks,
                before.decisions,
                before.status_updates,
                before.events
            )
        )?;
        let mut kept = vec![
            count(after.schedules, "schedule", "schedules"),
            count(after.digests, "digest subscription", "digest subscriptions"),
            count(after.routes, "route", "routes"),
            count(after.snoozes, "snooze", "snoozes"),
            count(
                after.undelivered,
                "undelivered message",
                "undelivered messages",
            ),
        ];
        if after.calendar_feed {
            kept.push("its calendar feed".into());
        }
        write!(
            f,
            " Kept, as the document does not carry them: {}.",
            kept.join(", ")
        )?;
        let dropped = before.routes - after.routes;
        if dropped > 0 {
            write!(
                f,
                " Removed with projects the document does not have: {}.",
                count(dropped, "route", "routes")
            )?;
        }
        Ok(())
    }
}

/// How an import may go.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Replace a program that still has messages waiting to be delivered.
    pub force: bool,
}

/// Why an import wrote nothing: refused (the person can fix it), or failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}")]
    Refused(ImportError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<ImportError> for ImportFailure {
    fn from(e: ImportError) -> Self {
        Self::Refused(e)
    }
}

/// Writes a checked document into the tenant, in one transaction. A program with the same
/// key is replaced in place: it keeps its id, and with it its schedules, digest
/// subscriptions, routes, snoozes, calendar feed and queued messages; only what the
/// document carries is replaced. Nothing is written when a channel the document names is
/// not the tenant's or is bound to another program, or when the program still has
/// undelivered messages and `force` is not set.
pub async fn import(
    store: &Store,
    tenant: &Tenant,
    doc: &ProgramDocument,
    channels: &dyn ChannelCheck,
    options: ImportOptions,
) -> Result<ImportSummary, ImportFailure> {
    // Asked before the write lock is taken: the platform may be slow to answer.
    for (i, ch) in doc.channels.iter().enumerate() {
        match channels.check(tenant, ch).await {
            ChannelVerdict::Belongs => {}
            ChannelVerdict::Foreign => {
                return Err(bad(
                    format!("channels[{i}]"),
                    format!("channel `{ch}` is not one of {tenant}'s channels"),
                )
                .into())
            }
            ChannelVerdict::Unchecked(why) => {
                return Err(bad(
                    format!("channels[{i}]"),
                    format!("channel `{ch}` could not be checked: {why}"),
                )
                .into())
            }
        }
    }
    let mut tx = store.write().await?;
    let key = &doc.program.key;
    for (i, ch) in doc.channels.iter().enumerate() {
        if let Some(other) = store::bound_program(&mut tx, tenant, ch).await? {
            if &other != key {
                return Err(bad(
                    format!("channels[{i}]"),
                    format!(
                        "channel `{ch}` is bound to program `{other}`; leave it out of the document, or move it first with `program bind {key}` typed in that channel"
                    ),
                )
                .into());
            }
        }
    }
    let existing = match store::find_program(&mut tx, tenant, key).await? {
        Some((scope, _)) => {
            let before = store::program_contents(&mut tx, &scope).await?;
            if before.undelivered > 0 && !options.force {
                return Err(bad(
                    "program",
                    format!(
                        "`{key}` has {} not delivered yet, which may name what the document changes; wait for them to go out, or import with --force to replace it anyway (they stay queued)",
                        count(before.undelivered, "message", "messages")
                    ),
                )
                .into());
            }
            store::clear_program_records(&mut tx, &scope).await?;
            Some((scope, before))
        }
        None => None,
    };
    let mut ids: HashMap<&str, i64> = HashMap::new();
    let mut people = Vec::with_capacity(doc.people.len());
    for p in &doc.people {
        let person = store::ensure_person(&mut tx, tenant, &p.handle, &p.display_name).await?;
        ids.insert(p.handle.as_str(), person.id);
        people.push(person);
    }
    // Delegates may point at people listed later, so settings go in once all have ids.
    for (p, mut person) in doc.people.iter().zip(people) {
        person.display_name.clone_from(&p.display_name);
        person.timezone = p.timezone;
        person.away_until = p.away_until;
        person.delegate = p.delegate.as_deref().map(|d| ids[d]);
        if let Some(email) = &p.email {
            if let Some(other) = store::person_by_email(&mut tx, tenant, email.as_str())
                .await?
                .filter(|o| o.id != person.id)
            {
                return Err(bad(
                    "people",
                    format!(
                        "`{email}` is already the email of `{}` in this tenant",
                        other.handle
                    ),
                )
                .into());
            }
        }
        person.email.clone_from(&p.email);
        store::update_person(&mut tx, tenant, &person).await?;
    }
    let id = |h: &Option<String>| h.as_deref().map(|h| ids[h]);
    let pd = &doc.program;
    let (scope, mut program, replaced) = match existing {
        Some((scope, before)) => {
            let (_, program) = store::find_program(&mut tx, tenant, key)
                .await?
                .context("the program went away inside its own transaction")?;
            (scope, program, Some(before))
        }
        None => {
            let new = NewProgram {
                key,
                name: &pd.name,
                owner: ids[pd.owner.as_str()],
                timezone: pd.timezone,
                staleness_days: pd.staleness_days.get(),
                created_at: pd.created_at,
            };
            let (scope, program) = store::insert_program(&mut tx, tenant, new).await?;
            (scope, program, None)
        }
    };
    program.name = pd.name.clone();
    program.owner = ids[pd.owner.as_str()];
    program.timezone = pd.timezone;
    program.staleness_days = pd.staleness_days.get();
    program.work_days = pd.work_days;
    program.holidays = pd.holidays.clone();
    program.archived = pd.archived;
    program.end_key = pd.end.clone();
    store::update_program(&mut tx, &scope, &program).await?;
    store::set_program_created_at(&mut tx, &scope, pd.created_at).await?;
    let c = &doc.charter;
    let charter = Charter {
        goal: c.goal.as_str().into(),
        scope_in: c.scope_in.as_str().into(),
        scope_out: c.scope_out.as_str().into(),
        success_metrics: c.success_metrics.as_str().into(),
        stakeholders: c.stakeholders.as_str().into(),
    };
    store::set_charter(&mut tx, &scope, &charter).await?;
    for r in &doc.roles {
        store::grant_role(&mut tx, &scope, ids[r.person.as_str()], r.role).await?;
    }
    for ch in &doc.channels {
        store::bind_channel(&mut tx, &scope, ch).await?;
    }
    // Projects keep their ids where their keys stay, so project routes stay with them.
    let mut old_projects: HashMap<Key, Project> = store::projects(&mut tx, &scope)
        .await?
        .into_iter()
        .map(|p| (p.key.clone(), p))
        .collect();
    let mut project_ids: HashMap<&Key, i64> = HashMap::new();
    for p in &doc.projects {
        let owner = ids[p.owner.as_str()];
        let mut project = match old_projects.remove(&p.key) {
            Some(project) => project,
            None => store::insert_project(&mut tx, &scope, &p.key, &p.name, owner).await?,
        };
        project.name = p.name.clone();
        project.owner = owner;
        project.removed = p.removed;
        project.holidays = p.holidays.clone();
        store::update_project(&mut tx, &scope, &project).await?;
        project_ids.insert(&p.key, project.id);
    }
    for gone in old_projects.values() {
        store::delete_project(&mut tx, &scope, gone.id).await?;
    }
    let mut milestone_ids: HashMap<&Key, i64> = HashMap::new();
    for m in &doc.milestones {
        let mid = store::insert_milestone(
            &mut tx,
            &scope,
            NewMilestone {
                key: &m.key,
                title: &m.title,
                project: m.project.as_ref().map(|k| project_ids[k]),
                owner: id(&m.owner),
                baseline: m.baseline,
                target: m.target,
                duration: m.duration_days,
                duration_unit: m.duration_unit,
                state: m.state,
                completed_on: m.completed_on,
                is_key: m.key_milestone,
            },
        )
        .await?;
        milestone_ids.insert(&m.key, mid);
    }
    for m in &doc.milestones {
        let succ = milestone_ids[&m.key];
        for a in &m.after {
            store::add_milestone_edge(&mut tx, &scope, milestone_ids[a], succ).await?;
        }
        for s in &m.slips {
            let slip = Slip {
                milestone: succ,
                from: s.from,
                to: s.to,
                reason: s.reason.as_str().to_owned(),
                actor: id(&s.actor),
                at: s.at,
            };
            store::insert_slip(&mut tx, &scope, &slip).await?;
        }
    }
    let end = |e: &EndDoc| match e {
        EndDoc::Project(k) => Endpoint::Project(project_ids[k]),
        EndDoc::Milestone(k) => Endpoint::Milestone(milestone_ids[k]),
        EndDoc::External(x) => Endpoint::External(x.as_str().to_owned()),
    };
    for d in &doc.dependencies {
        let dep = Dependency {
            id: 0,
            number: d.number,
            needs: end(&d.needs),
            from: end(&d.from),
            what: d.what.clone(),
            need_by: d.need_by,
            owner: id(&d.owner),
            state: d.state,
            blocked_since: d.blocked_since,
            blocked_reason: d.blocked_reason.as_ref().map(|r| r.as_str().to_owned()),
            delivered_on: d.delivered_on,
            cancel_reason: d.cancel_reason.as_ref().map(|p| p.as_str().to_owned()),
            agreement: d.agreement,
            committed_on: d.committed_on,
            proposed_on: d.proposed_on,
            agreement_note: d.agreement_note.as_ref().map(|p| p.as_str().to_owned()),
            requested_at: d.requested_at,
        };
        store::insert_dependency(&mut tx, &scope, &dep).await?;
    }
    for r in &doc.risks {
        let risk = Risk {
            id: 0,
            number: r.number,
            project: r.project.as_ref().map(|k| project_ids[k]),
            title: r.title.clone(),
            likelihood: r.likelihood,
            impact: r.impact,
            owner: id(&r.owner),
            mitigation: r.mitigation.as_str().into(),
            customer_impact: r.customer_impact.as_str().into(),
            review_by: r.review_by,
            state: r.state,
            accepted_reason: r.accepted_reason.as_ref().map(|p| p.as_str().to_owned()),
        };
        store::insert_risk(&mut tx, &scope, &risk).await?;
    }
    for c in &doc.changes {
        let change = ChangeRequest {
            id: 0,
            number: c.number,
            title: c.title.clone(),
            why: c.why.as_str().into(),
            moves: c.moves.clone(),
            scope_out: c.scope_out.as_str().into(),
            state: c.state,
            decider: id(&c.decider),
            proposed_by: id(&c.proposed_by),
            rebaseline: c.rebaseline,
            reason: c.reason.as_str().into(),
            decision: c.decision,
            created_at: c.created_at,
            decided_at: c.decided_at,
        };
        store::insert_change(&mut tx, &scope, &change).await?;
    }
    for it in &doc.items {
        let item = Item {
            id: 0,
            kind: it.kind,
            number: it.number,
            project: it.project.as_ref().map(|k| project_ids[k]),
            title: it.title.clone(),
            owner: id(&it.owner),
            due: it.due,
            state: it.state,
            severity: it.severity,
            note: it.note.as_str().into(),
            link: it.link.as_deref().and_then(|l| l.parse::<Link>().ok()),
            created_at: it.created_at,
            closed_on: it.closed_on,
        };
        store::insert_item(&mut tx, &scope, &item).await?;
    }
    for n in &doc.digest_notes {
        let note = crate::domain::DigestNote {
            audience: n.audience,
            body: n.body.as_str().into(),
            author: id(&n.author),
            written_at: n.written_at,
        };
        store::insert_digest_note(&mut tx, &scope, &note).await?;
    }
    for c in &doc.readiness {
        let check = crate::domain::Check {
            id: 0,
            number: c.number,
            milestone: c.milestone.as_ref().map(|k| milestone_ids[k]),
            title: c.title.clone(),
            owner: id(&c.owner),
            due: c.due,
            checked_on: c.checked_on,
            checked_by: id(&c.checked_by),
            created_at: c.created_at,
        };
        store::insert_check(&mut tx, &scope, &check).await?;
    }
    for d in &doc.decisions {
        let decision = Decision {
            id: 0,
            number: d.number,
            title: d.title.clone(),
            context: d.context.as_str().into(),
            options: d.options.as_str().into(),
            outcome: d.outcome.as_str().into(),
            decided_by: id(&d.decided_by),
            decided_on: d.decided_on,
            decider: id(&d.decider),
            decide_by: d.decide_by,
        };
        store::insert_decision(&mut tx, &scope, &decision).await?;
    }
    for s in &doc.status_updates {
        let u = StatusUpdate {
            id: 0,
            project: project_ids[&s.project],
            rag: s.rag,
            summary: s.summary.clone(),
            blockers: s.blockers.as_str().into(),
            next_steps: s.next_steps.as_str().into(),
            author: id(&s.author),
            posted_at: s.posted_at,
        };
        store::insert_status_update(&mut tx, &scope, &u).await?;
    }
    for e in &doc.events {
        let event = NewEvent {
            actor: id(&e.actor),
            at: e.at,
            kind: &e.kind,
            subject: e.subject.clone(),
            before: e.before.clone(),
            after: e.after.clone(),
        };
        store::append_event(&mut tx, tenant, Some(&scope), event).await?;
    }
    let replaced = match replaced {
        Some(before) => Some(Replaced {
            before,
            after: store::program_contents(&mut tx, &scope).await?,
        }),
        None => None,
    };
    tx.commit().await.context("committing the import")?;
    Ok(ImportSummary {
        program: key.to_string(),
        replaced,
        projects: doc.projects.len(),
        milestones: doc.milestones.len(),
        dependencies: doc.dependencies.len(),
        risks: doc.risks.len(),
        decisions: doc.decisions.len(),
        status_updates: doc.status_updates.len(),
        events: doc.events.len(),
    })
}
