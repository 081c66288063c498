//! Forecasts, float, the critical path and what-if slips:
//! forecast(m) = max(target(m), max over predecessors p of forecast(p) + duration(m)), a done
//! milestone at its completion date, and an open one never before today. One pass in
//! topological order, so the cost is linear in nodes + edges.

use chrono::{Duration, NaiveDate};

/// One node of the schedule graph, reduced to what the arithmetic needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The committed date; `None` for a node that only passes its predecessors on (a
    /// dependency delivered by a milestone).
    pub target: Option<NaiveDate>,
    /// Days of work after the predecessors finish.
    pub duration: i64,
    /// Finished on this date: the forecast is that date, whatever else holds.
    pub done_on: Option<NaiveDate>,
    /// Indexes of the tasks that must finish first; the duration runs after them.
    pub preds: Vec<usize>,
    /// Indexes of tasks it cannot finish before, with no work after them: deliverables it
    /// needs (dependencies).
    pub needs: Vec<usize>,
}

/// `d` plus `days`, saturating at the ends of the calendar: an absurd imported date must
/// not take analysis down.
pub fn plus_days(d: NaiveDate, days: i64) -> NaiveDate {
    d.checked_add_signed(Duration::days(days.clamp(-3_650_000, 3_650_000)))
        .unwrap_or(if days >= 0 {
            NaiveDate::MAX
        } else {
            NaiveDate::MIN
        })
}

impl Task {
    /// Every predecessor, with the days that follow it.
    pub fn before(&self) -> impl Iterator<Item = (usize, i64)> + '_ {
        self.preds
            .iter()
            .map(|&p| (p, self.duration))
            .chain(self.needs.iter().map(|&p| (p, 0)))
    }
}

/// What bound a task's forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "task")]
pub enum Driver {
    /// Done: its completion date.
    Done,
    /// Its own target date.
    Target,
    /// Not done and the target has passed: it cannot finish before today.
    Today,
    /// The predecessor at this index, plus the duration.
    Predecessor(usize),
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub forecast: Vec<NaiveDate>,
    pub driver: Vec<Driver>,
    /// Tasks that no other task waits on.
    pub terminal: Vec<bool>,
    /// Tasks left out because they sit on a cycle (refused at insert; this only guards
    /// against damaged data): their forecast is their target or today.
    pub on_cycle: Vec<bool>,
}

impl Plan {
    /// Forecasts every task. Ties between binding predecessors go to the lowest index, so
    /// the result does not depend on hash order.
    pub fn compute(tasks: &[Task], today: NaiveDate) -> Plan {
        let n = tasks.len();
        let mut succ_count = vec![0usize; n];
        let mut indegree = vec![0usize; n];
        for (i, t) in tasks.iter().enumerate() {
            for (p, _) in t.before() {
                if p < n && p != i {
                    succ_count[p] += 1;
                    indegree[i] += 1;
                }
            }
        }
        // Successor lists in one flat array (CSR): no allocation per node.
        let mut start = vec![0usize; n + 1];
        for i in 0..n {
            start[i + 1] = start[i] + succ_count[i];
        }
        let mut fill = start.clone();
        let mut succ = vec![0usize; start[n]];
        for (i, t) in tasks.iter().enumerate() {
            for (p, _) in t.before() {
                if p < n && p != i {
                    succ[fill[p]] = i;
                    fill[p] += 1;
                }
            }
        }

        let mut forecast = vec![NaiveDate::MIN; n];
        let mut driver = vec![Driver::Target; n];
        let mut queue: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut head = 0;
        let mut done = vec![false; n];
        while head < queue.len() {
            let i = queue[head];
            head += 1;
            let (f, d) = Self::one(tasks, i, today, &forecast, &done);
            forecast[i] = f;
            driver[i] = d;
            done[i] = true;
            for &s in &succ[start[i]..start[i + 1]] {
                indegree[s] -= 1;
                if indegree[s] == 0 {
                    queue.push(s);
                }
            }
        }
        let on_cycle: Vec<bool> = done.iter().map(|d| !d).collect();
        for i in (0..n).filter(|&i| on_cycle[i]) {
            let (f, d) = Self::one(tasks, i, today, &forecast, &done);
            forecast[i] = f;
            driver[i] = d;
        }
        Plan {
            forecast,
            driver,
            terminal: succ_count.iter().map(|&c| c == 0).collect(),
            on_cycle,
        }
    }

