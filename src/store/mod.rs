//! All SQL lives here. SQLite through sqlx: WAL, foreign keys, a busy timeout, and
//! migrations run at open. Every function takes the tenant, or a [`Scope`] that can only
//! be obtained by looking a program up within its tenant.

mod counters;
mod feeds;
mod keys;
mod ops;
mod outbox;
mod people;
mod programs;
mod records;
mod replays;
mod routes;
mod schedule;
mod snapshot;
mod work;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use feeds::*;
pub use keys::server_key;
pub use ops::{inspect, integrity_check, oldest_due, Inspection};
pub use outbox::*;
pub use people::*;
pub use programs::*;
pub use records::*;
pub use replays::{first_sighting, slack_signatures_kept};
pub use routes::*;
pub use schedule::*;
pub use snapshot::{has_downstream, load_schedule, load_snapshot};
pub use work::*;

use crate::domain::Tenant;

/// Reads many rows in one: each row of `inner` becomes a JSON object of `columns`, SQLite
/// aggregates them into one array ordered by `order`, and serde parses it once. sqlx hands SQLite
/// rows over one at a time from its worker thread, several µs each, and that dominated
/// whole-program reads (5,000 dependencies: 35 ms row by row).
///
/// `columns` names the columns of `inner`; a `name=expr` entry uses `expr` for `name` (e.g.
/// `before=json(before)` to embed stored JSON as JSON).
pub(crate) async fn json_rows<T: serde::de::DeserializeOwned>(
    conn: &mut Conn,
    columns: &str,
    inner: &str,
    order: &str,
    bind: i64,
) -> anyhow::Result<Vec<T>> {
    let object = columns
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| match c.split_once('=') {
            Some((name, expr)) => format!("'{name}', {expr}"),
            None => format!("'{c}', {c}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT coalesce(json_group_array(json_object({object}) ORDER BY {order}), '[]') FROM ({inner})"
    );
    let (json,): (String,) = sqlx::query_as(&sql)
        .bind(bind)
        .fetch_one(&mut *conn)
        .await
        .context("reading rows")?;
    serde_json::from_str(&json).context("decoding rows")
}

/// A transaction. A write transaction also holds this process's writer turn: writers queue
/// here, first come first served, instead of on SQLite's busy handler, whose sleeps (up to
/// 100 ms each) would be the tail latency under load. Other processes still meet the busy
/// timeout.
pub struct Tx {
    inner: Transaction<'static, Sqlite>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl std::ops::Deref for Tx {
    type Target = Transaction<'static, Sqlite>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

pub type Conn = sqlx::SqliteConnection;

/// The migrations in `migrations/`, embedded: run at open, compared by `drumbeat doctor`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Pages the write-ahead log may grow to before a committing writer checkpoints it itself:
/// the backstop, should background checkpoints fall behind.
const AUTOCHECKPOINT_PAGES: u32 = 10_000;
/// How often the background checkpoint runs.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

/// Copies the write-ahead log back into the database every few seconds with a PASSIVE
/// checkpoint, which waits for no reader or writer, so no command's commit pays for it (a
/// commit that crossed SQLite's default 1,000 pages used to, 10–20 ms at a time). Ends
/// when the pool is closed.
async fn checkpoints(pool: SqlitePool) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        if pool.is_closed() {
            break;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                break;
            }
            tracing::warn!(error = %e, "a background checkpoint failed");
        }
    }
}

/// A program looked up within its tenant. Holding one proves the program belongs to
/// the tenant, so program-scoped queries need only its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    tenant: Tenant,
    program_id: i64,
}

impl Scope {
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    pub fn program_id(&self) -> i64 {
        self.program_id
    }
}

/// How durable a commit is. `Normal` is safe in WAL mode against application crashes;
/// `Full` also survives power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Normal,
    Full,
}

/// How to open the database, as plain values: the caller turns its configuration into
/// these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The SQLite file, made (with its folder) if missing.
    pub path: PathBuf,
    pub durability: Durability,
    /// How long a statement waits for another process's lock.
    pub busy_timeout: Duration,
    /// Connections in the pool, at least one.
    pub max_connections: u32,
}

impl Options {
    /// The file at `path`, with `Normal` durability, a 5 s busy timeout and four
    /// connections.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            durability: Durability::Normal,
            busy_timeout: Duration::from_secs(5),
            max_connections: 4,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// This process's writers take turns here (see [`Tx`]).
    writer: Arc<Mutex<()>>,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    #[tracing::instrument(skip(options), fields(path = %options.path.display()))]
    pub async fn open(options: &Options) -> anyhow::Result<Self> {
        let path = options.path.as_path();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the database folder {}", dir.display()))?;
        }
        let connect = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout)
            // Checkpoints run in the background (see `checkpoints`), off the writers' path;
            // this is only the backstop if they fall behind.
            .pragma("wal_autocheckpoint", AUTOCHECKPOINT_PAGES.to_string())
            .synchronous(match options.durability {
                Durability::Normal => SqliteSynchronous::Normal,
                Durability::Full => SqliteSynchronous::Full,
            });
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(0)
            .connect_with(connect)
            .await
            .with_context(|| format!("opening the database {}", path.display()))?;
        MIGRATOR
            .run(&pool)
            .await
            .with_context(|| format!("migrating the database {}", path.display()))?;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(checkpoints(pool.clone()));
        }
        Ok(Self {
            pool,
            writer: Arc::default(),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A transaction that takes the write lock up front, so two writers queue on the busy
    /// timeout instead of failing on a lock upgrade.
    pub async fn write(&self) -> anyhow::Result<Tx> {
        let turn = self.writer.clone().lock_owned().await;
        let inner = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .context("starting a write transaction")?;
        Ok(Tx {
            inner,
            _turn: Some(turn),
        })
    }

    pub async fn read(&self) -> anyhow::Result<Tx> {
        let inner = self
            .pool
            .begin()
            .await
            .context("starting a read transaction")?;
        Ok(Tx { inner, _turn: None })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
