//! Share links: the rows behind the signed addresses of read-only pages. A row names what
//! it opens (a program, or later a portfolio, by id), in which tenant, until when, and
//! whether it was revoked; the token itself is signed outside the store (`links`).

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::db;
use super::programs::{ProgramRow, PROGRAM_COLS_P};
use super::{Conn, Scope};
use crate::domain::{PersonId, Program, Tenant};

/// What a share link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareSubject {
    Program(i64),
    Portfolio(i64),
}

impl ShareSubject {
    pub fn kind(&self) -> &'static str {
        match self {
            ShareSubject::Program(_) => "program",
            ShareSubject::Portfolio(_) => "portfolio",
        }
    }

    pub fn id(&self) -> i64 {
        match self {
            ShareSubject::Program(id) | ShareSubject::Portfolio(id) => *id,
        }
    }

    fn from_row(kind: &str, id: i64) -> anyhow::Result<Self> {
        match kind {
            "program" => Ok(ShareSubject::Program(id)),
            "portfolio" => Ok(ShareSubject::Portfolio(id)),
            other => anyhow::bail!("a share link names an unknown kind of page: {other}"),
        }
    }
}

/// One share link as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    pub id: i64,
    pub tenant: Tenant,
    pub subject: ShareSubject,
    /// Who made it; `None` for the links digests make for themselves.
    pub created_by: Option<PersonId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_opened_at: Option<DateTime<Utc>>,
}

impl ShareLink {
    /// Whether the link opens its page at `now`: not revoked and not expired.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now <= self.expires_at
    }
}

#[derive(sqlx::FromRow)]
struct ShareRow {
    id: i64,
    tenant: String,
    subject_kind: String,
    subject_id: i64,
    created_by: Option<i64>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_opened_at: Option<DateTime<Utc>>,
}

impl TryFrom<ShareRow> for ShareLink {
    type Error = anyhow::Error;
    fn try_from(r: ShareRow) -> anyhow::Result<Self> {
        Ok(ShareLink {
            id: r.id,
            tenant: Tenant::parse(&r.tenant).map_err(|e| anyhow::anyhow!(e.0))?,
            subject: ShareSubject::from_row(&r.subject_kind, r.subject_id)?,
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_opened_at: r.last_opened_at,
        })
    }
}

const SHARE_COLS: &str = "id, tenant, subject_kind, subject_id, created_by, created_at, expires_at,
    revoked_at, last_opened_at";

