//! Forecasts, float, the critical chain and what-if slips:
//! forecast(m) = max(target(m), max over predecessors p of forecast(p) + duration(m)), a done
//! milestone at its completion date, and an open one never before today (the earliest
//! finish EF); latest finish LF(m) = min(target(m), min over successors s of LF(s) −
//! duration(s)); float = LF − EF. A duration counts working days on its task's calendar, or
//! calendar days when it has none. One pass forward and one back in topological order, so
//! the cost is linear in nodes + edges (times the days a duration spans).

use std::sync::Arc;

use chrono::{Datelike as _, Duration, NaiveDate};

use crate::domain::WorkDays;

/// The days a duration counts: the working week, less holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workweek {
    week: WorkDays,
    /// Sorted.
    holidays: Vec<NaiveDate>,
}

/// The most days one shift of a date walks: a duration is at most ten years.
const MAX_WALK: i64 = 3660 * 2;

impl Workweek {
    pub fn new(week: WorkDays, holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        let mut holidays: Vec<NaiveDate> = holidays.into_iter().collect();
        holidays.sort();
        holidays.dedup();
        Self { week, holidays }
    }

    pub fn is_work_day(&self, d: NaiveDate) -> bool {
        self.week.contains(d.weekday()) && self.holidays.binary_search(&d).is_err()
    }

    /// `d` moved by `n` working days: forward to the n-th working day after it, back to the
    /// n-th before it; `d` itself for 0. A week with no working day moves by calendar days.
    pub fn add(&self, d: NaiveDate, n: i64) -> NaiveDate {
        if n == 0 || self.week == WorkDays::NONE {
            return plus_days(d, n);
        }
        let step = n.signum();
        let (mut left, mut at, mut walked) = (n.abs(), d, 0);
        while left > 0 && walked < MAX_WALK {
            at = plus_days(at, step);
            walked += 1;
            if self.is_work_day(at) {
                left -= 1;
            }
        }
        at
    }

    /// Working days from `a` to `b`, the inverse of [`Workweek::add`]: those after `a` up
    /// to `b`; when `b` is before `a`, minus those from `b` up to before `a`. Whole weeks
    /// are counted at once and holidays found by binary search, so a long span costs no
    /// more than a short one.
    pub fn between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if a == b || self.week == WorkDays::NONE {
            return (b - a).num_days();
        }
        if a < b {
            self.work_days_in(a + Duration::days(1), b)
        } else {
            -self.work_days_in(b, a - Duration::days(1))
        }
    }

    /// Work days from `from` to `to`, both included.
    fn work_days_in(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to < from {
            return 0;
        }
        let days = (to - from).num_days() + 1;
        let weeks = days / 7;
        let mut count = weeks * self.week.count();
        for k in weeks * 7..days {
            if self.week.contains((from + Duration::days(k)).weekday()) {
                count += 1;
            }
        }
        let first = self.holidays.partition_point(|h| *h < from);
        let last = self.holidays.partition_point(|h| *h <= to);
        let off = self.holidays[first..last]
            .iter()
            .filter(|h| self.week.contains(h.weekday()))
            .count() as i64;
        count - off
    }
}

/// `d` moved by `n` days on `cal`, or by calendar days without one.
pub fn shift(cal: Option<&Workweek>, d: NaiveDate, n: i64) -> NaiveDate {
    match cal {
        Some(c) => c.add(d, n),
        None => plus_days(d, n),
    }
}

