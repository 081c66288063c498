//! The outbox table: queueing a message inside the caller's transaction, and the worker's
//! claim → send → record cycle. A row is claimed by one atomic `UPDATE … RETURNING`, and every
//! outcome is recorded only while the claim still holds (same state, same attempt), so two
//! processes never both record one delivery.
//!
//! A row's body (the message to send) is whatever serde type the caller queues, stored as
//! JSON in the `reply` column; the outbox queues replies.

use super::db;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Conn, Scope};
use crate::domain::{Destination, Tenant};

/// Where a row is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    /// Waiting for `next_attempt_at`.
    Pending,
    /// Claimed by a worker that is sending it now.
    Sending,
    Sent,
    /// Failed for good; the program owner was told.
    Dead,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> anyhow::Result<Self> {
        Ok(match s {
            "pending" => OutboxState::Pending,
            "sending" => OutboxState::Sending,
            "sent" => OutboxState::Sent,
            "dead" => OutboxState::Dead,
            other => anyhow::bail!("unknown outbox state `{other}`"),
        })
    }
}

impl std::fmt::Display for OutboxState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message to queue with [`enqueue`], with its body `B`.
#[derive(Debug, Clone)]
pub struct NewMessage<B> {
    pub tenant: Tenant,
    /// The program it is about: it is deleted with the program, and its owner is told if it
    /// cannot be delivered. Must belong to `tenant`.
    pub program_id: Option<i64>,
    pub destination: Destination,
    /// What is sent, stored as JSON.
    pub reply: B,
    /// Why the reader gets it and how to stop it, shown with the message.
    pub reason: String,
    /// Queues the message once per tenant and key, however often the job that sends it
    /// runs. Keys starting with `dead:` are reserved for the delivery worker's notices.
    pub dedup_key: Option<String>,
    /// Not sent before this instant.
    pub not_before: DateTime<Utc>,
}

/// One queued message as stored, with its body `B` read back from JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow<B> {
    pub id: i64,
    pub tenant: Tenant,
    pub program_id: Option<i64>,
    pub destination: Destination,
    pub reply: B,
    pub reason: String,
    pub dedup_key: Option<String>,
    /// Unique per row, at most 20 characters, so a sender that splits a reply can append a
    /// part number and stay within Discord's 25-character nonce.
    pub nonce: String,
    pub state: OutboxState,
    /// Delivery attempts so far, the one in progress included.
    pub attempts: u32,
    /// Rendered parts already delivered; a retry starts after them.
    pub parts_sent: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    tenant: String,
    program_id: Option<i64>,
    destination: db::Json,
    reply: db::Json,
    reason: String,
    dedup_key: Option<String>,
    nonce: String,
    state: String,
    attempts: i64,
    parts_sent: i64,
    next_attempt_at: DateTime<Utc>,
    claimed_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

const COLS: &str = "id, tenant, program_id, destination, reply, reason, dedup_key, nonce, state, \
    attempts, parts_sent, next_attempt_at, claimed_at, last_error, created_at, sent_at";

impl<B: DeserializeOwned> TryFrom<Row> for OutboxRow<B> {
    type Error = anyhow::Error;
    fn try_from(r: Row) -> anyhow::Result<Self> {
        Ok(OutboxRow {
            id: r.id,
            tenant: Tenant::parse(&r.tenant)?,
            program_id: r.program_id,
            destination: serde_json::from_str(r.destination.as_str())
                .with_context(|| format!("reading the destination of outbox row {}", r.id))?,
            reply: serde_json::from_str(r.reply.as_str())
                .with_context(|| format!("reading the reply of outbox row {}", r.id))?,
            reason: r.reason,
            dedup_key: r.dedup_key,
            nonce: r.nonce,
            state: OutboxState::parse(&r.state)?,
            attempts: r.attempts.try_into()?,
            parts_sent: r.parts_sent.try_into()?,
            next_attempt_at: r.next_attempt_at,
            claimed_at: r.claimed_at,
            last_error: r.last_error,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
    }
}

const NONCE_LEN: usize = 20;

/// 20 random base-36 characters (about 103 bits).
pub(super) fn new_nonce() -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..NONCE_LEN)
        .map(|_| DIGITS[rand::random_range(0..DIGITS.len())] as char)
        .collect()
}

