//! The scheduler: every schedule's slots, each claimed once by its (job, instant) row. A
//! slot missed while the scheduler was down runs once if it is still inside its job's grace
//! window, and is recorded as skipped otherwise. One runner drives every [`Job`]: prompts
//! and reminders run in one write transaction with the messages they queue; digests and
//! nudges are claimed under a lease, built in a read transaction, and queued by the
//! claimant only while it still holds the lease.

use std::sync::Arc;

use futures_util::StreamExt as _;

use chrono::{DateTime, Duration, Utc};

use super::digest::Digest;
use super::job::{Hold, Job, Run};
use super::nudge::Nudge;
use super::status::{Prompt, Reminder};
use crate::clock::Clock;
use crate::config::SchedulerSettings;
use crate::domain::{Person, ScheduleKind};
use crate::links::LinkKey;
use crate::store::{self, RunEnd, ScheduledProgram, Store};
use crate::telemetry::metrics;

/// What one tick did, for logs, tests and the demo.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    pub ran: usize,
    /// Runs whose messages this scheduler built: `ran`, plus any whose lease it lost
    /// meanwhile (then another scheduler finished the slot, and this build was dropped).
    pub built: usize,
    pub skipped: usize,
    pub queued: usize,
    pub failed: usize,
}

pub struct Scheduler {
    pub(super) store: Store,
    clock: Arc<dyn Clock>,
    pub(super) settings: SchedulerSettings,
    /// `http.public_url` and the link key: digests to Slack show their timeline by link.
    chart_links: Option<ChartLinks>,
    /// Who this scheduler is when it holds a lease: one per scheduler, so two processes
    /// (or two schedulers in one) never mistake each other's claims.
    pub(super) claimant: String,
}

/// Where signed chart links point, and the key that signs them.
#[derive(Debug, Clone)]
pub struct ChartLinks {
    pub public_url: Arc<str>,
    pub key: LinkKey,
}

/// Whether the slots after a slot may run this tick.
enum Next {
    /// It ran here, and ended so.
    Finished(RunEnd),
    /// Another scheduler has it (or had it): go on.
    Go,
    /// It failed: later slots wait behind it, so slots run in order.
    Stop,
}

