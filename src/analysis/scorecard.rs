//! The delivery scorecard: per team, what it delivered rather than how much process it
//! followed. Over the last N weeks:
//!
//! - say/do: of the milestones due in the window by the target they had four weeks before
//!   that target, how many were done by it;
//! - mean slip: the net days the team's milestones moved later in the window, per milestone
//!   that moved;
//! - blocker-days caused (dependencies the team provides, blocked) and suffered
//!   (dependencies the team needs), counted inside the window;
//! - median time to unblock the team's blocked dependencies that ended in the window;
//! - status updates: weeks of the window with an update from the team, of the weeks.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::Analysed;
use crate::domain::{DepState, Endpoint, Milestone, MilestoneState};

/// How far before its target a commitment is taken.
pub const COMMIT_DAYS: i64 = 28;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct TeamScore {
    pub team: String,
    /// Milestones due in the window by their commitment four weeks before.
    pub committed: usize,
    /// Of those, done by that date.
    pub done_on_time: usize,
    /// Mean net days later per milestone that moved later in the window.
    pub mean_slip_days: Option<f64>,
    pub blocker_days_caused: i64,
    pub blocker_days_suffered: i64,
    /// Median days from blocked to unblocked (or delivered), of blocks that ended in the
    /// window.
    pub median_unblock_days: Option<f64>,
    /// Weeks of the window with a status update.
    pub weeks_updated: usize,
    pub weeks: usize,
}

impl TeamScore {
    pub fn say_do(&self) -> Option<f64> {
        (self.committed > 0).then(|| self.done_on_time as f64 / self.committed as f64)
    }
}

/// The date a milestone was committed to four weeks ahead: the first target it held at
/// the moment four weeks before that target. None when it was never held that long.
fn commitment(
    m: &Milestone,
    slips: &[&crate::domain::Slip],
    tz: chrono_tz::Tz,
) -> Option<NaiveDate> {
    // Each target held, with when it started holding (None: from the start).
    let mut held: Vec<(Option<DateTime<Utc>>, NaiveDate)> = vec![(None, m.baseline)];
    for sl in slips {
        held.push((Some(sl.at), sl.to));
    }
    for (k, (from, value)) in held.iter().enumerate() {
        let until = held.get(k + 1).and_then(|(t, _)| *t);
        let moment = (*value - Duration::days(COMMIT_DAYS))
            .and_hms_opt(12, 0, 0)
            .and_then(|d| d.and_local_timezone(tz).earliest())
            .map(|d| d.with_timezone(&Utc))?;
        let after_start = from.is_none_or(|f| moment >= f);
        let before_end = until.is_none_or(|u| moment < u);
        if after_start && before_end {
            return Some(*value);
        }
    }
    None
}

