//! All SQL lives here, for SQLite (one process: WAL, foreign keys, a busy timeout) and
//! PostgreSQL (any number of processes), through [`db`]; migrations run at open. Every function takes the tenant, or a [`Scope`] that can only
//! be obtained by looking a program up within its tenant.

mod counters;
pub mod db;
mod feeds;
mod imports;
mod items;
mod keys;
mod leader;
mod migrate;
mod ops;
mod outbox;
mod people;
mod portfolios;
mod programs;
mod purge;
mod readiness;
mod records;
mod replays;
mod routes;
mod schedule;
mod shares;
mod snapshot;
pub mod tables;
mod work;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::{ExposeSecret as _, SecretString};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Postgres, Sqlite, SqlitePool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use feeds::*;
pub use imports::{external_id_holder, external_ids, set_external_id, ExternalIds, Tracked};
pub use items::*;
pub use keys::server_key;
pub use leader::{leader, Leadership, LEADER_LOCK};
pub use migrate::{compare_databases, copy_database, first_filled, TableComparison};
pub use ops::{inspect, integrity_check, oldest_due, Inspection};
pub use outbox::*;
pub use people::*;
pub use portfolios::*;
pub use programs::*;
pub use purge::{purge_tenant, tenant_purges, Removed};
pub use readiness::*;
pub use records::*;
pub use replays::{first_sightings, slack_signatures_kept};
pub use routes::*;
pub use schedule::*;
pub use shares::*;
pub use snapshot::{has_downstream, load_schedule, load_snapshot, load_snapshot_with};
pub use work::*;

use crate::domain::Tenant;
pub use db::{Conn, Db, Dialect, Json, Pooled};

/// Reads many rows in one: each row of `inner` becomes a JSON object of `columns`, the
/// database aggregates them into one array ordered by `order`, and serde parses it once.
/// sqlx hands SQLite rows over one at a time from its worker thread, several µs each, and
/// that dominated whole-program reads (5,000 dependencies: 35 ms row by row).
///
/// `columns` names the columns of `inner`; a `name=expr` entry uses `expr` for `name`.
pub(crate) async fn json_rows<T: serde::de::DeserializeOwned>(
    conn: &mut Conn,
    columns: &str,
    inner: &str,
    order: &str,
    bind: impl Into<db::Arg>,
) -> anyhow::Result<Vec<T>> {
    json_rows_with(conn, columns, inner, order, vec![bind.into()]).await
}

/// [`json_rows`] with any number of binds.
pub(crate) async fn json_rows_with<T: serde::de::DeserializeOwned>(
    conn: &mut Conn,
    columns: &str,
    inner: &str,
    order: &str,
    binds: Vec<db::Arg>,
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
    let sql = conn.dialect().json_array(&object, inner, order);
    let json = db::json_text(conn, sql, binds)
        .await
        .context("reading rows")?;
    serde_json::from_str(&json).context("decoding rows")
}

/// Runs `reads` (an expression of `$c`, a `&mut Conn`, that awaits its reads) so that, on
/// PostgreSQL, the database answers them in one statement: it runs once to record what it
/// reads (each read answered `[]`), the reads run as one statement, and it runs again on
/// their answers (see [`db::Gather`]). Only reads of [`json_rows`] may be made in it, and
/// nothing may be done with the first run's answers but returning them. On SQLite, or
/// inside another such read, it simply runs. Its value is an `anyhow::Result`.
macro_rules! in_one_statement {
    ($conn:expr, |$c:ident| $reads:expr) => {{
        let conn: &mut $crate::store::Conn = $conn;
        if conn.dialect() == $crate::store::Dialect::Sqlite || conn.gather().is_some() {
            let $c = conn;
            $reads
        } else {
            let mut gather = $crate::store::db::Gather::record(conn.dialect());
            let recorded = {
                let $c: &mut $crate::store::Conn = &mut gather;
                $reads
            };
            match recorded {
                Err(e) => Err(e),
                Ok(_) => match gather.replay(conn).await {
                    Err(e) => Err(e),
                    Ok(mut gather) => {
                        let $c: &mut $crate::store::Conn = &mut gather;
                        $reads
                    }
                },
            }
        }
    }};
}
pub(crate) use in_one_statement;