impl Scheduler {
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: SchedulerSettings) -> Self {
        Self {
            store,
            clock,
            settings,
            chart_links: None,
            claimant: uuid::Uuid::new_v4().to_string(),
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
        // On PostgreSQL several schedules run at once (a Monday with thousands of digests
        // due is bound by round trips and commits, not by work; each run holds a connection
        // only for a statement or a short transaction at a time, so commands still get
        // theirs); on SQLite one at a time, as its one writer would have them anyway.
        let at_once = match self.store.dialect() {
            store::Dialect::Sqlite => 1,
            store::Dialect::Postgres => 16,
        };
        let places = self.places(&scheduled, now).await.unwrap_or_else(|e| {
            tracing::warn!(error = ?e, "each job reads where it stands itself this tick");
            Default::default()
        });
        let scheduled = &scheduled;
        let places = &places;
        let reports: Vec<TickReport> = futures_util::stream::iter(0..scheduled.len())
            .map(|i| self.tick_guarded(&scheduled[i], now, places))
            .buffer_unordered(at_once)
            .collect()
            .await;
        let mut report = TickReport::default();
        let portfolios = match self.tick_portfolios(now).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = ?e, "portfolio digests failed");
                TickReport {
                    failed: 1,
                    ..TickReport::default()
                }
            }
        };
        for r in reports.into_iter().chain([portfolios]) {
            report.ran += r.ran;
            report.built += r.built;
            report.skipped += r.skipped;
            report.queued += r.queued;
            report.failed += r.failed;
        }
        Ok(report)
    }

    /// Where the tick's digests and nudges stand, read up front on PostgreSQL in one
    /// statement per thousand jobs (see [`store::job_places`]); on SQLite each drive reads
    /// its own as it starts. A place read up front may be a few seconds old when its drive
    /// starts: the claim is still the guard, so a slot another scheduler took meanwhile is
    /// found taken, and a lease that ran out meanwhile is taken over next tick.
    async fn places(
        &self,
        scheduled: &[ScheduledProgram],
        now: DateTime<Utc>,
    ) -> anyhow::Result<std::collections::HashMap<String, store::JobPlace>> {
        let mut places = std::collections::HashMap::new();
        if self.store.dialect() == store::Dialect::Sqlite {
            return Ok(places);
        }
        let jobs: Vec<String> = scheduled
            .iter()
            .filter_map(|sp| match sp.schedule.kind {
                ScheduleKind::Digest => Some(Digest { sp }.name()),
                ScheduleKind::Nudge => Some(Nudge { sp }.name()),
                ScheduleKind::Prompt | ScheduleKind::Reminder => None,
            })
            .collect();
        for chunk in jobs.chunks(1000) {
            let mut conn = self.store.conn().await?;
            places.extend(store::job_places(&mut conn, chunk, now).await?);
        }
        Ok(places)
    }

    /// One schedule's due slots. A bug in one program's job must not stop every other
    /// program's rhythm: a failure or a panic is logged and counted here, its transaction
    /// rolls back, and the slot is tried again next tick while it is inside its grace
    /// window.
    async fn tick_guarded(
        &self,
        sp: &ScheduledProgram,
        now: DateTime<Utc>,
        places: &std::collections::HashMap<String, store::JobPlace>,
    ) -> TickReport {
        let mut report = TickReport::default();
        let one = std::panic::AssertUnwindSafe(self.tick_one(sp, now, places, &mut report));
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
        report
    }

    /// Ticks while this process leads, until `shutdown` turns true; a tick in progress
    /// finishes first. Taking the lead ticks at once, so a slot due while the last leader
    /// was dying is not left waiting a whole period.
    pub async fn run(
        &self,
        mut lead: super::Lead,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let every = std::time::Duration::from_secs(self.settings.tick_secs.max(1));
        loop {
            if !lead.is_leading() {
                tokio::select! {
                    _ = lead.changed() => {}
                    _ = shutdown.changed() => {}
                }
                if *shutdown.borrow() {
                    break;
                }
                continue;
            }
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
                _ = lead.changed() => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }

    /// The jobs of one schedule, each driven through its due slots.
    async fn tick_one(
        &self,
        sp: &ScheduledProgram,
        now: DateTime<Utc>,
        places: &std::collections::HashMap<String, store::JobPlace>,
        report: &mut TickReport,
    ) -> anyhow::Result<()> {
        match sp.schedule.kind {
            ScheduleKind::Prompt => {
                for owner in self.owners(sp).await? {
                    self.drive(&Prompt { sp, owner }, now, places, report)
                        .await?;
                }
            }
            ScheduleKind::Reminder => {
                for owner in self.owners(sp).await? {
                    self.drive(&Reminder { sp, owner }, now, places, report)
                        .await?;
                }
            }
            ScheduleKind::Digest => self.drive(&Digest { sp }, now, places, report).await?,
            ScheduleKind::Nudge => self.drive(&Nudge { sp }, now, places, report).await?,
        }
        Ok(())
    }

    /// The owners of the program's live projects: prompts and reminders are one job per
    /// owner, in the owner's own timezone.
    async fn owners(&self, sp: &ScheduledProgram) -> anyhow::Result<Vec<Person>> {
        let mut tx = self.store.read().await?;
        let people = store::people(&mut tx, sp.scope.tenant()).await?;
        let projects = store::projects(&mut tx, &sp.scope).await?;
        tx.commit().await?;
        let mut seen = std::collections::HashSet::new();
        Ok(projects
            .iter()
            .filter(|p| !p.removed && seen.insert(p.owner))
            .filter_map(|p| people.get(&p.owner).cloned())
            .collect())
    }

    /// Every slot of `job` from where it left off up to now (first any whose lease ran
    /// out): run inside the grace window, skipped before it, and skipped on days off for
    /// the jobs that keep working days. `places` holds where some jobs stood at the start
    /// of the tick; any other reads its own.
    async fn drive<J: Job>(
        &self,
        job: &J,
        now: DateTime<Utc>,
        places: &std::collections::HashMap<String, store::JobPlace>,
        report: &mut TickReport,
    ) -> anyhow::Result<()> {
        let sp = job.scheduled();
        let name = job.name();
        let kind = job.kind().as_str();
        let grace = job.grace(&self.settings);
        let tz = job.timezone();
        let place = match places.get(&name) {
            Some(place) => place.clone(),
            None => store::job_place(&mut self.store.conn().await?, &name, now).await?,
        };
        // A schedule starts from when its spec was set, not from the dawn of time (nor from
        // the last run of the spec it replaced).
        let resume = place
            .last
            .map_or(sp.schedule.created_at, |l| l.max(sp.schedule.created_at));
        let due = job.due_slots(resume, now, self.settings.max_slots_per_tick);
        // The latest slot done before each due one, while this drive knows it: every slot
        // read was before the due ones, and each one done here is the latest since. Asked of
        // the store for a taken-over slot (later ones may be done), and for every slot once
        // another scheduler had one of this job.
        let mut done_before = Some(place.last_done);
        let slots = place
            .expired
            .into_iter()
            .map(|slot| (slot, false))
            .chain(due.into_iter().map(|slot| (slot, true)));
        for (slot, after_all) in slots {
            let schedule = Some(sp.schedule.id);
            let local_day = slot.with_timezone(&tz).date_naive();
            let skip = if now - slot > grace {
                Some("missed: past its grace window")
            } else if job.keeps_work_days() && !sp.program.calendar().is_work_day(local_day) {
                Some("not a work day")
            } else {
                None
            };
            if let Some(why) = skip {
                let mut tx = self.store.write().await?;
                if store::skip_slot(&mut tx, &name, schedule, slot, now, why).await? {
                    report.skipped += 1;
                    metrics::job(kind, "skipped");
                } else {
                    // Another scheduler had it.
                    done_before = None;
                }
                tx.commit().await?;
                continue;
            }
            let run = Run {
                sp,
                claim: format!("{name}@{}", slot.timestamp()),
                slot,
                local_day,
                now,
                settings: &self.settings,
                chart_links: self.chart_links.as_ref(),
                queued: 0,
                buffer: None,
                health: None,
                routes: Default::default(),
                page_url: None,
                previous_done: if after_all { done_before } else { None },
            };
            let next = match job.hold() {
                Hold::WriteLock => self.run_locked(job, run, report).await?,
                Hold::Lease => self.run_leased(job, run, report).await?,
            };
            match next {
                Next::Finished(RunEnd::Done) => {
                    done_before = done_before.map(|d| Some(d.map_or(slot, |d| d.max(slot))))
                }
                Next::Finished(_) => {}
                Next::Go => done_before = None,
                Next::Stop => break,
            }
        }
        Ok(())
    }

    /// Claims, runs and finishes one slot in one write transaction with its messages.
    async fn run_locked<J: Job>(
        &self,
        job: &J,
        mut run: Run<'_>,
        report: &mut TickReport,
    ) -> anyhow::Result<Next> {
        let (name, kind, slot, now) = (job.name(), job.kind().as_str(), run.slot, run.now);
        let mut tx = self.store.write().await?;
        let claimed =
            store::claim_slot(&mut tx, &name, Some(run.sp.schedule.id), slot, now).await?;
        let Some(run_id) = claimed else {
            // Someone else ran it (another process, or an earlier tick).
            tx.rollback().await?;
            return Ok(Next::Go);
        };
        run.routes = store::routes(&mut tx, &run.sp.scope).await?;
        report.built += 1;
        let ran = match job.prepare(&mut tx, &mut run).await {
            Ok(()) => job.run(&mut tx, &mut run).await,
            Err(e) => Err(e),
        };
        match ran {
            Ok((end, words)) => {
                if let Some((day, rag)) = run.health {
                    store::mark_health(&mut tx, &run.sp.scope, day, rag).await?;
                }
                store::finish_run(&mut tx, run_id, end, &words, now).await?;
                tx.commit().await?;
                report.ran += 1;
                metrics::job(
                    kind,
                    if end == RunEnd::Skipped {
                        "skipped"
                    } else {
                        "ran"
                    },
                );
                report.queued += run.queued;
                Ok(Next::Finished(end))
            }
            Err(e) => {
                // Nothing it queued survives, and the claim goes with it: the slot is tried
                // again next tick while it is inside its grace window, and recorded as
                // skipped after that.
                tx.rollback().await?;
                report.failed += 1;
                metrics::job(kind, "failed");
                tracing::error!(job = name, %slot, error = ?e, "job failed; it will be retried");
                Ok(Next::Stop)
            }
        }
    }

    /// Claims one slot under a lease (a short write transaction), builds its messages in a
    /// read transaction, then queues them and finishes the run in a second short write
    /// transaction, only if this scheduler still holds the lease.
    async fn run_leased<J: Job>(
        &self,
        job: &J,
        mut run: Run<'_>,
        report: &mut TickReport,
    ) -> anyhow::Result<Next> {
        let (name, kind, slot, now) = (job.name(), job.kind().as_str(), run.slot, run.now);
        let expires = now + Duration::seconds(self.settings.lease_secs.max(1));
        let claimed = if !job.prepares(&run) && self.store.dialect() == store::Dialect::Postgres {
            // Nothing to ready: the claim is one statement, committed on its own without
            // waiting for the disk (see `Store::write_lazily`).
            store::claim_leased_slot(
                &mut self.store.autocommit_lazily().await?,
                &name,
                Some(run.sp.schedule.id),
                slot,
                now,
                &self.claimant,
                expires,
            )
            .await?
        } else {
            let mut tx = self.store.write_lazily().await?;
            let claimed = store::claim_leased_slot(
                &mut tx,
                &name,
                Some(run.sp.schedule.id),
                slot,
                now,
                &self.claimant,
                expires,
            )
            .await?;
            if claimed.is_some() {
                job.prepare(&mut tx, &mut run).await?;
            }
            tx.commit().await?;
            claimed
        };
        let Some(run_id) = claimed else {
            // Done, skipped, or being built by someone else under a live lease.
            return Ok(Next::Go);
        };
        let built = async {
            let mut rtx = self.store.read().await?;
            if job.reads_routes() {
                run.routes = store::routes(&mut rtx, &run.sp.scope).await?;
            }
            run.buffer = Some(Vec::new());
            report.built += 1;
            let built = job.run(&mut rtx, &mut run).await;
            rtx.rollback().await?;
            built
        }
        .await;
        let (end, words) = match built {
            Ok(b) => b,
            Err(e) => {
                let mut tx = self.store.write().await?;
                store::release_leased_slot(&mut tx, run_id, &self.claimant).await?;
                tx.commit().await?;
                report.failed += 1;
                metrics::job(kind, "failed");
                tracing::error!(job = name, %slot, error = ?e, "job failed; it will be retried");
                return Ok(Next::Stop);
            }
        };
        // Finished and queued together, all or nothing, without waiting for the disk (see
        // `Store::write_lazily`): on PostgreSQL one statement on a connection of its own.
        let mut tx = self.store.autocommit_lazily().await?;
        let health = run.health.map(|(day, rag)| (&run.sp.scope, day, rag));
        let messages = run.buffer.take().unwrap_or_default();
        let finished = store::finish_leased_run_queueing(
            &mut tx,
            run_id,
            &self.claimant,
            end,
            &words,
            now,
            health,
            &messages,
        )
        .await?;
        let Some(queued) = finished else {
            // Its lease ran out and another scheduler took the slot over: what was built
            // here is dropped, so nothing is queued twice.
            tx.rollback().await?;
            tracing::warn!(job = name, %slot, "lost the slot's lease; another scheduler runs it");
            return Ok(Next::Go);
        };
        tx.commit().await?;
        report.ran += 1;
        metrics::job(kind, "ran");
        report.queued += queued;
        Ok(Next::Finished(end))
    }
}
