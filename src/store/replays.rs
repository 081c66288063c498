//! Signed Slack requests seen lately: a request is accepted once, and the record of it is
//! kept only while its timestamp could still pass the window.

use super::db;
use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::Conn;

/// Records the request with this `signature`, signed at `signed_at` (Unix seconds). True
/// the first time; false when it was seen before, i.e. the request is a replay. Rows signed
/// more than `keep_secs` before `now` are pruned on the way: no request that old passes
/// the window any more.
pub async fn first_sighting(
    conn: &mut Conn,
    signature: &str,
    signed_at: i64,
    now: DateTime<Utc>,
    keep_secs: i64,
) -> anyhow::Result<bool> {
    db::query("DELETE FROM slack_replays WHERE signed_at < $1")
        .bind(now.timestamp() - keep_secs)
        .execute(&mut *conn)
        .await
        .context("pruning old Slack signatures")?;
    let inserted = db::query(
        "INSERT INTO slack_replays (signature, signed_at) VALUES ($1, $2)
         ON CONFLICT (signature) DO NOTHING",
    )
    .bind(signature)
    .bind(signed_at)
    .execute(&mut *conn)
    .await
    .context("recording a Slack signature")?;
    Ok(inserted.rows_affected() == 1)
}

/// How many Slack signatures are kept (for tests and the operator's curiosity).
pub async fn slack_signatures_kept(conn: &mut Conn) -> anyhow::Result<i64> {
    let (n,): (i64,) = db::query_as("SELECT count(*) FROM slack_replays")
        .fetch_one(&mut *conn)
        .await
        .context("counting Slack signatures")?;
    Ok(n)
}
