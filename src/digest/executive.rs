//! The executive digest's own parts: the headline (health against last period, the end
//! date against its target, what changed) and the asks, each once, with who must act and
//! by when. Written for a VP: plain words, no commands, no code formatting.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::analysis::Analysed;
use crate::domain::{n_days, Agreement, DepState, ItemKind, MilestoneState, Rag, Severity};
use crate::reply::Mention;

/// The end of the plan: the launch, its target and forecast.
#[derive(Debug, Clone, Serialize)]
pub struct EndLine {
    pub title: String,
    pub baseline: NaiveDate,
    pub target: NaiveDate,
    pub forecast: Option<NaiveDate>,
    /// Forecast − target in calendar days: positive when late.
    pub days_late: i64,
}

/// Something leadership must do, once, with who and by when.
#[derive(Debug, Clone, Serialize)]
pub struct Ask {
    pub what: String,
    pub who: Option<Mention>,
    pub by: Option<NaiveDate>,
    /// A pending decision: worded "needs a decision from @x by DATE".
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub decision: bool,
}

/// Executive text carries no code formatting, even from what people typed.
pub fn bare(s: &str) -> String {
    s.replace('`', "")
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

pub fn end_line(a: &Analysed<'_>) -> Option<EndLine> {
    let s = a.snap;
    let i = a.launch()?;
    let m = &s.milestones[i];
    let forecast = a.forecasts.milestone(i).map(|f| f.forecast);
    Some(EndLine {
        title: bare(m.title.as_str()),
        baseline: m.baseline,
        target: m.target,
        forecast,
        days_late: forecast.map(|f| (f - m.target).num_days()).unwrap_or(0),
    })
}

/// What changed in the period, in a few plain phrases: "2 milestones slipped 7 days".
pub fn what_changed(a: &Analysed<'_>, since: DateTime<Utc>, since_day: NaiveDate) -> Vec<String> {
    let s = a.snap;
    let mut out = Vec::new();
    // Net movement per milestone over the period.
    let mut moved: BTreeMap<i64, i64> = BTreeMap::new();
    for sl in s.slips.iter().filter(|sl| sl.at > since) {
        *moved.entry(sl.milestone).or_default() += (sl.to - sl.from).num_days();
    }
    let later: Vec<i64> = moved.values().copied().filter(|d| *d > 0).collect();
    let earlier = moved.values().filter(|d| **d < 0).count();
    if !later.is_empty() {
        let max = *later.iter().max().unwrap_or(&0);
        let all_same = later.iter().all(|d| *d == max);
        let what = if later.len() == 1 {
            let id = moved
                .iter()
                .find(|(_, d)| **d > 0)
                .map(|(id, _)| *id)
                .unwrap_or_default();
            s.milestone(id)
                .map(|m| bare(m.title.as_str()))
                .unwrap_or_else(|| "1 milestone".into())
        } else {
            count(later.len(), "milestone", "milestones")
        };
        out.push(if all_same {
            format!("{what} slipped {}", n_days(max))
        } else {
            format!("{what} slipped, by up to {}", n_days(max))
        });
    }
    if earlier > 0 {
        out.push(format!(
            "{} moved earlier",
            count(earlier, "milestone", "milestones")
        ));
    }
    let done = s
        .milestones
        .iter()
        .filter(|m| {
            m.state == MilestoneState::Done && m.completed_on.is_some_and(|c| c >= since_day)
        })
        .count();
    if done > 0 {
        out.push(format!("{} done", count(done, "milestone", "milestones")));
    }
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for e in s.events.iter().filter(|e| e.at > since) {
        *kinds.entry(e.kind.as_str()).or_default() += 1;
    }
    let n = |k: &str| kinds.get(k).copied().unwrap_or(0);
    for (kind, one, many, verb) in [
        (
            "dep.blocked",
            "dependency",
            "dependencies",
            "became blocked",
        ),
        ("dep.delivered", "dependency", "dependencies", "delivered"),
        ("risk.added", "new risk", "new risks", "raised"),
        ("risk.realized", "risk", "risks", "happened"),
        ("issue.added", "issue", "issues", "opened"),
        (
            "change.approved",
            "change request",
            "change requests",
            "approved",
        ),
    ] {
        if n(kind) > 0 {
            out.push(format!("{} {verb}", count(n(kind), one, many)));
        }
    }
    let decided = s
        .events
        .iter()
        .filter(|e| {
            e.at > since && matches!(e.kind.as_str(), "decision.decided" | "decision.logged")
        })
        .filter(|e| {
            e.after
                .as_ref()
                .and_then(|v| v.get("outcome"))
                .and_then(|v| v.as_str())
                .is_some_and(|o| !o.trim().is_empty())
        })
        .count();
    if decided > 0 {
        out.push(format!("{} taken", count(decided, "decision", "decisions")));
    }
    out
}

/// What leadership is asked for, each once: decisions to take, dependencies blocked or late,
/// requests another team declined, critical issues, and the blockers of red projects.
pub fn asks(a: &Analysed<'_>) -> Vec<Ask> {
    let s = a.snap;
    let today = s.today();
    let who = |id: Option<i64>| a.who(id);
    let mut out: Vec<Ask> = Vec::new();
    for x in s.decisions.iter().filter(|x| x.outcome.trim().is_empty()) {
        out.push(Ask {
            what: bare(x.title.as_str()),
            who: who(x.decider).or_else(|| who(Some(s.program.owner))),
            by: x.decide_by,
            decision: true,
        });
    }
    for (i, d) in s.deps.iter().enumerate().filter(|(_, d)| d.is_open()) {
        let needs = bare(&s.endpoint_name(&d.needs));
        let from = bare(&s.endpoint_name(&d.from));
        let what = bare(d.what.as_str());
        if d.state == DepState::Blocked {
            let days = d
                .blocked_since
                .map(|t| (s.now - t).num_days().max(0))
                .unwrap_or(0);
            out.push(Ask {
                what: if days == 0 {
                    format!("Unblock {what} from {from} for {needs} (blocked since today)")
                } else {
                    format!(
                        "Unblock {what} from {from} for {needs} (blocked {})",
                        n_days(days)
                    )
                },
                who: who(d.owner),
                by: Some(d.need_by.max(today)),
                decision: false,
            });
        } else if d.agreement == Agreement::Declined {
            out.push(Ask {
                what: format!("Settle {what}: {from} declined it, and {needs} needs it"),
                who: who(Some(s.program.owner)),
                by: Some(d.need_by.max(today)),
                decision: false,
            });
        } else if d.need_by < today {
            out.push(Ask {
                what: format!(
                    "Deliver {what} from {from} for {needs}, {} late",
                    n_days((today - d.need_by).num_days())
                ),
                who: who(d.owner),
                by: None,
                decision: false,
            });
        } else if a.forecasts.arrival(i).is_some_and(|at| at > d.need_by) {
            let at = a.forecasts.arrival(i).unwrap_or(d.need_by);
            out.push(Ask {
                what: format!(
                    "Bring {what} from {from} forward: it arrives {at}, {} after {needs} needs it",
                    n_days((at - d.need_by).num_days())
                ),
                who: who(d.owner),
                by: Some(d.need_by),
                decision: false,
            });
        }
    }
    for i in s.items.iter().filter(|i| {
        i.is_open() && i.kind == ItemKind::Issue && i.severity == Some(Severity::Critical)
    }) {
        out.push(Ask {
            what: format!("Resolve the critical issue: {}", bare(i.title.as_str())),
            who: who(i.owner),
            by: i.due,
            decision: false,
        });
    }
    for p in &a.health.projects {
        if p.health.rag != Rag::Red {
            continue;
        }
        if let Some(u) = s.latest_status(p.project) {
            let blockers = u.blockers.trim();
            if !blockers.is_empty() {
                out.push(Ask {
                    what: format!("Help {}: {}", bare(&p.name), bare(blockers)),
                    who: who(s.project(p.project).map(|pr| pr.owner)),
                    by: None,
                    decision: false,
                });
            }
        }
    }
    let mut seen = HashSet::new();
    out.retain(|x| seen.insert(x.what.clone()));
    out
}