pub fn scores(a: &Analysed<'_>, weeks: u32) -> Vec<TeamScore> {
    let s = a.snap;
    let today = s.today();
    let tz = s.program.timezone.tz();
    // The window starts N weeks ago, or when the program was created if that is later.
    let start = (s.now - Duration::days(i64::from(weeks) * 7)).max(s.program.created_at);
    let start_day = start.with_timezone(&tz).date_naive();
    let weeks = (((s.now - start).num_days() + 6) / 7).clamp(1, i64::from(weeks)) as u32;
    let mut teams: BTreeMap<i64, TeamScore> = s
        .active_projects()
        .map(|p| {
            (
                p.id,
                TeamScore {
                    team: p.name.as_str().to_owned(),
                    weeks: weeks as usize,
                    ..TeamScore::default()
                },
            )
        })
        .collect();
    let mut slips_of: BTreeMap<i64, Vec<&crate::domain::Slip>> = BTreeMap::new();
    for sl in &s.slips {
        slips_of.entry(sl.milestone).or_default().push(sl);
    }
    for v in slips_of.values_mut() {
        v.sort_by_key(|sl| sl.at);
    }
    let mut moved: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for m in &s.milestones {
        let Some(team) = m.project.and_then(|p| teams.get_mut(&p)) else {
            continue;
        };
        if m.state == MilestoneState::Cancelled {
            continue;
        }
        let slips = slips_of.get(&m.id).map(Vec::as_slice).unwrap_or(&[]);
        if let Some(c) = commitment(m, slips, tz) {
            if c >= start_day && c <= today {
                team.committed += 1;
                if m.state == MilestoneState::Done && m.completed_on.is_some_and(|d| d <= c) {
                    team.done_on_time += 1;
                }
            }
        }
        let net: i64 = slips
            .iter()
            .filter(|sl| sl.at >= start)
            .map(|sl| (sl.to - sl.from).num_days())
            .sum();
        if net > 0 {
            moved
                .entry(m.project.unwrap_or_default())
                .or_default()
                .push(net);
        }
    }
    for (p, nets) in moved {
        if let Some(team) = teams.get_mut(&p) {
            team.mean_slip_days = Some(nets.iter().sum::<i64>() as f64 / nets.len() as f64);
        }
    }
    let mut unblock: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    let team_of = |e: &Endpoint| match e {
        Endpoint::External(_) => None,
        e => s.project_of(e),
    };
    for b in blocked_intervals(a) {
        let d = &s.deps[b.dep];
        let end = b.until.map(|(t, _)| t).unwrap_or(s.now);
        let (from, to) = (b.from.max(start), end.min(s.now));
        let days = if to > from { (to - from).num_days() } else { 0 };
        if let Some(t) = team_of(&d.from).and_then(|p| teams.get_mut(&p)) {
            t.blocker_days_caused += days;
        }
        if let Some(t) = team_of(&d.needs).and_then(|p| teams.get_mut(&p)) {
            t.blocker_days_suffered += days;
        }
        if let (Some((ended, _)), Some(p)) = (b.until, team_of(&d.from)) {
            if ended > start {
                unblock
                    .entry(p)
                    .or_default()
                    .push((ended - b.from).num_minutes() as f64 / (24.0 * 60.0));
            }
        }
    }
    for (p, mut v) in unblock {
        if let Some(t) = teams.get_mut(&p) {
            v.sort_by(|x, y| x.total_cmp(y));
            let n = v.len();
            t.median_unblock_days = Some(if n % 2 == 1 {
                v[n / 2]
            } else {
                (v[n / 2 - 1] + v[n / 2]) / 2.0
            });
        }
    }
    // Weeks of the window with an update from the team.
    let key_to_id: BTreeMap<&str, i64> =
        s.projects.iter().map(|p| (p.key.as_str(), p.id)).collect();
    let mut weeks_with: BTreeMap<i64, std::collections::BTreeSet<i64>> = BTreeMap::new();
    for e in s
        .events
        .iter()
        .filter(|e| e.kind == "status.posted" && e.at >= start)
    {
        if let Some(&p) = e
            .subject
            .strip_prefix("project:")
            .and_then(|k| key_to_id.get(k))
        {
            let week = (e.at - start).num_days() / 7;
            weeks_with
                .entry(p)
                .or_default()
                .insert(week.min(i64::from(weeks) - 1));
        }
    }
    for (p, w) in weeks_with {
        if let Some(t) = teams.get_mut(&p) {
            t.weeks_updated = w.len();
        }
    }
    teams.into_values().collect()
}

/// One blocked interval of a dependency.
#[derive(Debug, Clone)]
pub struct Blocked {
    /// Index into the snapshot's dependencies.
    pub dep: usize,
    pub from: DateTime<Utc>,
    /// When it ended, and whether by delivery (rather than an unblock).
    pub until: Option<(DateTime<Utc>, bool)>,
    pub reason: String,
}

impl Blocked {
    pub fn days(&self, now: DateTime<Utc>) -> i64 {
        let end = self.until.map(|(t, _)| t).unwrap_or(now);
        (end - self.from).num_days().max(0)
    }
}

/// Every blocked interval of every dependency, from the event log (blocked … unblocked or
/// delivered, or still open); a dependency blocked before history was kept (an import)
/// counts from its row.
pub fn blocked_intervals(a: &Analysed<'_>) -> Vec<Blocked> {
    let s = a.snap;
    let by_number: HashMap<String, usize> = s
        .deps
        .iter()
        .enumerate()
        .map(|(i, d)| (d.number.to_string(), i))
        .collect();
    let mut open: HashMap<usize, (DateTime<Utc>, String)> = HashMap::new();
    let mut out = Vec::new();
    for e in &s.events {
        let Some(&i) = e
            .subject
            .strip_prefix("dep:")
            .and_then(|n| by_number.get(n))
        else {
            continue;
        };
        match e.kind.as_str() {
            "dep.blocked" => {
                open.entry(i).or_insert((e.at, e.text("reason")));
            }
            "dep.unblocked" | "dep.delivered" => {
                if let Some((from, reason)) = open.remove(&i) {
                    out.push(Blocked {
                        dep: i,
                        from,
                        until: Some((e.at, e.kind == "dep.delivered")),
                        reason,
                    });
                }
            }
            _ => {}
        }
    }
    for (i, (from, reason)) in open {
        out.push(Blocked {
            dep: i,
            from,
            until: None,
            reason,
        });
    }
    let seen: HashSet<usize> = out.iter().map(|b| b.dep).collect();
    for (i, d) in s.deps.iter().enumerate() {
        if d.state == DepState::Blocked && !seen.contains(&i) {
            if let Some(since) = d.blocked_since {
                out.push(Blocked {
                    dep: i,
                    from: since,
                    until: None,
                    reason: d.blocked_reason.clone().unwrap_or_default(),
                });
            }
        }
    }
    out.sort_by_key(|b| (b.from, b.dep));
    out
}
