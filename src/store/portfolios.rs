//! Portfolios: a tenant's programs seen together, and their digest subscriptions.

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::db::{self, Conn};
use super::programs::{ProgramRow, PROGRAM_COLS_P};
use super::Scope;
use crate::domain::{
    Audience, Key, PersonId, Portfolio, Program, ScheduleSpec, Tenant, Timezone, Title,
};

#[derive(sqlx::FromRow)]
struct PortfolioRow {
    id: i64,
    key: String,
    name: String,
    owner_id: i64,
    timezone: String,
    created_at: DateTime<Utc>,
    programs: db::Json,
}

impl TryFrom<PortfolioRow> for Portfolio {
    type Error = anyhow::Error;
    fn try_from(r: PortfolioRow) -> anyhow::Result<Self> {
        Ok(Portfolio {
            id: r.id,
            key: Key::parse(&r.key)?,
            name: Title::parse(&r.name)?,
            owner: r.owner_id,
            timezone: Timezone::parse(&r.timezone)?,
            created_at: r.created_at,
            programs: serde_json::from_str::<Option<Vec<i64>>>(r.programs.as_str())
                .context("reading a portfolio's programs")?
                .unwrap_or_default(),
        })
    }
}

/// The portfolio's columns with its program ids in order, as one JSON array.
fn select(db: db::Dialect) -> String {
    let agg = match db {
        db::Dialect::Sqlite => {
            "(SELECT json_group_array(program_id) FROM
               (SELECT program_id FROM portfolio_programs WHERE portfolio_id = f.id ORDER BY position))"
        }
        db::Dialect::Postgres => {
            "(SELECT coalesce(json_agg(program_id ORDER BY position), '[]')::text
               FROM portfolio_programs WHERE portfolio_id = f.id)"
        }
    };
    format!(
        "SELECT f.id, f.key, f.name, f.owner_id, f.timezone, f.created_at, {agg} AS programs
         FROM portfolios f"
    )
}

/// A portfolio of the tenant by key.
pub async fn find_portfolio(
    conn: &mut Conn,
    tenant: &Tenant,
    key: &Key,
) -> anyhow::Result<Option<Portfolio>> {
    let sql = format!(
        "{} WHERE f.tenant = $1 AND f.key = $2",
        select(conn.dialect())
    );
    let row: Option<PortfolioRow> = db::query_as(sql)
        .bind(tenant.to_string())
        .bind(key.as_str())
        .fetch_optional(&mut *conn)
        .await
        .context("looking a portfolio up")?;
    row.map(Portfolio::try_from).transpose()
}

/// A portfolio of the tenant by id.
pub async fn portfolio_by_id(
    conn: &mut Conn,
    tenant: &Tenant,
    id: i64,
) -> anyhow::Result<Option<Portfolio>> {
    let sql = format!(
        "{} WHERE f.tenant = $1 AND f.id = $2",
        select(conn.dialect())
    );
    let row: Option<PortfolioRow> = db::query_as(sql)
        .bind(tenant.to_string())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .context("looking a portfolio up")?;
    row.map(Portfolio::try_from).transpose()
}

/// Every portfolio of the tenant, by key.
pub async fn list_portfolios(conn: &mut Conn, tenant: &Tenant) -> anyhow::Result<Vec<Portfolio>> {
    let sql = format!(
        "{} WHERE f.tenant = $1 ORDER BY f.key",
        select(conn.dialect())
    );
    let rows: Vec<PortfolioRow> = db::query_as(sql)
        .bind(tenant.to_string())
        .fetch_all(&mut *conn)
        .await
        .context("listing portfolios")?;
    rows.into_iter().map(Portfolio::try_from).collect()
}

pub struct NewPortfolio<'a> {
    pub key: &'a Key,
    pub name: &'a Title,
    pub owner: PersonId,
    pub timezone: &'a Timezone,
    pub created_at: DateTime<Utc>,
}

/// Adds a portfolio (its programs are set with [`set_portfolio_programs`]); `None` when the
/// tenant already has one with that key.
pub async fn insert_portfolio(
    conn: &mut Conn,
    tenant: &Tenant,
    p: NewPortfolio<'_>,
) -> anyhow::Result<Option<i64>> {
    let id: Option<(i64,)> = db::query_as(
        "INSERT INTO portfolios (tenant, key, name, owner_id, timezone, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant, key) DO NOTHING RETURNING id",
    )
    .bind(tenant.to_string())
    .bind(p.key.as_str())
    .bind(p.name.as_str())
    .bind(p.owner)
    .bind(p.timezone.as_str())
    .bind(p.created_at)
    .fetch_optional(&mut *conn)
    .await
    .context("adding a portfolio")?;
    Ok(id.map(|(id,)| id))
}

/// Writes a portfolio's name, owner and timezone.
pub async fn update_portfolio(
    conn: &mut Conn,
    tenant: &Tenant,
    p: &Portfolio,
) -> anyhow::Result<()> {
    db::query(
        "UPDATE portfolios SET name = $1, owner_id = $2, timezone = $3 WHERE id = $4 AND tenant = $5",
    )
    .bind(p.name.as_str())
    .bind(p.owner)
    .bind(p.timezone.as_str())
    .bind(p.id)
    .bind(tenant.to_string())
    .execute(&mut *conn)
    .await
    .context("changing a portfolio")?;
    Ok(())
}

