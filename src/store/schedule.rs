//! Schedules, their runs, and snoozes. A run is claimed by inserting its (job, scheduled
//! instant) row: the unique key makes a slot run at most once, across restarts and
//! processes. A slot built outside the write lock is claimed under a lease (a claimant and
//! an expiry on that row) that a later claimant takes over once it runs out. Claiming stays
//! in this one place, so a PostgreSQL backend can do it its own way.

use super::db;
use std::collections::HashMap;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};

use super::{programs::ProgramRow, Conn, Scope};
use crate::domain::ScheduleSpec;
use crate::domain::{Audience, PersonId, Program, Rag, ScheduleKind, Tenant};

#[derive(Debug, Clone)]
pub struct Schedule {
    pub id: i64,
    pub kind: ScheduleKind,
    pub spec: ScheduleSpec,
    pub audience: Option<Audience>,
    /// A JSON destination for digests; `None` sends to the program's bound channel.
    pub destination: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ScheduleRow {
    id: i64,
    kind: String,
    spec: String,
    audience: Option<String>,
    destination: Option<db::Json>,
    created_at: DateTime<Utc>,
}

impl TryFrom<ScheduleRow> for Schedule {
    type Error = anyhow::Error;
    fn try_from(r: ScheduleRow) -> anyhow::Result<Self> {
        Ok(Schedule {
            id: r.id,
            kind: ScheduleKind::parse(&r.kind)?,
            spec: ScheduleSpec::parse(&r.spec)?,
            audience: r.audience.as_deref().map(Audience::parse).transpose()?,
            destination: r.destination.map(db::Json::into_string),
            created_at: r.created_at,
        })
    }
}

pub struct NewSchedule<'a> {
    pub kind: ScheduleKind,
    pub spec: &'a ScheduleSpec,
    pub audience: Option<Audience>,
    pub destination: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<PersonId>,
}