/// Queues a message in the caller's transaction, so it is sent only if that transaction
/// commits. `None` when the tenant already queued a message with this dedup key.
pub async fn enqueue<B: Serialize>(
    conn: &mut Conn,
    m: &NewMessage<B>,
) -> anyhow::Result<Option<i64>> {
    // The program's tenant is checked in the insert itself; only when nothing was inserted
    // is it asked apart, to tell a foreign program from a dedup key already used.
    let row: Option<(i64,)> = db::query_as(
        "INSERT INTO outbox (tenant, program_id, destination, reply, reason, dedup_key, nonce,
                             next_attempt_at, created_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
         WHERE $2 IS NULL OR EXISTS (SELECT 1 FROM programs WHERE id = $2 AND tenant = $1)
         ON CONFLICT (tenant, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING
         RETURNING id",
    )
    .bind(m.tenant.to_string())
    .bind(m.program_id)
    .bind(db::Json(serde_json::to_string(&m.destination)?))
    .bind(db::Json(serde_json::to_string(&m.reply)?))
    .bind(&m.reason)
    .bind(m.dedup_key.as_deref())
    .bind(new_nonce())
    .bind(m.not_before)
    .bind(m.not_before)
    .fetch_optional(&mut *conn)
    .await
    .context("queueing a message")?;
    if row.is_none() {
        if let Some(program_id) = m.program_id {
            let ours: Option<(i64,)> =
                db::query_as("SELECT id FROM programs WHERE id = $1 AND tenant = $2")
                    .bind(program_id)
                    .bind(m.tenant.to_string())
                    .fetch_optional(&mut *conn)
                    .await
                    .context("checking the program of a message")?;
            anyhow::ensure!(
                ours.is_some(),
                "program {program_id} is not in tenant {}",
                m.tenant
            );
        }
    }
    Ok(row.map(|(id,)| id))
}

/// Claims up to `limit` pending rows that are due at `now`, oldest due first: they become
/// `sending`, with the attempt counted. One statement, so two workers never claim one row:
/// on PostgreSQL the sub-select skips rows another worker is claiming (`FOR UPDATE SKIP
/// LOCKED`) and the update checks the state again, outside it. The sub-select is
/// materialized: evaluated once, it cannot hand the update more than `limit` rows.
///
/// A row that can no longer be read (its JSON does not parse) is dead-lettered here rather
/// than returned, so it cannot stop the queue.
pub async fn claim_due<B: DeserializeOwned>(
    conn: &mut Conn,
    now: DateTime<Utc>,
    limit: u32,
) -> anyhow::Result<Vec<OutboxRow<B>>> {
    let skip_locked = conn.dialect().skip_locked();
    let rows: Vec<Row> = db::query_as(format!(
        "WITH picked AS MATERIALIZED (
             SELECT id FROM outbox
             WHERE state = 'pending' AND next_attempt_at <= $1
             ORDER BY next_attempt_at, id LIMIT $2{skip_locked})
         UPDATE outbox SET state = 'sending', claimed_at = $1, attempts = attempts + 1
         WHERE state = 'pending' AND id IN (SELECT id FROM picked)
         RETURNING {COLS}"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .context("claiming due messages")?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.id;
        match OutboxRow::try_from(row) {
            Ok(r) => claimed.push(r),
            Err(e) => {
                tracing::error!(outbox_id = id, error = ?e, "unreadable outbox row");
                db::query(
                    "UPDATE outbox SET state = 'dead', claimed_at = NULL, last_error = $1 WHERE id = $2",
                )
                .bind(format!("unreadable: {e:#}"))
                .bind(id)
                .execute(&mut *conn)
                .await
                .context("dead-lettering an unreadable message")?;
            }
        }
    }
    // RETURNING gives no order.
    claimed.sort_by_key(|r| (r.next_attempt_at, r.id));
    Ok(claimed)
}

/// Paces claimed rows per destination (one Slack webhook or channel), across every process
/// sharing the database: of the rows for one destination, the first is kept to send now if
/// the destination's pacing row allows it, and the rest are handed back ([`defer`]) `interval`
/// apart after the next free slot. Call it in the claim's transaction. The pacing row (keyed
/// by a hash of the destination, never the webhook URL itself) is locked while it is read
/// and moved on, so two workers never both take a slot; keys are locked in order, so they
/// never wait on each other in a circle. Returns the rows to send and how many were deferred.
pub async fn pace_claimed<B>(
    conn: &mut Conn,
    rows: Vec<OutboxRow<B>>,
    now: DateTime<Utc>,
    interval: std::time::Duration,
) -> anyhow::Result<(Vec<OutboxRow<B>>, usize)> {
    // The slot is taken at the claim, a little before the request goes out; a receiver
    // that counts its window from the request it accepted would see the next one come a
    // few milliseconds early and refuse it. A twentieth more keeps the pace on its side.
    let interval = chrono::Duration::from_std(interval + interval / 20)?;
    let mut keep = Vec::with_capacity(rows.len());
    let mut lanes: std::collections::BTreeMap<String, Vec<OutboxRow<B>>> = Default::default();
    for row in rows {
        match row.destination.pacing_key().map(pacing_hash) {
            Some(key) => lanes.entry(key).or_default().push(row),
            None => keep.push(row),
        }
    }
    let mut deferred = 0;
    for (key, lane) in lanes {
        // One statement adds the row or locks the one there (an upsert locks what it
        // touches), so a row pruned meanwhile is simply made again.
        let (next_at,): (DateTime<Utc>,) = db::query_as(
            "INSERT INTO outbox_pacing (destination, next_at) VALUES ($1, $2)
             ON CONFLICT (destination) DO UPDATE SET next_at = outbox_pacing.next_at
             RETURNING next_at",
        )
        .bind(&key)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .context("reading a pacing row")?;
        let mut free = next_at.max(now);
        let mut lane = lane.into_iter();
        if free <= now {
            keep.extend(lane.next());
            free = now + interval;
            db::query("UPDATE outbox_pacing SET next_at = $1 WHERE destination = $2")
                .bind(free)
                .bind(&key)
                .execute(&mut *conn)
                .await
                .context("moving a pacing row on")?;
        }
        for (i, row) in lane.enumerate() {
            defer(&mut *conn, &row, free + interval * i as i32).await?;
            deferred += 1;
        }
    }
    keep.sort_by_key(|r| (r.next_attempt_at, r.id));
    Ok((keep, deferred))
}

/// Forgets pacing rows whose slot passed before `older_than`: the destination is free.
pub async fn prune_pacing(conn: &mut Conn, older_than: DateTime<Utc>) -> anyhow::Result<u64> {
    // Rows a claim holds are left for next time, so pruning never waits on a claim.
    let skip = conn.dialect().skip_locked();
    let done = db::query(format!(
        "DELETE FROM outbox_pacing WHERE destination IN
           (SELECT destination FROM outbox_pacing WHERE next_at < $1{skip})"
    ))
    .bind(older_than)
    .execute(&mut *conn)
    .await
    .context("pruning pacing rows")?;
    Ok(done.rows_affected())
}

/// The pacing row's key: a hash, so a webhook's URL (a secret) is stored only in its rows.
fn pacing_hash(key: &str) -> String {
    use sha2::{Digest as _, Sha256};
    hex::encode(&Sha256::digest(key.as_bytes())[..16])
}

/// Records a delivery. False when the claim was lost (released as stale and claimed again).
pub async fn mark_sent<B>(
    conn: &mut Conn,
    row: &OutboxRow<B>,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = db::query(
        "UPDATE outbox SET state = 'sent', sent_at = $1, claimed_at = NULL, last_error = NULL
         WHERE id = $2 AND state = 'sending' AND attempts = $3",
    )
    .bind(at)
    .bind(row.id)
    .bind(row.attempts)
    .execute(&mut *conn)
    .await
    .context("recording a delivery")?;
    Ok(done.rows_affected() == 1)
}

/// Puts a claimed row back to wait for another attempt at `next_attempt_at`; `parts_sent`
/// is how many of its parts have been delivered so far.
pub async fn mark_retry<B>(
    conn: &mut Conn,
    row: &OutboxRow<B>,
    next_attempt_at: DateTime<Utc>,
    error: &str,
    parts_sent: u32,
) -> anyhow::Result<bool> {
    let done = db::query(
        "UPDATE outbox SET state = 'pending', next_attempt_at = $1, last_error = $2, parts_sent = $3,
                claimed_at = NULL
         WHERE id = $4 AND state = 'sending' AND attempts = $5",
    )
    .bind(next_attempt_at)
    .bind(error)
    .bind(parts_sent)
    .bind(row.id)
    .bind(row.attempts)
    .execute(&mut *conn)
    .await
    .context("recording a failed attempt")?;
    Ok(done.rows_affected() == 1)
}

/// Gives up on a claimed row.
pub async fn mark_dead<B>(
    conn: &mut Conn,
    row: &OutboxRow<B>,
    error: &str,
) -> anyhow::Result<bool> {
    let done = db::query(
        "UPDATE outbox SET state = 'dead', last_error = $1, claimed_at = NULL
         WHERE id = $2 AND state = 'sending' AND attempts = $3",
    )
    .bind(error)
    .bind(row.id)
    .bind(row.attempts)
    .execute(&mut *conn)
    .await
    .context("dead-lettering a message")?;
    Ok(done.rows_affected() == 1)
}

/// Hands a claimed row back unsent, without counting the attempt: it waits for `until`
/// (the worker paces a webhook this way instead of holding the claim).
pub async fn defer<B>(
    conn: &mut Conn,
    row: &OutboxRow<B>,
    until: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = db::query(
        "UPDATE outbox SET state = 'pending', next_attempt_at = $1, claimed_at = NULL,
                attempts = attempts - 1
         WHERE id = $2 AND state = 'sending' AND attempts = $3",
    )
    .bind(until)
    .bind(row.id)
    .bind(row.attempts)
    .execute(&mut *conn)
    .await
    .context("deferring a message")?;
    Ok(done.rows_affected() == 1)
}

/// Rows claimed before `older_than` and never finished were claimed by a process that
/// crashed: they go back to pending, due at once. This is the one way a message can be sent
/// twice — it may have been delivered just before the crash. Returns how many.
///
/// Rows that already used `max_attempts` stay claimed: the caller dead-letters them (see
/// [`spent_stale_claims`]), so a message that stops every process sending it is not retried
/// forever.
pub async fn release_stale_claims(
    conn: &mut Conn,
    older_than: DateTime<Utc>,
    max_attempts: u32,
) -> anyhow::Result<u64> {
    let done = db::query(
        "UPDATE outbox SET state = 'pending', next_attempt_at = claimed_at, claimed_at = NULL
         WHERE state = 'sending' AND claimed_at < $1 AND attempts < $2",
    )
    .bind(older_than)
    .bind(max_attempts)
    .execute(&mut *conn)
    .await
    .context("releasing stale claims")?;
    Ok(done.rows_affected())
}

/// Stale claims that have used every attempt: each claim ended with its process, so
/// releasing them again could loop for ever.
pub async fn spent_stale_claims<B: DeserializeOwned>(
    conn: &mut Conn,
    older_than: DateTime<Utc>,
    max_attempts: u32,
) -> anyhow::Result<Vec<OutboxRow<B>>> {
    let rows: Vec<Row> = db::query_as(format!(
        "SELECT {COLS} FROM outbox
         WHERE state = 'sending' AND claimed_at < $1 AND attempts >= $2
         ORDER BY id"
    ))
    .bind(older_than)
    .bind(max_attempts)
    .fetch_all(&mut *conn)
    .await
    .context("reading spent stale claims")?;
    rows.into_iter().map(OutboxRow::try_from).collect()
}

/// The program's messages, newest first; only the dead ones with `dead_only`.
pub async fn outbox_list<B: DeserializeOwned>(
    conn: &mut Conn,
    scope: &Scope,
    dead_only: bool,
    limit: i64,
) -> anyhow::Result<Vec<OutboxRow<B>>> {
    let rows: Vec<Row> = db::query_as(format!(
        "SELECT {COLS} FROM outbox
         WHERE program_id = $1 AND tenant = $2 AND (NOT $3 OR state = 'dead')
         ORDER BY id DESC LIMIT $4"
    ))
    .bind(scope.program_id)
    .bind(scope.tenant.to_string())
    .bind(dead_only)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await
    .context("listing the outbox")?;
    rows.into_iter().map(OutboxRow::try_from).collect()
}

/// Sends a dead message of the program again with a fresh retry budget, due at `now`. Parts
/// already delivered stay delivered: it resumes after them. False when the program has no
/// dead message with that id.
pub async fn outbox_retry(
    conn: &mut Conn,
    scope: &Scope,
    id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = db::query(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1,
                claimed_at = NULL
         WHERE id = $2 AND program_id = $3 AND tenant = $4 AND state = 'dead'",
    )
    .bind(now)
    .bind(id)
    .bind(scope.program_id)
    .bind(scope.tenant.to_string())
    .execute(&mut *conn)
    .await
    .context("retrying a message")?;
    Ok(done.rows_affected() == 1)
}

/// How far behind delivery is, across all tenants (for health checks and the demo).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxDepth {
    /// Pending and in-flight rows.
    pub pending: i64,
    /// When the oldest of them was queued.
    pub oldest_pending: Option<DateTime<Utc>>,
    pub dead: i64,
}

