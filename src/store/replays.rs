//! Signed Slack requests seen lately: a request is accepted once, and the record of it is
//! kept only while its timestamp could still pass the window.

use super::db;
use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::{Conn, Dialect};

/// Records the requests with these signatures, signed at the given times (Unix seconds):
/// for each, true the first time; false when it was seen before (in an earlier call, or
/// earlier in this one), i.e. the request is a replay. Rows signed more than `keep_secs`
/// before `now` are pruned on the way: no request that old passes the window any more.
///
/// The batch goes as one JSON argument, so every batch size is the same statement, prepared
/// once per connection; on PostgreSQL the pruning rides in it too, one round trip in all.
pub async fn first_sightings(
    conn: &mut Conn,
    seen: &[(&str, i64)],
    now: DateTime<Utc>,
    keep_secs: i64,
) -> anyhow::Result<Vec<bool>> {
    // A signature twice in one call is a replay the second time.
    let mut fresh: Vec<(&str, i64)> = Vec::with_capacity(seen.len());
    for (signature, signed_at) in seen {
        if !fresh.iter().any(|(s, _)| s == signature) {
            fresh.push((signature, *signed_at));
        }
    }
    let oldest_kept = now.timestamp() - keep_secs;
    let batch = serde_json::to_string(
        &fresh
            .iter()
            .map(|(s, t)| serde_json::json!({ "s": s, "t": t }))
            .collect::<Vec<_>>(),
    )
    .context("writing the batch of Slack signatures")?;
    let inserted: Vec<(String,)> = match conn.dialect() {
        Dialect::Postgres => {
            db::query_as(
                "WITH pruned AS (DELETE FROM slack_replays WHERE signed_at < $2)
                 INSERT INTO slack_replays (signature, signed_at)
                 SELECT s, t FROM jsonb_to_recordset($1) AS b(s text, t bigint)
                 ON CONFLICT (signature) DO NOTHING RETURNING signature",
            )
            .bind(db::Json(batch))
            .bind(oldest_kept)
            .fetch_all(&mut *conn)
            .await
        }
        Dialect::Sqlite => {
            db::query("DELETE FROM slack_replays WHERE signed_at < $1")
                .bind(oldest_kept)
                .execute(&mut *conn)
                .await
                .context("pruning old Slack signatures")?;
            // `WHERE true` tells SQLite's parser the `ON CONFLICT` is the upsert's.
            db::query_as(
                "INSERT INTO slack_replays (signature, signed_at)
                 SELECT json_extract(value, '$.s'), json_extract(value, '$.t')
                 FROM json_each($1) WHERE true
                 ON CONFLICT (signature) DO NOTHING RETURNING signature",
            )
            .bind(db::Json(batch))
            .fetch_all(&mut *conn)
            .await
        }
    }
    .context("recording Slack signatures")?;
    let inserted: std::collections::HashSet<String> = inserted.into_iter().map(|(s,)| s).collect();
    let mut answered = std::collections::HashSet::new();
    Ok(seen
        .iter()
        .map(|(signature, _)| inserted.contains(*signature) && answered.insert(*signature))
        .collect())
}

/// How many Slack signatures are kept (for tests and the operator's curiosity).
pub async fn slack_signatures_kept(conn: &mut Conn) -> anyhow::Result<i64> {
    let (n,): (i64,) = db::query_as("SELECT count(*) FROM slack_replays")
        .fetch_one(&mut *conn)
        .await
        .context("counting Slack signatures")?;
    Ok(n)
}
