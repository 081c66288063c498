//! Calendar feeds: a program's feed token, and finding the program a feed request is for.

use super::db;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq as _;

use super::programs::{ProgramRow, PROGRAM_COLS_P};
use super::{Conn, Scope};
use crate::domain::{PersonId, Program, Tenant};

/// The program's feed token, if its feed is on.
pub async fn ical_token(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Option<String>> {
    let row: Option<(String,)> = db::query_as("SELECT token FROM ical_feeds WHERE program_id = $1")
        .bind(scope.program_id)
        .fetch_optional(&mut *conn)
        .await
        .context("reading a feed token")?;
    Ok(row.map(|r| r.0))
}

/// Sets (or replaces) the program's feed token.
pub async fn set_ical_token(
    conn: &mut Conn,
    scope: &Scope,
    token: &str,
    by: PersonId,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    db::query(
        "INSERT INTO ical_feeds (program_id, token, created_at, created_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (program_id) DO UPDATE SET token = $2, created_at = $3, created_by = $4",
    )
    .bind(scope.program_id)
    .bind(token)
    .bind(at)
    .bind(by)
    .execute(&mut *conn)
    .await
    .context("storing a feed token")?;
    Ok(())
}

/// The program a feed request is for: among the programs called `key` (in any tenant) with
/// a feed, the one whose token is `token`. Tokens are compared in constant time, and every
/// candidate is compared, so the answer's timing does not depend on which one matched.
pub async fn program_by_ical_token(
    conn: &mut Conn,
    key: &str,
    token: &str,
) -> anyhow::Result<Option<(Scope, Program)>> {
    #[derive(sqlx::FromRow)]
    struct Candidate {
        #[sqlx(flatten)]
        program: ProgramRow,
        tenant: String,
        token: String,
    }
    let candidates: Vec<Candidate> = db::query_as(format!(
        "SELECT {PROGRAM_COLS_P}, p.tenant, f.token FROM programs p
         JOIN ical_feeds f ON f.program_id = p.id
         WHERE p.key = $1"
    ))
    .bind(key)
    .fetch_all(&mut *conn)
    .await
    .context("looking up a feed")?;
    let mut found = None;
    for c in candidates {
        if bool::from(c.token.as_bytes().ct_eq(token.as_bytes())) && found.is_none() {
            found = Some(c);
        }
    }
    let Some(c) = found else {
        return Ok(None);
    };
    let program = Program::try_from(c.program)?;
    let scope = Scope {
        tenant: Tenant::parse(&c.tenant).map_err(|e| anyhow::anyhow!(e.0))?,
        program_id: program.id,
    };
    Ok(Some((scope, program)))
}