/// Sets a schedule. A prompt, reminder or nudge schedule changes the program's previous one
/// of that kind (a program has one rhythm of each); digests are per (audience,
/// destination). Returns the id and whether it changed an existing one.
pub async fn set_schedule(
    conn: &mut Conn,
    scope: &Scope,
    s: NewSchedule<'_>,
) -> anyhow::Result<(i64, bool)> {
    // Changing a schedule keeps its number and its run history.
    let existing: Option<(i64, String)> = db::query_as(
        "SELECT id, spec FROM schedules WHERE program_id = $1 AND kind = $2
           AND audience IS NOT DISTINCT FROM $3 AND destination IS NOT DISTINCT FROM $4",
    )
    .bind(scope.program_id)
    .bind(s.kind.as_str())
    .bind(s.audience.map(|a| a.as_str()))
    .bind(s.destination.clone().map(db::Json))
    .fetch_optional(&mut *conn)
    .await
    .context("looking for a schedule to change")?;
    if let Some((id, spec)) = existing {
        if spec == s.spec.to_string() {
            return Ok((id, true)); // the same spec again: nothing changes, no slot is lost
        }
        // `created_at` is when the current spec took effect: slots before it never run.
        db::query(
            "UPDATE schedules SET spec = $1, created_by = $2, created_at = $3 WHERE id = $4 AND program_id = $5",
        )
            .bind(s.spec.to_string())
            .bind(s.created_by)
            .bind(s.created_at)
            .bind(id)
            .bind(scope.program_id)
            .execute(&mut *conn)
            .await
            .context("changing a schedule")?;
        return Ok((id, true));
    }
    let (id,): (i64,) = db::query_as(
        "INSERT INTO schedules (program_id, kind, spec, audience, destination, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(scope.program_id)
    .bind(s.kind.as_str())
    .bind(s.spec.to_string())
    .bind(s.audience.map(|a| a.as_str()))
    .bind(s.destination.clone().map(db::Json))
    .bind(s.created_at)
    .bind(s.created_by)
    .fetch_one(&mut *conn)
    .await
    .context("adding a schedule")?;
    Ok((id, false))
}

const SCHEDULE_COLS: &str = "s.id, s.kind, s.spec, s.audience, s.destination, s.created_at";

pub async fn schedules(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<Schedule>> {
    let rows: Vec<ScheduleRow> = db::query_as(format!(
        "SELECT {SCHEDULE_COLS} FROM schedules s WHERE s.program_id = $1 ORDER BY s.id"
    ))
    .bind(scope.program_id)
    .fetch_all(&mut *conn)
    .await
    .context("listing schedules")?;
    rows.into_iter().map(Schedule::try_from).collect()
}

pub async fn remove_schedule(conn: &mut Conn, scope: &Scope, id: i64) -> anyhow::Result<bool> {
    Ok(
        db::query("DELETE FROM schedules WHERE program_id = $1 AND id = $2")
            .bind(scope.program_id)
            .bind(id)
            .execute(&mut *conn)
            .await
            .context("removing a schedule")?
            .rows_affected()
            > 0,
    )
}

/// A schedule with its program, as the scheduler sees it. The scope comes from the
/// program's own row, so a job can only touch its own tenant.
pub struct ScheduledProgram {
    pub scope: Scope,
    pub program: Program,
    pub schedule: Schedule,
}

/// Every schedule of every live (not archived) program, in every tenant.
pub async fn all_schedules(conn: &mut Conn) -> anyhow::Result<Vec<ScheduledProgram>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        program: ProgramRow,
        p_tenant: String,
        s_id: i64,
        s_kind: String,
        s_spec: String,
        s_audience: Option<String>,
        s_destination: Option<db::Json>,
        s_created_at: DateTime<Utc>,
    }
    let rows: Vec<Row> = db::query_as(format!(
        "SELECT {}, p.tenant AS p_tenant, s.id AS s_id, s.kind AS s_kind, s.spec AS s_spec, s.audience AS s_audience,
                s.destination AS s_destination, s.created_at AS s_created_at
         FROM schedules s JOIN programs p ON p.id = s.program_id
         WHERE NOT p.archived ORDER BY s.id",
        super::programs::PROGRAM_COLS_P
    ))
    .fetch_all(&mut *conn)
    .await
    .context("listing every schedule")?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        // One unreadable program must not stop every other program's rhythm.
        let (tenant, program) = match (Tenant::parse(&r.p_tenant), Program::try_from(r.program)) {
            (Ok(t), Ok(p)) => (t, p),
            (t, p) => {
                let why = t.err().map(|e| e.0).or(p.err().map(|e| e.to_string()));
                tracing::warn!(schedule = r.s_id, error = ?why, "skipping a schedule of an unreadable program");
                continue;
            }
        };
        let schedule = Schedule::try_from(ScheduleRow {
            id: r.s_id,
            kind: r.s_kind,
            spec: r.s_spec,
            audience: r.s_audience,
            destination: r.s_destination,
            created_at: r.s_created_at,
        });
        match schedule {
            Ok(schedule) => out.push(ScheduledProgram {
                scope: Scope {
                    tenant,
                    program_id: program.id,
                },
                program,
                schedule,
            }),
            // One unreadable schedule must not stop every program's rhythm.
            Err(e) => {
                tracing::warn!(schedule = r.s_id, error = %e, "skipping an unreadable schedule")
            }
        }
    }
    Ok(out)
}

/// Where a job stands (see [`job_place`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobPlace {
    /// Slots whose lease ran out before they were done (their claimant died), oldest
    /// first: the next tick takes them over, or records them as skipped past their grace.
    pub expired: Vec<DateTime<Utc>>,
    /// Its latest slot claimed or skipped, where the scheduler resumes.
    pub last: Option<DateTime<Utc>>,
    /// Its latest slot done: for a slot after `last`, the one [`last_done_before`] gives.
    pub last_done: Option<DateTime<Utc>>,
}

