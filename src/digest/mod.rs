//! Digests: one value per (program, audience, period), built from a [`Snapshot`] by the
//! pure analyses, and turned into a platform-neutral [`Reply`] for the renderers. The JSON
//! form of a digest is the [`Digest`] value itself.
//!
//! - engineering: everything.
//! - executive: one screen: health and why, key milestones, the top 3 risks, help needed.
//! - product: dates and launch readiness, and risks with customer impact.

mod executive;
pub mod portfolio;
mod reply;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::analysis::changes::{self, Change, Dated};
use crate::analysis::health::Reason;
use crate::analysis::{Analysed, Node};
use crate::domain::{Audience, DepState, Milestone, MilestoneState, PersonId, Rag, Risk, RiskBand};
use crate::reply::Mention;

pub use executive::{bare, Ask, EndLine};
pub use reply::to_reply;

/// Float, in working days, at or under which a milestone is near the critical chain.
pub const NEAR_CRITICAL_DAYS: i64 = 5;
/// How far ahead "upcoming" looks.
pub const UPCOMING_DAYS: i64 = 14;
/// The period of a digest when no `--since` is given. (Scheduled digests will start where
/// the subscription's last one ended.)
pub const DEFAULT_PERIOD_DAYS: i64 = 7;

#[derive(Debug, Clone, Serialize)]
pub struct ProgramRef {
    pub key: String,
    pub name: String,
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Period {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// The first day of the period, in the program's timezone.
    pub first_day: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectLine {
    pub key: String,
    pub name: String,
    pub owner: Option<Mention>,
    pub rag: Rag,
    pub reported: Option<Rag>,
    pub stale: bool,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthSection {
    pub rag: Rag,
    /// The program's reasons of its own colour, worst first.
    pub why: Vec<String>,
    pub projects: Vec<ProjectLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MilestoneLine {
    pub key: String,
    pub title: String,
    pub project: Option<String>,
    pub owner: Option<Mention>,
    pub state: MilestoneState,
    pub baseline: NaiveDate,
    pub target: NaiveDate,
    pub forecast: Option<NaiveDate>,
    /// Target − forecast: negative when late.
    pub float_days: Option<i64>,
    pub critical: bool,
    /// Target − baseline: how far it has moved since the first commitment.
    pub slipped_days: i64,
    pub completed_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MilestoneSection {
    /// Not done, forecast within the next two weeks.
    pub upcoming: Vec<MilestoneLine>,
    /// Moved later during the period.
    pub slipped: Vec<MilestoneLine>,
    /// Done during the period.
    pub completed: Vec<MilestoneLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PathStep {
    /// A milestone key, or `dep #N`.
    pub name: String,
    pub title: String,
    pub owner: Option<Mention>,
    pub target: Option<NaiveDate>,
    pub forecast: NaiveDate,
    pub float_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DepLine {
    pub number: i64,
    pub what: String,
    pub needed_by: String,
    pub from: String,
    pub owner: Option<Mention>,
    pub state: DepState,
    pub need_by: NaiveDate,
    pub days_late: i64,
    pub blocked_days: Option<i64>,
    pub blocked_reason: Option<String>,
    /// Milestones waiting on it, directly.
    pub delays: Vec<String>,
    /// When it arrives, if after its need-by date (a conflict).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrives_late: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskLine {
    pub number: i64,
    pub title: String,
    pub score: u8,
    pub band: RiskBand,
    pub owner: Option<Mention>,
    pub mitigation: String,
    pub customer_impact: String,
    pub review_by: Option<NaiveDate>,
    pub review_overdue: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Answer {
    /// Posted during the period.
    Posted,
    /// Posted before the period, but still inside the staleness window.
    Earlier,
    /// Older than the staleness window.
    Stale,
    /// Never posted.
    Missing,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollCallLine {
    pub project: String,
    pub owner: Option<Mention>,
    pub answer: Answer,
    pub rag: Option<Rag>,
    pub posted_on: Option<NaiveDate>,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionLine {
    pub number: i64,
    pub title: String,
    pub outcome: String,
    pub decided_by: Option<Mention>,
    pub decided_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub milestones_done: usize,
    pub milestones_total: usize,
    /// The latest terminal milestone: the launch, as far as the graph knows.
    pub launch: Option<MilestoneLine>,
    /// The milestone whose checklist this is: the next key milestone (or, when none is
    /// marked, the next one with a checklist, else the launch).
    pub gate: Option<MilestoneLine>,
    pub checklist: Vec<CheckLine>,
}

/// One item of a launch readiness checklist.
#[derive(Debug, Clone, Serialize)]
pub struct CheckLine {
    pub number: i64,
    pub title: String,
    pub owner: Option<Mention>,
    pub due: Option<NaiveDate>,
    pub checked_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    pub program: ProgramRef,
    pub audience: Audience,
    pub period: Period,
    pub today: NaiveDate,
    pub health: HealthSection,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<Dated>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestones: Option<MilestoneSection>,
    /// Executive: terminal milestones and late ones on the critical path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_milestones: Option<Vec<MilestoneLine>>,
    /// Product: every live milestone's dates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dates: Option<Vec<MilestoneLine>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness: Option<Readiness>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub critical_path: Option<Vec<PathStep>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<DepLine>>,
    pub risks: Vec<RiskLine>,
    /// How many open risks there are in all, for "… and N more".
    pub open_risks: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue_reviews: Option<Vec<RiskLine>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roll_call: Option<Vec<RollCallLine>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decisions: Option<Vec<DecisionLine>>,
    /// Decisions raised and not yet taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decisions_needed: Option<Vec<DecisionLine>>,
    /// Executive: what leadership is asked for, each once, with who and by when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asks: Option<Vec<Ask>>,
    /// The summary the TPM wrote for this period, which leads the digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Executive: the program's health at the last digest before this period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was: Option<Rag>,
    /// Executive: the end of the plan against its target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<EndLine>,
    /// Executive: what changed, in a few phrases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what_changed: Option<Vec<String>>,
    /// Engineering, in the first digest of each month: the delivery scorecard of the last
    /// [`SCORECARD_WEEKS`] weeks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scorecard: Option<Vec<crate::analysis::scorecard::TeamScore>>,
}

/// The weeks the monthly scorecard in the engineering digest covers.
pub const SCORECARD_WEEKS: u32 = 4;

/// Whether a digest carries the monthly scorecard: an engineering digest whose period
/// starts in an earlier month (the first of each month), or on the 1st.
pub fn monthly(audience: Audience, first_day: NaiveDate, today: NaiveDate) -> bool {
    use chrono::Datelike as _;
    audience == Audience::Engineering
        && (first_day.month() != today.month()
            || first_day.year() != today.year()
            || first_day.day() == 1)
}

/// Where the events a digest reads start: its period, or, when it carries the monthly
/// scorecard, far enough back for the scorecard's window.
pub fn events_from(
    audience: Audience,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> DateTime<Utc> {
    let first_day = since.with_timezone(&tz).date_naive();
    let today = now.with_timezone(&tz).date_naive();
    if monthly(audience, first_day, today) {
        since.min(now - Duration::days(i64::from(SCORECARD_WEEKS) * 7 + 1))
    } else {
        since
    }
}

/// The lines digests and reports are made of, read from the analysed program.
impl Analysed<'_> {
    pub fn who(&self, id: Option<PersonId>) -> Option<Mention> {
        id.and_then(|id| self.snap.person(id)).map(Mention::from)
    }

    pub fn milestone_line(&self, index: usize) -> MilestoneLine {
        let s = self.snap;
        let m: &Milestone = &s.milestones[index];
        let fc = self.forecasts.milestone(index);
        MilestoneLine {
            key: m.key.as_str().to_owned(),
            title: m.title.as_str().to_owned(),
            project: m
                .project
                .and_then(|p| s.project(p))
                .map(|p| p.name.as_str().to_owned()),
            owner: s.milestone_owner(m).map(Mention::from),
            state: m.state,
            baseline: m.baseline,
            target: m.target,
            forecast: fc.map(|f| f.forecast),
            float_days: fc.map(|f| f.float_days),
            critical: fc.is_some_and(|f| f.critical),
            slipped_days: m.slip_days(),
            completed_on: m.completed_on,
        }
    }

    pub fn risk_line(&self, r: &Risk) -> RiskLine {
        RiskLine {
            number: r.number,
            title: r.title.as_str().to_owned(),
            score: r.score(),
            band: r.band(),
            owner: self.who(r.owner),
            mitigation: r.mitigation.clone(),
            customer_impact: r.customer_impact.clone(),
            review_by: r.review_by,
            review_overdue: r.is_open() && r.review_by.is_some_and(|d| d < self.snap.today()),
        }
    }

    /// Open risks, highest score first (then by number).
    pub fn open_risks(&self) -> Vec<&Risk> {
        let mut v: Vec<&Risk> = self.snap.risks.iter().filter(|r| r.is_open()).collect();
        v.sort_by(|a, b| b.score().cmp(&a.score()).then(a.number.cmp(&b.number)));
        v
    }

    pub fn overdue_reviews(&self) -> Vec<RiskLine> {
        self.open_risks()
            .into_iter()
            .map(|r| self.risk_line(r))
            .filter(|r| r.review_overdue)
            .collect()
    }

    pub fn critical_path(&self) -> Vec<PathStep> {
        let s = self.snap;
        self.forecasts
            .critical_path()
            .into_iter()
            .filter_map(|n| match n {
                Node::Milestone(i) => {
                    let m = &s.milestones[i];
                    let fc = self.forecasts.milestone(i)?;
                    Some(PathStep {
                        name: m.key.as_str().to_owned(),
                        title: m.title.as_str().to_owned(),
                        owner: s.milestone_owner(m).map(Mention::from),
                        target: Some(m.target),
                        forecast: fc.forecast,
                        float_days: Some(fc.float_days),
                    })
                }
                Node::Dependency(i) => {
                    let d = &s.deps[i];
                    Some(PathStep {
                        name: format!("dep #{}", d.number),
                        title: d.what.as_str().to_owned(),
                        owner: self.who(d.owner),
                        target: Some(d.need_by),
                        forecast: self.forecasts.dependency(i)?,
                        float_days: self
                            .forecasts
                            .dependency(i)
                            .map(|f| (d.need_by - f).num_days()),
                    })
                }
            })
            .collect()
    }

    /// Open dependencies that are blocked, at risk, past need-by, or arriving after it (in
    /// conflict): worst first.
    pub fn troubled_dependencies(&self) -> Vec<DepLine> {
        let s = self.snap;
        let today = s.today();
        let mut waiting: std::collections::HashMap<i64, Vec<String>> = Default::default();
        for d in &s.deps {
            if let crate::domain::Endpoint::Milestone(m) = d.needs {
                if let Some(m) = s.milestone(m) {
                    waiting
                        .entry(d.id)
                        .or_default()
                        .push(m.key.as_str().to_owned());
                }
            }
        }
        let mut out: Vec<DepLine> = s
            .deps
            .iter()
            .enumerate()
            .filter(|(i, d)| {
                let late_arrival = self.forecasts.arrival(*i).is_some_and(|a| a > d.need_by);
                d.is_open() && (d.state != DepState::Open || d.need_by < today || late_arrival)
            })
            .map(|(i, d)| DepLine {
                number: d.number,
                what: d.what.as_str().to_owned(),
                needed_by: s.endpoint_name(&d.needs),
                from: s.endpoint_name(&d.from),
                owner: self.who(d.owner),
                state: d.state,
                need_by: d.need_by,
                days_late: (today - d.need_by).num_days().max(0),
                blocked_days: (d.state == DepState::Blocked)
                    .then(|| d.blocked_since.map(|t| (s.now - t).num_days().max(0)))
                    .flatten(),
                blocked_reason: d.blocked_reason.clone().filter(|r| !r.is_empty()),
                delays: waiting.remove(&d.id).unwrap_or_default(),
                arrives_late: self.forecasts.arrival(i).filter(|a| *a > d.need_by),
            })
            .collect();
        let rank = |d: &DepLine| match d.state {
            DepState::Blocked => 0,
            _ if d.days_late > 0 => 1,
            _ if d.arrives_late.is_some() => 2,
            _ => 3,
        };
        out.sort_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then(b.days_late.cmp(&a.days_late))
                .then(a.number.cmp(&b.number))
        });
        out
    }

    pub fn roll_call(&self, since: DateTime<Utc>) -> Vec<RollCallLine> {
        let s = self.snap;
        s.active_projects()
            .map(|p| {
                let u = s.latest_status(p.id);
                let answer = match u {
                    None => Answer::Missing,
                    Some(u) if u.posted_at > since => Answer::Posted,
                    Some(u) if s.is_stale(u) => Answer::Stale,
                    Some(_) => Answer::Earlier,
                };
                RollCallLine {
                    project: p.name.as_str().to_owned(),
                    owner: s.person(p.owner).map(Mention::from),
                    answer,
                    rag: u.map(|u| u.rag),
                    posted_on: u.map(|u| s.posted_on(u)),
                    summary: u.map(|u| u.summary.as_str().to_owned()).unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Decisions without an outcome yet: what the sync has to decide.
    pub fn pending_decisions(&self) -> Vec<DecisionLine> {
        self.snap
            .decisions
            .iter()
            .filter(|d| d.outcome.trim().is_empty())
            .map(|d| self.decision_line(d))
            .collect()
    }

    pub fn decision_line(&self, d: &crate::domain::Decision) -> DecisionLine {
        DecisionLine {
            number: d.number,
            title: d.title.as_str().to_owned(),
            outcome: d.outcome.clone(),
            decided_by: self.who(d.decided_by),
            decided_on: d.decided_on,
        }
    }

    /// The latest terminal live milestone: the launch.
    pub fn launch(&self) -> Option<usize> {
        self.forecasts
            .critical_path()
            .into_iter()
            .rev()
            .find_map(|n| match n {
                Node::Milestone(i) => Some(i),
                Node::Dependency(_) => None,
            })
    }
}

/// Builds the digest for one audience. `since` is the start of the period.
pub fn build(a: &Analysed<'_>, audience: Audience, since: DateTime<Utc>) -> Digest {
    let s = a.snap;
    let today = s.today();
    let tz = s.program.timezone.tz();
    let horizon = today + Duration::days(UPCOMING_DAYS);
    let since_day = since.with_timezone(&tz).date_naive();

    let owners: std::collections::HashMap<String, Option<Mention>> = s
        .active_projects()
        .map(|p| {
            (
                p.key.as_str().to_owned(),
                s.person(p.owner).map(Mention::from),
            )
        })
        .collect();
    let health = HealthSection {
        rag: a.health.rag,
        why: a
            .health
            .reasons
            .iter()
            .filter(|r| r.rag == a.health.rag && a.health.rag != Rag::Green)
            .map(|r| r.text.clone())
            .collect(),
        projects: a
            .health
            .projects
            .iter()
            .map(|p| ProjectLine {
                key: p.key.clone(),
                name: p.name.clone(),
                owner: owners.get(&p.key).cloned().flatten(),
                rag: p.health.rag,
                reported: p.health.reported,
                stale: p.health.stale,
                reasons: p.health.reasons.clone(),
            })
            .collect(),
    };

    let all_changes = changes::since(&s.events, since, s);

    let live: Vec<usize> = (0..s.milestones.len())
        .filter(|&i| s.milestones[i].state != MilestoneState::Cancelled)
        .collect();
    let open_risks = a.open_risks();

    let mut d = Digest {
        program: ProgramRef {
            key: s.program.key.as_str().to_owned(),
            name: s.program.name.as_str().to_owned(),
            timezone: s.program.timezone.as_str().to_owned(),
        },
        audience,
        period: Period {
            since,
            until: s.now,
            first_day: since_day,
        },
        today,
        health,
        changes: None,
        milestones: None,
        key_milestones: None,
        dates: None,
        readiness: None,
        critical_path: None,
        dependencies: None,
        risks: vec![],
        open_risks: open_risks.len(),
        overdue_reviews: None,
        roll_call: None,
        decisions: None,
        decisions_needed: None,
        asks: None,
        note: None,
        was: None,
        end: None,
        what_changed: None,
        scorecard: None,
    };

    let decisions_in_period = || -> Vec<DecisionLine> {
        s.decisions
            .iter()
            .filter(|x| x.decided_on >= since_day && !x.outcome.trim().is_empty())
            .map(|x| a.decision_line(x))
            .collect()
    };

    match audience {
        Audience::Engineering => {
            let slipped_ids: std::collections::HashSet<i64> = s
                .slips
                .iter()
                .filter(|sl| sl.at > since && sl.to > sl.from)
                .map(|sl| sl.milestone)
                .collect();
            let mut upcoming: Vec<MilestoneLine> = live
                .iter()
                .map(|&i| a.milestone_line(i))
                .filter(|m| {
                    m.state == MilestoneState::Planned && m.forecast.is_some_and(|f| f <= horizon)
                })
                .collect();
            upcoming.sort_by(|x, y| x.forecast.cmp(&y.forecast).then(x.key.cmp(&y.key)));
            let slipped = live
                .iter()
                .filter(|&&i| slipped_ids.contains(&s.milestones[i].id))
                .map(|&i| a.milestone_line(i))
                .collect();
            // Done in the period: by its completion date, or by when it was marked done
            // (a completion recorded late still counts as news).
            let marked_done: std::collections::HashSet<&str> = s
                .events
                .iter()
                .filter(|e| e.at > since && e.kind == "milestone.done")
                .filter_map(|e| e.subject.strip_prefix("milestone:"))
                .collect();
            let completed = live
                .iter()
                .filter(|&&i| {
                    let m = &s.milestones[i];
                    m.state == MilestoneState::Done
                        && (m.completed_on.is_some_and(|c| c >= since_day)
                            || marked_done.contains(m.key.as_str()))
                })
                .map(|&i| a.milestone_line(i))
                .collect();
            d.changes = Some(all_changes);
            d.milestones = Some(MilestoneSection {
                upcoming,
                slipped,
                completed,
            });
            d.critical_path = Some(a.critical_path());
            d.dependencies = Some(a.troubled_dependencies());
            d.risks = open_risks.iter().map(|r| a.risk_line(r)).collect();
            d.overdue_reviews = Some(a.overdue_reviews());
            d.roll_call = Some(a.roll_call(since));
            d.decisions = Some(decisions_in_period());
            d.decisions_needed = Some(a.pending_decisions());
            if monthly(audience, since_day, today) {
                d.scorecard = Some(crate::analysis::scorecard::scores(a, SCORECARD_WEEKS));
            }
        }
        Audience::Executive => {
            // The key milestones (or, when none is marked, the ends of the plan), and any
            // late one on or near the critical chain.
            let any_key = live.iter().any(|&i| s.milestones[i].is_key);
            let mut key: Vec<usize> = live
                .iter()
                .copied()
                .filter(|&i| {
                    let m = &s.milestones[i];
                    let fc = a.forecasts.milestone(i);
                    let tracked = if any_key {
                        m.is_key
                    } else {
                        a.forecasts.is_terminal(i)
                    };
                    let late_near_chain = fc.is_some_and(|f| {
                        f.margin_days < 0 && (f.critical || f.float_days <= NEAR_CRITICAL_DAYS)
                    });
                    m.state == MilestoneState::Planned && (tracked || late_near_chain)
                })
                .collect();
            key.sort_by_key(|&i| {
                (
                    a.forecasts.milestone(i).map(|f| f.margin_days).unwrap_or(0),
                    s.milestones[i].target,
                )
            });
            d.key_milestones = Some(key.into_iter().map(|i| a.milestone_line(i)).collect());
            d.risks = open_risks.iter().take(3).map(|r| a.risk_line(r)).collect();
            d.end = executive::end_line(a);
            d.what_changed = Some(executive::what_changed(a, since, since_day));
            d.asks = Some(executive::asks(a));
        }
        Audience::Product => {
            let mut dates: Vec<MilestoneLine> = live
                .iter()
                .map(|&i| a.milestone_line(i))
                .filter(|m| m.state == MilestoneState::Planned)
                .collect();
            dates.sort_by(|x, y| x.forecast.cmp(&y.forecast).then(x.key.cmp(&y.key)));
            let done = live
                .iter()
                .filter(|&&i| s.milestones[i].state == MilestoneState::Done)
                .count();
            let launch = a.launch();
            let planned = |i: &usize| s.milestones[*i].state == MilestoneState::Planned;
            let by_forecast = |i: &usize| {
                (
                    a.forecasts.milestone(*i).map(|f| f.forecast),
                    s.milestones[*i].target,
                )
            };
            let is_launch = |i: usize| launch == Some(i);
            // Indexed once: the digest asks this of every live milestone.
            let named: std::collections::HashSet<i64> =
                s.checks.iter().filter_map(|c| c.milestone).collect();
            let launch_has_checks = s.checks.iter().any(|c| c.milestone.is_none());
            let has_checks = |i: usize| {
                named.contains(&s.milestones[i].id) || (is_launch(i) && launch_has_checks)
            };
            let gate = live
                .iter()
                .copied()
                .filter(planned)
                .filter(|&i| s.milestones[i].is_key)
                .min_by_key(by_forecast)
                .or_else(|| {
                    live.iter()
                        .copied()
                        .filter(planned)
                        .filter(|&i| has_checks(i))
                        .min_by_key(by_forecast)
                })
                .or(launch);
            let checklist = gate
                .map(|g| {
                    s.checks
                        .iter()
                        .filter(|c| c.gates(s.milestones[g].id, is_launch(g)))
                        .map(|c| CheckLine {
                            number: c.number,
                            title: c.title.as_str().to_owned(),
                            owner: a.who(c.owner),
                            due: c.due,
                            checked_on: c.checked_on,
                        })
                        .collect()
                })
                .unwrap_or_default();
            d.readiness = Some(Readiness {
                milestones_done: done,
                milestones_total: live.len(),
                launch: launch.map(|i| a.milestone_line(i)),
                gate: gate.map(|i| a.milestone_line(i)),
                checklist,
            });
            d.dates = Some(dates);
            d.changes = Some(
                all_changes
                    .into_iter()
                    .filter(|c| {
                        matches!(
                            c.change,
                            Change::MilestoneMoved { .. }
                                | Change::MilestoneDone { .. }
                                | Change::MilestoneCancelled { .. }
                                | Change::MilestoneAdded { .. }
                                | Change::MilestoneEdited { .. }
                        ) || matches!(
                            &c.change,
                            // Approved scope and schedule changes, with what they moved.
                            Change::ItemClosed { record, state, .. }
                                if record == "change" && state == "approved"
                        )
                    })
                    .collect(),
            );
            d.risks = open_risks
                .iter()
                .filter(|r| !r.customer_impact.trim().is_empty() || r.band() >= RiskBand::High)
                .map(|r| a.risk_line(r))
                .collect();
        }
    }
    d
}

/// The start of a digest's period: `since` if given, else [`DEFAULT_PERIOD_DAYS`] ago.
pub fn period_start(now: DateTime<Utc>, since: Option<DateTime<Utc>>) -> DateTime<Utc> {
    since.unwrap_or(now - Duration::days(DEFAULT_PERIOD_DAYS))
}
