//! What a scheduled job is: its kind, the slots it is due at, and how it runs. One
//! implementation per kind ([`super::status`], [`super::digest`], [`super::nudge`]); the
//! [`super::Scheduler`] drives any of them the same way.

use std::future::Future;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::ChartLinks;
use crate::config::SchedulerSettings;
use crate::domain::{Person, ScheduleKind, Tenant};
use crate::outbox::{Destination, NewMessage};
use crate::reply::Reply;
use crate::store::{self, Routes, RunEnd, ScheduledProgram, Tx};

/// How a job's run is held against other writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Claimed, run and finished in one write transaction: the run needs to know which
    /// messages were really queued (a reminder already sent escalates instead).
    WriteLock,
    /// Claimed under a lease, built in a read transaction, then queued and finished in a
    /// second short write transaction: jobs that read the whole program (SQLite has one
    /// writer, and commands must not wait on an analysis).
    Lease,
}

/// One scheduled job: a schedule of a program, or one owner's share of it.
pub trait Job: Sync {
    /// The schedule and program it runs for.
    fn scheduled(&self) -> &ScheduledProgram;

    /// Its name in the run history; its slots are claimed under it. Stable across
    /// restarts: it resumes from the last slot claimed under this name.
    fn name(&self) -> String;

    /// Where its schedule is read: the program's timezone, or its owner's.
    fn timezone(&self) -> chrono_tz::Tz;

    /// Its kind: its schedule's.
    fn kind(&self) -> ScheduleKind {
        self.scheduled().schedule.kind
    }

    /// How late a missed slot may still run (`schedule.grace_{kind}_mins`).
    fn grace(&self, settings: &SchedulerSettings) -> Duration {
        Duration::minutes(match self.kind() {
            ScheduleKind::Prompt => settings.grace_prompt_mins,
            ScheduleKind::Reminder => settings.grace_reminder_mins,
            ScheduleKind::Digest => settings.grace_digest_mins,
            ScheduleKind::Nudge => settings.grace_nudge_mins,
        })
    }

    /// Whether its slots on days off are skipped: all but digests, which report on the
    /// week whatever day they fall on.
    fn keeps_work_days(&self) -> bool {
        self.kind() != ScheduleKind::Digest
    }

    /// Prompts and reminders hold the write lock for their run; digests and nudges, which
    /// read the whole program, are built under a lease.
    fn hold(&self) -> Hold {
        match self.kind() {
            ScheduleKind::Prompt | ScheduleKind::Reminder => Hold::WriteLock,
            ScheduleKind::Digest | ScheduleKind::Nudge => Hold::Lease,
        }
    }

    /// Whether the scheduler reads the program's routes ([`Run::routes`]) before a run
    /// built under a lease; a job that reads them with the rest of the program says no.
    fn reads_routes(&self) -> bool {
        true
    }

    /// Whether [`Job::prepare`] has anything to do for this run (else the claim needs no
    /// transaction of its own).
    fn prepares(&self, _run: &Run<'_>) -> bool {
        false
    }

    /// Readies what the run needs written before it is built, in the write transaction
    /// that claims its slot (the build itself may run in a read transaction).
    fn prepare(
        &self,
        _tx: &mut Tx,
        _run: &mut Run<'_>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        std::future::ready(Ok(()))
    }

    /// Runs one slot: queues its messages through [`Run::send`] and says how it ended.
    fn run(
        &self,
        tx: &mut Tx,
        run: &mut Run<'_>,
    ) -> impl Future<Output = anyhow::Result<(RunEnd, String)>> + Send;

    /// Its slots strictly after `since` up to `until`, at most `max` of them.
    fn due_slots(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        max: usize,
    ) -> Vec<DateTime<Utc>> {
        self.scheduled()
            .schedule
            .spec
            .iter_after(self.timezone(), since)
            .take_while(|slot| *slot <= until)
            .take(max)
            .collect()
    }
}

/// One run of a job: the slot, and where its messages go.
pub struct Run<'a> {
    pub(super) sp: &'a ScheduledProgram,
    /// `{job}@{slot}`: what dedup keys are built from. Run ids are reused by SQLite after
    /// a schedule is removed, so they must not be.
    pub(super) claim: String,
    pub(super) slot: DateTime<Utc>,
    /// The slot's date where the job's schedule is read.
    pub(super) local_day: NaiveDate,
    pub(super) now: DateTime<Utc>,
    pub(super) settings: &'a SchedulerSettings,
    pub(super) chart_links: Option<&'a ChartLinks>,
    pub(super) queued: usize,
    /// Messages held back to be queued once the run is finished (for jobs built in a read
    /// transaction); `None` queues them at once, in the caller's write transaction.
    pub(super) buffer: Option<Vec<NewMessage>>,
    /// Where the program's person-directed messages go instead of direct messages.
    pub(super) routes: Routes,
    /// The program's health as a digest found it, recorded when the run is finished (what
    /// the next executive digest compares with).
    pub(super) health: Option<(NaiveDate, crate::domain::Rag)>,
    /// The address of the program's page (a share link), made or reused by
    /// [`Job::prepare`] when `http.public_url` is set.
    pub(super) page_url: Option<String>,
    /// The latest slot of this job done before this one, when the scheduler knows it from
    /// where the job stood; `None` to ask the store ([`Run::previous_done`]).
    pub(super) previous_done: Option<Option<DateTime<Utc>>>,
}

impl Run<'_> {
    pub(super) fn tenant(&self) -> &Tenant {
        self.sp.scope.tenant()
    }

    /// The latest slot of `job` (this run's) done before this one.
    pub(super) async fn previous_done(
        &self,
        tx: &mut Tx,
        job: &str,
    ) -> anyhow::Result<Option<DateTime<Utc>>> {
        match self.previous_done {
            Some(known) => Ok(known),
            None => store::last_done_before(tx, job, self.slot).await,
        }
    }

    /// Queues (or holds back) one message; whether it was queued, which is `false` when
    /// its dedup key was already used.
    pub(super) async fn send(
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
    pub(super) fn to_person(&self, p: &Person, project: Option<i64>) -> Destination {
        match self.routes.for_project(project) {
            Some(d) => d.clone(),
            None => Destination::for_person(self.tenant(), &p.handle),
        }
    }
}

/// The program's channel: the first one bound to it, on the program's platform.
pub(super) async fn program_channel(
    tx: &mut Tx,
    sp: &ScheduledProgram,
) -> anyhow::Result<Option<Destination>> {
    let channels = store::bound_channels(tx, &sp.scope).await?;
    Ok(channels
        .into_iter()
        .next()
        .map(|c| Destination::for_channel(sp.scope.tenant(), &c)))
}