impl JobPlace {
    /// Takes in one of the job's runs read for its place (the latest, the latest done, or
    /// one whose lease ran out), the runs coming in slot order.
    fn add(&mut self, slot: DateTime<Utc>, expired: bool, done: bool) {
        self.last = Some(slot);
        if done {
            self.last_done = Some(slot);
        }
        if expired {
            self.expired.push(slot);
        }
    }
}

/// Where a job stands, read in one statement.
pub async fn job_place(conn: &mut Conn, job: &str, now: DateTime<Utc>) -> anyhow::Result<JobPlace> {
    let rows: Vec<(DateTime<Utc>, bool, bool)> = db::query_as(
        "SELECT scheduled_at, state = 'running' AND lease_expires <= $2, state = 'done'
         FROM job_runs
         WHERE job = $1 AND ((state = 'running' AND lease_expires <= $2)
           OR scheduled_at = (SELECT max(scheduled_at) FROM job_runs WHERE job = $1)
           OR scheduled_at = (SELECT max(scheduled_at) FROM job_runs
                              WHERE job = $1 AND state = 'done'))
         ORDER BY scheduled_at",
    )
    .bind(job)
    .bind(now.timestamp_millis())
    .fetch_all(&mut *conn)
    .await
    .context("finding where a job stands")?;
    let mut place = JobPlace::default();
    for (slot, expired, done) in rows {
        place.add(slot, expired, done);
    }
    Ok(place)
}

/// Where each of `jobs` stands, as [`job_place`] reads it one job at a time: on
/// PostgreSQL in one statement for them all (a tick with thousands of digests due would
/// otherwise spend a round trip on each), on SQLite one statement a job. A job that never
/// ran stands at [`JobPlace::default`].
pub async fn job_places(
    conn: &mut Conn,
    jobs: &[String],
    now: DateTime<Utc>,
) -> anyhow::Result<HashMap<String, JobPlace>> {
    let mut out: HashMap<String, JobPlace> = jobs
        .iter()
        .map(|j| (j.clone(), JobPlace::default()))
        .collect();
    if conn.dialect() == db::Dialect::Sqlite {
        for job in jobs {
            out.insert(job.clone(), job_place(conn, job, now).await?);
        }
        return Ok(out);
    }
    let rows: Vec<(String, DateTime<Utc>, bool, bool)> = db::query_as(
        "SELECT j.job, r.scheduled_at, r.state = 'running' AND r.lease_expires <= $2,
                r.state = 'done'
         FROM (SELECT DISTINCT value AS job FROM jsonb_array_elements_text($1)) AS j
         CROSS JOIN LATERAL (
             SELECT scheduled_at, state, lease_expires FROM job_runs
             WHERE job = j.job AND ((state = 'running' AND lease_expires <= $2)
               OR scheduled_at = (SELECT max(scheduled_at) FROM job_runs WHERE job = j.job)
               OR scheduled_at = (SELECT max(scheduled_at) FROM job_runs
                                  WHERE job = j.job AND state = 'done'))) AS r
         ORDER BY j.job, r.scheduled_at",
    )
    .bind(db::Json(serde_json::to_string(jobs)?))
    .bind(now.timestamp_millis())
    .fetch_all(&mut *conn)
    .await
    .context("finding where jobs stand")?;
    for (job, slot, expired, done) in rows {
        out.entry(job).or_default().add(slot, expired, done);
    }
    Ok(out)
}

/// The latest slot of a job that ran to completion before `slot`.
pub async fn last_done_before(
    conn: &mut Conn,
    job: &str,
    slot: DateTime<Utc>,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let row: Option<(DateTime<Utc>,)> = db::query_as(
        "SELECT scheduled_at FROM job_runs WHERE job = $1 AND state = 'done' AND scheduled_at < $2
         ORDER BY scheduled_at DESC LIMIT 1",
    )
    .bind(job)
    .bind(slot)
    .fetch_optional(&mut *conn)
    .await
    .context("finding a job's previous run")?;
    Ok(row.map(|r| r.0))
}