/// A transaction of either database. On SQLite a write transaction also holds this
/// process's writer turn: writers queue here, first come first served, instead of on
/// SQLite's busy handler, whose sleeps (up to 100 ms each) would be the tail latency under
/// load. Other processes still meet the busy timeout. PostgreSQL has many writers; a write
/// command locks its program row instead (see [`lock_program`]).
pub struct Tx {
    inner: TxInner,
    _turn: Option<OwnedMutexGuard<()>>,
    /// Made by [`Store::read`]: only reads may run on it, on either database.
    reads_only: bool,
}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
    /// A read on PostgreSQL: no transaction (see [`Store::read`]).
    PostgresReads(PoolConnection<Postgres>),
    /// Statements on PostgreSQL each committed as they run (see
    /// [`Store::autocommit_lazily`]).
    PostgresAutocommit(PoolConnection<Postgres>),
}

impl Db for TxInner {
    fn backend(&mut self) -> db::Backend<'_> {
        match self {
            TxInner::Sqlite(t) => t.backend(),
            TxInner::Postgres(t) => t.backend(),
            TxInner::PostgresReads(c) | TxInner::PostgresAutocommit(c) => c.backend(),
        }
    }
    fn dialect(&self) -> Dialect {
        match self {
            TxInner::Sqlite(_) => Dialect::Sqlite,
            TxInner::Postgres(_) | TxInner::PostgresReads(_) | TxInner::PostgresAutocommit(_) => {
                Dialect::Postgres
            }
        }
    }
}

impl Db for Tx {
    fn backend(&mut self) -> db::Backend<'_> {
        self.inner.backend()
    }
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }
    fn reads_only(&self) -> bool {
        self.reads_only
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await,
            TxInner::Postgres(t) => t.commit().await,
            TxInner::PostgresReads(_) | TxInner::PostgresAutocommit(_) => Ok(()),
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await,
            TxInner::Postgres(t) => t.rollback().await,
            TxInner::PostgresReads(_) | TxInner::PostgresAutocommit(_) => Ok(()),
        }
    }
}

impl std::ops::Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Self::Target {
        self
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self
    }
}

/// The migrations of each backend, embedded: run at open, compared by `drumbeat doctor`.
/// A new table or column is written once for each.
pub static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
pub static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The migrations of a dialect.
pub fn migrator(dialect: Dialect) -> &'static sqlx::migrate::Migrator {
    match dialect {
        Dialect::Sqlite => &SQLITE_MIGRATOR,
        Dialect::Postgres => &POSTGRES_MIGRATOR,
    }
}

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

/// Where the database is.
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite file, made (with its folder) if missing: one process.
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://…`), shared by any number of processes. The URL
    /// may hold a password.
    Postgres(SecretString),
}

impl Location {
    /// `sqlite://PATH` (or a bare path) for a SQLite file, `postgres://…` or
    /// `postgresql://…` for PostgreSQL.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres(SecretString::from(url.to_string())));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err("the database URL is empty: give sqlite://PATH or postgres://…".into());
        }
        if path.contains("://") {
            return Err(format!(
                "`{}` is not a database URL Drumbeat knows: give sqlite://PATH or postgres://…",
                url.split("://").next().unwrap_or_default()
            ));
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Location::Sqlite(_) => Dialect::Sqlite,
            Location::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Where it is, for messages: the file, or the PostgreSQL URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => redact_url(url.expose_secret()),
        }
    }
}

/// A PostgreSQL URL with any password replaced by `***`, in the user part or as a
/// `password=` parameter.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            if u.query_pairs().any(|(k, _)| k == "password") {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k == "password" {
                            "***".into()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => "(an unreadable database URL)".into(),
    }
}

impl PartialEq for Location {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Location::Sqlite(a), Location::Sqlite(b)) => a == b,
            (Location::Postgres(a), Location::Postgres(b)) => {
                a.expose_secret() == b.expose_secret()
            }
            _ => false,
        }
    }
}

/// How to open the database, as plain values: the caller turns its configuration into
/// these.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub location: Location,
    /// SQLite only (PostgreSQL's durability is its own configuration).
    pub durability: Durability,
    /// How long a statement waits for another process's lock (SQLite's busy timeout;
    /// PostgreSQL's `lock_timeout`).
    pub busy_timeout: Duration,
    /// Connections in the pool, at least one.
    pub max_connections: u32,
}