    fn one(
        tasks: &[Task],
        i: usize,
        today: NaiveDate,
        forecast: &[NaiveDate],
        ready: &[bool],
    ) -> (NaiveDate, Driver) {
        let t = &tasks[i];
        if let Some(d) = t.done_on {
            return (d, Driver::Done);
        }
        let mut best: Option<(NaiveDate, Driver)> = t.target.map(|d| (d, Driver::Target));
        for (p, lag) in t.before() {
            if p >= tasks.len() || p == i || !ready[p] {
                continue;
            }
            let f = plus_days(forecast[p], lag);
            let better = match best {
                None => true,
                Some((b, Driver::Predecessor(q))) => f > b || (f == b && p < q),
                // A predecessor that lands exactly on the target binds too: it is on the
                // critical chain with no float to spare.
                Some((b, _)) => f >= b,
            };
            if better {
                best = Some((f, Driver::Predecessor(p)));
            }
        }
        match best {
            Some((f, d)) if f >= today => (f, d),
            _ => (today, Driver::Today),
        }
    }

    /// Target − forecast in days: negative when the task is forecast late.
    pub fn float_days(&self, tasks: &[Task], i: usize) -> Option<i64> {
        tasks[i].target.map(|t| (t - self.forecast[i]).num_days())
    }

    /// The chain of binding predecessors behind the latest terminal task among `eligible`
    /// (ties to the lowest index), first task first.
    pub fn critical_path(&self, eligible: impl Fn(usize) -> bool) -> Vec<usize> {
        let end = (0..self.forecast.len())
            .filter(|&i| self.terminal[i] && eligible(i))
            .max_by(|&a, &b| self.forecast[a].cmp(&self.forecast[b]).then(b.cmp(&a)));
        let Some(mut cur) = end else {
            return vec![];
        };
        let mut chain = vec![cur];
        // A predecessor index is always a finished earlier step, so this ends; the bound
        // guards damaged data.
        while let Driver::Predecessor(p) = self.driver[cur] {
            if chain.len() > self.forecast.len() {
                break;
            }
            chain.push(p);
            cur = p;
        }
        chain.reverse();
        chain
    }
}

/// One task whose forecast a what-if moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub task: usize,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Moved {
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days()
    }
}

/// What moves if task `i` finishes `days` later than it is forecast to: every task whose
/// forecast changes, `i` included, in task order.
pub fn what_if_slip(
    tasks: &[Task],
    today: NaiveDate,
    before: &Plan,
    i: usize,
    days: i64,
) -> (Plan, Vec<Moved>) {
    let mut changed = tasks.to_vec();
    changed[i].target = Some(plus_days(before.forecast[i], days));
    changed[i].done_on = None;
    let after = Plan::compute(&changed, today);
    let moved = moved(before, &after);
    (after, moved)
}