/// Claims a slot: `Some(run id)` for the one caller that inserted it, `None` if the slot was
/// already claimed or skipped.
pub async fn claim_slot(
    conn: &mut Conn,
    job: &str,
    schedule: Option<i64>,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<i64>> {
    let row: Option<(i64,)> = db::query_as(
        "INSERT INTO job_runs (job, schedule_id, scheduled_at, state, claimed_at)
         VALUES ($1, $2, $3, 'running', $4) ON CONFLICT (job, scheduled_at) DO NOTHING RETURNING id",
    )
    .bind(job)
    .bind(schedule)
    .bind(slot)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .context("claiming a job slot")?;
    Ok(row.map(|r| r.0))
}

/// Claims a slot under a lease for `claimant` until `expires`: `Some(run id)` when it was
/// free, or held under a lease that ran out before the slot was done (its claimant died);
/// `None` when it is done, skipped, or held under a live lease. Only the claimant can then
/// finish it ([`finish_leased_run`]), and only while nobody took it over.
pub async fn claim_leased_slot(
    conn: &mut Conn,
    job: &str,
    schedule: Option<i64>,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
    claimant: &str,
    expires: DateTime<Utc>,
) -> anyhow::Result<Option<i64>> {
    let row: Option<(i64,)> = db::query_as(
        "INSERT INTO job_runs (job, schedule_id, scheduled_at, state, claimed_at, claimant, lease_expires)
         VALUES ($1, $2, $3, 'running', $4, $5, $6)
         ON CONFLICT (job, scheduled_at) DO UPDATE SET claimed_at = excluded.claimed_at,
           claimant = excluded.claimant, lease_expires = excluded.lease_expires
         WHERE job_runs.state = 'running' AND job_runs.lease_expires <= $7
         RETURNING id",
    )
    .bind(job)
    .bind(schedule)
    .bind(slot)
    .bind(now)
    .bind(claimant)
    .bind(expires.timestamp_millis())
    .bind(now.timestamp_millis())
    .fetch_optional(&mut *conn)
    .await
    .context("claiming a job slot under a lease")?;
    Ok(row.map(|r| r.0))
}

/// Finishes run $4 with state $1, outcome $2 at $3 if claimant $5 still holds it.
const FINISH_LEASED: &str = "UPDATE job_runs SET state = $1, outcome = $2, finished_at = $3,
       lease_expires = NULL WHERE id = $4 AND claimant = $5 AND state = 'running'";

/// Finishes a leased run if `claimant` still holds it; `false` when someone took it over
/// (or finished it) since, and then nothing of this claim may be kept.
pub async fn finish_leased_run(
    conn: &mut Conn,
    run: i64,
    claimant: &str,
    end: RunEnd,
    outcome: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    Ok(db::query(FINISH_LEASED)
        .bind(end.as_str())
        .bind(outcome)
        .bind(now)
        .bind(run)
        .bind(claimant)
        .execute(&mut *conn)
        .await
        .context("finishing a leased job run")?
        .rows_affected()
        > 0)
}

/// [`finish_leased_run`], with the program's health as the run found it recorded
/// ([`super::mark_health`]) and its messages queued as [`super::enqueue`] would, all or
/// nothing: `None` when the lease was lost (nothing is finished, marked or queued), else
/// how many messages were queued (one whose dedup key was used before is not). A message
/// for a program outside its tenant refuses the whole finish.
///
/// On PostgreSQL this is one statement, the messages going as one JSON argument, so it may
/// run on [`super::Store::autocommit_lazily`]'s connection in one round trip; on SQLite,
/// one statement per part in the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub async fn finish_leased_run_queueing<B: serde::Serialize>(
    conn: &mut Conn,
    run: i64,
    claimant: &str,
    end: RunEnd,
    outcome: &str,
    now: DateTime<Utc>,
    health: Option<(&Scope, NaiveDate, Rag)>,
    messages: &[super::NewMessage<B>],
) -> anyhow::Result<Option<usize>> {
    if conn.dialect() == db::Dialect::Sqlite {
        if !finish_leased_run(conn, run, claimant, end, outcome, now).await? {
            return Ok(None);
        }
        if let Some((scope, day, rag)) = health {
            super::mark_health(conn, scope, day, rag).await?;
        }
        let mut queued = 0;
        for m in messages {
            if super::enqueue(conn, m).await?.is_some() {
                queued += 1;
            }
        }
        return Ok(Some(queued));
    }
    let batch = messages
        .iter()
        .map(|m| {
            anyhow::Ok(serde_json::json!({
                "tenant": m.tenant.to_string(),
                "program_id": m.program_id,
                "destination": serde_json::to_value(&m.destination)?,
                "reply": serde_json::to_value(&m.reply)?,
                "reason": m.reason,
                "dedup_key": m.dedup_key,
                "nonce": super::outbox::new_nonce(),
                // To the microsecond, as a bound instant is stored.
                "not_before": m.not_before.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            }))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // A message of another tenant's program stops the finish itself, so nothing is kept.
    const FOREIGN: &str = "SELECT 1 FROM jsonb_to_recordset($9) AS f(tenant text, program_id bigint)
         WHERE f.program_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM programs p WHERE p.id = f.program_id AND p.tenant = f.tenant)";
    let (finished, queued, foreign): (i64, i64, bool) = db::query_as(format!(
        "WITH finished AS ({FINISH_LEASED} AND NOT EXISTS ({FOREIGN}) RETURNING id),
         marked AS (
             INSERT INTO health_marks (program_id, day, rag)
             SELECT $6, $7, $8 FROM finished WHERE $6 IS NOT NULL
             ON CONFLICT (program_id, day) DO UPDATE SET rag = excluded.rag RETURNING 1),
         queued AS (
             INSERT INTO outbox (tenant, program_id, destination, reply, reason, dedup_key,
                                 nonce, next_attempt_at, created_at)
             SELECT m.tenant, m.program_id, m.destination, m.reply, m.reason, m.dedup_key,
                    m.nonce, m.not_before, m.not_before
             FROM finished, jsonb_to_recordset($9) AS m(tenant text, program_id bigint,
                 destination jsonb, reply jsonb, reason text, dedup_key text, nonce text,
                 not_before timestamptz)
             ON CONFLICT (tenant, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING
             RETURNING 1)
         SELECT (SELECT count(*) FROM finished), (SELECT count(*) FROM queued),
                EXISTS ({FOREIGN})"
    ))
    .bind(end.as_str())
    .bind(outcome)
    .bind(now)
    .bind(run)
    .bind(claimant)
    .bind(health.map(|(scope, _, _)| scope.program_id))
    .bind(health.map(|(_, day, _)| day))
    .bind(health.map(|(_, _, rag)| rag.as_str()))
    .bind(db::Json(serde_json::Value::Array(batch).to_string()))
    .fetch_one(&mut *conn)
    .await
    .context("finishing a leased job run and queueing its messages")?;
    anyhow::ensure!(
        !foreign,
        "a message of job run {run} is for a program outside its tenant; nothing was queued"
    );
    Ok((finished > 0).then(|| usize::try_from(queued).unwrap_or(usize::MAX)))
}

/// Gives a leased slot back (its build failed): as if it had never been claimed, so it is
/// tried again next tick while it is inside its grace window.
pub async fn release_leased_slot(conn: &mut Conn, run: i64, claimant: &str) -> anyhow::Result<()> {
    db::query("DELETE FROM job_runs WHERE id = $1 AND claimant = $2 AND state = 'running'")
        .bind(run)
        .bind(claimant)
        .execute(&mut *conn)
        .await
        .context("releasing a job slot")?;
    Ok(())
}

/// Records a slot that will not run (missed beyond its grace window, a day off, …), also
/// when it is held under a lease that ran out.
pub async fn skip_slot(
    conn: &mut Conn,
    job: &str,
    schedule: Option<i64>,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
    why: &str,
) -> anyhow::Result<bool> {
    Ok(db::query(
        "INSERT INTO job_runs (job, schedule_id, scheduled_at, state, claimed_at, finished_at, outcome)
         VALUES ($1, $2, $3, 'skipped', $4, $5, $6)
         ON CONFLICT (job, scheduled_at) DO UPDATE SET state = 'skipped',
           finished_at = excluded.finished_at, outcome = excluded.outcome, lease_expires = NULL
         WHERE job_runs.state = 'running' AND job_runs.lease_expires <= $7",
    )
    .bind(job)
    .bind(schedule)
    .bind(slot)
    .bind(now)
    .bind(now)
    .bind(why)
    .bind(now.timestamp_millis())
    .execute(&mut *conn)
    .await
    .context("recording a skipped slot")?
    .rows_affected()
        > 0)
}

/// How a claimed run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    Done,
    /// Claimed, then found to have nothing to do for a reason that matters later (the
    /// owner was away: no prompt means nothing to remind about).
    Skipped,
    Failed,
}

impl RunEnd {
    fn as_str(self) -> &'static str {
        match self {
            RunEnd::Done => "done",
            RunEnd::Skipped => "skipped",
            RunEnd::Failed => "failed",
        }
    }
}