impl Options {
    /// The SQLite file at `path`, with `Normal` durability, a 5 s busy timeout and four
    /// connections.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self::at(Location::Sqlite(path.into()))
    }

    /// The database at `location`, with the defaults of [`Options::new`].
    pub fn at(location: Location) -> Self {
        let max_connections = match location.dialect() {
            Dialect::Sqlite => 4,
            Dialect::Postgres => 16,
        };
        Self {
            location,
            durability: Durability::Normal,
            busy_timeout: Duration::from_secs(5),
            max_connections,
        }
    }
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// On PostgreSQL, a few connections apart from the pool (a quarter of its size, at least
    /// two) whose commits do not wait for the disk (see [`Store::autocommit_lazily`]).
    lazy: Option<PgPool>,
    /// This process's SQLite writers take turns here (see [`Tx`]).
    writer: Arc<Mutex<()>>,
}

impl Store {
    /// Opens the database (creating a SQLite file if needed) and brings its schema up to
    /// date. On PostgreSQL the migrations run under sqlx's migration lock, so processes
    /// starting together apply them once.
    #[tracing::instrument(skip(options), fields(database = %options.location.describe()))]
    pub async fn open(options: &Options) -> anyhow::Result<Self> {
        let (pool, lazy) = match &options.location {
            Location::Sqlite(path) => (Pool::Sqlite(open_sqlite(path, options).await?), None),
            Location::Postgres(url) => {
                let pool = open_postgres(url, options).await?;
                // The record of signed requests takes one; the scheduler's claims and
                // finishes share the rest.
                let lazy = postgres_pool((options.max_connections / 4).max(2)).connect_lazy_with(
                    postgres_options(url, options)?.options([("synchronous_commit", "off")]),
                );
                (Pool::Postgres(pool), Some(lazy))
            }
        };
        Ok(Self {
            pool,
            lazy,
            writer: Arc::default(),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.pool {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A connection from the pool, outside any transaction.
    pub async fn conn(&self) -> anyhow::Result<Pooled> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Pooled::Sqlite(p.acquire().await.context("a database connection")?),
            Pool::Postgres(p) => {
                Pooled::Postgres(p.acquire().await.context("a database connection")?)
            }
        })
    }

    /// The PostgreSQL pool, when that is the database.
    pub fn postgres(&self) -> Option<&PgPool> {
        match &self.pool {
            Pool::Postgres(p) => Some(p),
            Pool::Sqlite(_) => None,
        }
    }

    /// The SQLite pool, when that is the database.
    pub fn sqlite(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(p) => Some(p),
            Pool::Postgres(_) => None,
        }
    }