/// Days from `a` to `b` on `cal`, or calendar days without one.
pub fn span(cal: Option<&Workweek>, a: NaiveDate, b: NaiveDate) -> i64 {
    match cal {
        Some(c) => c.between(a, b),
        None => (b - a).num_days(),
    }
}

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
    /// The calendar its duration and float count on; calendar days without one.
    pub calendar: Option<Arc<Workweek>>,
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
    /// Latest finish LF: the latest each task can finish without a target after it
    /// slipping. `None` when nothing after it (itself included) has a target.
    pub latest: Vec<Option<NaiveDate>>,
    /// The earliest its predecessors let it finish (its target when nothing precedes it),
    /// never before today: where float is measured from.
    pub earliest: Vec<NaiveDate>,
    /// LF − the earliest its predecessors let it finish, in days of the task's calendar:
    /// the room it has; negative when it makes something late.
    pub float: Vec<Option<i64>>,
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
        // Backward, in reverse topological order: each task's latest finish from its own
        // target and what its successors leave it.
        let mut latest: Vec<Option<NaiveDate>> = tasks.iter().map(|t| t.target).collect();
        for &i in queue.iter().rev() {
            let mut lf = tasks[i].target;
            for &s in &succ[start[i]..start[i + 1]] {
                let Some(ls) = latest[s] else { continue };
                let lag = if tasks[s].preds.contains(&i) {
                    tasks[s].duration
                } else {
                    0
                };
                let allowed = shift(tasks[s].calendar.as_deref(), ls, -lag);
                lf = Some(lf.map_or(allowed, |l| l.min(allowed)));
            }
            latest[i] = lf;
        }
        // Float is measured from the earliest its predecessors let it finish, not from its
        // forecast (which never comes before its own target, so would leave no room).
        let earliest: Vec<NaiveDate> = (0..n)
            .map(|i| Self::earliest(tasks, i, today, &forecast))
            .collect();
        let float = (0..n)
            .map(|i| latest[i].map(|lf| span(tasks[i].calendar.as_deref(), earliest[i], lf)))
            .collect();
        Plan {
            forecast,
            driver,
            terminal: succ_count.iter().map(|&c| c == 0).collect(),
            on_cycle,
            latest,
            earliest,
            float,
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
            let f = shift(t.calendar.as_deref(), forecast[p], lag);
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

    /// The earliest a task can finish: its completion date when done; else the latest of
    /// its predecessors' forecasts plus its duration (its target when nothing precedes it),
    /// never before today.
    fn earliest(tasks: &[Task], i: usize, today: NaiveDate, forecast: &[NaiveDate]) -> NaiveDate {
        let t = &tasks[i];
        if let Some(d) = t.done_on {
            return d;
        }
        let driven = t
            .before()
            .filter(|&(p, _)| p < tasks.len() && p != i)
            .map(|(p, lag)| shift(t.calendar.as_deref(), forecast[p], lag))
            .max();
        driven.or(t.target).unwrap_or(today).max(today)
    }

    /// Target − forecast in calendar days: negative when the task is forecast after its own
    /// target.
    pub fn margin_days(&self, tasks: &[Task], i: usize) -> Option<i64> {
        tasks[i].target.map(|t| (t - self.forecast[i]).num_days())
    }

    /// The critical chain: the path of least float from a task nothing precedes to `end`
    /// (or, without one, the latest terminal task among `eligible`, ties to the lowest
    /// index): each step back goes to the predecessor with the least float (ties to the
    /// one that binds, then the lowest index). First task first. Linear in nodes + edges.
    pub fn critical_chain(
        &self,
        tasks: &[Task],
        end: Option<usize>,
        eligible: impl Fn(usize) -> bool,
    ) -> Vec<usize> {
        let n = self.forecast.len();
        let end = end.filter(|&e| e < n).or_else(|| {
            (0..n)
                .filter(|&i| self.terminal[i] && eligible(i))
                .max_by(|&a, &b| self.forecast[a].cmp(&self.forecast[b]).then(b.cmp(&a)))
        });
        let Some(mut cur) = end else {
            return vec![];
        };
        let float = |i: usize| self.float[i].unwrap_or(i64::MAX);
        let mut chain = vec![cur];
        let mut seen = vec![false; n];
        seen[cur] = true;
        loop {
            let binding = match self.driver[cur] {
                Driver::Predecessor(p) => Some(p),
                _ => None,
            };
            let next = tasks[cur]
                .before()
                .map(|(p, _)| p)
                .filter(|&p| p < n && p != cur && !seen[p])
                .min_by_key(|&p| (float(p), Some(p) != binding, p));
            let Some(p) = next else { break };
            seen[p] = true;
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
    changed[i].target = Some(shift(
        changed[i].calendar.as_deref(),
        before.forecast[i],
        days,
    ));
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
            calendar: None,
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
        assert_eq!(plan.margin_days(&tasks, 1), Some(-6));
        // 1 is 6 days late against its own target: LF 12-05, EF 12-11.
        assert_eq!(plan.latest[1], Some(d("2026-12-05")));
        assert_eq!(plan.float[1], Some(-6));
        // 0 must finish 10 days before 1's latest finish: LF 11-25, 6 days late too.
        assert_eq!(plan.latest[0], Some(d("2026-11-25")));
        assert_eq!(plan.float[0], Some(-6));
        // The end is held by its own target (12-31) with 17 days of room after 1 + 3
        // (12-14), and the chain behind it still shows.
        assert_eq!(plan.float[2], Some(17));
        assert_eq!(plan.critical_chain(&tasks, None, |_| true), vec![0, 1, 2]);
        // With 2 excluded, 5 is the latest terminal left; its least-float predecessor is 3.
        assert_eq!(plan.critical_chain(&tasks, None, |i| i != 2), vec![3, 5]);
        // A named end wins.
        assert_eq!(plan.critical_chain(&tasks, Some(1), |_| true), vec![0, 1]);
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
        assert!(plan.critical_chain(&tasks, None, |_| true).len() <= 2);
    }

    /// A random DAG: each task's predecessors have lower indexes.
    fn dag() -> impl Strategy<Value = (Vec<Task>, NaiveDate)> {
        dag_of(40)
    }

    /// A DAG small enough to try every path in.
    fn small_dag() -> impl Strategy<Value = (Vec<Task>, NaiveDate)> {
        dag_of(10)
    }

    fn dag_of(max: usize) -> impl Strategy<Value = (Vec<Task>, NaiveDate)> {
        let base = d("2026-01-01");
        (1usize..max)
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
                            calendar: None,
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

    /// LF by brute force: the least, over every path from `i` forward, of the path's last
    /// target less the durations of the tasks after `i` on it.
    fn brute_latest(tasks: &[Task], i: usize) -> Option<NaiveDate> {
        let mut best = tasks[i].target;
        for (s, t) in tasks.iter().enumerate() {
            if t.preds.contains(&i) {
                if let Some(ls) = brute_latest(tasks, s) {
                    let allowed = ls - Duration::days(t.duration);
                    best = Some(best.map_or(allowed, |b| b.min(allowed)));
                }
            }
        }
        best
    }

    #[test]
    fn a_duration_in_working_days_skips_weekends_and_holidays() {
        // Friday 2026-12-04; Monday 12-07 is a holiday.
        let cal = Workweek::new(WorkDays::WEEKDAYS, [d("2026-12-07")]);
        assert_eq!(cal.add(d("2026-12-04"), 1), d("2026-12-08"));
        assert_eq!(cal.add(d("2026-12-04"), 3), d("2026-12-10"));
        assert_eq!(cal.add(d("2026-12-08"), -1), d("2026-12-04"));
        assert_eq!(cal.between(d("2026-12-04"), d("2026-12-10")), 3);
        let mut tasks = vec![task("2026-12-04", 0, &[]), task("2026-12-01", 3, &[0])];
        tasks[1].calendar = Some(Arc::new(cal));
        let plan = Plan::compute(&tasks, d("2026-11-27"));
        assert_eq!(
            plan.forecast[1],
            d("2026-12-10"),
            "3 working days after Friday"
        );
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

        /// LF against a brute force: every path from the task forward, each giving its last
        /// task's target less the durations run after the task.
        #[test]
        fn latest_finish_and_float_match_trying_every_successor_path((tasks, today) in small_dag()) {
            let plan = Plan::compute(&tasks, today);
            for i in 0..tasks.len() {
                let brute = brute_latest(&tasks, i);
                prop_assert_eq!(plan.latest[i], brute, "task {}", i);
                let early = tasks[i]
                    .preds
                    .iter()
                    .map(|&p| plan.forecast[p] + Duration::days(tasks[i].duration))
                    .max()
                    .unwrap_or(tasks[i].target.unwrap())
                    .max(today);
                prop_assert_eq!(
                    plan.float[i],
                    brute.map(|lf| (lf - early).num_days()),
                    "task {}", i
                );
            }
        }

        /// The chain ends at the latest terminal task and is made of real edges back to a
        /// task nothing precedes, each step to a predecessor whose float (by brute force)
        /// is the least of that task's predecessors.
        #[test]
        fn the_critical_chain_follows_least_float((tasks, today) in small_dag()) {
            let plan = Plan::compute(&tasks, today);
            let chain = plan.critical_chain(&tasks, None, |_| true);
            let last = *chain.last().unwrap();
            prop_assert!(plan.terminal[last]);
            let latest = (0..tasks.len()).filter(|&i| plan.terminal[i]).map(|i| plan.forecast[i]).max().unwrap();
            prop_assert_eq!(plan.forecast[last], latest);
            prop_assert!(tasks[chain[0]].preds.is_empty());
            let brute_float = |i: usize| {
                let early = tasks[i]
                    .preds
                    .iter()
                    .map(|&p| plan.forecast[p] + Duration::days(tasks[i].duration))
                    .max()
                    .unwrap_or(tasks[i].target.unwrap())
                    .max(today);
                (brute_latest(&tasks, i).unwrap() - early).num_days()
            };
            for w in chain.windows(2) {
                prop_assert!(tasks[w[1]].preds.contains(&w[0]));
                let least = tasks[w[1]].preds.iter().map(|&p| brute_float(p)).min().unwrap();
                prop_assert_eq!(brute_float(w[0]), least);
            }
        }

        /// Working days: a shift lands on a working day (unless it is zero), counts exactly
        /// that many working days, and `between` undoes it.
        #[test]
        fn working_days_skip_weekends_and_holidays(
            offset in 0i64..400,
            n in -30i64..30,
            holidays in proptest::collection::vec(0i64..400, 0..20),
        ) {
            let base = d("2026-01-01");
            let cal = Workweek::new(WorkDays::WEEKDAYS, holidays.iter().map(|&h| base + Duration::days(h)));
            let start = base + Duration::days(offset);
            let end = cal.add(start, n);
            if n != 0 {
                prop_assert!(cal.is_work_day(end));
                prop_assert!(end.weekday().number_from_monday() <= 5);
                prop_assert!(!holidays.iter().any(|&h| base + Duration::days(h) == end));
            }
            prop_assert_eq!(cal.between(start, end), n);
            prop_assert!((end - start).num_days().abs() >= n.abs());
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
