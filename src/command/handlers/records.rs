//! The records `--json` prints for list and show commands: data with stable field names
//! (keys, dates, forecasts, float, owners by handle), not the reply's layout. README's
//! "JSON output" lists the fields; `tests/it/json_data.rs` holds them to it.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::analysis::Forecasts;
use crate::domain::{
    Decision, Dependency, Endpoint, Item, Milestone, MilestoneState, Person, PersonId, Program,
    Project, Risk, Snapshot, StatusUpdate,
};

/// People by id, for owners by handle.
pub(super) type People = HashMap<PersonId, Person>;

/// A person as data: their handle (`null` for nobody).
pub(super) fn who(people: &People, id: Option<PersonId>) -> Value {
    id.and_then(|id| people.get(&id))
        .map_or(Value::Null, |p| Value::String(p.handle.clone()))
}

/// An end of a dependency as data: `{"kind": "milestone", "key": …}`, or an outside one.
pub(super) fn end(g: &Snapshot, e: &Endpoint) -> Value {
    match e {
        Endpoint::Project(id) => json!({
            "kind": "project",
            "key": g.project(*id).map(|p| p.key.as_str()),
        }),
        Endpoint::Milestone(id) => json!({
            "kind": "milestone",
            "key": g.milestone_index(*id).map(|i| g.milestones[i].key.as_str()),
        }),
        Endpoint::External(name) => json!({ "kind": "external", "name": name }),
    }
}

fn project_key(projects: &[Project], id: Option<i64>) -> Value {
    id.and_then(|id| projects.iter().find(|p| p.id == id))
        .map_or(Value::Null, |p| Value::String(p.key.as_str().to_owned()))
}

/// A milestone with its place in the schedule.
pub(super) fn milestone(g: &Snapshot, f: &Forecasts, people: &People, i: usize) -> Value {
    let m: &Milestone = &g.milestones[i];
    let fc = f.milestone(i);
    let after: Vec<&str> = m
        .after
        .iter()
        .filter_map(|id| g.milestone_index(*id))
        .map(|j| g.milestones[j].key.as_str())
        .collect();
    let before: Vec<&str> = g
        .milestones
        .iter()
        .filter(|x| x.after.contains(&m.id))
        .map(|x| x.key.as_str())
        .collect();
    let owner = m
        .owner
        .or_else(|| m.project.and_then(|p| g.project(p)).map(|p| p.owner));
    json!({
        "key": m.key.as_str(),
        "title": m.title.as_str(),
        "project": project_key(&g.projects, m.project),
        "owner": who(people, owner),
        "state": m.state.as_str(),
        "key_milestone": m.is_key,
        "target": m.target,
        "baseline": m.baseline,
        "slip_days": m.slip_days(),
        "completed_on": m.completed_on,
        "duration": m.duration.map(|d| d.get()),
        "duration_unit": m.duration_unit.as_str(),
        "after": after,
        "before": before,
        "forecast": fc.as_ref().map(|x| x.forecast),
        "earliest": fc.as_ref().map(|x| x.earliest),
        "latest": fc.as_ref().and_then(|x| x.latest),
        "float_days": fc.as_ref().map(|x| x.float_days),
        "late_days": fc
            .as_ref()
            .filter(|_| m.state == MilestoneState::Planned)
            .map(|x| (-x.margin_days).max(0)),
        "critical": fc.as_ref().is_some_and(|x| x.critical),
    })
}

/// When the dependency at index `i` of the snapshot arrives, and how far after its need-by
/// date (0 when in time).
pub(super) fn arrival(f: &Forecasts, g: &Snapshot, i: usize) -> (Option<NaiveDate>, i64) {
    let a = f.arrival(i);
    let gap = a.map_or(0, |a| (a - g.deps[i].need_by).num_days().max(0));
    (a, gap)
}

/// The dependency at index `i` of the snapshot, with its agreement, arrival and gap.
pub(super) fn dependency(g: &Snapshot, f: &Forecasts, people: &People, i: usize) -> Value {
    let d: &Dependency = &g.deps[i];
    let (arrives, gap) = arrival(f, g, i);
    json!({
        "number": d.number,
        "what": d.what.as_str(),
        "needs": end(g, &d.needs),
        "from": end(g, &d.from),
        "need_by": d.need_by,
        "owner": who(people, d.owner),
        "state": d.state.as_str(),
        "agreement": d.agreement.as_str(),
        "committed_on": d.committed_on,
        "proposed_on": d.proposed_on,
        "agreement_note": d.agreement_note,
        "arrives": arrives,
        "gap_days": gap,
        "conflict": gap > 0,
        "blocked_since": d.blocked_since,
        "blocked_reason": d.blocked_reason,
        "delivered_on": d.delivered_on,
        "cancel_reason": d.cancel_reason,
    })
}