pub async fn finish_run(
    conn: &mut Conn,
    run: i64,
    end: RunEnd,
    outcome: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    db::query("UPDATE job_runs SET state = $1, outcome = $2, finished_at = $3 WHERE id = $4")
        .bind(end.as_str())
        .bind(outcome)
        .bind(now)
        .bind(run)
        .execute(&mut *conn)
        .await
        .context("recording a job's outcome")?;
    Ok(())
}

/// One run, for `schedule show` and tests.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    pub scheduled_at: DateTime<Utc>,
    pub state: String,
    pub outcome: String,
}

/// The runs of a program's schedules, newest first.
pub async fn runs(conn: &mut Conn, scope: &Scope, limit: i64) -> anyhow::Result<Vec<JobRun>> {
    db::query_as(
        "SELECT r.id, r.job, r.scheduled_at, r.state, r.outcome FROM job_runs r
         JOIN schedules s ON s.id = r.schedule_id WHERE s.program_id = $1
         ORDER BY r.scheduled_at DESC, r.id DESC LIMIT $2",
    )
    .bind(scope.program_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .context("listing job runs")
}

/// Puts off pings about `subject` (`dep:3`, `risk:2`) until a date.
pub async fn snooze(
    conn: &mut Conn,
    scope: &Scope,
    subject: &str,
    until: NaiveDate,
    by: Option<PersonId>,
    reason: &str,
) -> anyhow::Result<()> {
    db::query(
        "INSERT INTO snoozes (program_id, subject, until, by_id, reason) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (program_id, subject) DO UPDATE SET until = excluded.until,
           by_id = excluded.by_id, reason = excluded.reason",
    )
    .bind(scope.program_id)
    .bind(subject)
    .bind(until)
    .bind(by)
    .bind(reason)
    .execute(&mut *conn)
    .await
    .context("snoozing")?;
    Ok(())
}

/// Subjects snoozed until a date, by subject.
pub async fn snoozes(conn: &mut Conn, scope: &Scope) -> anyhow::Result<HashMap<String, NaiveDate>> {
    let rows: Vec<(String, NaiveDate)> =
        db::query_as("SELECT subject, until FROM snoozes WHERE program_id = $1")
            .bind(scope.program_id)
            .fetch_all(&mut *conn)
            .await
            .context("listing snoozes")?;
    Ok(rows.into_iter().collect())
}
