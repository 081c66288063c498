//! The post-mortem: of the whole program, or of one milestone and everything upstream of it
//! (its predecessors and the milestones and dependencies that feed them, transitively).
//! Built from history alone: slips, blocked intervals, late deliveries, health as reported,
//! realized risks with their notes, approved changes, baseline against actual, and only the
//! decisions linked to the chain. Its action items can become real actions.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::{name, upstream};
use crate::analysis::scorecard::{blocked_intervals, Blocked};
use crate::analysis::Analysed;
use crate::domain::{
    n_days, Endpoint, ItemKind, LinkKind, Milestone, MilestoneId, MilestoneState, PersonId, Rag,
    RiskState,
};
use crate::reply::{Reply, Text};

/// How long after the post-mortem its action items are due.
pub const ACTION_DAYS: i64 = 14;
/// A dependency blocked this long gets an action item.
const BLOCKED_ACTION_DAYS: i64 = 3;
/// At most this many action items.
const MAX_ACTIONS: usize = 5;

/// An action item the post-mortem proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposed {
    pub title: String,
    pub owner: Option<PersonId>,
    pub due: NaiveDate,
    /// The record it follows up.
    pub link: Option<(LinkKind, i64)>,
}

/// What the post-mortem found, before it is worded.
struct Findings {
    chain: Option<HashSet<MilestoneId>>,
    projects: HashSet<i64>,
    blocked: Vec<Blocked>,
    actions: Vec<Proposed>,
}

impl Findings {
    fn in_chain(&self, m: MilestoneId) -> bool {
        self.chain.as_ref().is_none_or(|c| c.contains(&m))
    }

    fn feeds(&self, e: &Endpoint) -> bool {
        match (&self.chain, e) {
            (None, _) => true,
            (Some(c), Endpoint::Milestone(m)) => c.contains(m),
            (Some(_), Endpoint::Project(p)) => self.projects.contains(p),
            (Some(_), Endpoint::External(_)) => false,
        }
    }

    fn in_projects(&self, p: Option<i64>) -> bool {
        self.chain.is_none() || p.is_none_or(|p| self.projects.contains(&p))
    }
}

fn findings(a: &Analysed<'_>, milestone: Option<MilestoneId>) -> Findings {
    let s = a.snap;
    let chain = milestone.map(|id| upstream(a, id));
    let projects: HashSet<i64> = s
        .milestones
        .iter()
        .filter(|m| chain.as_ref().is_none_or(|c| c.contains(&m.id)))
        .filter_map(|m| m.project)
        .collect();
    let mut f = Findings {
        chain,
        projects,
        blocked: vec![],
        actions: vec![],
    };
    f.blocked = blocked_intervals(a)
        .into_iter()
        .filter(|b| f.feeds(&s.deps[b.dep].needs))
        .collect();
    let due = s.today() + Duration::days(ACTION_DAYS);
    // Follow-ups: the longest blocks, the risks that happened, the biggest slips.
    let mut longest: BTreeMap<usize, i64> = BTreeMap::new();
    for b in &f.blocked {
        *longest.entry(b.dep).or_default() += b.days(s.now);
    }
    let mut longest: Vec<(usize, i64)> = longest.into_iter().collect();
    longest.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    for (i, days) in longest {
        if days < BLOCKED_ACTION_DAYS {
            continue;
        }
        let d = &s.deps[i];
        f.actions.push(Proposed {
            title: format!(
                "Agree how {} escalates a block like dependency #{} ({} blocked)",
                s.endpoint_name(&d.from),
                d.number,
                n_days(days)
            ),
            owner: d.owner,
            due,
            link: Some((LinkKind::Dep, d.number)),
        });
    }
    let realized: Vec<_> = s
        .risks
        .iter()
        .filter(|r| r.state == RiskState::Realized && f.in_projects(r.project))
        .collect();
    for r in realized {
        f.actions.push(Proposed {
            title: format!(
                "Review why risk #{} happened despite its mitigation",
                r.number
            ),
            owner: r.owner,
            due,
            link: Some((LinkKind::Risk, r.number)),
        });
    }
    let mut slipped: Vec<&Milestone> = s
        .milestones
        .iter()
        .filter(|m| f.in_chain(m.id) && m.slip_days() > 0 && m.state != MilestoneState::Cancelled)
        .collect();
    slipped.sort_by(|x, y| y.slip_days().cmp(&x.slip_days()).then(x.key.cmp(&y.key)));
    for m in slipped {
        f.actions.push(Proposed {
            title: format!(
                "Review the estimate of {} ({} later than first committed)",
                m.key.as_str(),
                n_days(m.slip_days())
            ),
            owner: s.milestone_owner(m).map(|p| p.id),
            due,
            link: None,
        });
    }
    f.actions.truncate(MAX_ACTIONS);
    f
}

