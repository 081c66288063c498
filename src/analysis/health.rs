//! Health (RAG) with its reasons. A project starts from its latest status
//! update; computed signals can only worsen it; every value says why in words. The
//! program's health is the worst of its projects, plus what belongs to no project.
//!
//! The signals and their colours: an overdue milestone, a
//! blocked or late dependency, a late forecast on the critical path and an open critical
//! risk make it red; a late forecast off the critical path, an at-risk dependency, a
//! critical risk being mitigated, and a stale or missing update make it at least amber; an
//! accepted risk does not count. Reasons are ordered by colour, then by [`Rule::impact`].

use chrono::NaiveDate;
use serde::Serialize;

use super::forecast::Forecasts;
use super::Snapshot;
use crate::domain::{
    DepState, Dependency, ItemKind, MilestoneState, ProjectId, Rag, RiskBand, RiskState, Severity,
};

/// Which rule a reason comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Reported,
    Stale,
    NoUpdate,
    MilestoneOverdue,
    DependencyBlocked,
    DependencyConflict,
    DependencyDeclined,
    DependencyLate,
    DependencyAtRisk,
    CriticalPathLate,
    ForecastLate,
    OpenIssue,
    CriticalRisk,
}

impl Rule {
    /// How much a reason of this rule matters, most first: the end date late on the
    /// critical chain, then dependencies (blocked, late, at risk), late milestones, risks,
    /// staleness, and last what the owner reported.
    pub fn impact(self) -> u8 {
        match self {
            Rule::CriticalPathLate => 0,
            Rule::DependencyBlocked => 1,
            Rule::DependencyLate => 2,
            Rule::DependencyConflict => 2,
            Rule::DependencyDeclined => 2,
            Rule::DependencyAtRisk => 3,
            Rule::MilestoneOverdue => 4,
            Rule::ForecastLate => 5,
            Rule::OpenIssue => 5,
            Rule::CriticalRisk => 6,
            Rule::Stale => 7,
            Rule::NoUpdate => 8,
            Rule::Reported => 9,
        }
    }
}

/// Worst colour first; within a colour, by impact; otherwise as the rules produced them.
fn order(reasons: &mut [Reason]) {
    reasons.sort_by_key(|r| (std::cmp::Reverse(r.rag), r.rule.impact()));
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub rag: Rag,
    pub rule: Rule,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    pub rag: Rag,
    /// What the owner last reported, if anything.
    pub reported: Option<Rag>,
    /// The latest update is older than the program's staleness window (or missing).
    pub stale: bool,
    /// Worst first.
    pub reasons: Vec<Reason>,
}

impl Health {
    fn from_reasons(reported: Option<Rag>, stale: bool, mut reasons: Vec<Reason>) -> Self {
        order(&mut reasons);
        let rag = reasons.iter().map(|r| r.rag).max().unwrap_or(Rag::Green);
        Self {
            rag,
            reported,
            stale,
            reasons,
        }
    }

