//! Holding the scheduler's lead. Every process runs [`hold`]; the one that holds the lead
//! ([`Store::try_lead`]) ticks the scheduler and reports the outbox gauges, and the others
//! ask again every [`RETRY`]. On SQLite the one process always leads. When the leading
//! process dies, PostgreSQL ends its session and frees the lock, and another process takes
//! the lead at its next ask: well inside ten seconds.

use std::time::Duration;

use tokio::sync::watch;

use crate::store::{Leadership, Store};

/// How often a follower asks for the lead, and the leader checks it still holds it.
pub const RETRY: Duration = Duration::from_secs(2);

/// Whether this process leads, as it changes. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Lead {
    rx: watch::Receiver<bool>,
}

impl Lead {
    /// A lead that never changes: for one process that always leads, or tests.
    pub fn fixed(leading: bool) -> Self {
        let (tx, rx) = watch::channel(leading);
        // Keep the sender alive so `changed` waits for ever instead of failing.
        std::mem::forget(tx);
        Self { rx }
    }

    pub fn is_leading(&self) -> bool {
        *self.rx.borrow()
    }

    /// Waits until this process leads (`true`) or no longer does (`false`).
    pub async fn wait_for(&mut self, leading: bool) {
        if self.rx.wait_for(|l| *l == leading).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Waits until the lead changes hands (to this process or away from it).
    pub async fn changed(&mut self) {
        if self.rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Holds the lead until the process ends: taken from [`hold`]'s task when it stops, so
/// the lead (and with it the Discord gateway's turn) passes on only once this process has
/// finished what it was doing.
#[derive(Default)]
pub struct Keeper {
    held: std::sync::Arc<tokio::sync::Mutex<Option<Leadership>>>,
}

impl Keeper {
    /// Gives the lead up, if this process held it when it stopped.
    pub async fn release(self) {
        if let Some(lead) = self.held.lock().await.take() {
            lead.release().await;
            tracing::info!("gave up the scheduler's lead");
        }
    }
}

/// Starts asking for the lead; returns it as it stands, kept current by a task that runs
/// until `shutdown`. The lead is then kept (the scheduler has stopped) until the
/// [`Keeper`] releases it, when everything else has stopped.
pub fn hold(store: Store, name: String, mut shutdown: watch::Receiver<bool>) -> (Lead, Keeper) {
    let (tx, rx) = watch::channel(false);
    let keeper = Keeper::default();
    let kept = keeper.held.clone();
    tokio::spawn(async move {
        let mut candidate = store.candidate(&name);
        let mut held: Option<Leadership> = None;
        loop {
            match held.as_mut() {
                None => match candidate.try_lead().await {
                    Ok(Some(lead)) => {
                        tracing::info!(who = %name, "this process leads the scheduler");
                        held = Some(lead);
                        let _ = tx.send(true);
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = ?e, "could not ask for the scheduler's lead"),
                },
                Some(lead) => {
                    if !lead.still_held(RETRY).await {
                        tracing::warn!(
                            "lost the scheduler's lead (its connection broke or went silent)"
                        );
                        held = None;
                        let _ = tx.send(false);
                        continue;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(RETRY) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
        *kept.lock().await = held;
    });
    (Lead { rx }, keeper)
}
