//! The digest job: one subscription's digest, covering the time since its previous one,
//! with the timeline chart where the destination can show it.

use chrono::{DateTime, Duration, Utc};

use super::job::{program_channel, Job, Run};
use super::{wording, ChartLinks};
use crate::analysis::Analysed;
use crate::digest;
use crate::domain::{Audience, ChartKind, Tenant};
use crate::links::ChartLink;
use crate::outbox::Destination;
use crate::reply::Reply;
use crate::store::{self, RunEnd, ScheduledProgram, Tx};

/// A digest's link to its program's page is reused while it works for more than this many
/// days, so a reader always has a week to open it.
pub const PAGE_LINK_MIN_DAYS: i64 = 7;

pub struct Digest<'a> {
    pub sp: &'a ScheduledProgram,
}

impl Job for Digest<'_> {
    fn scheduled(&self) -> &ScheduledProgram {
        self.sp
    }

    fn name(&self) -> String {
        format!("digest:{}", self.sp.schedule.id)
    }

    fn timezone(&self) -> chrono_tz::Tz {
        self.sp.program.timezone.tz()
    }

    /// It links its program's page when there is a public address to link it at.
    fn prepares(&self, run: &Run<'_>) -> bool {
        run.chart_links.is_some()
    }

    /// It reads them itself, with the rest of the program.
    fn reads_routes(&self) -> bool {
        false
    }

    /// With `http.public_url` set, the digest links its program's page: through the share
    /// link digests made for it, reused while it works for more than
    /// [`PAGE_LINK_MIN_DAYS`] days, else a new one for [`crate::links::LINK_DAYS`] days
    /// (`program share --list` shows it as made by a digest; revoking it makes the next
    /// digest make another).
    async fn prepare(&self, tx: &mut Tx, run: &mut Run<'_>) -> anyhow::Result<()> {
        let Some(links) = run.chart_links else {
            return Ok(());
        };
        let scope = &run.sp.scope;
        let wanted = run.now + Duration::days(PAGE_LINK_MIN_DAYS);
        let link = match store::digest_share_link(tx, scope, wanted).await? {
            Some(link) => link,
            None => {
                let expires = run.now + Duration::days(crate::links::LINK_DAYS);
                store::insert_share_link(tx, scope, None, run.now, expires).await?
            }
        };
        run.page_url = Some(links.key.share_address(
            Some(&links.public_url),
            link.id,
            link.expires_at,
        ));
        Ok(())
    }

    async fn run(&self, tx: &mut Tx, run: &mut Run<'_>) -> anyhow::Result<(RunEnd, String)> {
        let sp = run.sp;
        let audience = sp.schedule.audience.unwrap_or(Audience::Engineering);
        // Since the previous digest of this subscription that went out (not this one).
        let previous = run.previous_done(tx, &self.name()).await?;
        let since = digest::period_start(run.slot, previous);
        let events = digest::events_from(audience, since, run.now, sp.program.timezone.tz());
        // The routes, the note, the health before and the whole program: one statement on
        // PostgreSQL, where a Monday's thousands of digests are bound by round trips.
        let (routes, (note, was), snap) = store::in_one_statement!(tx, |c| async {
            let routes = store::routes(c, &sp.scope).await?;
            let context = store::digest_context(c, &sp.scope, &sp.program, audience, since).await?;
            let snap =
                store::load_snapshot(c, &sp.scope, sp.program.clone(), run.now, Some(events))
                    .await?;
            anyhow::Ok((routes, context, snap))
        }
        .await)?;
        run.routes = routes;
        let a = Analysed::of(&snap);
        let mut d = digest::build(&a, audience, since);
        d.note = note;
        d.was = was;
        let mut reply = digest::to_reply(&d);
        if let Some(url) = &run.page_url {
            reply = reply.paragraph(crate::reply::Text::plain(format!(
                "The program's page: {url}"
            )));
        }
        let destination = match &sp.schedule.destination {
            Some(json) => serde_json::from_str(json)?,
            None => match program_channel(tx, sp).await? {
                Some(d) => d,
                None => {
                    let owner = store::person(tx, sp.scope.tenant(), sp.program.owner).await?;
                    run.to_person(&owner, None)
                }
            },
        };
        let key = sp.program.key.as_str();
        let reply = with_timeline(
            reply,
            &a,
            audience,
            &destination,
            run.tenant(),
            run.now,
            run.chart_links,
        );
        let reason =
            wording::digest_reason(audience, key, &sp.schedule.spec.describe(), sp.schedule.id);
        let dedup = format!("digest:{}", run.claim);
        run.send(tx, destination, reply, reason, dedup).await?;
        run.health = Some((snap.today(), d.health.rag));
        Ok((
            RunEnd::Done,
            format!("{} digest, {}", audience.as_str(), d.health.rag.as_str()),
        ))
    }
}

/// Engineering and product digests carry the timeline (executives get one screen, no
/// chart): Discord takes it as a file; Slack, which takes no file through a webhook or
/// `chat.postMessage`, shows it from a signed link that works for
/// [`crate::links::LINK_DAYS`] days, when `http.public_url` is set. The console gets none.
/// A chart that cannot be drawn is logged and the digest goes without it.
pub fn with_timeline(
    reply: Reply,
    a: &Analysed<'_>,
    audience: Audience,
    destination: &Destination,
    tenant: &Tenant,
    now: DateTime<Utc>,
    links: Option<&ChartLinks>,
) -> Reply {
    if audience == Audience::Executive {
        return reply;
    }
    let program = a.snap.program.key.as_str();
    let kind = ChartKind::Timeline;
    match (destination.platform().as_str(), links) {
        ("discord", _) => match crate::chart::render(crate::chart::Input::Timeline, a) {
            Ok(png) => reply.attach(crate::reply::Attachment::png(
                crate::chart::file_name(program, kind),
                png,
            )),
            Err(e) => {
                tracing::warn!(error = ?e, "the digest goes without its timeline");
                reply
            }
        },
        ("slack", Some(links)) => {
            let link = ChartLink {
                tenant: tenant.clone(),
                program: program.to_owned(),
                chart: kind.as_str().to_owned(),
                expires: (now + Duration::days(crate::links::LINK_DAYS)).timestamp(),
            };
            reply.image(
                links.key.url(&links.public_url, &link),
                format!(
                    "Timeline of {program}: milestones, baseline against forecast, the critical path"
                ),
            )
        }
        _ => reply,
    }
}
