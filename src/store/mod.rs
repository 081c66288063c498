//! All SQL lives here. SQLite through sqlx: WAL, foreign keys, a busy timeout, and
//! migrations run at open. Every function takes the tenant, or a [`Scope`] that can only
//! be obtained by looking a program up within its tenant.

mod outbox;
mod people;
mod programs;
mod records;
mod routes;
mod schedule;
mod snapshot;
mod work;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

pub use outbox::*;
pub use people::*;
pub use programs::*;
pub use records::*;
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

pub type Tx = Transaction<'static, Sqlite>;
pub type Conn = sqlx::SqliteConnection;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    Normal,
    Full,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct DbSettings {
    pub path: String,
    pub synchronous: Durability,
    pub busy_timeout_ms: u64,
    pub max_connections: u32,
}

impl Default for DbSettings {
    fn default() -> Self {
        Self {
            path: "drumbeat.db".into(),
            synchronous: Durability::Normal,
            busy_timeout_ms: 5000,
            max_connections: 4,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    #[tracing::instrument(skip(settings), fields(path = %settings.path))]
    pub async fn open(settings: &DbSettings) -> anyhow::Result<Self> {
        let path = Path::new(&settings.path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the database folder {}", dir.display()))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(settings.busy_timeout_ms))
            .synchronous(match settings.synchronous {
                Durability::Normal => SqliteSynchronous::Normal,
                Durability::Full => SqliteSynchronous::Full,
            });
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .min_connections(0)
            .connect_with(options)
            .await
            .with_context(|| format!("opening the database {}", path.display()))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .with_context(|| format!("migrating the database {}", path.display()))?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A transaction that takes the write lock up front, so two writers queue on the busy
    /// timeout instead of failing on a lock upgrade.
    pub async fn write(&self) -> anyhow::Result<Tx> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .context("starting a write transaction")
    }

    pub async fn read(&self) -> anyhow::Result<Tx> {
        self.pool
            .begin()
            .await
            .context("starting a read transaction")
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
