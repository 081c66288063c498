//! `program share`: signed, expiring links to a program's read-only page (served by
//! `web` at `/p/{token}`), their list, and revoking them. Only owners and editors share.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{parse_number, refuse, Session};
use crate::command::Result;
use crate::domain::Role;
use crate::links::LinkKey;
use crate::reply::{Reply, Text};
use crate::store;

/// How long a link works unless `--days` says otherwise.
pub const DEFAULT_DAYS: u32 = 14;
/// The longest a link may work: a year.
pub const MAX_DAYS: u32 = 365;

/// What `program share` was asked to do.
pub(super) enum What {
    Make { days: Option<u32> },
    List,
    Revoke(String),
    RevokeAll,
}

/// What a link opens, as the commands name it.
struct Shared<'a> {
    tenant: crate::domain::Tenant,
    subject: store::ShareSubject,
    /// `program` or `portfolio`.
    kind: &'static str,
    key: String,
    tz: chrono_tz::Tz,
    /// The program its events belong to (none for a portfolio).
    scope: Option<&'a store::Scope>,
}

pub(super) async fn program(
    s: &mut Session<'_>,
    program: Option<&str>,
    what: What,
) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let doing = match what {
        What::List => "see the program's share links",
        What::Make { .. } => "share the program's page",
        What::Revoke(_) | What::RevokeAll => "revoke the program's share links",
    };
    s.require(&scope, &p, Role::Editor, doing).await?;
    let shared = Shared {
        tenant: scope.tenant().clone(),
        subject: store::ShareSubject::Program(scope.program_id()),
        kind: "program",
        key: p.key.as_str().to_owned(),
        tz: p.timezone.tz(),
        scope: Some(&scope),
    };
    run(s, shared, what).await
}

/// `portfolio share`: the same links to a portfolio's page, for its owner or a tenant admin.
pub(super) async fn portfolio(
    s: &mut Session<'_>,
    key: &crate::domain::Key,
    what: What,
) -> Result<Reply> {
    let p = super::portfolio::find(s, key).await?;
    let doing = match what {
        What::List => "see its share links",
        What::Make { .. } => "share its page",
        What::Revoke(_) | What::RevokeAll => "revoke its share links",
    };
    super::portfolio::require_owner(s, &p, doing).await?;
    let shared = Shared {
        tenant: s.ctx.tenant.clone(),
        subject: store::ShareSubject::Portfolio(p.id),
        kind: "portfolio",
        key: p.key.as_str().to_owned(),
        tz: p.timezone.tz(),
        scope: None,
    };
    run(s, shared, what).await
}

async fn run(s: &mut Session<'_>, shared: Shared<'_>, what: What) -> Result<Reply> {
    let Shared {
        tenant,
        subject,
        kind,
        key,
        tz,
        scope,
    } = shared;
    let now = s.ctx.now;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    match what {
        What::Make { days } => {
            let days = days.unwrap_or(DEFAULT_DAYS);
            if !(1..=MAX_DAYS).contains(&days) {
                return refuse(format!(
                    "--days {days}: a link works for 1 to {MAX_DAYS} days (default {DEFAULT_DAYS})"
                ));
            }
            let signing = LinkKey::load_or_create(s.conn(), now).await?;
            let by = s.actor_id().await?;
            let expires = now + Duration::days(i64::from(days));
            let link =
                store::insert_link(s.conn(), &tenant, subject, Some(by), now, expires).await?;
            s.event(
                scope,
                &format!("{kind}.shared"),
                format!("{kind}:{key}"),
                None::<&()>,
                Some(&json!({ "link": link.id, "expires_at": expires })),
            )
            .await?;
            let url = signing.share_address(s.ctx.public_url.as_deref(), link.id, link.expires_at);
            let mut reply =
                Reply::success(format!("Share link {} to {kind} {key}'s page", link.id))
                    .ephemeral()
                    .paragraph(Text::new().code(url.clone()));
            if s.ctx.public_url.is_none() {
                reply = reply.paragraph(Text::plain(
                    "That is the path on Drumbeat's HTTP server: `http.public_url` is not set, so the full address cannot be shown.",
                ));
            }
            Ok(reply
                .paragraph(Text::plain(format!(
                    "Anyone with the link can read the {kind}'s page until {} ({days} days); `{kind} share {key} --revoke {}` ends it sooner, `{kind} share {key} --list` shows every link.",
                    local(expires),
                    link.id
                )))
                .data(json!({
                    "link": link.id,
                    kind: key,
                    "url": url,
                    "expires_at": expires,
                })))
        }
        What::List => {
            let links = store::share_links(s.conn(), &tenant, subject).await?;
            if links.is_empty() {
                return Ok(Reply::new(format!("Share links of {key}"))
                    .ephemeral()
                    .paragraph(
                        Text::plain("None yet: ")
                            .code(format!("{kind} share {key}"))
                            .text(" makes one."),
                    ));
            }
            let mut rows = Vec::new();
            let mut data = Vec::new();
            for l in &links {
                let by = match l.created_by {
                    Some(id) => Text::plain(format!("@{}", s.mention(id).await?.name)),
                    None => Text::plain("a digest"),
                };
                let state = match (l.revoked_at, l.expires_at < now) {
                    (Some(at), _) => format!("revoked {}", local(at)),
                    (None, true) => format!("expired {}", local(l.expires_at)),
                    (None, false) => format!("until {}", local(l.expires_at)),
                };
                rows.push(vec![
                    Text::plain(l.id.to_string()),
                    by,
                    Text::plain(state),
                    Text::plain(l.last_opened_at.map_or_else(|| "never".to_owned(), local)),
                ]);
                data.push(json!({
                    "id": l.id,
                    "created_by": l.created_by,
                    "created_at": l.created_at,
                    "expires_at": l.expires_at,
                    "revoked_at": l.revoked_at,
                    "last_opened_at": l.last_opened_at,
                }));
            }
            Ok(Reply::new(format!("Share links of {key}"))
                .ephemeral()
                .table(&["Link", "Created by", "Expiry", "Last opened"], rows)
                .data(json!({ kind: key, "links": data })))
        }
        What::Revoke(raw) => {
            let id = parse_number(&raw, "share link")?;
            if !store::revoke_share_link(s.conn(), &tenant, subject, id, now).await? {
                return refuse(format!(
                    "{key} has no live share link {id}: `{kind} share {key} --list` shows its links"
                ));
            }
            s.event(
                scope,
                &format!("{kind}.share_revoked"),
                format!("{kind}:{key}"),
                None::<&()>,
                Some(&json!({ "link": id })),
            )
            .await?;
            Ok(Reply::success(format!(
                "Share link {id} of {key} revoked: it opens nothing now"
            ))
            .data(json!({ kind: key, "revoked": [id] })))
        }
        What::RevokeAll => {
            let n = store::revoke_share_links(s.conn(), &tenant, subject, now).await?;
            if n > 0 {
                s.event(
                    scope,
                    &format!("{kind}.share_revoked"),
                    format!("{kind}:{key}"),
                    None::<&()>,
                    Some(&json!({ "all": n })),
                )
                .await?;
            }
            Ok(Reply::success(match n {
                0 => format!("{key} had no live share link; nothing changed"),
                1 => format!("1 share link of {key} revoked"),
                n => format!("{n} share links of {key} revoked"),
            })
            .data(json!({ kind: key, "revoked_count": n })))
        }
    }
}
