//! The delivery worker: claims due outbox rows, hands each to its sender, and records how it
//! went — sent, retried later with backoff, or dead-lettered with a notice to the program
//! owner in the same transaction. `run` is the long-lived loop; `drain` delivers everything
//! due now and stops, for tests and the demo.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument as _;

use super::{
    Destination, NewMessage, OutboxRow, SendOutcome, Sender as _, Senders, DEAD_NOTICE_PREFIX,
};
use crate::clock::Clock;
use crate::config::DeliverySettings;
use crate::reply::{Reply, Text, Tone};
use crate::store::{self, Store};
use crate::telemetry::metrics;

/// When to try again: exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max: Duration,
    /// Attempts, the first included, before a message is dead-lettered.
    pub max_attempts: u32,
}

impl RetryPolicy {
    pub fn from_settings(settings: &DeliverySettings) -> Self {
        Self {
            base: Duration::from_millis(settings.retry_base_ms),
            max: Duration::from_millis(settings.retry_max_ms),
            max_attempts: settings.max_attempts.max(1),
        }
    }

    /// The wait after `attempts` failed attempts. A destination that said when to come back
    /// (`Retry-After`) is taken at its word, with up to a tenth more so the rows it turned
    /// away do not all return at one instant; backing off further would leave its window
    /// unused. Otherwise random up to base × 2^attempts (capped at `max`), so retries of many
    /// messages spread out. At least a millisecond, so a retry is never due at the instant
    /// it failed and a drain under a stopped clock ends.
    pub fn delay(&self, attempts: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = match retry_after {
            Some(after) => after / 10,
            None => self
                .base
                .saturating_mul(2u32.saturating_pow(attempts))
                .min(self.max),
        };
        let ceiling_ms = u64::try_from(ceiling.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let jittered = Duration::from_millis(rand::random_range(1..=ceiling_ms));
        retry_after.unwrap_or_default() + jittered
    }
}

/// What a drain did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DrainReport {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    /// Rows still pending afterwards (waiting for a retry or their `not_before`).
    pub waiting: i64,
}

#[derive(Debug, Default, Clone, Copy)]
struct TickReport {
    claimed: usize,
    sent: usize,
    retried: usize,
    dead: usize,
    deferred: usize,
}

impl TickReport {
    fn add(&mut self, r: Recorded) {
        match r {
            Recorded::Sent => self.sent += 1,
            Recorded::Retried => self.retried += 1,
            Recorded::Dead => self.dead += 1,
            Recorded::Lost => {}
        }
    }

    fn merge(&mut self, o: TickReport) {
        self.claimed += o.claimed;
        self.sent += o.sent;
        self.retried += o.retried;
        self.dead += o.dead;
        self.deferred += o.deferred;
    }
}

/// How an attempt was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorded {
    Sent,
    Retried,
    Dead,
    /// The claim was taken over (released as stale and claimed again): nothing recorded.
    Lost,
}

/// Delivers the outbox. Cheap to clone; clones share one worker.
#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    senders: Senders,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    batch: u32,
    poll_interval: Duration,
    stale_claim: Duration,
    /// Rows for one webhook are handed out this far apart, so the sender's pacing never
    /// holds a claim for long.
    pacing_interval: Duration,
}

