//! `report readiness MILESTONE`: go or no-go. The milestone's checklist, and everything in
//! its upstream chain that stands in the way: milestones not done, dependencies not
//! delivered, open risks and issues, decisions pending.

use std::collections::HashSet;

use super::{name, upstream};
use crate::analysis::Analysed;
use crate::domain::{
    n_days, Endpoint, ItemKind, MilestoneId, MilestoneState, RiskBand, RiskState, Severity,
};
use crate::reply::{Reply, Text, Tone};

/// What stands between a milestone and its launch, counted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub unchecked: usize,
    pub checked: usize,
    pub predecessors_open: usize,
    pub deps_open: usize,
    pub serious_risks: usize,
    pub serious_issues: usize,
    pub decisions_pending: usize,
}

impl Verdict {
    pub fn go(&self) -> bool {
        self.unchecked == 0
            && self.predecessors_open == 0
            && self.deps_open == 0
            && self.serious_risks == 0
            && self.serious_issues == 0
            && self.decisions_pending == 0
    }

    /// "2 checklist items open, 1 dependency not delivered".
    pub fn words(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |n: usize, one: &str, many: &str| {
            if n > 0 {
                out.push(if n == 1 {
                    format!("1 {one}")
                } else {
                    format!("{n} {many}")
                });
            }
        };
        add(
            self.unchecked,
            "checklist item open",
            "checklist items open",
        );
        add(
            self.predecessors_open,
            "milestone before it not done",
            "milestones before it not done",
        );
        add(
            self.deps_open,
            "dependency not delivered",
            "dependencies not delivered",
        );
        add(
            self.serious_risks,
            "high or critical risk open",
            "high or critical risks open",
        );
        add(
            self.serious_issues,
            "high or critical issue open",
            "high or critical issues open",
        );
        add(
            self.decisions_pending,
            "decision pending",
            "decisions pending",
        );
        out
    }
}

/// The projects a milestone's chain runs through, and the chain itself.
fn chain(a: &Analysed<'_>, id: MilestoneId) -> (HashSet<MilestoneId>, HashSet<i64>) {
    let set = upstream(a, id);
    let projects = a
        .snap
        .milestones
        .iter()
        .filter(|m| set.contains(&m.id))
        .filter_map(|m| m.project)
        .collect();
    (set, projects)
}

