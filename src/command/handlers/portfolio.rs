//! Portfolios: a director's programs seen together. Anyone of the tenant may gather programs
//! into a portfolio (everyone of a tenant may read its programs); its owner or a tenant admin
//! changes it and subscribes to its digests.

use super::analysis::{in_format, load};
use super::schedule::destination_from;
use super::{refuse, Session};
use crate::analysis::Snapshot;
use crate::command::grammar::PortfolioCmd;
use crate::command::Result;
use crate::digest::portfolio::{self, Line, PortfolioDigest};
use crate::domain::{Audience, Format, Key, Portfolio, Program, ScheduleSpec, Timezone, Title};
use crate::reply::{Reply, Text};
use crate::store::{self, NewPortfolio};

/// At most this many programs in one portfolio: its digest must stay readable, and a show
/// analyses each of them.
pub const MAX_PROGRAMS: usize = 60;

pub async fn portfolio(s: &mut Session<'_>, c: PortfolioCmd) -> Result<Reply> {
    match c {
        PortfolioCmd::Create {
            key,
            name,
            programs,
            tz,
        } => create(s, key, name, programs, tz).await,
        PortfolioCmd::Set {
            key,
            name,
            owner,
            tz,
            programs,
        } => set(s, key, name, owner, tz, programs).await,
        PortfolioCmd::Add { key, programs } => add(s, key, programs).await,
        PortfolioCmd::Remove { key, programs } => remove(s, key, programs).await,
        PortfolioCmd::Show { key } => show(s, key.as_ref(), Format::Text).await,
        PortfolioCmd::List => list(s).await,
        PortfolioCmd::Share {
            key,
            days,
            list,
            revoke,
            revoke_all,
        } => {
            let what = match (list, revoke, revoke_all) {
                (true, _, _) => super::share::What::List,
                (_, Some(id), _) => super::share::What::Revoke(id),
                (_, _, true) => super::share::What::RevokeAll,
                _ => super::share::What::Make { days },
            };
            super::share::portfolio(s, &key, what).await
        }
        PortfolioCmd::Unsubscribe { key, number } => unsubscribe(s, key, number).await,
        PortfolioCmd::Delete { key, confirm } => delete(s, key, confirm).await,
    }
}

/// The tenant's portfolio by key, or a refusal that names it.
pub(super) async fn find(s: &mut Session<'_>, key: &Key) -> Result<Portfolio> {
    let tenant = s.ctx.tenant.clone();
    match store::find_portfolio(s.conn(), &tenant, key).await? {
        Some(p) => Ok(p),
        None => refuse(format!(
            "there is no portfolio `{key}`: `portfolio list` shows them, `portfolio create {key} --programs …` makes it"
        )),
    }
}

/// Refuses unless the actor owns the portfolio or is a tenant admin.
pub(super) async fn require_owner(s: &mut Session<'_>, p: &Portfolio, doing: &str) -> Result<()> {
    if s.ctx.actor.is_admin {
        return Ok(());
    }
    if s.known_actor_id().await? == Some(p.owner) {
        return Ok(());
    }
    let owner = s.mention(p.owner).await?;
    refuse(format!(
        "only the owner of portfolio `{}` ({}) or a tenant admin can {doing}",
        p.key,
        crate::reply::Mention::plain(Some(&owner))
    ))
}

/// The programs named, each looked up in the tenant, without repeats; a refusal names the
/// first that is missing.
async fn programs_named(s: &mut Session<'_>, keys: &[Key]) -> Result<Vec<Program>> {
    let tenant = s.ctx.tenant.clone();
    let mut out: Vec<Program> = Vec::new();
    for key in keys {
        let Some((_, p)) = store::find_program(s.conn(), &tenant, key).await? else {
            return refuse(format!(
                "there is no program `{key}`: `program list` shows the programs"
            ));
        };
        if p.archived {
            return refuse(format!(
                "program `{key}` is archived: restore it with `program archive {key} --undo` first"
            ));
        }
        if out.iter().any(|o| o.id == p.id) {
            return refuse(format!("program `{key}` is named twice"));
        }
        out.push(p);
    }
    if out.len() > MAX_PROGRAMS {
        return refuse(format!(
            "a portfolio holds at most {MAX_PROGRAMS} programs ({} named)",
            out.len()
        ));
    }
    Ok(out)
}