/// Replaces a portfolio's programs with `programs`, in that order. The caller has checked
/// that each belongs to the portfolio's tenant.
pub async fn set_portfolio_programs(
    conn: &mut Conn,
    portfolio: i64,
    programs: &[i64],
) -> anyhow::Result<()> {
    db::query("DELETE FROM portfolio_programs WHERE portfolio_id = $1")
        .bind(portfolio)
        .execute(&mut *conn)
        .await
        .context("clearing a portfolio's programs")?;
    for (position, program) in programs.iter().enumerate() {
        db::query(
            "INSERT INTO portfolio_programs (portfolio_id, program_id, position) VALUES ($1, $2, $3)",
        )
        .bind(portfolio)
        .bind(*program)
        .bind(position as i64)
        .execute(&mut *conn)
        .await
        .context("adding a program to a portfolio")?;
    }
    Ok(())
}

/// Removes a portfolio, its programs list and its subscriptions (not the programs).
pub async fn delete_portfolio(conn: &mut Conn, tenant: &Tenant, id: i64) -> anyhow::Result<()> {
    for sql in [
        "DELETE FROM job_runs WHERE schedule_id IS NULL AND job IN
           (SELECT 'portfolio-digest:' || id FROM portfolio_schedules WHERE portfolio_id = $1)",
        "DELETE FROM portfolio_schedules WHERE portfolio_id = $1",
        "DELETE FROM portfolio_programs WHERE portfolio_id = $1",
        "DELETE FROM share_links WHERE subject_kind = 'portfolio' AND subject_id = $1",
    ] {
        db::query(sql)
            .bind(id)
            .execute(&mut *conn)
            .await
            .context("removing a portfolio")?;
    }
    db::query("DELETE FROM portfolios WHERE id = $1 AND tenant = $2")
        .bind(id)
        .bind(tenant.to_string())
        .execute(&mut *conn)
        .await
        .context("removing a portfolio")?;
    Ok(())
}

/// The portfolio's programs that are live (not archived), in its order, each with the scope
/// that reads it. Programs are found through the portfolio's own tenant, so a portfolio can
/// never reach another tenant's program.
pub async fn portfolio_programs(
    conn: &mut Conn,
    tenant: &Tenant,
    portfolio: &Portfolio,
) -> anyhow::Result<Vec<(Scope, Program)>> {
    let rows: Vec<ProgramRow> = db::query_as(format!(
        "SELECT {PROGRAM_COLS_P} FROM portfolio_programs pp
         JOIN programs p ON p.id = pp.program_id
         WHERE pp.portfolio_id = $1 AND p.tenant = $2 AND NOT p.archived
         ORDER BY pp.position"
    ))
    .bind(portfolio.id)
    .bind(tenant.to_string())
    .fetch_all(&mut *conn)
    .await
    .context("reading a portfolio's programs")?;
    rows.into_iter()
        .map(|r| {
            let p = Program::try_from(r)?;
            Ok((
                Scope {
                    tenant: tenant.clone(),
                    program_id: p.id,
                },
                p,
            ))
        })
        .collect()
}

/// Every live program of the tenant with its scope, by key: the portfolio of everything a
/// person of the tenant may read.
pub async fn tenant_programs(
    conn: &mut Conn,
    tenant: &Tenant,
) -> anyhow::Result<Vec<(Scope, Program)>> {
    Ok(super::list_programs(conn, tenant)
        .await?
        .into_iter()
        .filter(|p| !p.archived)
        .map(|p| {
            (
                Scope {
                    tenant: tenant.clone(),
                    program_id: p.id,
                },
                p,
            )
        })
        .collect())
}

