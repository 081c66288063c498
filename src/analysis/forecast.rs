//! The program's schedule graph: live milestones, plus dependencies whose consumer is a
//! milestone (a dependency passes its provider's forecast on, or its need-by date when the
//! provider is a project or outside the program). Cancelled milestones drop out.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::schedule::{self, Driver, Plan, Task};
use super::Snapshot;
use crate::domain::{DepState, DurationUnit, Endpoint, MilestoneId, MilestoneState};

/// A node of the graph, by index into the snapshot's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "index")]
pub enum Node {
    Milestone(usize),
    Dependency(usize),
}

#[derive(Debug, Clone)]
pub struct Forecasts {
    pub tasks: Vec<Task>,
    pub nodes: Vec<Node>,
    pub plan: Plan,
    pub today: NaiveDate,
    /// Task index per milestone index (`None` for cancelled milestones).
    milestone_task: Vec<Option<usize>>,
    /// Task index per dependency index (`None` when its consumer is not a live milestone).
    dep_task: Vec<Option<usize>>,
    critical: Vec<bool>,
    path: Vec<usize>,
    /// When each open dependency arrives (`None` when delivered or cancelled).
    arrivals: Vec<Option<NaiveDate>>,
}

/// An open dependency that arrives after it is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// Index into the snapshot's dependencies.
    pub dep: usize,
    pub arrival: NaiveDate,
    /// Arrival − need-by, in days.
    pub gap_days: i64,
}

/// A milestone's forecast, with how much room it has.
#[derive(Debug, Clone, Copy)]
pub struct MilestoneForecast {
    pub forecast: NaiveDate,
    /// The earliest its predecessors let it finish (its target when nothing precedes it).
    pub earliest: NaiveDate,
    /// Its latest finish LF: the latest it can finish without making a target late.
    pub latest: Option<NaiveDate>,
    /// LF − earliest in working days (calendar days for a duration kept in calendar days):
    /// the room it has; negative when it makes something late. 0 when nothing after it
    /// has a target.
    pub float_days: i64,
    /// Its own target − forecast, in calendar days: negative when it is forecast late.
    pub margin_days: i64,
    pub critical: bool,
    pub driver: Driver,
}

/// A milestone whose forecast a change would move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shift {
    /// Index into the snapshot's milestones.
    pub milestone: usize,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Shift {
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days()
    }
}

impl Forecasts {
    pub fn of(s: &Snapshot) -> Self {
        Self::with_targets(s, &HashMap::new())
    }

    /// Forecasts as if some milestones had other targets (for a move not yet made).
    pub fn with_targets(s: &Snapshot, targets: &HashMap<MilestoneId, NaiveDate>) -> Self {
        let today = s.today();
        let mut milestone_task = vec![None; s.milestones.len()];
        let mut nodes = Vec::with_capacity(s.milestones.len() + s.deps.len());
        for (i, m) in s.milestones.iter().enumerate() {
            if m.state != MilestoneState::Cancelled {
                milestone_task[i] = Some(nodes.len());
                nodes.push(Node::Milestone(i));
            }
        }
        let task_of = |id: MilestoneId| s.milestone_index(id).and_then(|i| milestone_task[i]);
        // Durations in working days count on the program's calendar, and a project's own
        // holidays on top of it for that project's milestones.
        let work = std::sync::Arc::new(schedule::Workweek::new(
            s.program.work_days,
            s.program.holidays.iter().copied(),
        ));
        let team_work: HashMap<i64, std::sync::Arc<schedule::Workweek>> = s
            .projects
            .iter()
            .filter(|p| !p.holidays.is_empty())
            .map(|p| {
                let days = s.program.holidays.iter().chain(&p.holidays).copied();
                (
                    p.id,
                    std::sync::Arc::new(schedule::Workweek::new(s.program.work_days, days)),
                )
            })
            .collect();
        let calendar_of = |m: &crate::domain::Milestone| {
            m.project
                .and_then(|p| team_work.get(&p))
                .unwrap_or(&work)
                .clone()
        };
        let mut tasks: Vec<Task> = nodes
            .iter()
            .map(|n| {
                let Node::Milestone(i) = *n else {
                    unreachable!("only milestones so far")
                };
                let m = &s.milestones[i];
                Task {
                    target: Some(targets.get(&m.id).copied().unwrap_or(m.target)),
                    duration: m.duration.map(|d| i64::from(d.get())).unwrap_or(0),
                    done_on: (m.state == MilestoneState::Done)
                        .then(|| m.completed_on.unwrap_or(m.target)),
                    preds: m.after.iter().filter_map(|&p| task_of(p)).collect(),
                    needs: vec![],
                    calendar: (m.duration_unit == DurationUnit::Work).then(|| calendar_of(m)),
                }
            })
            .collect();
        let mut dep_task = vec![None; s.deps.len()];
        for (di, d) in s.deps.iter().enumerate() {
            // A cancelled dependency is history: it holds nothing up.
            if d.state == DepState::Cancelled {
                continue;
            }
            let Endpoint::Milestone(consumer) = d.needs else {
                continue;
            };
            let Some(consumer) = task_of(consumer) else {
                continue;
            };
            let provider = match d.from {
                Endpoint::Milestone(p) => task_of(p),
                _ => None,
            };
            let t = nodes.len();
            dep_task[di] = Some(t);
            nodes.push(Node::Dependency(di));
            tasks.push(Task {
                // Without a milestone of the program providing it, it comes when promised.
                target: provider.is_none().then(|| d.promised()),
                duration: 0,
                done_on: if d.is_open() {
                    None
                } else {
                    Some(d.delivered_on.unwrap_or(d.need_by))
                },
                preds: provider.into_iter().collect(),
                needs: vec![],
                calendar: None,
            });
            // The consumer cannot finish before the deliverable arrives; its duration is the
            // work after its milestone predecessors, not after every input.
            tasks[consumer].needs.push(t);
        }
        let plan = Plan::compute(&tasks, today);
        let is_milestone = |t: usize| matches!(nodes[t], Node::Milestone(_));
        // The end the program names, if it still has that milestone.
        let end = s
            .program
            .end_key
            .as_ref()
            .and_then(|k| s.milestones.iter().position(|m| &m.key == k))
            .and_then(|i| milestone_task[i]);
        let path = plan.critical_chain(&tasks, end, is_milestone);
        let mut critical = vec![false; tasks.len()];
        for &t in &path {
            critical[t] = true;
        }
        // A dependency arrives with its provider milestone's forecast, or when promised.
        let arrivals = s
            .deps
            .iter()
            .map(|d| {
                if !d.is_open() {
                    return None;
                }
                let from_milestone = match d.from {
                    Endpoint::Milestone(p) => task_of(p).map(|t| plan.forecast[t]),
                    _ => None,
                };
                Some(from_milestone.unwrap_or_else(|| d.promised()))
            })
            .collect();
        Self {
            tasks,
            nodes,
            plan,
            today,
            milestone_task,
            dep_task,
            critical,
            path,
            arrivals,
        }
    }