/// The action items a post-mortem proposes (what `--actions` records).
pub fn postmortem_actions(a: &Analysed<'_>, milestone: Option<MilestoneId>) -> Vec<Proposed> {
    findings(a, milestone).actions
}

fn day(a: &Analysed<'_>, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&a.snap.program.timezone.tz()).date_naive()
}

fn rag_words(r: Rag) -> &'static str {
    match r {
        Rag::Green => "green",
        Rag::Amber => "amber",
        Rag::Red => "red",
    }
}

pub fn postmortem(a: &Analysed<'_>, milestone: Option<MilestoneId>) -> Reply {
    let s = a.snap;
    let f = findings(a, milestone);
    let tz = s.program.timezone.tz();
    let title = match milestone.and_then(|id| s.milestone(id)) {
        Some(m) => format!(
            "{}: post-mortem of {}",
            s.program.name.as_str(),
            m.key.as_str()
        ),
        None => format!("{}: post-mortem", s.program.name.as_str()),
    };
    let mut r = Reply::new(title);
    if let Some(i) = milestone.and_then(|id| s.milestone_index(id)) {
        let m = a.milestone_line(i);
        let finished = match m.completed_on {
            Some(d) => d.to_string(),
            None => format!(
                "not yet (forecast {})",
                m.forecast.map(|d| d.to_string()).unwrap_or_default()
            ),
        };
        r = r.fields(vec![
            (
                "Milestone",
                Text::new().code(&m.key).text(format!(" {}", m.title)),
            ),
            ("Owner", Text::plain(name(m.owner.as_ref()))),
            ("State", Text::plain(m.state.as_str())),
            ("Committed", Text::new().date(m.baseline)),
            ("Target", Text::new().date(m.target)),
            ("Finished", Text::plain(finished)),
            (
                "Total slip",
                Text::plain(crate::domain::signed_days(m.slipped_days)),
            ),
        ]);
    }

    // What held it: blocked dependencies of the chain, and predecessors that finished (or
    // are still open) after their target.
    let mut held: Vec<Text> = Vec::new();
    let mut blocker_days_by_team: BTreeMap<String, i64> = BTreeMap::new();
    let team_of = |p: Option<i64>| {
        p.and_then(|p| s.project(p))
            .map(|p| p.name.as_str().to_owned())
            .unwrap_or_else(|| "(no project)".into())
    };
    for b in &f.blocked {
        let d = &s.deps[b.dep];
        let days = b.days(s.now);
        let team = match &d.from {
            Endpoint::External(x) => x.clone(),
            e => team_of(s.project_of(e)),
        };
        *blocker_days_by_team.entry(team).or_default() += days;
        let until = match b.until {
            Some((t, true)) => format!("until {} (delivered)", day(a, t)),
            Some((t, false)) => format!("until {}", day(a, t)),
            None => "and still blocked".to_owned(),
        };
        let mut t = Text::new()
            .strong(format!("Dependency #{} {}", d.number, d.what.as_str()))
            .text(format!(
                " from {} for {}: blocked {}, from {} {until}",
                s.endpoint_name(&d.from),
                s.endpoint_name(&d.needs),
                n_days(days),
                day(a, b.from),
            ));
        if !b.reason.is_empty() {
            t = t.text(format!(" ({})", b.reason));
        }
        t = t.text(format!("; owner {}", name(a.who(d.owner).as_ref())));
        held.push(t);
    }
    let today = s.today();
    for m in s.milestones.iter().filter(|m| {
        f.in_chain(m.id) && Some(m.id) != milestone && m.state != MilestoneState::Cancelled
    }) {
        let late = match (m.state, m.completed_on) {
            (MilestoneState::Done, Some(c)) => (c - m.target).num_days(),
            (MilestoneState::Planned, _) => (today - m.target).num_days(),
            _ => 0,
        };
        if late > 0 {
            held.push(
                Text::new()
                    .strong(format!("Predecessor {}", m.key.as_str()))
                    .text(format!(
                        " {}: {} {} after its target of {}",
                        m.title.as_str(),
                        if m.state == MilestoneState::Done {
                            "finished"
                        } else {
                            "still open"
                        },
                        n_days(late),
                        m.target
                    )),
            );
        }
    }
    r = r.heading("What held it up");
    r = if held.is_empty() {
        r.paragraph(if milestone.is_some() {
            "Nothing upstream of it was blocked or late."
        } else {
            "Nothing was blocked and no milestone finished late."
        })
    } else {
        r.list(held)
    };

    // Late deliveries.
    let late_deps: Vec<Text> = s
        .deps
        .iter()
        .filter(|d| f.feeds(&d.needs))
        .filter_map(|d| {
            let on = d.delivered_on?;
            let late = (on - d.need_by).num_days();
            (late > 0).then(|| {
                Text::new()
                    .strong(format!("Dependency #{} {}", d.number, d.what.as_str()))
                    .text(format!(
                        " from {}: delivered {on}, {} after it was needed ({})",
                        s.endpoint_name(&d.from),
                        n_days(late),
                        d.need_by
                    ))
            })
        })
        .collect();
    r = r.heading("Late deliveries");
    r = if late_deps.is_empty() {
        r.paragraph("None: every dependency delivered came by its need-by date.")
    } else {
        r.list(late_deps)
    };

    // Baseline against actual, per milestone of the chain.
    let mut rows = Vec::new();
    let mut slip_days_by_team: BTreeMap<String, i64> = BTreeMap::new();
    for (i, m) in s.milestones.iter().enumerate() {
        if !f.in_chain(m.id) || m.state == MilestoneState::Cancelled {
            continue;
        }
        *slip_days_by_team.entry(team_of(m.project)).or_default() += m.slip_days();
        let (actual, words) = match m.completed_on {
            Some(c) => (Some(c), c.to_string()),
            None => {
                let fc = a.forecasts.milestone(i).map(|f| f.forecast);
                (
                    fc,
                    fc.map(|d| format!("{d} (forecast)")).unwrap_or_default(),
                )
            }
        };
        let vs = actual
            .map(|d| crate::domain::signed_days((d - m.baseline).num_days()))
            .unwrap_or_default();
        rows.push(vec![
            Text::new().code(m.key.as_str()),
            Text::new().date(m.baseline),
            Text::new().date(m.target),
            Text::plain(words),
            Text::plain(vs),
        ]);
    }
    if !rows.is_empty() {
        r = r.heading("Baseline against actual").table(
            &[
                "Milestone",
                "Committed",
                "Final target",
                "Actual",
                "Against commitment",
            ],
            rows,
        );
    }

    // Timeline: slips (approved changes named), health as reported, realized risks, linked
    // decisions, completions, blocks; oldest first.
    let mut timeline: Vec<(DateTime<Utc>, Text)> = Vec::new();
    let mut changes: Vec<Text> = Vec::new();
    let mut change_numbers: HashSet<i64> = HashSet::new();
    for sl in &s.slips {
        if !f.in_chain(sl.milestone) {
            continue;
        }
        let Some(m) = s.milestone(sl.milestone) else {
            continue;
        };
        let days = (sl.to - sl.from).num_days();
        timeline.push((
            sl.at,
            Text::new().code(m.key.as_str()).text(format!(
                " moved {} → {} ({}): {}",
                sl.from,
                sl.to,
                crate::domain::signed_days(days),
                sl.reason
            )),
        ));
        if let Some(n) = sl
            .reason
            .strip_prefix("change #")
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse::<i64>().ok())
        {
            change_numbers.insert(n);
            changes.push(
                Text::new()
                    .strong(format!("Change #{n}"))
                    .text(" moved ")
                    .code(m.key.as_str())
                    .text(format!(
                        " {} → {} on {}: {}",
                        sl.from,
                        sl.to,
                        day(a, sl.at),
                        sl.reason
                    )),
            );
        }
    }
    let key_of: HashMap<&str, &Milestone> =
        s.milestones.iter().map(|m| (m.key.as_str(), m)).collect();
    let project_by_key: HashMap<&str, i64> =
        s.projects.iter().map(|p| (p.key.as_str(), p.id)).collect();
    let mut reported: HashMap<String, Rag> = HashMap::new();
    let mut realized_notes: HashMap<String, String> = HashMap::new();
    for e in &s.events {
        let n = e
            .subject
            .split_once(':')
            .map(|(_, n)| n)
            .unwrap_or_default();
        match e.kind.as_str() {
            "milestone.done" => {
                if let Some(m) = key_of.get(n).filter(|m| f.in_chain(m.id)) {
                    timeline.push((e.at, Text::new().code(m.key.as_str()).text(" done")));
                }
            }
            "status.posted" => {
                let Some(&pid) = project_by_key.get(n) else {
                    continue;
                };
                if !f.in_projects(Some(pid)) {
                    continue;
                }
                let Some(to) = Rag::parse(&e.after_text("rag")).ok() else {
                    continue;
                };
                let from = reported
                    .get(n)
                    .copied()
                    .or_else(|| Rag::parse(&e.before_text("rag")).ok());
                reported.insert(n.to_owned(), to);
                let project = s
                    .project(pid)
                    .map(|p| p.name.as_str().to_owned())
                    .unwrap_or_default();
                match from {
                    Some(from) if from == to => {}
                    Some(from) => timeline.push((
                        e.at,
                        Text::plain(format!(
                            "{project} went {} → {}",
                            rag_words(from),
                            rag_words(to)
                        )),
                    )),
                    None => timeline.push((
                        e.at,
                        Text::plain(format!("{project} reported {}", rag_words(to))),
                    )),
                }
            }
            "risk.realized" => {
                let project = s
                    .risks
                    .iter()
                    .find(|r| r.number.to_string() == n)
                    .and_then(|r| r.project);
                if !f.in_projects(project) {
                    continue;
                }
                let note = e.after_text("note");
                realized_notes.insert(n.to_owned(), note.clone());
                timeline.push((
                    e.at,
                    Text::plain(format!(
                        "risk #{n} happened: {}{}",
                        e.text("title"),
                        if note.is_empty() {
                            String::new()
                        } else {
                            format!(" ({note})")
                        }
                    )),
                ));
            }
            _ => {}
        }
    }
    for b in &f.blocked {
        let d = &s.deps[b.dep];
        let reason = if b.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", b.reason)
        };
        timeline.push((
            b.from,
            Text::plain(format!(
                "dependency #{} {} blocked{reason}",
                d.number,
                d.what.as_str()
            )),
        ));
        if let Some((t, delivered)) = b.until {
            timeline.push((
                t,
                Text::plain(format!(
                    "dependency #{} {} {} after {} blocked",
                    d.number,
                    d.what.as_str(),
                    if delivered { "delivered" } else { "unblocked" },
                    n_days(b.days(s.now))
                )),
            ));
        }
    }

    // Decisions linked to the chain: those an approved change of the chain logged, those an
    // action of the chain's teams follows, and those that name a milestone of the chain.
    let chain_keys: Vec<&str> = s
        .milestones
        .iter()
        .filter(|m| f.in_chain(m.id))
        .map(|m| m.key.as_str())
        .collect();
    let followed: HashSet<i64> = s
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Action && i.project.is_some() && f.in_projects(i.project))
        .filter_map(|i| {
            i.link
                .filter(|l| l.kind == LinkKind::Decision)
                .map(|l| l.number)
        })
        .collect();
    let names_chain = |text: &str| {
        text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
            .any(|w| chain_keys.contains(&w))
    };
    let linked = |d: &crate::domain::Decision| {
        f.chain.is_none()
            || followed.contains(&d.number)
            || change_numbers
                .iter()
                .any(|n| d.outcome.starts_with(&format!("Change #{n} approved")))
            || names_chain(d.title.as_str())
            || names_chain(&d.context)
            || names_chain(&d.outcome)
    };
    let decisions: Vec<&crate::domain::Decision> =
        s.decisions.iter().filter(|d| linked(d)).collect();
    for d in decisions.iter().filter(|d| !d.outcome.is_empty()) {
        if let Some(e) = s.events.iter().find(|e| {
            matches!(e.kind.as_str(), "decision.logged" | "decision.decided")
                && e.subject == format!("decision:{}", d.number)
                && !e.after_text("outcome").is_empty()
        }) {
            timeline.push((
                e.at,
                Text::plain(format!(
                    "decision #{}: {} ({})",
                    d.number,
                    d.title.as_str(),
                    d.outcome
                )),
            ));
        }
    }
    timeline.sort_by_key(|(at, _)| *at);
    r = r.heading("Timeline");
    r = if timeline.is_empty() {
        r.paragraph("Nothing slipped, was blocked, changed colour or was decided.")
    } else {
        r.list(
            timeline
                .into_iter()
                .map(|(at, t)| {
                    let mut line = Text::new()
                        .date(at.with_timezone(&tz).date_naive())
                        .text(": ");
                    line.0.extend(t.0);
                    line
                })
                .collect(),
        )
    };

    let realized: Vec<Text> = s
        .risks
        .iter()
        .filter(|x| x.state == RiskState::Realized && f.in_projects(x.project))
        .map(|x| {
            let note = realized_notes
                .get(&x.number.to_string())
                .cloned()
                .filter(|n| !n.is_empty())
                .or_else(|| {
                    s.items
                        .iter()
                        .find(|i| {
                            i.link
                                .is_some_and(|l| l.kind == LinkKind::Risk && l.number == x.number)
                        })
                        .map(|i| i.note.clone())
                        .filter(|n| !n.is_empty())
                });
            let mut t = Text::new()
                .strong(format!("#{} {}", x.number, x.title.as_str()))
                .text(format!(
                    " (score {}); mitigation was: {}",
                    x.score(),
                    if x.mitigation.is_empty() {
                        "none"
                    } else {
                        x.mitigation.as_str()
                    }
                ));
            if let Some(n) = note {
                t = t.text(format!("; what happened: {n}"));
            }
            t
        })
        .collect();
    r = r.heading("Risks that happened");
    r = if realized.is_empty() {
        r.paragraph("None.")
    } else {
        r.list(realized)
    };
    r = r.heading("Approved changes");
    r = if changes.is_empty() {
        r.paragraph("None.")
    } else {
        r.list(changes)
    };
    r = r.heading("Decisions");
    r = if decisions.is_empty() {
        r.paragraph(if milestone.is_some() {
            "None linked to it."
        } else {
            "None logged."
        })
    } else {
        r.list(
            decisions
                .iter()
                .map(|d| {
                    Text::new()
                        .strong(format!("#{} {}", d.number, d.title.as_str()))
                        .text(format!(
                            ": {} ({}, {})",
                            if d.outcome.is_empty() {
                                "pending"
                            } else {
                                d.outcome.as_str()
                            },
                            name(a.who(d.decided_by).as_ref()),
                            d.decided_on
                        ))
                })
                .collect(),
        )
    };

    let teams: std::collections::BTreeSet<&String> = slip_days_by_team
        .keys()
        .chain(blocker_days_by_team.keys())
        .collect();
    let total_slip: i64 = slip_days_by_team.values().sum();
    let total_blocked: i64 = blocker_days_by_team.values().sum();
    r = r.heading(format!(
        "Totals: {} of slip, {} blocked",
        n_days(total_slip),
        n_days(total_blocked)
    ));
    if !teams.is_empty() {
        r = r.table(
            &["Team", "Slip days", "Blocker-days caused"],
            teams
                .into_iter()
                .map(|t| {
                    vec![
                        Text::plain(t.clone()),
                        Text::plain(slip_days_by_team.get(t).copied().unwrap_or(0).to_string()),
                        Text::plain(
                            blocker_days_by_team
                                .get(t)
                                .copied()
                                .unwrap_or(0)
                                .to_string(),
                        ),
                    ]
                })
                .collect(),
        );
    }
    r = r
        .heading("What went well")
        .paragraph("(for the review to fill in)")
        .heading("What went badly")
        .paragraph("(for the review to fill in)")
        .heading("Action items");
    r = if f.actions.is_empty() {
        r.paragraph("None proposed: nothing was blocked, slipped or happened.")
    } else {
        let key = s.program.key.as_str();
        let flag = milestone
            .and_then(|id| s.milestone(id))
            .map(|m| format!(" --milestone {}", m.key.as_str()))
            .unwrap_or_default();
        r.table(
            &["Action", "Owner", "Due"],
            f.actions
                .iter()
                .map(|x| {
                    vec![
                        Text::plain(&x.title),
                        Text::plain(name(a.who(x.owner).as_ref())),
                        Text::new().date(x.due),
                    ]
                })
                .collect(),
        )
        .paragraph(
            Text::plain("Record them as action items: ")
                .code(format!("report postmortem {key}{flag} --actions")),
        )
    };
    r
}
