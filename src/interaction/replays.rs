//! The record of signed requests already received, so a request replayed within its
//! signature's window (to this process or another sharing the database) is refused.

use anyhow::Context as _;

use crate::store::{self, Store};

/// Records signed requests. Requests that arrive together are recorded together, so the
/// record costs one turn at the writer per batch rather than per request: on PostgreSQL
/// one statement on a connection of its own, on SQLite one write transaction.
pub struct Replays {
    /// How long a signature is kept: its window and a margin for clocks that disagree.
    keep_secs: i64,
    queue: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedSender<Sighting>>>,
}

/// A signed request waiting to be recorded, and where its answer goes: true the first time.
struct Sighting {
    signature: String,
    signed_at: i64,
    now: chrono::DateTime<chrono::Utc>,
    answer: tokio::sync::oneshot::Sender<anyhow::Result<bool>>,
}

impl Replays {
    pub fn new(keep_secs: i64) -> Self {
        Self {
            keep_secs,
            queue: std::sync::Mutex::new(None),
        }
    }

    /// Records a signed request (its signature and signing time); false when it was seen
    /// before. The recorder starts on first use and ends when this is dropped.
    pub async fn first_sighting(
        &self,
        store: &Store,
        signature: String,
        signed_at: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<bool> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let queue = {
            let mut queue = self
                .queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            queue
                .get_or_insert_with(|| {
                    let (queue, queued) = tokio::sync::mpsc::unbounded_channel();
                    tokio::spawn(record_sightings(store.clone(), self.keep_secs, queued));
                    queue
                })
                .clone()
        };
        queue
            .send(Sighting {
                signature,
                signed_at,
                now,
                answer,
            })
            .map_err(|_| anyhow::anyhow!("the replay record is closed"))?;
        answered.await.context("the replay record stopped")?
    }
}

/// Records queued sightings, as many as are waiting in each transaction. Ends when the app
/// is dropped.
async fn record_sightings(
    store: Store,
    keep_secs: i64,
    mut queued: tokio::sync::mpsc::UnboundedReceiver<Sighting>,
) {
    while let Some(first) = queued.recv().await {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match queued.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let recorded = async {
            // Without waiting for the disk: a command that writes commits after its
            // sighting, and that commit flushes the log up to it; a crash of the database
            // may only forget requests that changed nothing. On a connection of its own,
            // so the requests waiting here never wait behind the commands for one.
            let mut tx = store.autocommit_lazily().await?;
            let seen: Vec<(&str, i64)> = batch
                .iter()
                .map(|s| (s.signature.as_str(), s.signed_at))
                .collect();
            let now = batch
                .iter()
                .map(|s| s.now)
                .max()
                .unwrap_or_else(chrono::Utc::now);
            let firsts = store::first_sightings(&mut tx, &seen, now, keep_secs).await?;
            tx.commit().await?;
            anyhow::Ok(firsts)
        }
        .await;
        match recorded {
            Ok(firsts) => {
                for (s, first) in batch.into_iter().zip(firsts) {
                    let _ = s.answer.send(Ok(first));
                }
            }
            Err(e) => {
                let why = format!("{e:#}");
                for s in batch {
                    let _ = s.answer.send(Err(anyhow::anyhow!("{why}")));
                }
            }
        }
    }
}