fn program_list(programs: &[Program]) -> String {
    if programs.is_empty() {
        return "none yet".into();
    }
    programs
        .iter()
        .map(|p| p.key.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn create(
    s: &mut Session<'_>,
    key: Key,
    name: Option<Title>,
    programs: Vec<Key>,
    tz: Option<Timezone>,
) -> Result<Reply> {
    let programs = programs_named(s, &programs).await?;
    let actor = s.actor().await?;
    let timezone = tz.or(actor.timezone).unwrap_or_default();
    let name = name.unwrap_or_else(|| Title::from(&key));
    let tenant = s.ctx.tenant.clone();
    let created_at = s.ctx.now;
    let Some(id) = store::insert_portfolio(
        s.conn(),
        &tenant,
        NewPortfolio {
            key: &key,
            name: &name,
            owner: actor.id,
            timezone: &timezone,
            created_at,
        },
    )
    .await?
    else {
        return refuse(format!(
            "a portfolio `{key}` already exists: choose another key, or `portfolio show {key}`"
        ));
    };
    let ids: Vec<i64> = programs.iter().map(|p| p.id).collect();
    store::set_portfolio_programs(s.conn(), id, &ids).await?;
    s.event(
        None,
        "portfolio.created",
        format!("portfolio:{key}"),
        None::<&()>,
        Some(&serde_json::json!({
            "name": name.as_str(), "timezone": timezone.as_str(),
            "programs": programs.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
        })),
    )
    .await?;
    Ok(Reply::success(format!("Created portfolio {key}"))
        .fields(vec![
            ("Name", Text::plain(name.as_str())),
            ("Programs", Text::plain(program_list(&programs))),
            ("Timezone", Text::plain(timezone.as_str())),
        ])
        .paragraph(
            Text::plain("See it with ")
                .code(format!("portfolio show {key}"))
                .text("; send its digest with ")
                .code(format!(
                    "digest subscribe --portfolio {key} --audience executive --channel #leads"
                )),
        ))
}

async fn set(
    s: &mut Session<'_>,
    key: Key,
    name: Option<Title>,
    owner: Option<crate::domain::PersonRef>,
    tz: Option<Timezone>,
    programs: Option<Vec<Key>>,
) -> Result<Reply> {
    let mut p = find(s, &key).await?;
    require_owner(s, &p, "change it").await?;
    if name.is_none() && owner.is_none() && tz.is_none() && programs.is_none() {
        return refuse("nothing to change: give --name, --owner, --tz or --programs");
    }
    let before = p.clone();
    if let Some(name) = name {
        p.name = name;
    }
    if let Some(owner) = owner {
        p.owner = s.person(&owner).await?.id;
    }
    if let Some(tz) = tz {
        p.timezone = tz;
    }
    let tenant = s.ctx.tenant.clone();
    store::update_portfolio(s.conn(), &tenant, &p).await?;
    if let Some(keys) = programs {
        let list = programs_named(s, &keys).await?;
        p.programs = list.iter().map(|x| x.id).collect();
        store::set_portfolio_programs(s.conn(), p.id, &p.programs).await?;
    }
    s.event(
        None,
        "portfolio.changed",
        format!("portfolio:{key}"),
        Some(&before),
        Some(&p),
    )
    .await?;
    summary(s, &p, format!("Changed portfolio {key}")).await
}

/// The portfolio's programs, as keys, for a confirmation.
async fn summary(s: &mut Session<'_>, p: &Portfolio, title: String) -> Result<Reply> {
    let tenant = s.ctx.tenant.clone();
    let programs: Vec<Program> = store::portfolio_programs(s.conn(), &tenant, p)
        .await?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let owner = s.mention(p.owner).await?;
    Ok(Reply::success(title).fields(vec![
        ("Name", Text::plain(p.name.as_str())),
        ("Owner", Text::new().person(owner)),
        ("Programs", Text::plain(program_list(&programs))),
        ("Timezone", Text::plain(p.timezone.as_str())),
    ]))
}

async fn add(s: &mut Session<'_>, key: Key, programs: Vec<Key>) -> Result<Reply> {
    let mut p = find(s, &key).await?;
    require_owner(s, &p, "add programs to it").await?;
    let list = programs_named(s, &programs).await?;
    for x in &list {
        if p.programs.contains(&x.id) {
            return refuse(format!(
                "program `{}` is already in portfolio `{key}`",
                x.key
            ));
        }
    }
    if p.programs.len() + list.len() > MAX_PROGRAMS {
        return refuse(format!(
            "a portfolio holds at most {MAX_PROGRAMS} programs; `{key}` has {}",
            p.programs.len()
        ));
    }
    p.programs.extend(list.iter().map(|x| x.id));
    store::set_portfolio_programs(s.conn(), p.id, &p.programs).await?;
    s.event(
        None,
        "portfolio.added",
        format!("portfolio:{key}"),
        None::<&()>,
        Some(&list.iter().map(|x| x.key.as_str()).collect::<Vec<_>>()),
    )
    .await?;
    summary(
        s,
        &p,
        format!("Added {} to portfolio {key}", program_list(&list)),
    )
    .await
}

async fn remove(s: &mut Session<'_>, key: Key, programs: Vec<Key>) -> Result<Reply> {
    let mut p = find(s, &key).await?;
    require_owner(s, &p, "take programs out of it").await?;
    let tenant = s.ctx.tenant.clone();
    let mut gone = Vec::new();
    for k in &programs {
        // An archived program can still be taken out, so look it up without the live check.
        let found = store::find_program(s.conn(), &tenant, k).await?;
        match found {
            Some((_, x)) if p.programs.contains(&x.id) => {
                if gone.iter().any(|g: &Program| g.id == x.id) {
                    return refuse(format!("program `{k}` is named twice"));
                }
                gone.push(x)
            }
            Some(_) => return refuse(format!("program `{k}` is not in portfolio `{key}`")),
            None => {
                return refuse(format!(
                    "there is no program `{k}`: `portfolio show {key}` lists its programs"
                ))
            }
        }
    }
    p.programs.retain(|id| gone.iter().all(|g| g.id != *id));
    store::set_portfolio_programs(s.conn(), p.id, &p.programs).await?;
    s.event(
        None,
        "portfolio.removed",
        format!("portfolio:{key}"),
        Some(&gone.iter().map(|x| x.key.as_str()).collect::<Vec<_>>()),
        None::<&()>,
    )
    .await?;
    summary(
        s,
        &p,
        format!("Took {} out of portfolio {key}", program_list(&gone)),
    )
    .await
}

async fn delete(s: &mut Session<'_>, key: Key, confirm: Key) -> Result<Reply> {
    let p = find(s, &key).await?;
    require_owner(s, &p, "delete it").await?;
    if confirm != key {
        return refuse(format!(
            "--confirm must repeat the portfolio's key: `portfolio delete {key} --confirm {key}`"
        ));
    }
    let tenant = s.ctx.tenant.clone();
    store::delete_portfolio(s.conn(), &tenant, p.id).await?;
    s.event(
        None,
        "portfolio.deleted",
        format!("portfolio:{key}"),
        Some(&p),
        None::<&()>,
    )
    .await?;
    Ok(Reply::success(format!(
        "Deleted portfolio {key} and its digest subscriptions; its programs are unchanged"
    )))
}

async fn list(s: &mut Session<'_>) -> Result<Reply> {
    let tenant = s.ctx.tenant.clone();
    let all = store::list_portfolios(s.conn(), &tenant).await?;
    if all.is_empty() {
        return Ok(Reply::new("Portfolios").paragraph(
            Text::plain("There is no portfolio yet: ")
                .code("portfolio create KEY --programs a,b,c")
                .text(" makes one; ")
                .code("portfolio show")
                .text(" shows every program."),
        ));
    }
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for p in &all {
        let owner = s.mention(p.owner).await?;
        rows.push(vec![
            Text::new().code(p.key.as_str()),
            Text::plain(p.name.as_str()),
            Text::new().person(owner),
            Text::plain(p.programs.len().to_string()),
        ]);
        data.push(serde_json::json!({
            "key": p.key.as_str(), "name": p.name.as_str(), "programs": p.programs.len(),
            "timezone": p.timezone.as_str(),
        }));
    }
    Ok(Reply::new(format!("Portfolios ({})", all.len()))
        .table(&["Key", "Name", "Owner", "Programs"], rows)
        .data(data))
}

/// The programs of a portfolio (or every live program of the tenant), each loaded in this
/// read transaction.
async fn snapshots(
    s: &mut Session<'_>,
    key: Option<&Key>,
) -> Result<(Option<Portfolio>, Vec<Snapshot>)> {
    let tenant = s.ctx.tenant.clone();
    let now = s.ctx.now;
    let (found, snaps) = match key {
        Some(key) => {
            let p = find(s, key).await?;
            let snaps = store::portfolio_snapshots(s.conn(), &tenant, &p, now).await?;
            (Some(p), snaps)
        }
        None => {
            let mut snaps = Vec::new();
            for (scope, program) in store::tenant_programs(s.conn(), &tenant).await? {
                // A portfolio line reads no history: no event is loaded.
                snaps.push(load(s, &scope, program, Some(now)).await?);
            }
            (None, snaps)
        }
    };
    Ok((found, snaps))
}

/// The portfolio's lines, analysed on a blocking thread.
async fn build(
    portfolio: Option<Portfolio>,
    snaps: Vec<Snapshot>,
    audience: Audience,
    today: chrono::NaiveDate,
) -> Result<PortfolioDigest> {
    let detail = audience == Audience::Engineering;
    tokio::task::spawn_blocking(move || {
        let lines: Vec<Line> = portfolio::lines(&snaps, detail);
        let (key, name) = match portfolio {
            Some(p) => (Some(p.key.to_string()), p.name.to_string()),
            None => (None, "Every program".to_owned()),
        };
        portfolio::build(key, name, audience, today, lines)
    })
    .await
    .map_err(|e| anyhow::anyhow!("analysing the portfolio stopped: {e}").into())
}

/// Today where the portfolio's digests are read (UTC for every program of the tenant).
fn today_of(p: Option<&Portfolio>, now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    let tz = p.map(|p| p.timezone.tz()).unwrap_or(chrono_tz::UTC);
    now.with_timezone(&tz).date_naive()
}

async fn show(s: &mut Session<'_>, key: Option<&Key>, format: Format) -> Result<Reply> {
    let (found, snaps) = snapshots(s, key).await?;
    let today = today_of(found.as_ref(), s.ctx.now);
    let subscriptions = match &found {
        Some(p) => store::portfolio_schedules(s.conn(), p.id).await?,
        None => Vec::new(),
    };
    let d = build(found, snaps, Audience::Engineering, today).await?;
    let mut reply = portfolio::to_table(&d);
    if !subscriptions.is_empty() {
        let items = subscriptions
            .iter()
            .map(|x| {
                let to = match x
                    .destination
                    .as_deref()
                    .map(serde_json::from_str::<crate::outbox::Destination>)
                {
                    Some(Ok(d)) => d.masked(),
                    Some(Err(_)) => "an unreadable destination".to_owned(),
                    None => "the owner, directly".to_owned(),
                };
                Text::plain(format!(
                    "#{}: {} digest {}, to {to}",
                    x.id,
                    x.audience.as_str(),
                    x.spec.describe()
                ))
            })
            .collect();
        reply = reply.heading("Digest subscriptions").list(items);
    }
    let stem = format!("{}-portfolio", d.key.as_deref().unwrap_or("every-program"));
    in_format(reply, format, &stem, &d)
}

/// `digest show --portfolio KEY`: executive or engineering.
pub(super) async fn show_digest(
    s: &mut Session<'_>,
    key: &Key,
    audience: Audience,
    format: Format,
) -> Result<Reply> {
    if audience == Audience::Product {
        return refuse(
            "a portfolio digest is for executives or engineering: use --audience executive or engineering (the product digest is per program)",
        );
    }
    let (found, snaps) = snapshots(s, Some(key)).await?;
    let today = today_of(found.as_ref(), s.ctx.now);
    let d = build(found, snaps, audience, today).await?;
    let reply = portfolio::to_reply(&d);
    let stem = format!("{key}-portfolio-{}-digest", audience.as_str());
    in_format(reply, format, &stem, &d)
}

/// `digest subscribe --portfolio KEY`: the portfolio's digest on a schedule.
pub(super) async fn subscribe(
    s: &mut Session<'_>,
    key: &Key,
    audience: Audience,
    at: &str,
    webhook: Option<String>,
    channel: Option<String>,
) -> Result<Reply> {
    if audience == Audience::Product {
        return refuse(
            "a portfolio digest is for executives or engineering: use --audience executive or engineering",
        );
    }
    let spec = ScheduleSpec::parse(at)?;
    let p = find(s, key).await?;
    require_owner(s, &p, "subscribe to its digest").await?;
    let destination = destination_from(s, channel, webhook)?;
    let json = destination
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(anyhow::Error::from)?;
    let actor = s.actor_id().await?;
    let now = s.ctx.now;
    let (id, replaced) =
        store::set_portfolio_schedule(s.conn(), p.id, &spec, audience, json, now, Some(actor))
            .await?;
    s.event(
        None,
        "portfolio.subscribed",
        format!("portfolio:{key}"),
        None::<&()>,
        Some(&serde_json::json!({
            "schedule": id, "spec": spec.to_string(), "audience": audience.as_str(),
            "destination": destination.as_ref().map(|d| d.masked()),
        })),
    )
    .await?;
    let next = spec.upcoming(p.timezone.tz(), now, 3);
    Ok(Reply::success(format!(
        "{} the {} digest of portfolio {key} {}",
        if replaced { "Changed" } else { "Scheduled" },
        audience.as_str(),
        spec.describe()
    ))
    .fields(vec![
        ("Subscription", Text::plain(format!("#{id}: {spec}"))),
        ("Timezone", Text::plain(p.timezone.as_str())),
        (
            "Goes to",
            Text::plain(match &destination {
                Some(d) => d.masked(),
                None => "the portfolio's owner, directly".into(),
            }),
        ),
        (
            "Next",
            Text::plain(
                next.iter()
                    .map(|t| {
                        t.with_timezone(&p.timezone.tz())
                            .format("%a %Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ),
    ]))
}

async fn unsubscribe(s: &mut Session<'_>, key: Key, number: i64) -> Result<Reply> {
    let p = find(s, &key).await?;
    require_owner(s, &p, "stop its digests").await?;
    if !store::remove_portfolio_schedule(s.conn(), p.id, number).await? {
        return refuse(format!(
            "portfolio `{key}` has no subscription #{number}: `portfolio show {key}` lists them"
        ));
    }
    s.event(
        None,
        "portfolio.unsubscribed",
        format!("portfolio:{key}"),
        Some(&serde_json::json!({ "schedule": number })),
        None::<&()>,
    )
    .await?;
    Ok(Reply::success(format!(
        "Stopped subscription #{number} of portfolio {key}"
    )))
}
