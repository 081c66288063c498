//! Portfolio digests on their schedules: each subscription's slots are claimed under a
//! lease in `job_runs` (job `portfolio-digest:{id}`), built from every program of the
//! portfolio in a read transaction, then queued and finished in a short write transaction,
//! as program digests are. A missed slot past the digest grace window is skipped.

use chrono::{DateTime, Duration, Utc};

use super::scheduler::{Scheduler, TickReport};
use super::wording;
use crate::digest::portfolio;
use crate::domain::Audience;
use crate::outbox::{Destination, NewMessage};
use crate::store::{self, RunEnd, ScheduledPortfolio};
use crate::telemetry::metrics;

/// The job name its slots are claimed under.
pub fn job_name(schedule: i64) -> String {
    format!("portfolio-digest:{schedule}")
}

impl Scheduler {
    /// Every portfolio subscription's due slots, once.
    pub(super) async fn tick_portfolios(&self, now: DateTime<Utc>) -> anyhow::Result<TickReport> {
        let all = {
            let mut tx = self.store.read().await?;
            let all = store::all_portfolio_schedules(&mut tx).await?;
            tx.commit().await?;
            all
        };
        let mut report = TickReport::default();
        for sp in &all {
            if let Err(e) = self.tick_portfolio(sp, now, &mut report).await {
                report.failed += 1;
                metrics::job("digest", "failed");
                tracing::error!(schedule = sp.schedule.id, portfolio = %sp.portfolio.key, error = ?e, "portfolio digest failed");
            }
        }
        Ok(report)
    }

    async fn tick_portfolio(
        &self,
        sp: &ScheduledPortfolio,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> anyhow::Result<()> {
        let name = job_name(sp.schedule.id);
        let tz = sp.portfolio.timezone.tz();
        let grace = Duration::minutes(self.settings.grace_digest_mins);
        let (abandoned, resume) = {
            let store::JobPlace {
                expired: abandoned,
                last,
                ..
            } = store::job_place(&mut self.store.conn().await?, &name, now).await?;
            let created = sp.schedule.created_at;
            (abandoned, last.map_or(created, |l| l.max(created)))
        };
        let due: Vec<DateTime<Utc>> = sp
            .schedule
            .spec
            .iter_after(tz, resume)
            .take_while(|slot| *slot <= now)
            .take(self.settings.max_slots_per_tick)
            .collect();
        for slot in abandoned.into_iter().chain(due) {
            if now - slot > grace {
                let mut tx = self.store.write().await?;
                if store::skip_slot(
                    &mut tx,
                    &name,
                    None,
                    slot,
                    now,
                    "missed: past its grace window",
                )
                .await?
                {
                    report.skipped += 1;
                    metrics::job("digest", "skipped");
                }
                tx.commit().await?;
                continue;
            }
            let expires = now + Duration::seconds(self.settings.lease_secs.max(1));
            let claimed = {
                let mut tx = self.store.write().await?;
                let claimed = store::claim_leased_slot(
                    &mut tx,
                    &name,
                    None,
                    slot,
                    now,
                    &self.claimant,
                    expires,
                )
                .await?;
                tx.commit().await?;
                claimed
            };
            let Some(run_id) = claimed else { continue };
            report.built += 1;
            let built = self.build_portfolio_digest(sp, slot, now).await;
            let (message, words) = match built {
                Ok(b) => b,
                Err(e) => {
                    let mut tx = self.store.write().await?;
                    store::release_leased_slot(&mut tx, run_id, &self.claimant).await?;
                    tx.commit().await?;
                    return Err(e);
                }
            };
            let mut tx = self.store.write().await?;
            if !store::finish_leased_run(&mut tx, run_id, &self.claimant, RunEnd::Done, &words, now)
                .await?
            {
                tx.rollback().await?;
                tracing::warn!(job = name, %slot, "lost the slot's lease; another scheduler runs it");
                continue;
            }
            if store::enqueue(&mut tx, &message).await?.is_some() {
                report.queued += 1;
            }
            tx.commit().await?;
            report.ran += 1;
            metrics::job("digest", "ran");
        }
        Ok(())
    }

    /// The digest of every program of the portfolio, as the message to queue.
    async fn build_portfolio_digest(
        &self,
        sp: &ScheduledPortfolio,
        slot: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(NewMessage, String)> {
        let audience = sp.schedule.audience;
        let mut tx = self.store.read().await?;
        let snaps = store::portfolio_snapshots(&mut tx, &sp.tenant, &sp.portfolio, now).await?;
        let owner = store::person(&mut tx, &sp.tenant, sp.portfolio.owner).await?;
        tx.rollback().await?;
        let detail = audience == Audience::Engineering;
        let key = sp.portfolio.key.to_string();
        let name = sp.portfolio.name.to_string();
        let today = now.with_timezone(&sp.portfolio.timezone.tz()).date_naive();
        let d = tokio::task::spawn_blocking(move || {
            let lines = portfolio::lines(&snaps, detail);
            portfolio::build(Some(key), name, audience, today, lines)
        })
        .await?;
        let destination: Destination = match &sp.schedule.destination {
            Some(json) => serde_json::from_str(json)?,
            None => Destination::for_person(&sp.tenant, &owner.handle),
        };
        let words = format!(
            "{} portfolio digest, {} programs",
            audience.as_str(),
            d.programs.len()
        );
        let message = NewMessage {
            tenant: sp.tenant.clone(),
            program_id: None,
            destination,
            reply: portfolio::to_reply(&d),
            reason: wording::portfolio_digest_reason(
                audience,
                sp.portfolio.key.as_str(),
                &sp.schedule.spec.describe(),
                sp.schedule.id,
            ),
            dedup_key: Some(format!("{}@{}", job_name(sp.schedule.id), slot.timestamp())),
            not_before: now,
        };
        Ok((message, words))
    }
}