/// A project with its open dependencies in (it needs) and out (it provides), by number.
pub(super) fn project(g: &Snapshot, people: &People, pr: &Project) -> Value {
    let touches = |e: &Endpoint| match e {
        Endpoint::Project(p) => *p == pr.id,
        Endpoint::Milestone(m) => g
            .milestone_index(*m)
            .is_some_and(|i| g.milestones[i].project == Some(pr.id)),
        Endpoint::External(_) => false,
    };
    let numbers = |inward: bool| -> Vec<i64> {
        g.deps
            .iter()
            .filter(|d| d.is_open() && touches(if inward { &d.needs } else { &d.from }))
            .map(|d| d.number)
            .collect()
    };
    json!({
        "key": pr.key.as_str(),
        "name": pr.name.as_str(),
        "owner": who(people, Some(pr.owner)),
        "removed": pr.removed,
        "holidays": pr.holidays,
        "dependencies_in": numbers(true),
        "dependencies_out": numbers(false),
    })
}

/// A program's settings.
pub(super) fn program(people: &People, p: &Program) -> Value {
    json!({
        "key": p.key.as_str(),
        "name": p.name.as_str(),
        "owner": who(people, Some(p.owner)),
        "timezone": p.timezone.as_str(),
        "work_days": p.work_days.as_string(),
        "holidays": p.holidays,
        "staleness_days": p.staleness_days,
        "archived": p.archived,
        "end": p.end_key.as_ref().map(|k| k.as_str()),
        "created_at": p.created_at,
    })
}

/// A risk on the register.
pub(super) fn risk(projects: &[Project], people: &People, r: &Risk) -> Value {
    json!({
        "number": r.number,
        "title": r.title.as_str(),
        "project": project_key(projects, r.project),
        "owner": who(people, r.owner),
        "likelihood": r.likelihood.get(),
        "impact": r.impact.get(),
        "score": r.score(),
        "band": r.band().as_str(),
        "state": r.state.as_str(),
        "mitigation": r.mitigation.as_str(),
        "customer_impact": r.customer_impact.as_str(),
        "review_by": r.review_by,
        "accepted_reason": r.accepted_reason,
    })
}

/// A decision in the log (`outcome` empty while it is pending).
pub(super) fn decision(people: &People, d: &Decision) -> Value {
    json!({
        "number": d.number,
        "title": d.title.as_str(),
        "context": d.context,
        "options": d.options,
        "outcome": d.outcome,
        "pending": d.outcome.trim().is_empty(),
        "decided_by": who(people, d.decided_by),
        "decided_on": d.decided_on,
        "decider": who(people, d.decider),
        "decide_by": d.decide_by,
    })
}

/// A status update; `posted_at` is UTC, `posted_on` the day where the program lives.
pub(super) fn status(
    program: &Program,
    projects: &[Project],
    people: &People,
    u: &StatusUpdate,
) -> Value {
    json!({
        "project": project_key(projects, Some(u.project)),
        "rag": u.rag.as_str(),
        "summary": u.summary.as_str(),
        "blockers": u.blockers,
        "next_steps": u.next_steps,
        "author": who(people, u.author),
        "posted_at": u.posted_at,
        "posted_on": program.today(u.posted_at),
    })
}

/// A person of the tenant.
pub(super) fn person(people: &People, p: &Person) -> Value {
    json!({
        "handle": p.handle,
        "name": p.display_name,
        "timezone": p.timezone.as_ref().map(|t| t.as_str()),
        "away_until": p.away_until,
        "delegate": who(people, p.delegate),
        "email": p.email.as_ref().map(|e| e.as_str()),
    })
}

/// An assumption, issue or action item.
pub(super) fn item(projects: &[Project], people: &People, i: &Item, today: NaiveDate) -> Value {
    json!({
        "kind": i.kind.as_str(),
        "number": i.number,
        "title": i.title.as_str(),
        "project": project_key(projects, i.project),
        "owner": who(people, i.owner),
        "due": i.due,
        "overdue": i.is_open() && i.due.is_some_and(|d| d < today),
        "state": i.state.as_str(),
        "severity": i.severity.map(|s| s.as_str()),
        "note": i.note,
        "link": i.link.map(|l| json!({ "kind": l.kind.as_str(), "number": l.number })),
        "created_at": i.created_at,
        "closed_on": i.closed_on,
    })
}

/// A change request.
pub(super) fn change(people: &People, c: &crate::domain::ChangeRequest) -> Value {
    json!({
        "number": c.number,
        "title": c.title.as_str(),
        "why": c.why,
        "moves": c.moves.iter().map(|m| json!({ "milestone": m.milestone.as_str(), "to": m.to })).collect::<Vec<_>>(),
        "scope_out": c.scope_out,
        "state": c.state.as_str(),
        "decider": who(people, c.decider),
        "proposed_by": who(people, c.proposed_by),
        "rebaseline": c.rebaseline,
        "reason": c.reason,
        "decision": c.decision,
        "created_at": c.created_at,
        "decided_at": c.decided_at,
    })
}

/// A launch readiness checklist item.
pub(super) fn check(
    milestones: &[crate::domain::Milestone],
    people: &People,
    c: &crate::domain::Check,
) -> Value {
    json!({
        "number": c.number,
        "title": c.title.as_str(),
        "milestone": c.milestone.and_then(|id| milestones.iter().find(|m| m.id == id)).map(|m| m.key.as_str()),
        "owner": who(people, c.owner),
        "due": c.due,
        "checked": c.is_checked(),
        "checked_on": c.checked_on,
        "checked_by": who(people, c.checked_by),
        "created_at": c.created_at,
    })
}