    /// "red: needs `Auth API` from Identity, due 2026-11-20, blocked for 6 days; …", with
    /// only the reasons of the health's own colour.
    pub fn explain(&self) -> String {
        let why: Vec<&str> = self
            .reasons
            .iter()
            .filter(|r| r.rag == self.rag)
            .map(|r| r.text.as_str())
            .collect();
        if why.is_empty() {
            self.rag.as_str().to_owned()
        } else {
            format!("{}: {}", self.rag.as_str(), why.join("; "))
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectHealth {
    pub project: ProjectId,
    pub key: String,
    pub name: String,
    pub health: Health,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgramHealth {
    pub rag: Rag,
    /// The program's reasons: each project's reasons of its own colour, prefixed with the
    /// project, then what belongs to no project. Worst first.
    pub reasons: Vec<Reason>,
    pub projects: Vec<ProjectHealth>,
}

impl ProgramHealth {
    pub fn explain(&self) -> String {
        Health {
            rag: self.rag,
            reported: None,
            stale: false,
            reasons: self.reasons.clone(),
        }
        .explain()
    }

    pub fn project(&self, id: ProjectId) -> Option<&ProjectHealth> {
        self.projects.iter().find(|p| p.project == id)
    }
}

fn short(s: &str, max: usize) -> String {
    let s = s.trim().replace('\n', " ");
    if s.chars().count() <= max {
        s
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

/// A dependency as its consumer sees it, if it hurts. `arrival` is when it will come;
/// `critical` whether its consumer is on the critical chain.
fn dependency_reason(
    s: &Snapshot,
    d: &Dependency,
    today: NaiveDate,
    arrival: Option<NaiveDate>,
    critical: bool,
) -> Option<Reason> {
    if !d.is_open() {
        return None;
    }
    let head = format!(
        "needs `{}` from {}, due {}",
        d.what.as_str(),
        s.endpoint_name(&d.from),
        d.need_by
    );
    let late = (today - d.need_by).num_days();
    if d.state == DepState::Blocked {
        let days = d
            .blocked_since
            .map(|t| (s.now - t).num_days().max(0))
            .unwrap_or(0);
        let why = d
            .blocked_reason
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| format!(" ({})", short(r, 80)))
            .unwrap_or_default();
        let for_ = match days {
            0 => "blocked since today".to_owned(),
            1 => "blocked for 1 day".to_owned(),
            n => format!("blocked for {n} days"),
        };
        return Some(Reason {
            rag: Rag::Red,
            rule: Rule::DependencyBlocked,
            text: format!("{head}, {for_}{why}"),
        });
    }
    if late > 0 {
        let unit = if late == 1 { "day" } else { "days" };
        return Some(Reason {
            rag: Rag::Red,
            rule: Rule::DependencyLate,
            text: format!("{head}, {late} {unit} late"),
        });
    }
    if let Some(arrival) = arrival.filter(|a| *a > d.need_by) {
        let gap = (arrival - d.need_by).num_days();
        let unit = if gap == 1 { "day" } else { "days" };
        return Some(Reason {
            rag: if critical { Rag::Red } else { Rag::Amber },
            rule: Rule::DependencyConflict,
            text: format!(
                "`{}` from {} arrives {arrival}, {gap} {unit} after {} needs it{}",
                d.what.as_str(),
                s.endpoint_name(&d.from),
                s.endpoint_name(&d.needs),
                if critical {
                    ", on the critical path"
                } else {
                    ""
                }
            ),
        });
    }
    if d.agreement == crate::domain::Agreement::Declined {
        let why = d
            .agreement_note
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| format!(" ({})", short(r, 80)))
            .unwrap_or_default();
        return Some(Reason {
            rag: Rag::Amber,
            rule: Rule::DependencyDeclined,
            text: format!("{head}, declined by its provider{why}"),
        });
    }
    (d.state == DepState::AtRisk).then(|| Reason {
        rag: Rag::Amber,
        rule: Rule::DependencyAtRisk,
        text: format!("{head}, at risk"),
    })
}

/// Health of every active project and of the program.
pub fn assess(s: &Snapshot, f: &Forecasts) -> ProgramHealth {
    let today = s.today();
    let window = i64::from(s.program.staleness_days);
    let mut per_project: std::collections::HashMap<ProjectId, Vec<Reason>> =
        s.active_projects().map(|p| (p.id, Vec::new())).collect();
    let mut unowned: Vec<Reason> = Vec::new();
    let mut push = |project: Option<ProjectId>, r: Reason| match project
        .and_then(|p| per_project.get_mut(&p))
    {
        Some(v) => v.push(r),
        None => unowned.push(r),
    };

    for (i, m) in s.milestones.iter().enumerate() {
        if m.state != MilestoneState::Planned {
            continue;
        }
        let key = m.key.as_str();
        if m.target < today {
            let late = (today - m.target).num_days();
            let unit = if late == 1 { "day" } else { "days" };
            push(
                m.project,
                Reason {
                    rag: Rag::Red,
                    rule: Rule::MilestoneOverdue,
                    text: format!(
                        "`{key}` is {late} {unit} past its target {} and not done",
                        m.target
                    ),
                },
            );
            continue;
        }
        let Some(fc) = f.milestone(i) else { continue };
        if fc.margin_days < 0 {
            let late = -fc.margin_days;
            let unit = if late == 1 { "day" } else { "days" };
            let (rag, rule, where_) = if fc.critical {
                (Rag::Red, Rule::CriticalPathLate, ", on the critical path")
            } else {
                (Rag::Amber, Rule::ForecastLate, "")
            };
            push(
                m.project,
                Reason {
                    rag,
                    rule,
                    text: format!(
                        "`{key}` is forecast {}, {late} {unit} after its target {}{where_}",
                        fc.forecast, m.target
                    ),
                },
            );
        }
    }

    for (i, d) in s.deps.iter().enumerate() {
        let critical = match d.needs {
            crate::domain::Endpoint::Milestone(m) => {
                s.milestone_index(m).is_some_and(|mi| f.is_critical(mi))
            }
            _ => false,
        };
        if let Some(r) = dependency_reason(s, d, today, f.arrival(i), critical) {
            push(s.project_of(&d.needs), r);
        }
    }

    // A critical risk's state decides: open is red, being mitigated amber, accepted (on
    // the register, its reason given) nothing.
    for r in &s.risks {
        let rag = match r.state {
            RiskState::Open => Rag::Red,
            RiskState::Mitigating => Rag::Amber,
            _ => continue,
        };
        if r.band() == RiskBand::Critical {
            push(
                r.project,
                Reason {
                    rag,
                    rule: Rule::CriticalRisk,
                    text: format!(
                        "critical risk #{} `{}` (score {}) is {}",
                        r.number,
                        r.title.as_str(),
                        r.score(),
                        r.state.as_str()
                    ),
                },
            );
        }
    }

    // Problems happening now: an open high issue makes its project at least amber, a
    // critical one red.
    for i in s
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Issue && i.is_open())
    {
        let rag = match i.severity {
            Some(Severity::Critical) => Rag::Red,
            Some(Severity::High) => Rag::Amber,
            _ => continue,
        };
        let severity = i.severity.map(|s| s.as_str()).unwrap_or_default();
        push(
            i.project,
            Reason {
                rag,
                rule: Rule::OpenIssue,
                text: format!(
                    "{severity} issue #{} `{}` is open{}",
                    i.number,
                    i.title.as_str(),
                    i.due
                        .filter(|d| *d < today)
                        .map(|d| format!(
                            ", {} past its due date",
                            crate::domain::n_days((today - d).num_days())
                        ))
                        .unwrap_or_default()
                ),
            },
        );
    }

    let mut projects = Vec::new();
    for p in s.active_projects() {
        let mut reasons = Vec::new();
        let (reported, stale) = match s.latest_status(p.id) {
            Some(u) => {
                let posted = u
                    .posted_at
                    .with_timezone(&s.program.timezone.tz())
                    .date_naive();
                let age = (today - posted).num_days();
                let by = u
                    .author
                    .and_then(|a| s.person(a))
                    .map(|a| format!(" by @{}", a.display_name))
                    .unwrap_or_default();
                reasons.push(Reason {
                    rag: u.rag,
                    rule: Rule::Reported,
                    text: format!(
                        "reported {}{by} on {posted}: {}",
                        u.rag.as_str(),
                        short(u.summary.as_str(), 120)
                    ),
                });
                let stale = s.is_stale(u);
                if stale {
                    reasons.push(Reason {
                        rag: Rag::Amber,
                        rule: Rule::Stale,
                        text: format!(
                            "stale: the last update is {age} days old (the window is {})",
                            crate::domain::n_days(window)
                        ),
                    });
                }
                (Some(u.rag), stale)
            }
            None => {
                reasons.push(Reason {
                    rag: Rag::Amber,
                    rule: Rule::NoUpdate,
                    text: "no status update yet".into(),
                });
                (None, true)
            }
        };
        reasons.extend(per_project.remove(&p.id).unwrap_or_default());
        projects.push(ProjectHealth {
            project: p.id,
            key: p.key.as_str().to_owned(),
            name: p.name.as_str().to_owned(),
            health: Health::from_reasons(reported, stale, reasons),
        });
    }

    // Every project's reasons that are not green, so a count of "more" covers them all.
    let mut reasons: Vec<Reason> = Vec::new();
    for ph in &projects {
        for r in ph.health.reasons.iter().filter(|r| r.rag > Rag::Green) {
            reasons.push(Reason {
                rag: r.rag,
                rule: r.rule,
                text: format!("{}: {}", ph.name, r.text),
            });
        }
    }
    reasons.extend(unowned);
    order(&mut reasons);
    let rag = reasons.iter().map(|r| r.rag).max().unwrap_or(Rag::Green);
    ProgramHealth {
        rag,
        reasons,
        projects,
    }
}