    /// A write transaction. On SQLite it takes the write lock up front, so two writers
    /// queue on the busy timeout instead of failing on a lock upgrade.
    pub async fn write(&self) -> anyhow::Result<Tx> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let turn = self.writer.clone().lock_owned().await;
                let inner = pool
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .context("starting a write transaction")?;
                Ok(Tx {
                    inner: TxInner::Sqlite(inner),
                    _turn: Some(turn),
                    reads_only: false,
                })
            }
            Pool::Postgres(pool) => {
                let inner = pool.begin().await.context("starting a write transaction")?;
                Ok(Tx {
                    inner: TxInner::Postgres(inner),
                    _turn: None,
                    reads_only: false,
                })
            }
        }
    }

    /// A write transaction for bookkeeping whose commit on PostgreSQL does not wait for the
    /// disk (`synchronous_commit = off`, in the same round trip as `BEGIN`). A crash of the
    /// database may lose the last such commits, so it is only for what that never makes
    /// wrong: a lost claim is claimed again; a lost run (with the messages it queued, none
    /// of which can have been sent: sending commits with a flush, and the log is flushed in
    /// order) runs again while its slot is inside its grace window; a lost record of a
    /// signed request is of one that changed nothing (a write's own commit flushes it). On
    /// SQLite, [`Store::write`].
    pub async fn write_lazily(&self) -> anyhow::Result<Tx> {
        match &self.pool {
            Pool::Sqlite(_) => self.write().await,
            Pool::Postgres(pool) => {
                let inner = pool
                    .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
                    .await
                    .context("starting a write transaction")?;
                Ok(Tx {
                    inner: TxInner::Postgres(inner),
                    _turn: None,
                    reads_only: false,
                })
            }
        }
    }

    /// Bookkeeping written one statement at a time, as [`Store::write_lazily`] would
    /// write it, off the commands' path: the record of signed requests, a scheduled run's
    /// claim, and its finish with what it queued. On PostgreSQL a connection apart from the
    /// pool the commands wait for, whose every statement commits as it runs without waiting
    /// for the disk: one round trip a statement, so what is written must hold in one
    /// statement.
    /// `commit` and `rollback` do nothing there. On SQLite, [`Store::write`].
    pub async fn autocommit_lazily(&self) -> anyhow::Result<Tx> {
        match &self.lazy {
            None => self.write().await,
            Some(lazy) => Ok(Tx {
                inner: TxInner::PostgresAutocommit(
                    lazy.acquire()
                        .await
                        .context("the database connection for bookkeeping")?,
                ),
                _turn: None,
                reads_only: false,
            }),
        }
    }

    /// A read, on which any statement that is not a read is refused (on both databases,
    /// so tests on either find a write in a read). On SQLite a read transaction: one
    /// snapshot. On PostgreSQL a connection with no transaction around its statements: at
    /// `READ COMMITTED`, PostgreSQL's default, a transaction would give each statement its
    /// own snapshot all the same, and cost two more round trips. Reads that must see one
    /// moment use [`Store::snapshot`], or read in one statement.
    pub async fn read(&self) -> anyhow::Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => {
                TxInner::Sqlite(pool.begin().await.context("starting a read transaction")?)
            }
            Pool::Postgres(pool) => TxInner::PostgresReads(
                pool.acquire()
                    .await
                    .context("a database connection to read")?,
            ),
        };
        Ok(Tx {
            inner,
            _turn: None,
            reads_only: true,
        })
    }

    /// A read of one moment, however many statements it takes: on PostgreSQL a
    /// `REPEATABLE READ, READ ONLY` transaction (whole-database copies and comparisons,
    /// tenant exports); on SQLite a read transaction, which already is one.
    pub async fn snapshot(&self) -> anyhow::Result<Tx> {
        let inner = match &self.pool {
            Pool::Sqlite(pool) => {
                TxInner::Sqlite(pool.begin().await.context("starting a read transaction")?)
            }
            Pool::Postgres(pool) => TxInner::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .await
                    .context("starting a read transaction")?,
            ),
        };
        Ok(Tx {
            inner,
            _turn: None,
            reads_only: true,
        })
    }

    pub async fn close(&self) {
        if let Some(lazy) = &self.lazy {
            lazy.close().await;
        }
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

async fn open_sqlite(path: &Path, options: &Options) -> anyhow::Result<SqlitePool> {
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
    // A connection to a local file does not break while it waits in the pool, and sqlx
    // still checks each one as it comes back: no check on the way out (each would cost a
    // hand-over to SQLite's worker thread).
    let pool = SqlitePoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .min_connections(0)
        .test_before_acquire(false)
        .connect_with(connect)
        .await
        .with_context(|| format!("opening the database {}", path.display()))?;
    SQLITE_MIGRATOR
        .run(&pool)
        .await
        .with_context(|| format!("migrating the database {}", path.display()))?;
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(checkpoints(pool.clone()));
    }
    Ok(pool)
}

/// PostgreSQL connect options from a URL, with Drumbeat's session settings.
pub fn postgres_options(url: &SecretString, options: &Options) -> anyhow::Result<PgConnectOptions> {
    let shown = redact_url(url.expose_secret());
    let lock_timeout = format!("{}ms", options.busy_timeout.as_millis());
    let connect = PgConnectOptions::from_str(url.expose_secret())
        .with_context(|| format!("reading the database URL {shown}"))?;
    // The URL's own application_name wins: operators tell installations apart by it.
    let connect = match connect.get_application_name() {
        Some(_) => connect,
        None => connect.application_name("drumbeat"),
    };
    Ok(connect.options([("lock_timeout", lock_timeout.as_str()), ("timezone", "UTC")]))
}

/// A pool of up to `max` PostgreSQL connections. sqlx pings every connection as it comes
/// back to the pool, so a broken one is not kept; one that waited there long (the server
/// may have restarted meanwhile) is pinged again before use. One busy a moment ago is used
/// as it is, saving a round trip per transaction.
fn postgres_pool(max: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max.max(1))
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > Duration::from_secs(5) {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

async fn open_postgres(url: &SecretString, options: &Options) -> anyhow::Result<PgPool> {
    let shown = redact_url(url.expose_secret());
    let pool = postgres_pool(options.max_connections)
        .connect_with(postgres_options(url, options)?)
        .await
        .with_context(|| format!("connecting to the database {shown}"))?;
    POSTGRES_MIGRATOR
        .run(&pool)
        .await
        .with_context(|| format!("migrating the database {shown}"))?;
    Ok(pool)
}