/// Tasks whose forecast differs between two plans of the same tasks.
pub fn moved(before: &Plan, after: &Plan) -> Vec<Moved> {
    before
        .forecast
        .iter()
        .zip(&after.forecast)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(task, (&from, &to))| Moved { task, from, to })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn task(target: &str, duration: i64, preds: &[usize]) -> Task {
        Task {
            target: Some(d(target)),
            duration,
            done_on: None,
            preds: preds.to_vec(),
            needs: vec![],
        }
    }

    #[test]
    fn forecast_follows_the_formula() {
        let today = d("2026-11-27");
        let tasks = vec![
            task("2026-12-01", 0, &[]),   // 0: on its target
            task("2026-12-05", 10, &[0]), // 1: 12-01 + 10 = 12-11 > 12-05
            task("2026-12-31", 3, &[1]),  // 2: target binds
            task("2026-11-01", 0, &[]),   // 3: past and not done: today
            Task {
                done_on: Some(d("2026-11-02")),
                ..task("2026-11-10", 0, &[])
            }, // 4: done early
            task("2026-12-01", 2, &[3, 4]), // 5: today+2 = 11-29 < 12-01: target
        ];
        let plan = Plan::compute(&tasks, today);
        assert_eq!(plan.forecast[0], d("2026-12-01"));
        assert_eq!(plan.forecast[1], d("2026-12-11"));
        assert_eq!(plan.driver[1], Driver::Predecessor(0));
        assert_eq!(plan.forecast[2], d("2026-12-31"));
        assert_eq!(plan.driver[2], Driver::Target);
        assert_eq!(plan.forecast[3], today);
        assert_eq!(plan.driver[3], Driver::Today);
        assert_eq!(plan.forecast[4], d("2026-11-02"));
        assert_eq!(plan.forecast[5], d("2026-12-01"));
        assert_eq!(plan.float_days(&tasks, 1), Some(-6));
        assert_eq!(plan.critical_path(|_| true), vec![2]);
        // With 2 excluded, 5 is the latest terminal left.
        assert_eq!(plan.critical_path(|i| i != 2), vec![5]);
        // Pull 2's target in and the chain behind it shows: 0 → 1 → 2.
        let mut pulled = tasks.clone();
        pulled[2].target = Some(d("2026-12-01"));
        let plan = Plan::compute(&pulled, today);
        assert_eq!(plan.forecast[2], d("2026-12-14"));
        assert_eq!(plan.critical_path(|_| true), vec![0, 1, 2]);
    }

    #[test]
    fn what_if_moves_only_what_is_downstream_and_bound() {
        let today = d("2026-11-27");
        let tasks = vec![
            task("2026-12-01", 0, &[]),
            task("2026-12-05", 4, &[0]), // exactly bound: moves
            task("2026-12-20", 2, &[0]), // 8 days of float: absorbs a 5-day slip
            task("2026-12-10", 0, &[1]), // bound through 1 after the slip
        ];
        let plan = Plan::compute(&tasks, today);
        let (_, moved) = what_if_slip(&tasks, today, &plan, 0, 5);
        let got: Vec<(usize, i64)> = moved.iter().map(|m| (m.task, m.days())).collect();
        // 2 has float to absorb it; 3 becomes exactly bound but does not move.
        assert_eq!(got, vec![(0, 5), (1, 5)]);
    }

    #[test]
    fn a_needed_deliverable_bounds_without_the_duration_and_dates_saturate() {
        let today = d("2026-11-27");
        let mut tasks = vec![task("2026-12-10", 0, &[]), task("2026-12-05", 10, &[])];
        tasks[1].needs = vec![0];
        let plan = Plan::compute(&tasks, today);
        assert_eq!(plan.forecast[1], d("2026-12-10"), "needs: no work after it");
        assert_eq!(plan.driver[1], Driver::Predecessor(0));
        let far = vec![
            Task {
                target: Some(NaiveDate::MAX),
                ..task("2026-12-10", 0, &[])
            },
            task("2026-12-10", 3650, &[0]),
        ];
        let plan = Plan::compute(&far, today);
        assert_eq!(plan.forecast[1], NaiveDate::MAX);
        let (_, moved) = what_if_slip(&far, today, &plan, 0, 30);
        assert!(moved.is_empty());
    }

    #[test]
    fn a_cycle_in_damaged_data_does_not_hang() {
        let today = d("2026-11-27");
        let tasks = vec![task("2026-12-01", 1, &[1]), task("2026-12-02", 1, &[0])];
        let plan = Plan::compute(&tasks, today);
        assert!(plan.on_cycle.iter().all(|&c| c));
        assert!(plan.critical_path(|_| true).len() <= 2);
    }

    /// A random DAG: each task's predecessors have lower indexes.
    fn dag() -> impl Strategy<Value = (Vec<Task>, NaiveDate)> {
        let base = d("2026-01-01");
        (1usize..40)
            .prop_flat_map(move |n| {
                proptest::collection::vec(
                    (
                        0i64..200,
                        0i64..15,
                        proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
                    ),
                    n,
                )
            })
            .prop_map(move |specs| {
                let tasks = specs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (offset, duration, preds))| {
                        let mut preds: Vec<usize> = if i == 0 {
                            vec![]
                        } else {
                            preds.iter().map(|ix| ix.index(i)).collect()
                        };
                        preds.sort();
                        preds.dedup();
                        Task {
                            target: Some(base + Duration::days(offset)),
                            duration,
                            done_on: None,
                            preds,
                            needs: vec![],
                        }
                    })
                    .collect();
                (tasks, base + Duration::days(100))
            })
    }

    /// The longest sum of durations along any path ending at `i` (the first task's own
    /// duration does not count: durations run after predecessors).
    fn longest(tasks: &[Task], i: usize) -> i64 {
        tasks[i]
            .preds
            .iter()
            .map(|&p| longest(tasks, p) + tasks[i].duration)
            .max()
            .unwrap_or(0)
    }

    proptest! {
        #[test]
        fn forecasts_respect_targets_and_predecessors((tasks, today) in dag()) {
            let plan = Plan::compute(&tasks, today);
            for (i, t) in tasks.iter().enumerate() {
                prop_assert!(plan.forecast[i] >= t.target.unwrap());
                prop_assert!(plan.forecast[i] >= today);
                for &p in &t.preds {
                    prop_assert!(plan.forecast[i] >= plan.forecast[p] + Duration::days(t.duration));
                }
            }
        }

        #[test]
        fn the_critical_path_is_a_chain_of_binding_predecessors((tasks, today) in dag()) {
            let plan = Plan::compute(&tasks, today);
            let path = plan.critical_path(|_| true);
            let last = *path.last().unwrap();
            prop_assert!(plan.terminal[last]);
            let latest = (0..tasks.len()).filter(|&i| plan.terminal[i]).map(|i| plan.forecast[i]).max().unwrap();
            prop_assert_eq!(plan.forecast[last], latest);
            for w in path.windows(2) {
                let (a, b) = (w[0], w[1]);
                prop_assert!(tasks[b].preds.contains(&a));
                prop_assert_eq!(plan.forecast[a] + Duration::days(tasks[b].duration), plan.forecast[b]);
            }
            // The chain starts where nothing earlier binds.
            prop_assert!(!matches!(plan.driver[path[0]], Driver::Predecessor(_)));
        }

        #[test]
        fn with_all_targets_past_the_forecast_is_the_longest_duration_path((tasks, _) in dag()) {
            let start = d("2027-06-01"); // after every target
            let plan = Plan::compute(&tasks, start);
            for i in 0..tasks.len() {
                prop_assert_eq!((plan.forecast[i] - start).num_days(), longest(&tasks, i));
            }
        }

        #[test]
        fn a_what_if_moves_the_task_by_exactly_the_slip_and_nothing_earlier((tasks, today) in dag(), pick in any::<prop::sample::Index>(), days in 1i64..30) {
            let plan = Plan::compute(&tasks, today);
            let i = pick.index(tasks.len());
            let (after, moved) = what_if_slip(&tasks, today, &plan, i, days);
            prop_assert_eq!((after.forecast[i] - plan.forecast[i]).num_days(), days);
            for m in &moved {
                prop_assert!(m.task >= i, "only the task and what comes after it move");
                prop_assert!(m.days() > 0 && m.days() <= days);
            }
        }
    }
}
