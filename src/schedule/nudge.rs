//! The daily nudges: blockers up their escalation ladder, risk reviews due, milestones due
//! soon. Read from the whole program, so built under a lease outside the write lock.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};

use super::job::{program_channel, Job, Run};
use super::wording::{self, Blocker, Hurt, RiskReview};
use crate::analysis::Forecasts;
use crate::domain::{
    n_days, ActionId, Agreement, DepState, Endpoint, ItemKind, Key, MilestoneState, Person,
    PersonId, Snapshot,
};
use crate::outbox::agreements;
use crate::store::{self, RunEnd, ScheduledProgram, Tx};

pub struct Nudge<'a> {
    pub sp: &'a ScheduledProgram,
}

impl Job for Nudge<'_> {
    fn scheduled(&self) -> &ScheduledProgram {
        self.sp
    }

    fn name(&self) -> String {
        format!("nudge:{}", self.sp.schedule.id)
    }

    fn timezone(&self) -> chrono_tz::Tz {
        self.sp.program.timezone.tz()
    }

    async fn run(&self, tx: &mut Tx, run: &mut Run<'_>) -> anyhow::Result<(RunEnd, String)> {
        nudge(tx, run).await.map(|words| (RunEnd::Done, words))
    }
}

async fn nudge(tx: &mut Tx, run: &mut Run<'_>) -> anyhow::Result<String> {
    let sp = run.sp;
    let today = run.local_day;
    let key = sp.program.key.as_str().to_owned();
    let calendar = sp.program.calendar();
    let snap =
        store::load_snapshot(tx, &sp.scope, sp.program.clone(), run.now, Some(run.now)).await?;
    let snoozed = store::snoozes(tx, &sp.scope).await?;
    let is_snoozed = |subject: &str| snoozed.get(subject).is_some_and(|until| *until >= today);
    let forecasts = Forecasts::of(&snap);
    let channel = program_channel(tx, sp).await?;
    let program_owner = snap.person(sp.program.owner).cloned();
    let (mut blockers, mut reviews, mut due, mut requests) = (0, 0, 0, 0);
    let mut delayed: HashMap<usize, Vec<String>> = HashMap::new();

    for d in &snap.deps {
        if !d.is_open() || is_snoozed(&format!("dep:{}", d.number)) {
            continue;
        }
        let blocked = d.state == DepState::Blocked;
        if !blocked && d.need_by >= today {
            continue;
        }
        // How long it has hurt, in working days: since it was blocked, or since need-by.
        let since = match (blocked, d.blocked_since) {
            (true, Some(t)) => t.with_timezone(&sp.program.timezone.tz()).date_naive(),
            _ => d.need_by,
        };
        let age = calendar.work_days_between(since, today);
        // Working days 1 and 2 are the first rung, 3 and 4 the second, and so on.
        let rung = ((age - 1).max(0) / run.settings.rung_work_days.max(1)).min(3);
        let owner = d.owner.and_then(|o| snap.person(o)).cloned();
        // The ladder: owner → their delegate, or the provider's lead → program owner →
        // program channel. Someone away hands their rung to the next one up.
        let lead = snap
            .project_of(&d.from)
            .and_then(|p| snap.project_owner(p))
            .filter(|l| owner.as_ref().is_none_or(|o| o.id != l.id))
            .cloned();
        // The owner's rung goes to their delegate while they are away.
        let (first, first_why) = match &owner {
            Some(o) if o.is_away_on(today) => match o.delegate.and_then(|id| snap.person(id)) {
                Some(d) => (
                    Some(d.clone()),
                    "its owner is away and you are their delegate",
                ),
                None => (None, ""),
            },
            other => (other.clone(), "you own it"),
        };
        let mut ladder: Vec<(Option<Person>, &str)> = vec![
            (first, first_why),
            (
                lead,
                "you lead the team that provides it and it has not moved",
            ),
            (
                program_owner.clone(),
                "you own the program and it is still open",
            ),
            (None, "it is still open after every rung of the ladder"),
        ];
        let mut step = rung as usize;
        while step < 3 {
            match &ladder[step].0 {
                Some(p) if !p.is_away_on(today) => break,
                _ => step += 1,
            }
        }
        let (who, why) = std::mem::take(&mut ladder[step]);
        let about = snap.project_of(&d.from);
        let destination = match (&who, &channel) {
            (Some(p), _) => run.to_person(p, about),
            (None, Some(c)) => c.clone(),
            (None, None) => match &program_owner {
                Some(p) => run.to_person(p, about),
                None => continue,
            },
        };
        // The milestone waiting on it, and the ones after it that a day's slip would move:
        // one what-if per waiting milestone, however many dependencies it waits on.
        let delays: Vec<String> = match d.needs {
            Endpoint::Milestone(m) => match snap.milestone_index(m) {
                Some(i) => delayed
                    .entry(i)
                    .or_insert_with(|| {
                        let mut names = vec![snap.milestones[i].key.as_str().to_owned()];
                        names.extend(
                            forecasts
                                .what_if(i, 1)
                                .into_iter()
                                .filter(|sh| sh.milestone != i)
                                .take(5)
                                .map(|sh| snap.milestones[sh.milestone].key.as_str().to_owned()),
                        );
                        names
                    })
                    .clone(),
                None => vec![],
            },
            _ => vec![],
        };
        let hurt = if blocked {
            Hurt::Blocked {
                reason: d.blocked_reason.as_deref(),
            }
        } else {
            Hurt::Late {
                need_by: d.need_by,
                days: (today - d.need_by).num_days(),
            }
        };
        let (from, needs) = (snap.endpoint_name(&d.from), snap.endpoint_name(&d.needs));
        let reply = wording::blocker(&Blocker {
            program: &key,
            number: d.number,
            what: d.what.as_str(),
            from: &from,
            needs: &needs,
            hurt,
            delays: &delays,
            to: who.as_ref(),
            owner: owner.as_ref(),
        });
        let reason = wording::blocker_reason(&key, d.number, why, step + 1, age);
        // One ping per dependency and day, whatever catches up after downtime.
        let dedup = format!("nudge:{}:dep:{}:{today}", sp.program.id, d.id);
        if run.send(tx, destination, reply, reason, dedup).await? {
            blockers += 1;
        }
    }

    // Requests the providing team has not answered climb the same ladder: the owner was
    // asked when the request was made, so a request unanswered for `rung_work_days` goes to
    // the provider's lead, then the program owner, then the program channel.
    for d in &snap.deps {
        let (Agreement::Requested, Some(at)) = (d.agreement, d.requested_at) else {
            continue;
        };
        if !d.is_open() || is_snoozed(&format!("dep:{}", d.number)) {
            continue;
        }
        let since = at.with_timezone(&sp.program.timezone.tz()).date_naive();
        let age = calendar.work_days_between(since, today);
        let step = (age / run.settings.rung_work_days.max(1)).min(3) as usize;
        if step == 0 {
            continue;
        }
        let owner = d.owner.and_then(|o| snap.person(o));
        let lead = snap
            .project_of(&d.from)
            .and_then(|p| snap.project_owner(p))
            .filter(|l| owner.is_none_or(|o| o.id != l.id))
            .cloned();
        let mut ladder: Vec<(Option<Person>, &str)> = vec![
            (owner.cloned(), "you own what provides it"),
            (
                lead,
                "you lead the team asked to provide it and nobody has answered",
            ),
            (
                program_owner.clone(),
                "you own the program and the request is still unanswered",
            ),
            (
                None,
                "the request is still unanswered after every rung of the ladder",
            ),
        ];
        let mut step = step;
        while step < 3 {
            match &ladder[step].0 {
                Some(p) if !p.is_away_on(today) => break,
                _ => step += 1,
            }
        }
        let (who, why) = std::mem::take(&mut ladder[step]);
        let about = snap.project_of(&d.from);
        let destination = match (&who, &channel) {
            (Some(p), _) => run.to_person(p, about),
            (None, Some(c)) => c.clone(),
            (None, None) => match &program_owner {
                Some(p) => run.to_person(p, about),
                None => continue,
            },
        };
        let (from, needs) = (snap.endpoint_name(&d.from), snap.endpoint_name(&d.needs));
        let asked = agreements::Asked {
            program: &key,
            number: d.number,
            what: d.what.as_str(),
            needs: &needs,
            from: &from,
            need_by: d.need_by,
        };
        let Some(to) = who.as_ref().or(program_owner.as_ref()) else {
            continue;
        };
        let reply = agreements::reminder(to, &asked, age);
        let reason = agreements::reminder_reason(&key, d.number, why, step + 1);
        let dedup = format!("nudge:{}:request:{}:{today}", sp.program.id, d.id);
        if run.send(tx, destination, reply, reason, dedup).await? {
            requests += 1;
        }
    }

    // Reminders: each risk review, assumption, pending decision and action item is
    // reminded once per date that comes (a review or validate-by date, a decision's
    // decide-by date less the due-soon days, an action's due-soon start and the day after it
    // was due), on the first nudge on or after it; everything one person has that day goes
    // as one message.
    let previous = run
        .previous_done(tx, &format!("nudge:{}", sp.schedule.id))
        .await?
        .map(|t| t.with_timezone(&sp.program.timezone.tz()).date_naive());
    let comes = |day: NaiveDate| day <= today && previous.is_none_or(|p| day > p);
    let soon = run.settings.due_soon_days;
    let in_days = |d: NaiveDate| match (d - today).num_days() {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        n if n > 0 => format!("in {n} days"),
        -1 => "yesterday".to_owned(),
        n => format!("{} ago", n_days(-n)),
    };
    // (owner, the project for their route) → what to remind them of.
    let mut due_items: Vec<(PersonId, Option<i64>, wording::Remind)> = Vec::new();
    for r in &snap.risks {
        let Some(by) = r.review_by else { continue };
        if !r.is_open() || !comes(by) || is_snoozed(&format!("risk:{}", r.number)) {
            continue;
        }
        let Some(owner) = r.owner else { continue };
        due_items.push((
            owner,
            r.project,
            wording::Remind {
                what: format!("risk review #{} {}", r.number, r.title.as_str()),
                when: format!(" ({}, score {}), due {by}", r.band().as_str(), r.score()),
                command: format!("risk set {key} {} --review-by DATE", r.number),
                done: None,
                review: Some(r.number),
            },
        ));
    }
    for i in snap.items.iter().filter(|i| i.is_open()) {
        let (Some(owner), Some(due)) = (i.owner, i.due) else {
            continue;
        };
        let created = i
            .created_at
            .with_timezone(&sp.program.timezone.tz())
            .date_naive();
        let n = i.number;
        let remind = match i.kind {
            ItemKind::Assumption if comes(due) => wording::Remind {
                what: format!("assumption #{n} {}", i.title.as_str()),
                when: format!(", to validate by {due} ({})", in_days(due)),
                command: format!("assumption validate {key} {n}"),
                done: None,
                review: None,
            },
            ItemKind::Action
                if comes((due - Duration::days(soon)).max(created))
                    || comes(due + Duration::days(1)) =>
            {
                wording::Remind {
                    what: format!("action #{n} {}", i.title.as_str()),
                    when: if due < today {
                        format!(", was due {due} ({})", in_days(due))
                    } else {
                        format!(", due {due} ({})", in_days(due))
                    },
                    command: format!("action done {key} {n}"),
                    done: Key::parse(&key)
                        .ok()
                        .map(|program| ActionId::ActionDone { program, number: n }),
                    review: None,
                }
            }
            _ => continue,
        };
        due_items.push((owner, i.project, remind));
    }
    for d in &snap.decisions {
        let (Some(decider), Some(by)) = (d.decider, d.decide_by) else {
            continue;
        };
        if !d.outcome.trim().is_empty() || !comes((by - Duration::days(soon)).max(d.decided_on)) {
            continue;
        }
        due_items.push((
            decider,
            None,
            wording::Remind {
                what: format!("decision #{} {}", d.number, d.title.as_str()),
                when: format!(", needed from you by {by} ({})", in_days(by)),
                command: format!("decision decide {key} {} --outcome \"…\"", d.number),
                done: None,
                review: None,
            },
        ));
    }
    // One message per person and destination; away people's go to their delegate.
    let mut groups: Vec<((PersonId, crate::domain::Destination), Vec<wording::Remind>)> =
        Vec::new();
    for (owner, project, remind) in due_items {
        let Some(person) = snap.person(owner) else {
            continue;
        };
        let Some(to) = stand_in(&snap, person, today) else {
            continue;
        };
        let destination = run.to_person(to, project);
        let key = (to.id, destination);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(remind),
            None => groups.push((key, vec![remind])),
        }
    }
    let mut nth: HashMap<PersonId, usize> = HashMap::new();
    for ((to, destination), items) in groups {
        let Some(person) = snap.person(to) else {
            continue;
        };
        let alone = match items.as_slice() {
            [one] => one
                .review
                .and_then(|n| snap.risks.iter().find(|r| r.number == n)),
            _ => None,
        };
        let (reply, reason) = match alone {
            Some(r) => (
                wording::risk_review(&RiskReview {
                    to: person,
                    number: r.number,
                    title: r.title.as_str(),
                    band: r.band().as_str(),
                    score: r.score(),
                    by: r.review_by.unwrap_or(today),
                    mitigation: r.mitigation.as_str(),
                }),
                wording::risk_review_reason(&key, r.number),
            ),
            None => (
                wording::reminders(person, &key, &items),
                wording::reminders_reason(&key),
            ),
        };
        let n = nth.entry(to).or_default();
        let dedup = format!("remind:{}:{to}:{today}:{n}", sp.program.id);
        *n += 1;
        if run.send(tx, destination, reply, reason, dedup).await? {
            reviews += items.len();
        }
    }

    let horizon = today + Duration::days(run.settings.due_soon_days);
    for (i, m) in snap.milestones.iter().enumerate() {
        if m.state != MilestoneState::Planned || m.target < today || m.target > horizon {
            continue;
        }
        let Some(owner) = snap.milestone_owner(m) else {
            continue;
        };
        let Some(owner) = stand_in(&snap, owner, today) else {
            continue;
        };
        let late = forecasts
            .milestone(i)
            .filter(|f| f.forecast > m.target)
            .map(|f| (f.forecast, -f.margin_days));
        let mk = m.key.as_str();
        let reply = wording::due_soon(owner, mk, m.title.as_str(), m.target, late);
        let reason = wording::due_soon_reason(&key, mk, run.settings.due_soon_days);
        let destination = run.to_person(owner, m.project);
        let dedup = format!("due:{}:{}", m.id, m.target);
        if run.send(tx, destination, reply, reason, dedup).await? {
            due += 1;
        }
    }
    Ok(format!(
        "{blockers} blocker pings, {requests} unanswered requests, {reviews} reminders, {due} due soon"
    ))
}

/// Who answers for `p` today: themselves, or their delegate while they are away.
fn stand_in<'a>(snap: &'a Snapshot, p: &'a Person, today: NaiveDate) -> Option<&'a Person> {
    if !p.is_away_on(today) {
        return Some(p);
    }
    p.delegate
        .and_then(|d| snap.person(d))
        .filter(|d| !d.is_away_on(today))
}