    pub fn milestone(&self, index: usize) -> Option<MilestoneForecast> {
        let t = self.milestone_task.get(index).copied().flatten()?;
        Some(MilestoneForecast {
            forecast: self.plan.forecast[t],
            earliest: self.plan.earliest[t],
            latest: self.plan.latest[t],
            float_days: self.plan.float[t].unwrap_or(0),
            margin_days: self.plan.margin_days(&self.tasks, t).unwrap_or(0),
            critical: self.critical[t],
            driver: self.plan.driver[t],
        })
    }

    /// When open dependency `index` arrives: its provider milestone's forecast, else a
    /// pending proposed date, else the committed date, else its need-by date.
    pub fn arrival(&self, index: usize) -> Option<NaiveDate> {
        self.arrivals.get(index).copied().flatten()
    }

    /// Open dependencies that arrive after their need-by date, the widest gap first.
    pub fn conflicts(&self, s: &Snapshot) -> Vec<Conflict> {
        let mut out: Vec<Conflict> = s
            .deps
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                let arrival = self.arrival(i)?;
                (arrival > d.need_by).then(|| Conflict {
                    dep: i,
                    arrival,
                    gap_days: (arrival - d.need_by).num_days(),
                })
            })
            .collect();
        out.sort_by_key(|c| (std::cmp::Reverse(c.gap_days), c.dep));
        out
    }

    /// Whether milestone `index` is on the critical chain.
    pub fn is_critical(&self, index: usize) -> bool {
        self.milestone_task
            .get(index)
            .copied()
            .flatten()
            .is_some_and(|t| self.critical[t])
    }

    /// Nothing live waits on this milestone, directly or through a dependency.
    pub fn is_terminal(&self, index: usize) -> bool {
        self.milestone_task
            .get(index)
            .copied()
            .flatten()
            .is_some_and(|t| self.plan.terminal[t])
    }

    /// When a dependency will be delivered, as far as the graph knows: `None` for a
    /// dependency whose consumer is not a milestone.
    pub fn dependency(&self, index: usize) -> Option<NaiveDate> {
        let t = self.dep_task.get(index).copied().flatten()?;
        Some(self.plan.forecast[t])
    }

    /// The predecessor that comes closest to binding a milestone, and the date it would allow:
    /// what float is measured against when the milestone's own target holds it.
    pub fn nearest_constraint(&self, index: usize) -> Option<(Node, NaiveDate)> {
        let t = self.milestone_task.get(index).copied().flatten()?;
        self.tasks[t]
            .before()
            .filter(|(p, _)| *p < self.tasks.len())
            .map(|(p, lag)| {
                (
                    p,
                    schedule::shift(
                        self.tasks[t].calendar.as_deref(),
                        self.plan.forecast[p],
                        lag,
                    ),
                )
            })
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(p, d)| (self.nodes[p], d))
    }

    /// The critical path, first node first: milestones and the dependencies between them.
    pub fn critical_path(&self) -> Vec<Node> {
        self.path.iter().map(|&t| self.nodes[t]).collect()
    }

    /// What moves if milestone `index` finishes `days` later than forecast: every milestone
    /// whose forecast changes, the milestone itself first.
    pub fn what_if(&self, index: usize, days: i64) -> Vec<Shift> {
        let Some(t) = self.milestone_task.get(index).copied().flatten() else {
            return vec![];
        };
        let (_, moved) = schedule::what_if_slip(&self.tasks, self.today, &self.plan, t, days);
        self.shifts(moved)
    }

    /// Milestones whose forecast differs from `self` in `after` (the same snapshot with other
    /// targets).
    pub fn shifted_in(&self, after: &Forecasts) -> Vec<Shift> {
        self.shifts(schedule::moved(&self.plan, &after.plan))
    }

    fn shifts(&self, moved: Vec<schedule::Moved>) -> Vec<Shift> {
        let mut out: Vec<Shift> = moved
            .into_iter()
            .filter_map(|m| match self.nodes[m.task] {
                Node::Milestone(i) => Some(Shift {
                    milestone: i,
                    from: m.from,
                    to: m.to,
                }),
                Node::Dependency(_) => None,
            })
            .collect();
        // By date, then by index: the order a reader follows the ripple.
        out.sort_by_key(|s| (s.from, s.milestone));
        out
    }
}
