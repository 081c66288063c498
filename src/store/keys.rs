//! Secrets the installation makes for itself and keeps (table `server_keys`), such as the
//! key that signs chart links.

use super::db;
use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::Conn;

/// The key stored under `name`, storing `fresh` first if there is none yet. Two processes
/// starting at once both try; the first insert wins for both.
pub async fn server_key(
    conn: &mut Conn,
    name: &str,
    fresh: &[u8],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<u8>> {
    db::query("INSERT INTO server_keys (name, key, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(fresh)
        .bind(now)
        .execute(&mut *conn)
        .await
        .with_context(|| format!("storing the {name} key"))?;
    let (key,): (Vec<u8>,) = db::query_as("SELECT key FROM server_keys WHERE name = $1")
        .bind(name)
        .fetch_one(&mut *conn)
        .await
        .with_context(|| format!("loading the {name} key"))?;
    Ok(key)
}