/// A portfolio's digest subscription.
#[derive(Debug, Clone)]
pub struct PortfolioSchedule {
    pub id: i64,
    pub spec: ScheduleSpec,
    pub audience: Audience,
    /// A JSON destination; `None` sends to the portfolio's owner.
    pub destination: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ScheduleRow {
    id: i64,
    spec: String,
    audience: String,
    destination: Option<db::Json>,
    created_at: DateTime<Utc>,
}

impl TryFrom<ScheduleRow> for PortfolioSchedule {
    type Error = anyhow::Error;
    fn try_from(r: ScheduleRow) -> anyhow::Result<Self> {
        Ok(PortfolioSchedule {
            id: r.id,
            spec: ScheduleSpec::parse(&r.spec)?,
            audience: Audience::parse(&r.audience)?,
            destination: r.destination.map(db::Json::into_string),
            created_at: r.created_at,
        })
    }
}

/// Sets a portfolio digest subscription: one per (audience, destination); setting it again
/// changes its spec (from now on). Returns the id and whether it changed an existing one.
pub async fn set_portfolio_schedule(
    conn: &mut Conn,
    portfolio: i64,
    spec: &ScheduleSpec,
    audience: Audience,
    destination: Option<String>,
    at: DateTime<Utc>,
    by: Option<PersonId>,
) -> anyhow::Result<(i64, bool)> {
    let existing: Option<(i64, String)> = db::query_as(
        "SELECT id, spec FROM portfolio_schedules WHERE portfolio_id = $1 AND audience = $2
           AND destination IS NOT DISTINCT FROM $3",
    )
    .bind(portfolio)
    .bind(audience.as_str())
    .bind(destination.clone().map(db::Json))
    .fetch_optional(&mut *conn)
    .await
    .context("looking for a portfolio subscription")?;
    if let Some((id, old)) = existing {
        if old != spec.to_string() {
            db::query(
                "UPDATE portfolio_schedules SET spec = $1, created_at = $2, created_by = $3
                 WHERE id = $4",
            )
            .bind(spec.to_string())
            .bind(at)
            .bind(by)
            .bind(id)
            .execute(&mut *conn)
            .await
            .context("changing a portfolio subscription")?;
        }
        return Ok((id, true));
    }
    let (id,): (i64,) = db::query_as(
        "INSERT INTO portfolio_schedules (portfolio_id, spec, audience, destination, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(portfolio)
    .bind(spec.to_string())
    .bind(audience.as_str())
    .bind(destination.map(db::Json))
    .bind(at)
    .bind(by)
    .fetch_one(&mut *conn)
    .await
    .context("adding a portfolio subscription")?;
    Ok((id, false))
}

/// A portfolio's subscriptions, by id.
pub async fn portfolio_schedules(
    conn: &mut Conn,
    portfolio: i64,
) -> anyhow::Result<Vec<PortfolioSchedule>> {
    let rows: Vec<ScheduleRow> = db::query_as(
        "SELECT id, spec, audience, destination, created_at FROM portfolio_schedules
         WHERE portfolio_id = $1 ORDER BY id",
    )
    .bind(portfolio)
    .fetch_all(&mut *conn)
    .await
    .context("listing a portfolio's subscriptions")?;
    rows.into_iter().map(PortfolioSchedule::try_from).collect()
}

/// A portfolio subscription with its portfolio and tenant, as the scheduler sees it.
pub struct ScheduledPortfolio {
    pub tenant: Tenant,
    pub portfolio: Portfolio,
    pub schedule: PortfolioSchedule,
}

/// Every portfolio subscription, in every tenant. One unreadable row is logged and skipped.
pub async fn all_portfolio_schedules(conn: &mut Conn) -> anyhow::Result<Vec<ScheduledPortfolio>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        tenant: String,
        portfolio_id: i64,
        #[sqlx(flatten)]
        schedule: ScheduleRow,
    }
    let rows: Vec<Row> = db::query_as(
        "SELECT f.tenant, s.portfolio_id, s.id, s.spec, s.audience, s.destination, s.created_at
         FROM portfolio_schedules s JOIN portfolios f ON f.id = s.portfolio_id ORDER BY s.id",
    )
    .fetch_all(&mut *conn)
    .await
    .context("listing every portfolio subscription")?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id = r.schedule.id;
        let found = async {
            let tenant = Tenant::parse(&r.tenant).map_err(|e| anyhow::anyhow!(e.0))?;
            let sql = format!("{} WHERE f.id = $1", select(conn.dialect()));
            let row: PortfolioRow = db::query_as(sql)
                .bind(r.portfolio_id)
                .fetch_one(&mut *conn)
                .await?;
            anyhow::Ok(ScheduledPortfolio {
                tenant,
                portfolio: Portfolio::try_from(row)?,
                schedule: PortfolioSchedule::try_from(r.schedule)?,
            })
        }
        .await;
        match found {
            Ok(s) => out.push(s),
            Err(e) => {
                tracing::warn!(schedule = id, error = ?e, "skipping an unreadable portfolio subscription")
            }
        }
    }
    Ok(out)
}

/// Ends a portfolio subscription; whether it existed.
pub async fn remove_portfolio_schedule(
    conn: &mut Conn,
    portfolio: i64,
    id: i64,
) -> anyhow::Result<bool> {
    Ok(
        db::query("DELETE FROM portfolio_schedules WHERE portfolio_id = $1 AND id = $2")
            .bind(portfolio)
            .bind(id)
            .execute(&mut *conn)
            .await
            .context("ending a portfolio subscription")?
            .rows_affected()
            > 0,
    )
}

/// Every live program of the portfolio loaded for its lines: no events, as a portfolio line
/// reads no history.
pub async fn portfolio_snapshots(
    conn: &mut Conn,
    tenant: &Tenant,
    portfolio: &Portfolio,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<crate::domain::Snapshot>> {
    let programs = portfolio_programs(conn, tenant, portfolio).await?;
    // The tenant's people once, not once per program.
    let people = super::people(conn, tenant).await?;
    let mut snaps = Vec::with_capacity(programs.len());
    for (scope, program) in programs {
        snaps.push(
            super::load_snapshot_with(conn, &scope, program, now, Some(now), people.clone())
                .await?,
        );
    }
    Ok(snaps)
}