pub async fn outbox_depth(conn: &mut Conn) -> anyhow::Result<OutboxDepth> {
    let (pending, oldest_pending, dead): (i64, Option<DateTime<Utc>>, i64) = db::query_as(
        "SELECT count(*) FILTER (WHERE state IN ('pending', 'sending')),
                min(created_at) FILTER (WHERE state IN ('pending', 'sending')),
                count(*) FILTER (WHERE state = 'dead')
         FROM outbox WHERE state IN ('pending', 'sending', 'dead')",
    )
    .fetch_one(&mut *conn)
    .await
    .context("measuring the outbox")?;
    Ok(OutboxDepth {
        pending,
        oldest_pending,
        dead,
    })
}

/// Who to tell when a message of the program dies: the owner's handle, the program's key
/// and the program's route, if it has one.
pub async fn program_owner_handle(
    conn: &mut Conn,
    tenant: &Tenant,
    program_id: i64,
) -> anyhow::Result<Option<(String, String, Option<Destination>)>> {
    let row: Option<(String, String, Option<db::Json>)> = db::query_as(
        "SELECT pe.handle, p.key, r.destination FROM programs p
         JOIN people pe ON pe.id = p.owner_id AND pe.tenant = p.tenant
         LEFT JOIN routes r ON r.program_id = p.id AND r.project_id IS NULL
         WHERE p.id = $1 AND p.tenant = $2",
    )
    .bind(program_id)
    .bind(tenant.to_string())
    .fetch_optional(&mut *conn)
    .await
    .context("looking up a program's owner")?;
    row.map(|(handle, key, route)| {
        let route = route
            .map(|r| serde_json::from_str(r.as_str()).context("reading a stored route"))
            .transpose()?;
        Ok((handle, key, route))
    })
    .transpose()
}

