//! The scheduler: every schedule's slots, each claimed once by its (job, instant) row and run
//! in one transaction with the messages it queues. A slot missed while the scheduler was down
//! runs once if it is still inside its kind's grace window, and is recorded as skipped
//! otherwise. Prompts are per owner, at the scheduled time where the owner lives.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::analysis::Forecasts;
use crate::clock::Clock;
use crate::digest::{self, Analysis};
use crate::domain::{
    n_days, DepState, Endpoint, MilestoneState, Person, PersonId, Program, ScheduleKind, Tenant,
};
use crate::links::{ChartLink, LinkKey};
use crate::outbox::{Destination, NewMessage};
use crate::reply::{Mention, Reply, Text, Tone};
use crate::store::{self, Routes, RunEnd, ScheduledProgram, Scope, Store, Tx};
use crate::telemetry::metrics;

/// Scheduler settings (`[schedule]` in the configuration).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct SchedulerSettings {
    /// How often the scheduler looks for due slots, in seconds.
    pub tick_secs: u64,
    /// How late a missed slot may still run, per kind, in minutes.
    pub grace_prompt_mins: i64,
    pub grace_reminder_mins: i64,
    pub grace_digest_mins: i64,
    pub grace_nudge_mins: i64,
    /// A reminder goes only to owners asked at least this many hours before it.
    pub remind_after_hours: i64,
    /// Working days on one rung of the blocker escalation ladder.
    pub rung_work_days: i64,
    /// How many days ahead "milestone due soon" looks.
    pub due_soon_days: i64,
    /// At most this many slots are caught up per job and tick (a minute schedule after a
    /// long outage would otherwise write thousands of skip rows at once).
    pub max_slots_per_tick: usize,
    /// Where status prompts go: to each owner directly, or to the program's channel with
    /// the owner mentioned (by DM when no channel is bound).
    pub prompts: PromptRoute,
}

/// Where status prompts go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptRoute {
    #[default]
    Dm,
    Channel,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            tick_secs: 30,
            grace_prompt_mins: 120,
            grace_reminder_mins: 120,
            grace_digest_mins: 12 * 60,
            grace_nudge_mins: 6 * 60,
            remind_after_hours: 4,
            rung_work_days: 2,
            due_soon_days: 3,
            max_slots_per_tick: 2000,
            prompts: PromptRoute::Dm,
        }
    }
}

impl SchedulerSettings {
    fn grace(&self, kind: ScheduleKind) -> Duration {
        Duration::minutes(match kind {
            ScheduleKind::Prompt => self.grace_prompt_mins,
            ScheduleKind::Reminder => self.grace_reminder_mins,
            ScheduleKind::Digest => self.grace_digest_mins,
            ScheduleKind::Nudge => self.grace_nudge_mins,
        })
    }
}

/// What one tick did, for logs, tests and the demo.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    pub ran: usize,
    pub skipped: usize,
    pub queued: usize,
    pub failed: usize,
}

pub struct Scheduler {
    store: Store,
    clock: Arc<dyn Clock>,
    settings: SchedulerSettings,
    /// `http.public_url` and the link key: digests to Slack show their timeline by link.
    chart_links: Option<ChartLinks>,
}

/// Where signed chart links point, and the key that signs them.
#[derive(Debug, Clone)]
pub struct ChartLinks {
    pub public_url: Arc<str>,
    pub key: LinkKey,
}

/// One job's view of the world while it runs.
struct Run<'a> {
    sp: &'a ScheduledProgram,
    /// `{job}@{slot}`: what dedup keys are built from. Run ids are reused by SQLite after
    /// a schedule is removed, so they must not be.
    claim: String,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
    settings: &'a SchedulerSettings,
    chart_links: Option<&'a ChartLinks>,
    queued: usize,
    /// Messages held back to be queued once the slot is claimed (for jobs built in a read
    /// transaction); `None` queues them at once, in the caller's write transaction.
    buffer: Option<Vec<NewMessage>>,
    /// Where the program's person-directed messages go instead of direct messages.
    routes: Routes,
}