impl Worker {
    pub fn new(
        store: Store,
        senders: Senders,
        clock: Arc<dyn Clock>,
        settings: &DeliverySettings,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                senders,
                clock,
                policy: RetryPolicy::from_settings(settings),
                batch: settings.batch.max(1),
                poll_interval: Duration::from_millis(settings.poll_interval_ms.max(1)),
                stale_claim: Duration::from_secs(settings.stale_claim_secs),
                pacing_interval: Duration::from_millis(settings.webhook_min_interval_ms),
            }),
        }
    }

    /// Delivers until `shutdown` turns true (or its sender is dropped). Messages being sent
    /// when it does are finished and recorded; nothing more is claimed. Claims left by a
    /// crashed process are released at start and every `stale_claim_secs` after.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut last_recovery: Option<tokio::time::Instant> = None;
        tracing::info!("outbox worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            if last_recovery.is_none_or(|t| t.elapsed() >= self.inner.stale_claim) {
                match self.recover().await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(
                        released = n,
                        "re-queued messages a crashed worker had claimed"
                    ),
                    Err(e) => tracing::error!(error = ?e, "releasing stale outbox claims failed"),
                }
                last_recovery = Some(tokio::time::Instant::now());
            }
            let busy = match self.tick(true).await {
                Ok(r) => r.claimed > 0,
                Err(e) => {
                    tracing::error!(error = ?e, "outbox tick failed");
                    false
                }
            };
            if *shutdown.borrow() {
                break;
            }
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(self.inner.poll_interval) => {}
                    changed = shutdown.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                }
            }
        }
        tracing::info!("outbox worker stopped");
        Ok(())
    }

    /// Claims and sends everything due at the clock's now, again and again, until nothing
    /// is due. Retries land after now, so they wait for the clock to move.
    pub async fn drain(&self) -> anyhow::Result<DrainReport> {
        let mut total = TickReport::default();
        loop {
            let r = self.tick(false).await?;
            if r.claimed == 0 {
                break;
            }
            total.merge(r);
        }
        let depth = {
            let mut tx = self.inner.store.read().await?;
            let d = store::outbox_depth(&mut tx).await?;
            tx.commit().await?;
            d
        };
        Ok(DrainReport {
            sent: total.sent,
            retried: total.retried,
            dead: total.dead,
            waiting: depth.pending,
        })
    }

    /// Re-queues rows claimed more than `stale_claim_secs` ago and never finished: their
    /// worker crashed. A row whose attempts are spent is dead-lettered instead, its program
    /// owner told, as any other that failed `max_attempts` times. Returns how many were
    /// re-queued.
    pub async fn recover(&self) -> anyhow::Result<u64> {
        let inner = &self.inner;
        let stale = chrono::Duration::from_std(inner.stale_claim)?;
        let now = inner.clock.now();
        let older_than = now - stale;
        let spent = {
            let mut tx = inner.store.read().await?;
            let rows =
                store::spent_stale_claims(&mut tx, older_than, inner.policy.max_attempts).await?;
            tx.commit().await?;
            rows
        };
        for row in &spent {
            let error = format!(
                "gave up after {} attempts: each time, the process sending it stopped before it was recorded",
                row.attempts
            );
            inner.dead_letter(row, &error, now).await?;
        }
        let mut tx = inner.store.write().await?;
        let n = store::release_stale_claims(&mut tx, older_than, inner.policy.max_attempts).await?;
        tx.commit().await?;
        let mut tx = inner.store.write().await?;
        store::prune_pacing(&mut tx, now - chrono::Duration::hours(1)).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// One round: claim a batch, send it (different destinations at once, one webhook's
    /// rows in order), record each outcome. With `paced`, each webhook's pacing row (shared
    /// by every process) decides: at most one of its rows is sent now and the rest are
    /// handed back for later slots, so a long queue for one webhook holds up no other and
    /// two processes never post to one webhook at once. Without (a drain, in one process),
    /// one webhook's rows go in order through the sender's own pacing.
    async fn tick(&self, paced: bool) -> anyhow::Result<TickReport> {
        let inner = &self.inner;
        let now = inner.clock.now();
        let (rows, deferred) = {
            let mut tx = inner.store.write().await?;
            let rows = store::claim_due(&mut tx, now, inner.batch).await?;
            let (rows, deferred) = if paced && !inner.pacing_interval.is_zero() {
                store::pace_claimed(&mut tx, rows, now, inner.pacing_interval).await?
            } else {
                (rows, 0)
            };
            tx.commit().await?;
            (rows, deferred)
        };
        let mut report = TickReport {
            claimed: rows.len() + deferred,
            deferred,
            ..TickReport::default()
        };
        if rows.is_empty() {
            return Ok(report);
        }
        tracing::debug!(claimed = rows.len(), deferred, "claimed due messages");

        let mut groups: Vec<Vec<OutboxRow>> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        for row in rows {
            match row.destination.pacing_key() {
                Some(key) => match by_key.get(key) {
                    Some(&g) => groups[g].push(row),
                    None => {
                        by_key.insert(key.to_owned(), groups.len());
                        groups.push(vec![row]);
                    }
                },
                None => groups.push(vec![row]),
            }
        }

        let mut running = JoinSet::new();
        for group in groups {
            let inner = self.inner.clone();
            running.spawn(async move {
                let mut r = TickReport::default();
                for row in group {
                    let id = row.id;
                    match inner.deliver(row).await {
                        Ok(recorded) => r.add(recorded),
                        Err(e) => {
                            // The row stays claimed until it is released as stale.
                            tracing::error!(outbox_id = id, error = ?e, "recording a delivery failed");
                        }
                    }
                }
                r
            });
        }
        while let Some(done) = running.join_next().await {
            match done {
                Ok(r) => report.merge(TickReport { claimed: 0, ..r }),
                Err(e) => tracing::error!(error = ?e, "a delivery task panicked"),
            }
        }
        Ok(report)
    }
}