/// A new link to the scope's program, made by `by` (or by a digest, with `None`).
pub async fn insert_share_link(
    conn: &mut Conn,
    scope: &Scope,
    by: Option<PersonId>,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> anyhow::Result<ShareLink> {
    let subject = ShareSubject::Program(scope.program_id);
    insert_link(conn, &scope.tenant, subject, by, at, expires_at).await
}

/// A new link to `subject` of `tenant`; the caller has checked that the subject is the
/// tenant's.
pub async fn insert_link(
    conn: &mut Conn,
    tenant: &Tenant,
    subject: ShareSubject,
    by: Option<PersonId>,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> anyhow::Result<ShareLink> {
    let row: ShareRow = db::query_as(format!(
        "INSERT INTO share_links (tenant, subject_kind, subject_id, created_by, created_at,
           expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING {SHARE_COLS}"
    ))
    .bind(tenant.to_string())
    .bind(subject.kind())
    .bind(subject.id())
    .bind(by)
    .bind(at)
    .bind(expires_at)
    .fetch_one(&mut *conn)
    .await
    .context("making a share link")?;
    ShareLink::try_from(row)
}

/// The links of `subject` in `tenant`, newest first: revoked and expired ones too, so the
/// list shows what was shared.
pub async fn share_links(
    conn: &mut Conn,
    tenant: &Tenant,
    subject: ShareSubject,
) -> anyhow::Result<Vec<ShareLink>> {
    let rows: Vec<ShareRow> = db::query_as(format!(
        "SELECT {SHARE_COLS} FROM share_links
         WHERE tenant = $1 AND subject_kind = $2 AND subject_id = $3
         ORDER BY id DESC"
    ))
    .bind(tenant.to_string())
    .bind(subject.kind())
    .bind(subject.id())
    .fetch_all(&mut *conn)
    .await
    .context("listing share links")?;
    rows.into_iter().map(ShareLink::try_from).collect()
}

/// The link with this id, in any tenant: the caller checks its tenant and subject.
pub async fn share_link(conn: &mut Conn, id: i64) -> anyhow::Result<Option<ShareLink>> {
    let row: Option<ShareRow> = db::query_as(format!(
        "SELECT {SHARE_COLS} FROM share_links WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .context("reading a share link")?;
    row.map(ShareLink::try_from).transpose()
}

/// Revokes one of the subject's links that is not revoked yet; whether there was one.
pub async fn revoke_share_link(
    conn: &mut Conn,
    tenant: &Tenant,
    subject: ShareSubject,
    id: i64,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = db::query(
        "UPDATE share_links SET revoked_at = $1
         WHERE id = $2 AND tenant = $3 AND subject_kind = $4 AND subject_id = $5
           AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(id)
    .bind(tenant.to_string())
    .bind(subject.kind())
    .bind(subject.id())
    .execute(&mut *conn)
    .await
    .context("revoking a share link")?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every link of the subject that is still live; how many.
pub async fn revoke_share_links(
    conn: &mut Conn,
    tenant: &Tenant,
    subject: ShareSubject,
    at: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let done = db::query(
        "UPDATE share_links SET revoked_at = $1
         WHERE tenant = $2 AND subject_kind = $3 AND subject_id = $4
           AND revoked_at IS NULL AND expires_at >= $1",
    )
    .bind(at)
    .bind(tenant.to_string())
    .bind(subject.kind())
    .bind(subject.id())
    .execute(&mut *conn)
    .await
    .context("revoking share links")?;
    Ok(done.rows_affected())
}

/// Notes that a link was opened.
pub async fn share_link_opened(conn: &mut Conn, id: i64, at: DateTime<Utc>) -> anyhow::Result<()> {
    db::query("UPDATE share_links SET last_opened_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("noting a share link's opening")?;
    Ok(())
}

/// The link a digest made for the program that is live for at least `until`, newest first.
pub async fn digest_share_link(
    conn: &mut Conn,
    scope: &Scope,
    until: DateTime<Utc>,
) -> anyhow::Result<Option<ShareLink>> {
    let row: Option<ShareRow> = db::query_as(format!(
        "SELECT {SHARE_COLS} FROM share_links
         WHERE tenant = $1 AND subject_kind = 'program' AND subject_id = $2
           AND created_by IS NULL AND revoked_at IS NULL AND expires_at > $3
         ORDER BY expires_at DESC, id DESC LIMIT 1"
    ))
    .bind(scope.tenant.to_string())
    .bind(scope.program_id)
    .bind(until)
    .fetch_optional(&mut *conn)
    .await
    .context("finding a digest's share link")?;
    row.map(ShareLink::try_from).transpose()
}

/// The program a live share link opens: the link's own tenant and program, or nothing
/// when the link is revoked, expired, names something else, or the program is gone.
pub async fn shared_program(
    conn: &mut Conn,
    link: &ShareLink,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<(Scope, Program)>> {
    let ShareSubject::Program(program_id) = link.subject else {
        return Ok(None);
    };
    if !link.is_live(now) {
        return Ok(None);
    }
    let row: Option<ProgramRow> = db::query_as(format!(
        "SELECT {PROGRAM_COLS_P} FROM programs p WHERE p.id = $1 AND p.tenant = $2"
    ))
    .bind(program_id)
    .bind(link.tenant.to_string())
    .fetch_optional(&mut *conn)
    .await
    .context("reading a shared program")?;
    let Some(row) = row else {
        return Ok(None);
    };
    let program = Program::try_from(row)?;
    Ok(Some((
        Scope {
            tenant: link.tenant.clone(),
            program_id: program.id,
        },
        program,
    )))
}

/// The portfolio a live share link opens, in the link's own tenant, or nothing when the
/// link is revoked, expired, names something else, or the portfolio is gone.
pub async fn shared_portfolio(
    conn: &mut Conn,
    link: &ShareLink,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<crate::domain::Portfolio>> {
    let ShareSubject::Portfolio(id) = link.subject else {
        return Ok(None);
    };
    if !link.is_live(now) {
        return Ok(None);
    }
    super::portfolio_by_id(conn, &link.tenant, id).await
}
