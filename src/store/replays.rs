//! Signed Slack requests seen lately: a request is accepted once, and the record of it is
//! kept only while its timestamp could still pass the window.

use super::db;
use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::Conn;

/// Records the requests with these signatures, signed at the given times (Unix seconds),
/// in one statement: for each, true the first time; false when it was seen before (in an
/// earlier call, or earlier in this one), i.e. the request is a replay. Rows signed more
/// than `keep_secs` before `now` are pruned on the way: no request that old passes the
/// window any more.
pub async fn first_sightings(
    conn: &mut Conn,
    seen: &[(&str, i64)],
    now: DateTime<Utc>,
    keep_secs: i64,
) -> anyhow::Result<Vec<bool>> {
    db::query("DELETE FROM slack_replays WHERE signed_at < $1")
        .bind(now.timestamp() - keep_secs)
        .execute(&mut *conn)
        .await
        .context("pruning old Slack signatures")?;
    // A signature twice in one call is a replay the second time.
    let mut fresh: Vec<(&str, i64)> = Vec::with_capacity(seen.len());
    for (signature, signed_at) in seen {
        if !fresh.iter().any(|(s, _)| s == signature) {
            fresh.push((signature, *signed_at));
        }
    }
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<String> = (0..fresh.len())
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let mut q = db::query_as::<(String,)>(format!(
        "INSERT INTO slack_replays (signature, signed_at) VALUES {}
         ON CONFLICT (signature) DO NOTHING RETURNING signature",
        values.join(", ")
    ));
    for (signature, signed_at) in &fresh {
        q = q.bind(*signature).bind(*signed_at);
    }
    let inserted: std::collections::HashSet<String> = q
        .fetch_all(&mut *conn)
        .await
        .context("recording Slack signatures")?
        .into_iter()
        .map(|(s,)| s)
        .collect();
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