pub fn readiness(a: &Analysed<'_>, id: MilestoneId) -> Reply {
    let s = a.snap;
    let today = s.today();
    let Some(i) = s.milestone_index(id) else {
        return Reply::new("No such milestone");
    };
    let m = &s.milestones[i];
    let line = a.milestone_line(i);
    let (set, projects) = chain(a, id);
    let is_launch = a.launch() == Some(i);
    let in_projects = |p: Option<i64>| p.is_none_or(|p| projects.contains(&p));
    let mut v = Verdict::default();

    let checks: Vec<_> = s.checks.iter().filter(|c| c.gates(id, is_launch)).collect();
    v.checked = checks.iter().filter(|c| c.is_checked()).count();
    v.unchecked = checks.len() - v.checked;
    let before: Vec<_> = s
        .milestones
        .iter()
        .filter(|x| x.id != id && set.contains(&x.id) && x.state == MilestoneState::Planned)
        .collect();
    v.predecessors_open = before.len();
    let deps: Vec<(usize, &crate::domain::Dependency)> = s
        .deps
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_open())
        .filter(|(_, d)| match &d.needs {
            Endpoint::Milestone(x) => set.contains(x),
            Endpoint::Project(p) => projects.contains(p),
            Endpoint::External(_) => false,
        })
        .collect();
    v.deps_open = deps.len();
    let risks: Vec<_> = a
        .open_risks()
        .into_iter()
        .filter(|r| r.state != RiskState::Accepted && in_projects(r.project))
        .collect();
    v.serious_risks = risks.iter().filter(|r| r.band() >= RiskBand::High).count();
    let issues: Vec<_> = s
        .items
        .iter()
        .filter(|x| x.kind == ItemKind::Issue && x.is_open() && in_projects(x.project))
        .collect();
    v.serious_issues = issues
        .iter()
        .filter(|x| x.severity.is_some_and(|sev| sev >= Severity::High))
        .count();
    let pending: Vec<_> = s
        .decisions
        .iter()
        .filter(|d| d.outcome.trim().is_empty())
        .collect();
    v.decisions_pending = pending.len();

    let title = format!(
        "{}: launch readiness of {}",
        s.program.name.as_str(),
        m.key.as_str()
    );
    let mut r = Reply::new(title);
    let verdict = if m.state == MilestoneState::Done {
        r = r.tone(Tone::Success);
        Text::new().strong("Shipped").text(format!(
            " on {}.",
            m.completed_on.map(|d| d.to_string()).unwrap_or_default()
        ))
    } else if v.go() {
        r = r.tone(Tone::Success);
        Text::new()
            .strong("GO")
            .text(": the checklist is done and nothing before it stands in the way.")
    } else {
        r = r.tone(Tone::Warning);
        Text::new()
            .strong("NO-GO")
            .text(format!(": {}.", v.words().join(", ")))
    };
    r = r.paragraph(verdict);
    let late = line
        .forecast
        .map(|f| (f - m.target).num_days())
        .unwrap_or(0);
    r = r.fields(vec![
        (
            "Milestone",
            Text::new()
                .code(m.key.as_str())
                .text(format!(" {}", m.title.as_str())),
        ),
        ("Owner", Text::plain(name(line.owner.as_ref()))),
        ("Target", Text::new().date(m.target)),
        (
            "Forecast",
            Text::plain(match line.forecast {
                Some(f) if late > 0 => format!("{f} ({} late)", n_days(late)),
                Some(f) => f.to_string(),
                None => String::new(),
            }),
        ),
        (
            "Checklist",
            Text::plain(format!("{} of {} done", v.checked, checks.len())),
        ),
    ]);

    r = r.heading("Checklist");
    r = if checks.is_empty() {
        r.paragraph(Text::plain("No checklist yet: ").code(format!(
            "readiness add {} \"…\" --owner @someone --milestone {}",
            s.program.key, m.key
        )))
    } else {
        r.table(
            &["#", "Done", "Item", "Owner", "Due"],
            checks
                .iter()
                .map(|c| {
                    let overdue = !c.is_checked() && c.due.is_some_and(|d| d < today);
                    vec![
                        Text::plain(format!("#{}", c.number)),
                        Text::plain(match c.checked_on {
                            Some(d) => format!("✓ {d}"),
                            None => "☐".to_owned(),
                        }),
                        Text::plain(c.title.as_str()),
                        Text::plain(name(a.who(c.owner).as_ref())),
                        Text::plain(match c.due {
                            Some(d) if overdue => format!("{d} (overdue)"),
                            Some(d) => d.to_string(),
                            None => String::new(),
                        }),
                    ]
                })
                .collect(),
        )
    };

    if !before.is_empty() {
        let items = before
            .iter()
            .map(|x| {
                let fc = s
                    .milestone_index(x.id)
                    .and_then(|j| a.forecasts.milestone(j))
                    .map(|f| format!(", forecast {}", f.forecast))
                    .unwrap_or_default();
                Text::new().code(x.key.as_str()).text(format!(
                    " {}: target {}{fc}",
                    x.title.as_str(),
                    x.target
                ))
            })
            .collect();
        r = r.heading("Milestones before it not done").list(items);
    }
    r = r.heading("Dependencies not delivered");
    r = if deps.is_empty() {
        r.paragraph("None.")
    } else {
        r.list(
            deps.iter()
                .map(|(j, d)| {
                    let arrives = a
                        .forecasts
                        .arrival(*j)
                        .map(|at| format!(", arrives {at}"))
                        .unwrap_or_default();
                    Text::new()
                        .strong(format!("#{} {}", d.number, d.what.as_str()))
                        .text(format!(
                            " from {} for {}: {}, needed by {}{arrives}; owner {}",
                            s.endpoint_name(&d.from),
                            s.endpoint_name(&d.needs),
                            d.state.as_str(),
                            d.need_by,
                            name(a.who(d.owner).as_ref())
                        ))
                })
                .collect(),
        )
    };
    r = r.heading("Open risks and issues");
    r = if risks.is_empty() && issues.is_empty() {
        r.paragraph("None.")
    } else {
        let mut items: Vec<Text> = risks
            .iter()
            .map(|x| {
                Text::new()
                    .strong(format!("risk #{} {}", x.number, x.title.as_str()))
                    .text(format!(
                        " ({}, score {}, {}); owner {}",
                        x.band().as_str(),
                        x.score(),
                        x.state.as_str(),
                        name(a.who(x.owner).as_ref())
                    ))
            })
            .collect();
        items.extend(issues.iter().map(|x| {
            Text::new()
                .strong(format!("issue #{} {}", x.number, x.title.as_str()))
                .text(format!(
                    " ({}); owner {}",
                    x.severity.map(|s| s.as_str()).unwrap_or("open"),
                    name(a.who(x.owner).as_ref())
                ))
        }));
        r.list(items)
    };
    r = r.heading("Decisions pending");
    r = if pending.is_empty() {
        r.paragraph("None.")
    } else {
        r.list(
            pending
                .iter()
                .map(|d| {
                    let mut t = Text::new().strong(format!("#{} {}", d.number, d.title.as_str()));
                    if let Some(p) = a.who(d.decider) {
                        t = t.text(format!(": needs a decision from {}", name(Some(&p))));
                        if let Some(by) = d.decide_by {
                            t = t.text(format!(" by {by}"));
                        }
                    }
                    t
                })
                .collect(),
        )
    };
    r
}