/// Every row of the tenant, oldest first: for tests and the demo, which check what was
/// queued and how it ended.
pub async fn tenant_outbox<B: DeserializeOwned>(
    conn: &mut Conn,
    tenant: &Tenant,
) -> anyhow::Result<Vec<OutboxRow<B>>> {
    let rows: Vec<Row> = db::query_as(format!(
        "SELECT {COLS} FROM outbox WHERE tenant = $1 ORDER BY id"
    ))
    .bind(tenant.to_string())
    .fetch_all(&mut *conn)
    .await
    .context("listing the outbox")?;
    rows.into_iter().map(OutboxRow::try_from).collect()
}

/// When `owner` was first asked about `project` after `after` (ever, for `None`): the
/// earliest prompt queued to them for it, by DM or in the program's channel. Prompt dedup
/// keys end in `:o{owner id}:{project id}` (before: `:{project id}`, sent to the owner).
pub async fn first_prompt_about(
    conn: &mut Conn,
    scope: &Scope,
    project: i64,
    owner: &crate::domain::Person,
    after: Option<DateTime<Utc>>,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let destination = db::Json(serde_json::to_string(&Destination::for_person(
        scope.tenant(),
        &owner.handle,
    ))?);
    let row: Option<(DateTime<Utc>,)> = db::query_as(
        "SELECT created_at FROM outbox
         WHERE program_id = $1 AND tenant = $2 AND dedup_key LIKE 'prompt:%:' || $3
           AND (destination = $4 OR dedup_key LIKE 'prompt:%:o' || $6 || ':' || $3)
           AND ($5 IS NULL OR created_at > $5)
         ORDER BY created_at LIMIT 1",
    )
    .bind(scope.program_id())
    .bind(scope.tenant().to_string())
    .bind(project.to_string())
    .bind(destination)
    .bind(after)
    .bind(owner.id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .context("finding the first prompt about a project")?;
    Ok(row.map(|r| r.0))
}