impl Scheduler {
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: SchedulerSettings) -> Self {
        Self {
            store,
            clock,
            settings,
            chart_links: None,
        }
    }

    /// Digests sent to Slack webhooks (which take no files) show their timeline through a
    /// signed link to `{public_url}/charts/…`.
    pub fn with_chart_links(mut self, links: ChartLinks) -> Self {
        self.chart_links = Some(links);
        self
    }

    /// Runs every slot that is due now, once.
    pub async fn tick(&self) -> anyhow::Result<TickReport> {
        let now = self.clock.now();
        let scheduled = {
            let mut tx = self.store.read().await?;
            let all = store::all_schedules(&mut tx).await?;
            tx.commit().await?;
            all
        };
        let mut report = TickReport::default();
        for sp in &scheduled {
            // A bug in one program's job must not stop every other program's rhythm: a
            // panic is caught here, its transaction rolls back, and the slot is tried again
            // next tick while it is inside its grace window.
            let one = std::panic::AssertUnwindSafe(self.tick_one(sp, now, &mut report));
            match futures_util::FutureExt::catch_unwind(one).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    report.failed += 1;
                    metrics::job(sp.schedule.kind.as_str(), "failed");
                    tracing::error!(schedule = sp.schedule.id, program = %sp.program.key, error = ?e, "schedule failed");
                }
                Err(panic) => {
                    report.failed += 1;
                    metrics::job(sp.schedule.kind.as_str(), "failed");
                    let why = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(schedule = sp.schedule.id, program = %sp.program.key, panic = %why, "a job panicked");
                }
            }
        }
        Ok(report)
    }

    /// Ticks until `shutdown` turns true; a tick in progress finishes first.
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let every = std::time::Duration::from_secs(self.settings.tick_secs.max(1));
        loop {
            match self.tick().await {
                Ok(r) if r.ran + r.skipped > 0 => {
                    tracing::info!(
                        ran = r.ran,
                        skipped = r.skipped,
                        queued = r.queued,
                        "scheduler tick"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = ?e, "scheduler tick failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }

    async fn tick_one(
        &self,
        sp: &ScheduledProgram,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> anyhow::Result<()> {
        match sp.schedule.kind {
            ScheduleKind::Prompt | ScheduleKind::Reminder => {
                // One job per owner, in the owner's own timezone: prompts come at 10:00 where
                // they live, and so do reminders.
                let owners = {
                    let mut tx = self.store.read().await?;
                    let people = store::people(&mut tx, sp.scope.tenant()).await?;
                    let projects = store::projects(&mut tx, &sp.scope).await?;
                    tx.commit().await?;
                    let mut seen = HashSet::new();
                    projects
                        .iter()
                        .filter(|p| !p.removed && seen.insert(p.owner))
                        .filter_map(|p| people.get(&p.owner).cloned())
                        .collect::<Vec<Person>>()
                };
                for owner in owners {
                    let tz = owner
                        .timezone
                        .as_ref()
                        .map(|t| t.tz())
                        .unwrap_or_else(|| sp.program.timezone.tz());
                    let job = format!(
                        "{}:{}:{}",
                        sp.schedule.kind.as_str(),
                        sp.schedule.id,
                        owner.id
                    );
                    self.slots(sp, &job, tz, now, report, Some(&owner)).await?;
                }
            }
            kind => {
                let job = format!("{}:{}", kind.as_str(), sp.schedule.id);
                self.slots(sp, &job, sp.program.timezone.tz(), now, report, None)
                    .await?;
            }
        }
        Ok(())
    }

    /// Every slot of `job` from where it left off up to now: run inside the grace window,
    /// skipped before it, and skipped on days off for the kinds that keep working days.
    async fn slots(
        &self,
        sp: &ScheduledProgram,
        job: &str,
        tz: chrono_tz::Tz,
        now: DateTime<Utc>,
        report: &mut TickReport,
        owner: Option<&Person>,
    ) -> anyhow::Result<()> {
        let grace = self.settings.grace(sp.schedule.kind);
        let mut cursor = {
            let mut tx = self.store.read().await?;
            let last = store::last_slot(&mut tx, job).await?;
            tx.commit().await?;
            // A schedule starts from when its spec was set, not from the dawn of time (nor from
            // the last run of the spec it replaced).
            last.map_or(sp.schedule.created_at, |l| l.max(sp.schedule.created_at))
        };
        for _ in 0..self.settings.max_slots_per_tick {
            let Some(slot) = sp.schedule.spec.next_after(tz, cursor) else {
                break;
            };
            if slot > now {
                break;
            }
            cursor = slot;
            let schedule = Some(sp.schedule.id);
            if now - slot > grace {
                let mut tx = self.store.write().await?;
                if store::skip_slot(
                    &mut tx,
                    job,
                    schedule,
                    slot,
                    now,
                    "missed: past its grace window",
                )
                .await?
                {
                    report.skipped += 1;
                    metrics::job(sp.schedule.kind.as_str(), "skipped");
                }
                tx.commit().await?;
                continue;
            }
            let local_day = slot.with_timezone(&tz).date_naive();
            let keeps_work_days = matches!(
                sp.schedule.kind,
                ScheduleKind::Prompt | ScheduleKind::Reminder | ScheduleKind::Nudge
            );
            if keeps_work_days && !is_work_day(&sp.program, local_day) {
                let mut tx = self.store.write().await?;
                if store::skip_slot(&mut tx, job, schedule, slot, now, "not a work day").await? {
                    report.skipped += 1;
                    metrics::job(sp.schedule.kind.as_str(), "skipped");
                }
                tx.commit().await?;
                continue;
            }
            let claim = format!("{job}@{}", slot.timestamp());
            // Digests and nudges read the whole program: they build their messages in a
            // read transaction, so the write lock is held only to claim the slot and queue
            // them. (SQLite has one writer; commands must not wait on an analysis.)
            if matches!(sp.schedule.kind, ScheduleKind::Digest | ScheduleKind::Nudge) {
                let mut rtx = self.store.read().await?;
                let routes = store::routes(&mut rtx, &sp.scope).await?;
                let mut run = Run {
                    sp,
                    claim: claim.clone(),
                    slot,
                    now,
                    settings: &self.settings,
                    chart_links: self.chart_links.as_ref(),
                    queued: 0,
                    buffer: Some(Vec::new()),
                    routes,
                };
                let built = match sp.schedule.kind {
                    ScheduleKind::Digest => send_digest(&mut rtx, &mut run).await,
                    _ => nudge(&mut rtx, &mut run, local_day).await,
                };
                rtx.rollback().await?;
                let words = match built {
                    Ok(w) => w,
                    Err(e) => {
                        report.failed += 1;
                        metrics::job(sp.schedule.kind.as_str(), "failed");
                        tracing::error!(job, %slot, error = ?e, "job failed; it will be retried");
                        break;
                    }
                };
                let mut tx = self.store.write().await?;
                let Some(run_id) = store::claim_slot(&mut tx, job, schedule, slot, now).await?
                else {
                    tx.rollback().await?;
                    continue;
                };
                let mut queued = 0;
                for m in run.buffer.take().unwrap_or_default() {
                    if store::enqueue(&mut tx, &m).await?.is_some() {
                        queued += 1;
                    }
                }
                store::finish_run(&mut tx, run_id, RunEnd::Done, &words, now).await?;
                tx.commit().await?;
                report.ran += 1;
                metrics::job(sp.schedule.kind.as_str(), "ran");
                report.queued += queued;
                continue;
            }
            let mut tx = self.store.write().await?;
            let Some(run_id) = store::claim_slot(&mut tx, job, schedule, slot, now).await? else {
                // Someone else ran it (another process, or an earlier tick).
                tx.rollback().await?;
                continue;
            };
            let routes = store::routes(&mut tx, &sp.scope).await?;
            let mut run = Run {
                sp,
                claim,
                slot,
                now,
                settings: &self.settings,
                chart_links: self.chart_links.as_ref(),
                queued: 0,
                buffer: None,
                routes,
            };
            let outcome = match sp.schedule.kind {
                ScheduleKind::Prompt => match owner {
                    Some(o) if o.is_away_on(local_day) => {
                        Ok((RunEnd::Skipped, format!("@{} is away", o.display_name)))
                    }
                    Some(o) => prompt(&mut tx, &mut run, o)
                        .await
                        .map(|w| (RunEnd::Done, w)),
                    None => Ok((RunEnd::Skipped, "no owner".to_owned())),
                },
                ScheduleKind::Reminder => match owner {
                    Some(o) => remind(&mut tx, &mut run, local_day, o)
                        .await
                        .map(|w| (RunEnd::Done, w)),
                    None => Ok((RunEnd::Skipped, "no owner".to_owned())),
                },
                ScheduleKind::Digest | ScheduleKind::Nudge => {
                    unreachable!("built in a read transaction above")
                }
            };
            match outcome {
                Ok((end, words)) => {
                    store::finish_run(&mut tx, run_id, end, &words, now).await?;
                    tx.commit().await?;
                    report.ran += 1;
                    metrics::job(
                        sp.schedule.kind.as_str(),
                        if end == RunEnd::Skipped {
                            "skipped"
                        } else {
                            "ran"
                        },
                    );
                    report.queued += run.queued;
                }
                Err(e) => {
                    // Nothing it queued survives, and the claim goes with it: the slot is
                    // tried again next tick while it is inside its grace window, and
                    // recorded as skipped after that. Later slots wait behind it.
                    tx.rollback().await?;
                    report.failed += 1;
                    metrics::job(sp.schedule.kind.as_str(), "failed");
                    tracing::error!(job, %slot, error = ?e, "job failed; it will be retried");
                    break;
                }
            }
        }
        Ok(())
    }
}

/// A work day of the program: one of its work days and not a holiday.
pub fn is_work_day(p: &Program, day: NaiveDate) -> bool {
    p.work_days.contains(day.weekday()) && !p.holidays.contains(&day)
}

/// Work days from `from` (exclusive) to `to` (inclusive).
pub fn work_days_between(p: &Program, from: NaiveDate, to: NaiveDate) -> i64 {
    let mut n = 0;
    let mut d = from;
    // Bounded: a dependency blocked for years still costs at most ~10 years of days.
    let mut guard = 0;
    while d < to && guard < 3660 {
        d = d.succ_opt().unwrap_or(to);
        if is_work_day(p, d) {
            n += 1;
        }
        guard += 1;
    }
    n
}

impl Run<'_> {
    fn tenant(&self) -> &Tenant {
        self.sp.scope.tenant()
    }

    async fn send(
        &mut self,
        tx: &mut Tx,
        destination: Destination,
        reply: Reply,
        reason: String,
        dedup_key: String,
    ) -> anyhow::Result<bool> {
        let message = NewMessage {
            tenant: self.tenant().clone(),
            program_id: Some(self.sp.program.id),
            destination,
            reply,
            reason,
            dedup_key: Some(dedup_key),
            not_before: self.now,
        };
        if let Some(buffer) = &mut self.buffer {
            buffer.push(message);
            return Ok(true);
        }
        let queued = store::enqueue(tx, &message).await?.is_some();
        if queued {
            self.queued += 1;
        }
        Ok(queued)
    }

    /// Where a message to `p` about `project` (or the program, for `None`) goes: the
    /// project's route, else the program's, else their direct messages.
    fn to_person(&self, p: &Person, project: Option<i64>) -> Destination {
        match self.routes.for_project(project) {
            Some(d) => d.clone(),
            None => Destination::for_person(self.tenant(), &p.handle),
        }
    }
}

/// The program's channel: the first one bound to it, on the program's platform.
async fn program_channel(
    tx: &mut Tx,
    sp: &ScheduledProgram,
) -> anyhow::Result<Option<Destination>> {
    let channels = store::bound_channels(tx, &sp.scope).await?;
    Ok(channels
        .into_iter()
        .next()
        .map(|c| Destination::for_channel(sp.scope.tenant(), &c)))
}

/// Asks one owner for the status of each project they own.
async fn prompt(tx: &mut Tx, run: &mut Run<'_>, owner: &Person) -> anyhow::Result<String> {
    let key = run.sp.program.key.as_str().to_owned();
    let projects: Vec<_> = store::projects(tx, &run.sp.scope)
        .await?
        .into_iter()
        .filter(|p| !p.removed && p.owner == owner.id)
        .collect();
    let describe = run.sp.schedule.spec.describe();
    let channel = match run.settings.prompts {
        PromptRoute::Dm => None,
        PromptRoute::Channel => program_channel(tx, run.sp).await?,
    };
    let mut asked = Vec::new();
    for p in &projects {
        let pk = p.key.as_str();
        // A route for the project (or program) wins; then the configured prompt channel.
        let destination = match (run.routes.for_project(Some(p.id)), &channel) {
            (Some(d), _) | (None, Some(d)) => d.clone(),
            (None, None) => run.to_person(owner, Some(p.id)),
        };
        let mut reply = Reply::new(format!("Status update for {}?", p.name.as_str()))
            .tone(Tone::Info)
            .paragraph(
                Text::new()
                    .person(owner)
                    .text(format!(", how is {} (", p.name.as_str()))
                    .code(pk)
                    .text(format!(
                        ") doing this week in {key}? Pick a colour, or type "
                    )),
            )
            .paragraph(Text::new().code(format!(
                "status post {key} {pk} --rag green|amber|red --summary \"…\""
            )));
        for (rag, label) in [("green", "Green"), ("amber", "Amber"), ("red", "Red")] {
            reply = reply.action(
                format!("status:{key}:{pk}:{rag}"),
                label,
                format!("status post {key} {pk} --rag {rag} --summary \"…\""),
            );
        }
        let reason = format!(
            "You own {} in {key}; status is asked {describe}. Answering stops the reminders. \
             Away? `person set @{} --away DATE` pauses prompts.",
            p.name.as_str(),
            owner.handle
        );
        if run
            .send(
                tx,
                destination,
                reply,
                reason,
                format!("prompt:{}:o{}:{}", run.claim, owner.id, p.id),
            )
            .await?
        {
            asked.push(pk.to_owned());
        }
    }
    Ok(format!(
        "asked @{} about {}",
        owner.display_name,
        asked.join(", ")
    ))
}

/// Reminds owners who did not answer their latest prompt; a second time, tells the program
/// owner instead.
async fn remind(
    tx: &mut Tx,
    run: &mut Run<'_>,
    local_day: NaiveDate,
    only: &Person,
) -> anyhow::Result<String> {
    let sp = run.sp;
    let key = sp.program.key.as_str().to_owned();
    let people = store::people(tx, sp.scope.tenant()).await?;
    let updates = store::latest_status_updates(tx, &sp.scope).await?;
    let latest: HashMap<i64, DateTime<Utc>> =
        updates.iter().map(|u| (u.project, u.posted_at)).collect();
    let latest_id: HashMap<i64, i64> = updates.iter().map(|u| (u.project, u.id)).collect();
    let program_owner = people.get(&sp.program.owner).cloned();
    let (mut reminded, mut escalated) = (0, 0);
    for p in store::projects(tx, &sp.scope)
        .await?
        .into_iter()
        .filter(|p| !p.removed && p.owner == only.id)
    {
        let Some(owner) = people.get(&p.owner) else {
            continue;
        };
        // The first prompt about this project since its latest update: silence is counted
        // from there, however often they are asked again. The outbox is the record of what
        // was asked, so a project added or handed over later is not "unanswered" before its
        // owner was ever asked about it.
        let answered_at = latest.get(&p.id).copied();
        let Some(asked_at) =
            store::first_prompt_about(tx, &sp.scope, p.id, owner, answered_at).await?
        else {
            continue;
        };
        if run.slot - asked_at < Duration::hours(run.settings.remind_after_hours) {
            continue; // just asked: give them time
        }
        // One reminder, then one escalation, per silence: a new update starts a new one.
        let silence = latest_id
            .get(&p.id)
            .map_or("none".to_owned(), |id| id.to_string());
        let pk = p.key.as_str();
        let how = format!("status post {key} {pk} --rag green|amber|red --summary \"…\"");
        let first = !owner.is_away_on(local_day)
            && run
                .send(
                    tx,
                    run.to_person(owner, Some(p.id)),
                    Reply::new(format!("Reminder: status for {}", p.name.as_str()))
                        .tone(Tone::Warning)
                        .paragraph(
                            Text::new()
                                .person(owner)
                                .text(format!(", {} has no update since you were asked on {}. ", p.name.as_str(), asked_at.with_timezone(&sp.program.timezone.tz()).date_naive()))
                                .code(how.clone()),
                        ),
                    format!("You were asked for {}'s status and have not answered; the next reminder goes to the program owner. Answering stops it.", p.name.as_str()),
                    format!("remind:{}:{silence}", p.id),
                )
                .await?;
        if first {
            reminded += 1;
            continue;
        }
        // Reminded before (or away): the program owner hears about it, once per silence.
        if let Some(po) = &program_owner {
            if po.id != owner.id
                && run
                    .send(
                        tx,
                        run.to_person(po, Some(p.id)),
                        Reply::new(format!("No status from {}", p.name.as_str()))
                            .tone(Tone::Warning)
                            .paragraph(
                                Text::new()
                                    .person(po)
                                    .text(format!(", {} (owner ", p.name.as_str()))
                                    .person(owner)
                                    .text(format!(
                                        ") has not answered the status prompt of {}{}.",
                                        asked_at.with_timezone(&sp.program.timezone.tz()).date_naive(),
                                        if owner.is_away_on(local_day) { "; they are away" } else { " despite a reminder" }
                                    )),
                            ),
                        format!("You own {key}: unanswered prompts come to you after one reminder. `status missing {key}` lists them."),
                        format!("escalate:{}:{silence}", p.id),
                    )
                    .await?
            {
                escalated += 1;
            }
        }
    }
    Ok(format!("{reminded} reminded, {escalated} escalated"))
}

/// Sends one digest subscription, covering the time since its previous run.
async fn send_digest(tx: &mut Tx, run: &mut Run<'_>) -> anyhow::Result<String> {
    let sp = run.sp;
    let audience = sp
        .schedule
        .audience
        .unwrap_or(crate::domain::Audience::Engineering);
    // Since the previous digest of this subscription that went out (not this one).
    let previous =
        store::last_done_before(tx, &format!("digest:{}", sp.schedule.id), run.slot).await?;
    let since = digest::period_start(run.slot, previous);
    let snap =
        store::load_snapshot(tx, &sp.scope, sp.program.clone(), run.now, Some(since)).await?;
    let a = Analysis::of(&snap);
    let d = digest::build(&a, audience, since);
    let reply = digest::to_reply(&d);
    let destination = match &sp.schedule.destination {
        Some(json) => serde_json::from_str(json)?,
        None => match program_channel(tx, sp).await? {
            Some(d) => d,
            None => {
                let owner = store::person(tx, sp.scope.tenant(), sp.program.owner).await?;
                run.to_person(&owner, None)
            }
        },
    };
    let key = sp.program.key.as_str();
    let reply = with_timeline(reply, run, &a, audience, &destination);
    let reason = format!(
        "The {} digest of {key}, sent {}. `schedule show {key}` lists the schedules; `schedule remove {key} {}` stops this one.",
        audience.as_str(),
        sp.schedule.spec.describe(),
        sp.schedule.id
    );
    run.send(
        tx,
        destination,
        reply,
        reason,
        format!("digest:{}", run.claim),
    )
    .await?;
    Ok(format!(
        "{} digest, {}",
        audience.as_str(),
        d.health.rag.as_str()
    ))
}

/// Engineering and product digests carry the timeline (executives get one screen, no
/// chart): Discord takes it as a file; Slack, which takes no file through a webhook or
/// `chat.postMessage`, shows it from a signed link that works for
/// [`crate::links::LINK_DAYS`] days, when `http.public_url` is set. The console gets none.
/// A chart that cannot be drawn is logged and the digest goes without it.
fn with_timeline(
    reply: Reply,
    run: &Run<'_>,
    a: &Analysis<'_>,
    audience: crate::domain::Audience,
    destination: &Destination,
) -> Reply {
    if audience == crate::domain::Audience::Executive {
        return reply;
    }
    let program = a.snap.program.key.as_str();
    let kind = crate::domain::ChartKind::Timeline;
    match (destination.platform().as_str(), run.chart_links) {
        ("discord", _) => match crate::chart::render(crate::chart::Input::Timeline, a) {
            Ok(png) => reply.attach(crate::reply::Attachment::png(
                crate::chart::file_name(program, kind),
                png,
            )),
            Err(e) => {
                tracing::warn!(error = ?e, "the digest goes without its timeline");
                reply
            }
        },
        ("slack", Some(links)) => {
            let link = ChartLink {
                tenant: run.tenant().clone(),
                program: program.to_owned(),
                chart: kind.as_str().to_owned(),
                expires: (run.now + Duration::days(crate::links::LINK_DAYS)).timestamp(),
            };
            reply.image(
                links.key.url(&links.public_url, &link),
                format!(
                    "Timeline of {program}: milestones, baseline against forecast, the critical path"
                ),
            )
        }
        _ => reply,
    }
}

/// The daily nudges: blockers up their escalation ladder, risk reviews due, milestones due
/// soon.
async fn nudge(tx: &mut Tx, run: &mut Run<'_>, today: NaiveDate) -> anyhow::Result<String> {
    let sp = run.sp;
    let key = sp.program.key.as_str().to_owned();
    let snap =
        store::load_snapshot(tx, &sp.scope, sp.program.clone(), run.now, Some(run.now)).await?;
    let snoozed = store::snoozes(tx, &sp.scope).await?;
    let is_snoozed = |subject: &str| snoozed.get(subject).is_some_and(|until| *until >= today);
    let forecasts = Forecasts::of(&snap);
    let channel = program_channel(tx, sp).await?;
    let program_owner = snap.person(sp.program.owner).cloned();
    let (mut blockers, mut reviews, mut due) = (0, 0, 0);
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
        let age = work_days_between(&sp.program, since, today);
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
        let needs = snap.endpoint_name(&d.needs);
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
        let state = if blocked {
            format!(
                "blocked{}",
                d.blocked_reason
                    .as_deref()
                    .filter(|r| !r.is_empty())
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )
        } else {
            format!(
                "{} past its need-by date {}",
                n_days((today - d.need_by).num_days()),
                d.need_by
            )
        };
        let mut body = Text::new();
        if let Some(p) = &who {
            body = body.person(p).text(", ");
        }
        body = body
            .text(format!("dependency #{} ", d.number))
            .code(d.what.as_str())
            .text(format!(
                " from {} is {state}. {needs} is waiting on it",
                snap.endpoint_name(&d.from)
            ));
        if !delays.is_empty() {
            body = body.text(format!("; it delays {}", delays.join(", ")));
        }
        body = body.text(".");
        if let (Some(o), Some(w)) = (&owner, &who) {
            if o.id != w.id {
                body = body
                    .text(" Its owner is ")
                    .person(Mention::from(o))
                    .text(".");
            }
        }
        let n = d.number;
        let headline = if blocked {
            "Blocker"
        } else {
            "Late dependency"
        };
        let reply = Reply::new(format!("{headline}: dependency #{n} {}", d.what.as_str()))
            .tone(Tone::Health(crate::domain::Rag::Red))
            .paragraph(body)
            .action(
                format!("dep:{key}:{n}:deliver"),
                "Delivered",
                format!("dep deliver {key} {n}"),
            )
            .action(
                format!("dep:{key}:{n}:snooze"),
                "Snooze a week",
                format!("dep snooze {key} {n} --until +1w"),
            );
        let reason = format!(
            "Pinged because {why} (rung {} of 4, {}). Stop: `dep deliver {key} {n}`, `dep unblock {key} {n}`, `dep snooze {key} {n} --until DATE`, or hand it over with `dep set {key} {n} --owner @someone`.",
            step + 1,
            match age {
                0 => "since today".to_owned(),
                1 => "for 1 working day".to_owned(),
                n => format!("for {n} working days"),
            }
        );
        if run
            .send(
                tx,
                destination,
                reply,
                reason,
                // One ping per dependency and day, whatever catches up after downtime.
                format!("nudge:{}:dep:{}:{today}", sp.program.id, d.id),
            )
            .await?
        {
            blockers += 1;
        }
    }

    for r in &snap.risks {
        let Some(by) = r.review_by else { continue };
        if !r.is_open() || by > today || is_snoozed(&format!("risk:{}", r.number)) {
            continue;
        }
        let Some(owner) = r.owner.and_then(|o| snap.person(o)) else {
            continue;
        };
        // Away: their delegate hears instead; without one, it waits for their return.
        let Some(owner) = stand_in(&snap, owner, today) else {
            continue;
        };
        let n = r.number;
        let reply = Reply::new(format!("Risk review due: #{n} {}", r.title.as_str()))
            .tone(Tone::Warning)
            .paragraph(Text::new().person(owner).text(format!(
                ", risk #{n} ({}, score {}) is due for review since {by}. Mitigation so far: {}.",
                r.band().as_str(),
                r.score(),
                if r.mitigation.is_empty() {
                    "none"
                } else {
                    r.mitigation.as_str()
                }
            )));
        let reason = format!(
            "You own risk #{n} and its review date has come. Stop: set the next review with `risk set {key} {n} --review-by DATE`, `risk close {key} {n}`, or `risk snooze {key} {n} --until DATE`."
        );
        if run
            .send(
                tx,
                run.to_person(owner, r.project),
                reply,
                reason,
                format!("review:{}:{by}", r.id),
            )
            .await?
        {
            reviews += 1;
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
        let fc = forecasts.milestone(i);
        let mut text = Text::new()
            .person(Mention::from(owner))
            .text(", ")
            .code(m.key.as_str())
            .text(format!(" ({}) is due {}", m.title.as_str(), m.target));
        if let Some(f) = fc.filter(|f| f.forecast > m.target) {
            text = text.text(format!(
                "; it is forecast {}, {} late",
                f.forecast,
                n_days(-f.float_days)
            ));
        }
        let mk = m.key.as_str();
        let reply = Reply::new(format!("Due soon: {}", m.title.as_str()))
            .tone(Tone::Info)
            .paragraph(text.text("."));
        let reason = format!(
            "You own milestone {mk}, due within {} days. Stop: `milestone done {key} {mk}`, or `milestone move {key} {mk} --target DATE --reason \"…\"`.",
            run.settings.due_soon_days
        );
        if run
            .send(
                tx,
                run.to_person(owner, m.project),
                reply,
                reason,
                format!("due:{}:{}", m.id, m.target),
            )
            .await?
        {
            due += 1;
        }
    }
    Ok(format!(
        "{blockers} blocker pings, {reviews} reviews, {due} due soon"
    ))
}

/// Who answers for `p` today: themselves, or their delegate while they are away.
fn stand_in<'a>(
    snap: &'a crate::analysis::Snapshot,
    p: &'a Person,
    today: NaiveDate,
) -> Option<&'a Person> {
    if !p.is_away_on(today) {
        return Some(p);
    }
    p.delegate
        .and_then(|d| snap.person(d))
        .filter(|d| !d.is_away_on(today))
}

/// How many milestones one shift ping names; the rest are counted.
pub const SHIFT_PING_LIST: usize = 10;

/// Tells each owner whose milestones' forecasts a real move shifted: one message per person
/// and destination, however many of their milestones moved, naming the first
/// [`SHIFT_PING_LIST`] of them and counting the rest. Returns how many people were told.
pub async fn notify_shifts(
    tx: &mut Tx,
    scope: &Scope,
    program: &Program,
    moved_key: &str,
    owners: &[(String, PersonId, String)],
    now: DateTime<Utc>,
    event_dedup: &str,
) -> anyhow::Result<usize> {
    let key = program.key.as_str();
    let routes = store::routes(tx, scope).await?;
    // Which project each moved milestone belongs to, for its route.
    let projects: HashMap<String, i64> = if routes.is_empty() {
        HashMap::new()
    } else {
        store::milestones(tx, scope)
            .await?
            .into_iter()
            .filter_map(|m| Some((m.key.as_str().to_owned(), m.project?)))
            .collect()
    };
    // (person, destination) → their shifted milestones, in the order the move listed them.
    let mut people: HashMap<PersonId, Person> = HashMap::new();
    type Group<'a> = ((PersonId, Destination), Vec<(&'a str, &'a str)>);
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<(PersonId, Destination), usize> = HashMap::new();
    for (milestone, owner, words) in owners {
        if !people.contains_key(owner) {
            let person = store::person(tx, scope.tenant(), *owner).await?;
            people.insert(*owner, person);
        }
        let destination = match routes.for_project(projects.get(milestone).copied()) {
            Some(d) => d.clone(),
            None => Destination::for_person(scope.tenant(), &people[owner].handle),
        };
        let at = *group_of
            .entry((*owner, destination.clone()))
            .or_insert_with(|| {
                groups.push(((*owner, destination), Vec::new()));
                groups.len() - 1
            });
        groups[at].1.push((milestone.as_str(), words.as_str()));
    }
    let mut told: HashSet<PersonId> = HashSet::new();
    // A person's groups are numbered in order, so the same move queues the same keys.
    let mut nth: HashMap<PersonId, usize> = HashMap::new();
    for ((owner, destination), milestones) in groups {
        let person = &people[&owner];
        let n = nth.entry(owner).or_default();
        let dedup_key = format!("shift:{}:{event_dedup}:{owner}:{n}", program.id);
        *n += 1;
        let (reply, reason) = match milestones.as_slice() {
            [(milestone, words)] => (
                Reply::new(format!("{moved_key} moved: so does {milestone}"))
                    .tone(Tone::Warning)
                    .paragraph(
                        Text::new()
                            .person(person)
                            .text(", ")
                            .code(*milestone)
                            .text(format!(" {words}.")),
                    ),
                format!(
                    "You own milestone {milestone}, which comes after {moved_key}. `path show {key}` shows the critical path; `milestone move {key} {milestone} --target DATE --reason \"…\"` re-plans it."
                ),
            ),
            many => {
                let items = many
                    .iter()
                    .take(SHIFT_PING_LIST)
                    .map(|(m, words)| Text::new().code(*m).text(format!(" {words}")))
                    .collect();
                let mut reply = Reply::new(format!(
                    "{moved_key} moved: so do {} of your milestones",
                    many.len()
                ))
                .tone(Tone::Warning)
                .paragraph(Text::new().person(person).text(format!(
                    ", {} milestones you own come after {moved_key}, and their forecasts moved:",
                    many.len()
                )))
                .list(items);
                if many.len() > SHIFT_PING_LIST {
                    reply = reply.paragraph(format!(
                        "… and {} more. `milestone list {key}` shows them all.",
                        many.len() - SHIFT_PING_LIST
                    ));
                }
                (
                    reply,
                    format!(
                        "You own milestones that come after {moved_key}. `path show {key}` shows the critical path; `milestone move {key} KEY --target DATE --reason \"…\"` re-plans one."
                    ),
                )
            }
        };
        if store::enqueue(
            tx,
            &NewMessage {
                tenant: scope.tenant().clone(),
                program_id: Some(program.id),
                destination,
                reply,
                reason,
                dedup_key: Some(dedup_key),
                not_before: now,
            },
        )
        .await?
        .is_some()
        {
            told.insert(owner);
        }
    }
    Ok(told.len())
}