impl Inner {
    /// Sends one claimed row and records the outcome.
    async fn deliver(&self, row: OutboxRow) -> anyhow::Result<Recorded> {
        let span = tracing::info_span!(
            "outbox_send",
            outbox_id = row.id,
            attempt = row.attempts,
            destination = row.destination.kind().as_str(),
        );
        async {
            let outcome = self.senders.send(&row).await;
            let now = self.clock.now();
            match outcome {
                SendOutcome::Sent => {
                    let mut tx = self.store.write().await?;
                    let held = store::mark_sent(&mut tx, &row, now).await?;
                    tx.commit().await?;
                    Ok(if held {
                        metrics::delivery(row.destination.platform().as_str(), "sent");
                        tracing::debug!("delivered");
                        Recorded::Sent
                    } else {
                        tracing::warn!("delivered, but another worker had taken the message over");
                        Recorded::Lost
                    })
                }
                SendOutcome::Retry {
                    after,
                    error,
                    parts_sent,
                } if row.attempts < self.policy.max_attempts => {
                    let wait = self.policy.delay(row.attempts, after);
                    let next = now + chrono::Duration::from_std(wait)?;
                    let mut tx = self.store.write().await?;
                    let held = store::mark_retry(&mut tx, &row, next, &error, parts_sent).await?;
                    tx.commit().await?;
                    tracing::warn!(%error, retry_in_ms = wait.as_millis() as u64, "delivery failed; will retry");
                    if held {
                        metrics::delivery(row.destination.platform().as_str(), "retried");
                    }
                    Ok(if held { Recorded::Retried } else { Recorded::Lost })
                }
                SendOutcome::Retry { error, .. } => {
                    let error = format!("gave up after {} attempts: {error}", row.attempts);
                    self.dead_letter(&row, &error, now).await
                }
                SendOutcome::Permanent { error } => self.dead_letter(&row, &error, now).await,
            }
        }
        .instrument(span)
        .await
    }

    /// Dead-letters the row and, in the same transaction, queues a notice to the owner of
    /// its program — unless the row is itself such a notice.
    async fn dead_letter(
        &self,
        row: &OutboxRow,
        error: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Recorded> {
        let mut tx = self.store.write().await?;
        if !store::mark_dead(&mut tx, row, error).await? {
            tx.rollback().await?;
            return Ok(Recorded::Lost);
        }
        let is_notice = row
            .dedup_key
            .as_deref()
            .is_some_and(|k| k.starts_with(DEAD_NOTICE_PREFIX));
        let mut notified = false;
        if let (Some(program_id), false) = (row.program_id, is_notice) {
            if let Some((owner, key, route)) =
                store::program_owner_handle(&mut tx, &row.tenant, program_id).await?
            {
                // The program's route, unless that is where the message just died.
                let destination = match route {
                    Some(r) if r != row.destination => r,
                    _ => Destination::for_person(&row.tenant, &owner),
                };
                let notice = NewMessage {
                    tenant: row.tenant.clone(),
                    program_id: Some(program_id),
                    destination,
                    reply: dead_notice(row, error),
                    reason: format!(
                        "You own {key}, and a message could not be delivered; nothing else will retry it."
                    ),
                    dedup_key: Some(format!("{DEAD_NOTICE_PREFIX}{}", row.id)),
                    not_before: now,
                };
                notified = store::enqueue(&mut tx, &notice).await?.is_some();
            }
        }
        tx.commit().await?;
        metrics::delivery(row.destination.platform().as_str(), "dead");
        tracing::error!(%error, notified, "message dead-lettered");
        Ok(Recorded::Dead)
    }
}

/// What the program owner reads when a message of theirs died.
fn dead_notice(row: &OutboxRow, error: &str) -> Reply {
    Reply::new("A message could not be delivered")
        .tone(Tone::Warning)
        .paragraph(
            Text::new()
                .text("Drumbeat gave up on ")
                .strong(row.reply.title.clone())
                .text(format!(
                    " for {} after {} attempt{}.",
                    row.destination.masked(),
                    row.attempts,
                    if row.attempts == 1 { "" } else { "s" }
                )),
        )
        .fields(vec![
            ("Error", Text::plain(error)),
            ("It was sent because", Text::marked(&row.reason)),
            (
                "Queued",
                Text::plain(row.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            ),
            ("Outbox id", Text::plain(row.id.to_string())),
        ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            max: Duration::from_secs(2),
            max_attempts: 5,
        };
        for _ in 0..200 {
            let d1 = p.delay(1, None);
            assert!(d1 >= Duration::from_millis(1) && d1 <= Duration::from_millis(200));
            let d3 = p.delay(3, None);
            assert!(d3 <= Duration::from_millis(800));
            assert!(p.delay(40, None) <= Duration::from_secs(2));
            // A Retry-After is kept, with at most a tenth more, however many attempts failed.
            for attempts in [1, 4, 40] {
                let d = p.delay(attempts, Some(Duration::from_secs(5)));
                assert!(
                    d > Duration::from_secs(5) && d <= Duration::from_millis(5_500),
                    "{d:?}"
                );
            }
        }
    }
}
