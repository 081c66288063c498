//! The entities of the glossary, as loaded from the store. Ids are store row ids and never
//! leave the process: people see keys (`api-beta`) and per-program numbers (`dep 3`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{
    risk_score, Agreement, ChangeState, Days, DepState, DurationUnit, Email, ItemKind, ItemState,
    Key, Level, LinkKind, MilestoneState, Prose, Rag, RiskBand, RiskState, Role, Severity,
    Timezone, Title, WorkDays,
};

pub type PersonId = i64;
pub type ProjectId = i64;
pub type MilestoneId = i64;

#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: PersonId,
    /// Console name, Discord user id or Slack user id; unique in the tenant.
    pub handle: String,
    pub display_name: String,
    pub timezone: Option<Timezone>,
    pub away_until: Option<NaiveDate>,
    pub delegate: Option<PersonId>,
    /// How trackers and directories name them; imports match people by it.
    pub email: Option<Email>,
}

impl Person {
    pub fn is_away_on(&self, day: NaiveDate) -> bool {
        self.away_until.is_some_and(|until| day <= until)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Program {
    pub id: i64,
    pub key: Key,
    pub name: Title,
    pub owner: PersonId,
    pub timezone: Timezone,
    pub work_days: WorkDays,
    pub holidays: Vec<NaiveDate>,
    pub staleness_days: u32,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    /// The milestone the program's end is, when it names one; otherwise the end is the last
    /// milestone to finish.
    pub end_key: Option<Key>,
}

impl Program {
    /// Today's date where the program lives.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.timezone.tz()).date_naive()
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Charter {
    pub goal: String,
    pub scope_in: String,
    pub scope_out: String,
    pub success_metrics: String,
    pub stakeholders: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleGrant {
    pub person: PersonId,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: ProjectId,
    pub key: Key,
    pub name: Title,
    pub owner: PersonId,
    pub removed: bool,
    /// The team's own holidays, on top of the program's (a team in another country).
    pub holidays: Vec<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Milestone {
    pub id: MilestoneId,
    pub key: Key,
    pub title: Title,
    pub project: Option<ProjectId>,
    pub owner: Option<PersonId>,
    /// The first commitment; never moves.
    pub baseline: NaiveDate,
    /// The current commitment.
    pub target: NaiveDate,
    /// Days of work after its predecessors finish.
    pub duration: Option<Days>,
    /// What `duration` counts.
    pub duration_unit: DurationUnit,
    pub state: MilestoneState,
    pub completed_on: Option<NaiveDate>,
    /// Milestones that must finish first.
    pub after: Vec<MilestoneId>,
    /// A key milestone: one an executive tracks.
    pub is_key: bool,
}

impl Milestone {
    pub fn slip_days(&self) -> i64 {
        (self.target - self.baseline).num_days()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Slip {
    pub milestone: MilestoneId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub reason: String,
    pub actor: Option<PersonId>,
    pub at: DateTime<Utc>,
}

/// One end of a dependency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Endpoint {
    Project(ProjectId),
    Milestone(MilestoneId),
    /// Outside the program: a legal review, a vendor.
    External(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct Dependency {
    pub id: i64,
    pub number: i64,
    /// Who needs the deliverable.
    pub needs: Endpoint,
    /// Who provides it.
    pub from: Endpoint,
    pub what: Title,
    pub need_by: NaiveDate,
    /// The provider's owner: who gets pinged.
    pub owner: Option<PersonId>,
    pub state: DepState,
    pub blocked_since: Option<DateTime<Utc>>,
    pub blocked_reason: Option<String>,
    pub delivered_on: Option<NaiveDate>,
    /// Why it was cancelled: kept in history, out of the analysis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// Where the provider's agreement stands.
    pub agreement: Agreement,
    /// The date the provider committed to, if they gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committed_on: Option<NaiveDate>,
    /// The date the provider proposed instead, while that proposal is pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed_on: Option<NaiveDate>,
    /// The provider's words with a proposal or a refusal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agreement_note: Option<String>,
    /// When the request was made, while it waits for an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<DateTime<Utc>>,
}

impl Dependency {
    /// Still to be delivered: neither delivered nor cancelled.
    pub fn is_open(&self) -> bool {
        !matches!(self.state, DepState::Delivered | DepState::Cancelled)
    }

    /// When it arrives if no milestone of the program provides it: a pending proposed
    /// date, else the date the provider committed to, else its need-by date.
    pub fn promised(&self) -> NaiveDate {
        match (self.agreement, self.proposed_on, self.committed_on) {
            (Agreement::Proposed, Some(p), _) => p,
            (_, _, Some(c)) => c,
            _ => self.need_by,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Risk {
    pub id: i64,
    pub number: i64,
    pub project: Option<ProjectId>,
    pub title: Title,
    pub likelihood: Level,
    pub impact: Level,
    pub owner: Option<PersonId>,
    pub mitigation: String,
    pub customer_impact: String,
    pub review_by: Option<NaiveDate>,
    pub state: RiskState,
    /// Why it was accepted (kept on the register, out of health), when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_reason: Option<String>,
}

impl Risk {
    pub fn score(&self) -> u8 {
        risk_score(self.likelihood, self.impact)
    }

    pub fn band(&self) -> RiskBand {
        RiskBand::of_score(self.score())
    }

    /// On the register: open, being mitigated, or accepted.
    pub fn is_open(&self) -> bool {
        matches!(
            self.state,
            RiskState::Open | RiskState::Mitigating | RiskState::Accepted
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub id: i64,
    pub number: i64,
    pub title: Title,
    pub context: String,
    pub options: String,
    pub outcome: String,
    pub decided_by: Option<PersonId>,
    pub decided_on: NaiveDate,
    /// Who must decide a pending decision, and by when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decider: Option<PersonId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decide_by: Option<NaiveDate>,
}

/// A record an action is for, or a risk an issue came from: `risk 3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Link {
    pub kind: LinkKind,
    pub number: i64,
}

impl std::str::FromStr for Link {
    type Err = super::Invalid;
    /// `risk:3`, `risk#3` or `risk 3`.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || {
            super::Invalid(format!(
                "`{}` is not a record: write it as decision:N, risk:N, issue:N or dep:N",
                super::truncate_for_error(raw)
            ))
        };
        let (kind, n) = raw.trim().split_once([':', '#', ' ']).ok_or_else(bad)?;
        let kind = LinkKind::parse(kind)?;
        let number: i64 = n.trim().parse().map_err(|_| bad())?;
        if !(1..=1_000_000).contains(&number) {
            return Err(bad());
        }
        Ok(Link { kind, number })
    }
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} #{}", self.kind.as_str(), self.number)
    }
}

/// An assumption, an issue or an action item: numbered per program and kind.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: i64,
    pub kind: ItemKind,
    pub number: i64,
    pub project: Option<ProjectId>,
    pub title: Title,
    pub owner: Option<PersonId>,
    /// An assumption's validate-by date, an issue's or an action's due date.
    pub due: Option<NaiveDate>,
    pub state: ItemState,
    /// An issue's severity.
    pub severity: Option<Severity>,
    /// What its owner wrote when closing it (or an issue's realized risk's note).
    pub note: String,
    /// What an action is for; the risk an issue came from.
    pub link: Option<Link>,
    pub created_at: DateTime<Utc>,
    pub closed_on: Option<NaiveDate>,
}

impl Item {
    pub fn is_open(&self) -> bool {
        self.state == ItemState::Open
    }
}

/// One milestone's new target in a change request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Move {
    pub milestone: Key,
    pub to: NaiveDate,
}

/// A proposed change of scope or schedule, with its reason and the moves it implies.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRequest {
    pub id: i64,
    pub number: i64,
    pub title: Title,
    pub why: String,
    pub moves: Vec<Move>,
    pub scope_out: String,
    pub state: ChangeState,
    /// Who may approve it besides the program owner.
    pub decider: Option<PersonId>,
    pub proposed_by: Option<PersonId>,
    /// Whether approving made the new dates the baseline of record.
    pub rebaseline: bool,
    /// Why it was rejected.
    pub reason: String,
    /// The decision its approval logged.
    pub decision: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// The parts of a status update a person writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusField {
    Summary,
    Blockers,
    Next,
}

impl StatusField {
    /// The field's id in forms.
    pub fn id(self) -> &'static str {
        match self {
            Self::Summary => "summary",
            Self::Blockers => "blockers",
            Self::Next => "next",
        }
    }
}

/// What every status update needs: a summary, and for amber and red (calls for help)
/// blockers or next steps, so readers know what is in the way. The field that is missing,
/// and the refusal in the words of the command (forms show it under the field).
pub fn check_status_fields(
    rag: Rag,
    has_summary: bool,
    has_blockers: bool,
    has_next: bool,
) -> Result<(), (StatusField, String)> {
    if !has_summary {
        return Err((
            StatusField::Summary,
            "a status update needs a --summary".to_owned(),
        ));
    }
    if rag != Rag::Green && !has_blockers && !has_next {
        return Err((
            StatusField::Blockers,
            format!(
                "{} update needs --blockers or --next, so readers know what is in the way",
                match rag {
                    Rag::Amber => "an amber",
                    _ => "a red",
                }
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusUpdate {
    pub id: i64,
    pub project: ProjectId,
    pub rag: Rag,
    pub summary: Prose,
    pub blockers: String,
    pub next_steps: String,
    pub author: Option<PersonId>,
    pub posted_at: DateTime<Utc>,
}

/// An append-only record of one change.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: Option<PersonId>,
    /// What happened, e.g. `milestone.moved`.
    pub kind: String,
    /// What it happened to, e.g. `milestone:api-beta`.
    pub subject: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Event {
    /// A text field of what it recorded after (empty when absent).
    pub fn after_text(&self, key: &str) -> String {
        field(self.after.as_ref(), key)
    }

    /// A text field of what it recorded before (empty when absent).
    pub fn before_text(&self, key: &str) -> String {
        field(self.before.as_ref(), key)
    }

    /// A text field of after, else of before (a removal records only before).
    pub fn text(&self, key: &str) -> String {
        match self.after.as_ref().and_then(|v| v.get(key)) {
            Some(_) => self.after_text(key),
            None => self.before_text(key),
        }
    }
}

fn field(v: Option<&serde_json::Value>, key: &str) -> String {
    v.and_then(|v| v.get(key))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// One line of a launch-readiness checklist: what must be true before a milestone ships.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: i64,
    pub number: i64,
    /// The milestone it gates; none for the program's launch as a whole.
    pub milestone: Option<MilestoneId>,
    pub title: Title,
    pub owner: Option<PersonId>,
    pub due: Option<NaiveDate>,
    pub checked_on: Option<NaiveDate>,
    pub checked_by: Option<PersonId>,
    pub created_at: DateTime<Utc>,
}

impl Check {
    pub fn is_checked(&self) -> bool {
        self.checked_on.is_some()
    }

    /// Whether it gates `milestone`: named for it, or for the launch as a whole when
    /// `milestone` is the launch.
    pub fn gates(&self, milestone: MilestoneId, is_launch: bool) -> bool {
        self.milestone == Some(milestone) || (self.milestone.is_none() && is_launch)
    }
}

/// A summary the TPM wrote for a period; it leads the next digest of its audience.
#[derive(Debug, Clone, Serialize)]
pub struct DigestNote {
    pub audience: super::Audience,
    pub body: String,
    pub author: Option<PersonId>,
    pub written_at: DateTime<Utc>,
}

/// Programs of one tenant seen together, for a director: their health, end dates, conflicts,
/// top risks and asks side by side, and digests of them all.
#[derive(Debug, Clone, Serialize)]
pub struct Portfolio {
    pub id: i64,
    pub key: Key,
    pub name: Title,
    pub owner: PersonId,
    /// Where its digest schedules are read.
    pub timezone: Timezone,
    pub created_at: DateTime<Utc>,
    /// Its programs' ids, in the order given.
    pub programs: Vec<i64>,
}
