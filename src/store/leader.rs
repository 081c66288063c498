//! Which process leads the scheduler's ticking. On SQLite there is one process, and it
//! leads. On PostgreSQL the leader holds a session advisory lock on a connection of its own:
//! when its process dies, PostgreSQL ends the session and frees the lock, and the next
//! process that asks takes it. The unique (job, slot) claim stays the guard against a slot
//! run twice; the lead only keeps N processes from all ticking.

use anyhow::Context as _;
use sqlx::postgres::PgConnection;
use sqlx::{ConnectOptions as _, Connection as _};

use super::{db, Conn, Store};

/// The advisory lock of the scheduler's lead is the pair (this, a hash of the schema's
/// name): "DRUM" in ASCII, and one lead per Drumbeat schema, so installations that share a
/// PostgreSQL database in separate schemas do not wait on each other.
pub const LEADER_LOCK: i32 = 0x4452_554D;

/// This process's lead, while it holds it.
pub struct Leadership {
    /// The dedicated connection that holds the lock (PostgreSQL); `None` on SQLite.
    conn: Option<PgConnection>,
}

impl std::fmt::Debug for Leadership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leadership")
            .field("postgres", &self.conn.is_some())
            .finish()
    }
}

impl Leadership {
    /// Whether the lead is still held: its connection answers within `within`. A lost or
    /// silent connection counts as lost: PostgreSQL may already have ended the session and
    /// freed the lock, and another process may lead now.
    pub async fn still_held(&mut self, within: std::time::Duration) -> bool {
        match &mut self.conn {
            None => true,
            Some(conn) => matches!(tokio::time::timeout(within, conn.ping()).await, Ok(Ok(()))),
        }
    }

    /// Gives the lead up, so another process can take it at once.
    pub async fn release(self) {
        if let Some(mut conn) = self.conn {
            let _ = sqlx::query("SELECT pg_advisory_unlock($1, hashtext(current_schema()))")
                .bind(LEADER_LOCK)
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

/// A process that asks for the lead, on a connection of its own that it keeps between asks.
pub struct Candidate {
    store: Store,
    name: String,
    conn: Option<PgConnection>,
}

impl Candidate {
    /// Asks for the lead; `Some` when this process now holds it. On SQLite it always does.
    pub async fn try_lead(&mut self) -> anyhow::Result<Option<Leadership>> {
        let Some(pool) = self.store.postgres() else {
            return Ok(Some(Leadership { conn: None }));
        };
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => pool
                .connect_options()
                .as_ref()
                .clone()
                .application_name(&self.name)
                .connect()
                .await
                .context("connecting for the scheduler's lead")?,
        };
        let (got,): (bool,) =
            sqlx::query_as("SELECT pg_try_advisory_lock($1, hashtext(current_schema()))")
                .bind(LEADER_LOCK)
                .fetch_one(&mut conn)
                .await
                .context("asking for the scheduler's lead")?;
        if got {
            Ok(Some(Leadership { conn: Some(conn) }))
        } else {
            self.conn = Some(conn);
            Ok(None)
        }
    }
}

impl Store {
    /// A candidate for the scheduler's lead. `name` is shown to `drumbeat doctor` as who
    /// leads.
    pub fn candidate(&self, name: &str) -> Candidate {
        Candidate {
            store: self.clone(),
            name: name.to_owned(),
            conn: None,
        }
    }

    /// Takes the scheduler's lead if no other process holds it (one ask).
    pub async fn try_lead(&self, name: &str) -> anyhow::Result<Option<Leadership>> {
        self.candidate(name).try_lead().await
    }
}

/// Who holds the lead on PostgreSQL: the application name and address of its session.
pub async fn leader(conn: &mut Conn) -> anyhow::Result<Option<String>> {
    let row: Option<(String, Option<String>, i32)> = db::query_as(
        "SELECT a.application_name, host(a.client_addr), a.pid
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
           AND l.classid = $1::oid AND l.objid = hashtext(current_schema())::oid
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .bind(LEADER_LOCK)
    .fetch_optional(&mut *conn)
    .await
    .context("asking who leads")?;
    Ok(row.map(|(name, addr, pid)| {
        format!(
            "{name} (backend pid {pid}{})",
            addr.map(|a| format!(", from {a}")).unwrap_or_default()
        )
    }))
}
