//! The Slack adapter: `/drumbeat <text>` at `POST /slack/commands` and the status-prompt
//! buttons and modals at `POST /slack/interactions`. Every request is verified (signature,
//! window, body size) before a byte of it is parsed; then the text goes through the same
//! grammar as the console, in the tenant of the Slack workspace, as the Slack user.
//!
//! Slack waits 3 s for an answer. Quick commands are answered in the response; digests and
//! reports (and anything slower than `slack.ack_after_ms`) are acknowledged, and their
//! answer is posted to the request's `response_url`.

mod channels;
mod sender;
mod verify;
mod web;

pub use channels::{checker as channel_checker, NoToken, SlackChannels, Verdict};
pub use sender::{SlackApiSender, WebhookSender};

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use reqwest::Url;
use serde::{Deserialize, Serialize};

pub use verify::{
    sign, Refusal, Verifier, BODY_MAX, SIGNATURE_HEADER, TIMESTAMP_HEADER, WINDOW_SECS,
};
pub use web::RESPONSE_URL_USES;

use crate::clock::Clock;
use crate::command::Actor;
use crate::config::Settings;
use crate::domain::{ActionId, Platform, Tenant};
use crate::http::{bounded_body, refused, unread};
use crate::interaction::{wording, Click, Core, Form, FormValues, Origin, Replays, Submitted};
use crate::links::ChartLink;
use crate::outbox::WebhookPolicy;
use crate::reply::{slack, Reply, Text};
use crate::schedule::ChartLinks;
use crate::store::Store;

/// The Slack endpoints with what they need: the verifier, the store, the clock, who the
/// tenant admins are, and a client for `response_url` and the Web API.
#[derive(Clone)]
pub struct SlackApp {
    inner: Arc<Inner>,
}

struct Inner {
    verifier: Verifier,
    /// Runs commands, clicks and forms; the app only translates.
    core: Core,
    /// Tenant admins by (team, user): an admin of one workspace is no admin of another.
    admins: HashSet<(String, String)>,
    web: web::Web,
    ack_after: Duration,
    /// A request body must arrive within this (`http.body_timeout_ms`).
    body_timeout: Duration,
    /// Where signed requests queue to be recorded against replays (started on first use).
    replays: Replays,
    /// Charts are shown by signed link (Slack takes no file through `response_url`).
    chart_links: Option<ChartLinks>,
}

impl SlackApp {
    /// The app the settings describe, or `None` when no signing secret is configured (then
    /// nothing may be served: an unsigned endpoint would take anyone's commands).
    pub fn from_settings(
        settings: &Settings,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Option<SlackApp>> {
        let Some(secret) = settings.slack.signing_secret() else {
            return Ok(None);
        };
        let web = web::Web::from_settings(settings).context("building the Slack HTTP client")?;
        // Asks Slack whether a channel named in a command is the workspace's.
        let channels = channels::checker(settings).context("building the Slack channel check")?;
        let webhooks = Arc::new(WebhookPolicy::from_settings(&settings.delivery));
        let core = Core::new(store, clock, webhooks, settings.http.public_url(), channels);
        Ok(Some(SlackApp {
            inner: Arc::new(Inner {
                verifier: Verifier::new(secret),
                core,
                admins: settings
                    .slack
                    .admins
                    .iter()
                    .map(|a| (a.team.clone(), a.user.clone()))
                    .collect(),
                web,
                ack_after: Duration::from_millis(settings.slack.ack_after_ms),
                body_timeout: settings.http.body_timeout(),
                replays: Replays::new(WINDOW_SECS + REPLAY_MARGIN_SECS),
                chart_links: None,
            }),
        }))
    }

    /// Shows `chart show`'s picture as an image block at a signed link. Call it before the
    /// app is served (it is ignored on an app already shared).
    pub fn with_chart_links(mut self, links: ChartLinks) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.chart_links = Some(links),
            None => tracing::warn!("chart links set on a Slack app already in use; ignored"),
        }
        self
    }

    /// A chart reply with its picture as a signed link instead of a file Slack cannot take.
    fn linked(&self, reply: Reply, tenant: &Tenant) -> Reply {
        let Some(links) = &self.inner.chart_links else {
            return reply;
        };
        let Some(shown) = reply.chart.clone() else {
            return reply;
        };
        let (program, chart) = (shown.program.to_string(), shown.chart.as_str().to_owned());
        let link = ChartLink {
            tenant: tenant.clone(),
            program: program.clone(),
            chart: chart.clone(),
            expires: (self.inner.core.clock().now()
                + chrono::Duration::days(crate::links::LINK_DAYS))
            .timestamp(),
        };
        let url = links.key.url(&links.public_url, &link);
        let mut shown = reply.image(url, format!("The {chart} chart of {program}"));
        shown.attachments.clear();
        shown
    }
}

/// The routes: `POST /slack/commands` and `POST /slack/interactions`.
pub fn router(app: SlackApp) -> Router {
    Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .with_state(app)
}

/// Serves the router on `listener` until `shutdown` turns true, with the HTTP server's
/// default limits (header and body timeouts, a connection limit).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: SlackApp,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    crate::http::serve(listener, router(app), shutdown)
        .await
        .context("serving Slack's endpoints")
}

/// Checks the signature headers, then reads the body (at most [`BODY_MAX`] bytes, within
/// `http.body_timeout_ms`), checks it is what was signed, and that it was not received
/// before. Only what this returns may be parsed.
///
/// A request without both headers, with a timestamp outside the window or a malformed
/// signature, or declaring a body over the limit, is refused before a byte of its body is
/// read.
async fn verified(app: &SlackApp, headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let inner = &app.inner;
    let header = |name: &str| headers.get(name).map(|v| v.as_bytes());
    let now = inner.core.clock().now();
    let signed =
        match inner
            .verifier
            .check_headers(header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER), now)
        {
            Ok(signed) => signed,
            Err(refusal) => {
                tracing::warn!(%refusal, "refused a Slack request unread");
                return Err(unread(StatusCode::UNAUTHORIZED, refusal));
            }
        };
    let body = bounded_body(headers, body, BODY_MAX, inner.body_timeout).await?;
    if let Err(refusal) = signed.check_body(&body) {
        tracing::warn!(%refusal, "refused a Slack request");
        let status = match refusal {
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::UNAUTHORIZED,
        };
        return Err(refused(status, refusal));
    }
    // Kept in the database, so a request replayed to another process is refused too.
    let first = inner.replays.first_sighting(
        inner.core.store(),
        signed.signature_hex(),
        signed.timestamp(),
        now,
    );
    match first.await {
        Ok(true) => Ok(body),
        Ok(false) => {
            tracing::warn!("refused a replayed Slack request");
            Err(refused(StatusCode::UNAUTHORIZED, Refusal::Replayed))
        }
        Err(e) => {
            tracing::error!(error = ?e, "checking a Slack request for replay failed");
            Err(refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "the request could not be checked; nothing was run, try again",
            ))
        }
    }
}

/// Signatures are kept this much longer than the window, for clocks of several processes
/// that disagree a little.
const REPLAY_MARGIN_SECS: i64 = 60;

/// A Slack id (team, user, channel): letters and digits, as Slack makes them.
fn slack_id<'a>(raw: &'a str, what: &str) -> Result<&'a str, String> {
    if (1..=32).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(raw)
    } else {
        Err(format!("the request's {what} is not a Slack id"))
    }
}

/// A slash command's text as typed, from the escaped form Slack sends (`should_escape:
/// true`): `<@U123|dana>` becomes `<@U123>` and `<#C123|general>` `<#C123>` (the label may
/// hold spaces that would split a word; the id is what counts), a link `<https://…|label>`
/// its address, and `&lt;`, `&gt;`, `&amp;` their characters. `<!here>` and the like stay as
/// they are: stored as text, they render inert. Only Slack writes a bare `<`, so a `<` that
/// opens nothing Slack makes is kept.
fn typed_text(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('&') {
            let entity = [("&lt;", '<'), ("&gt;", '>'), ("&amp;", '&')]
                .into_iter()
                .find(|(e, _)| rest.starts_with(e));
            match entity {
                Some((e, c)) => {
                    out.push(c);
                    rest = &rest[e.len()..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
            continue;
        }
        let end = rest.find('>');
        let inner = end.map_or("", |end| &rest[1..end]);
        let target = inner.split_once('|').map_or(inner, |(t, _)| t);
        let Some(end) = end.filter(|_| !inner.contains('<') && !target.is_empty()) else {
            // Not one of Slack's: keep the `<` and read on after it.
            out.push('<');
            rest = &rest[1..];
            continue;
        };
        match target.as_bytes()[0] {
            b'@' | b'#' => {
                out.push('<');
                out.push_str(target);
                out.push('>');
            }
            b'!' => out.push_str(&rest[..=end]),
            // A link's address is escaped like the rest (`&amp;` between parameters).
            _ => out.push_str(&typed_text(
                target.strip_prefix("mailto:").unwrap_or(target),
            )),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// What a slash command request carries that Drumbeat uses.
#[derive(Debug, Deserialize)]
struct SlashCommand {
    team_id: String,
    user_id: String,
    #[serde(default)]
    user_name: String,
    #[serde(default)]
    channel_id: Option<String>,
    #[serde(default)]
    text: String,
    response_url: String,
}

impl SlackApp {
    /// Who did something in a workspace, as the core knows them: tenant admin when
    /// `slack.admins` names (team, user).
    fn origin(&self, team: &str, user: &str, name: &str, channel: Option<String>) -> Origin {
        let display_name = if name.trim().is_empty() {
            user
        } else {
            name.trim()
        };
        Origin {
            tenant: Tenant::slack(team),
            platform: Platform::Slack,
            actor: Actor {
                handle: user.to_owned(),
                display_name: display_name.to_owned(),
                is_admin: self
                    .inner
                    .admins
                    .contains(&(team.to_owned(), user.to_owned())),
            },
            channel,
        }
    }
}

/// The slash command's immediate answer: JSON, shown to the one who typed it.
fn immediate(m: slack::Message) -> Response {
    axum::Json(web::Answer::ephemeral(m)).into_response()
}

/// A refusal in words as a Slack message (escaped like every user text).
fn problem(msg: &str) -> slack::Message {
    first(wording::refusal(msg))
}

fn first(reply: Reply) -> slack::Message {
    messages(&reply)
        .into_iter()
        .next()
        .expect("the renderer always makes a message")
}

/// A reply as Slack messages. A document that the console would print as it is (a digest
/// in another format) is shown as a code block; a chart cannot go through a response URL,
/// so the reply's own words stand for it.
fn messages(reply: &Reply) -> Vec<slack::Message> {
    match reply.attachment() {
        Some(a) if a.save_to.is_none() => match a.body.as_text() {
            Some(text) => slack::render(&Reply::new(reply.title.clone()).preformatted(text)),
            None => slack::render(reply),
        },
        _ => slack::render(reply),
    }
}

/// A command's reply as messages; a task that failed is an internal error.
fn outcome_messages(outcome: Result<Reply, tokio::task::JoinError>) -> Vec<slack::Message> {
    match outcome {
        Ok(reply) => messages(&reply),
        Err(joined) => messages(&wording::internal(&anyhow::anyhow!(
            "the command's task failed: {joined}"
        ))),
    }
}

#[tracing::instrument(skip_all)]
async fn commands(State(app): State<SlackApp>, headers: HeaderMap, body: Body) -> Response {
    let body = match verified(&app, &headers, body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let form: SlashCommand = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                format!("the slash command form is not readable: {e}"),
            )
        }
    };
    let ids = slack_id(&form.team_id, "team_id").and_then(|team| {
        let user = slack_id(&form.user_id, "user_id")?;
        let channel = match form.channel_id.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(slack_id(c, "channel_id")?.to_owned()),
            None => None,
        };
        Ok((team, user, channel))
    });
    let (team, user, channel) = match ids {
        Ok(ids) => ids,
        Err(e) => return refused(StatusCode::BAD_REQUEST, e),
    };
    let response_url = match app.inner.web.response_url(&form.response_url) {
        Ok(url) => url,
        Err(e) => return immediate(problem(&format!("{e}; nothing was run"))),
    };
    let prepared = Core::prepare_text(&typed_text(&form.text));
    let slow = prepared.is_slow();
    let origin = app.origin(team, user, &form.user_name, channel);
    let runner = app.clone();
    let mut task = tokio::spawn(async move {
        let reply = runner.inner.core.run(&origin, prepared).await;
        runner.linked(reply, &origin.tenant)
    });
    // `ack_after` 0 acknowledges every command first (a zero wait would race the command).
    if !slow && !app.inner.ack_after.is_zero() {
        if let Ok(outcome) = tokio::time::timeout(app.inner.ack_after, &mut task).await {
            let mut parts = outcome_messages(outcome).into_iter();
            let head = parts.next().expect("at least one message");
            let rest: Vec<_> = parts.collect();
            if !rest.is_empty() {
                tokio::spawn(async move { app.inner.web.respond(&response_url, rest).await });
            }
            return immediate(head);
        }
    }
    // Slack would give up on a later answer: acknowledge now, answer at response_url.
    tokio::spawn(follow_up(app, task, response_url));
    immediate(first(wording::working()))
}

async fn follow_up(app: SlackApp, task: tokio::task::JoinHandle<Reply>, response_url: Url) {
    let outcome = task.await;
    app.inner
        .web
        .respond(&response_url, outcome_messages(outcome))
        .await;
}

// ── Interactivity ───────────────────────────────────────────────────────────────────────

#[derive(Debug, Deserialize)]
struct InteractionForm {
    payload: String,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Interaction {
    BlockActions {
        team: Team,
        user: User,
        #[serde(default)]
        channel: Option<Channel>,
        actions: Vec<Pressed>,
        trigger_id: String,
        #[serde(default)]
        response_url: Option<String>,
    },
    ViewSubmission {
        team: Team,
        user: User,
        view: View,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct Team {
    id: String,
}

#[derive(Debug, Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
}

impl User {
    fn display(&self) -> &str {
        if self.username.is_empty() {
            &self.name
        } else {
            &self.username
        }
    }
}

#[derive(Debug, Deserialize)]
struct Channel {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Pressed {
    action_id: String,
}

#[derive(Debug, Deserialize)]
struct View {
    callback_id: String,
    #[serde(default)]
    private_metadata: String,
    state: ViewState,
}

#[derive(Debug, Deserialize)]
struct ViewState {
    values: HashMap<String, HashMap<String, InputValue>>,
}

#[derive(Debug, Deserialize)]
struct InputValue {
    #[serde(default)]
    value: Option<String>,
}

/// What the modal remembers between the click and the submission.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Remembered {
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    response_url: Option<String>,
}

/// A form as a Slack modal; `remembered` goes with it to the submission.
fn modal(form: &Form, remembered: &Remembered) -> serde_json::Value {
    let mut blocks = vec![serde_json::json!({
        "type": "section",
        "text": { "type": "plain_text", "text": form.title() },
    })];
    for f in form.fields() {
        blocks.push(serde_json::json!({
            "type": "input",
            "block_id": f.id,
            "optional": !f.required,
            "label": { "type": "plain_text", "text": f.label },
            "hint": { "type": "plain_text", "text": f.hint },
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": f.multiline,
                "max_length": f.max_chars,
            },
        }));
    }
    serde_json::json!({
        "type": "modal",
        "callback_id": form.id(),
        "private_metadata": serde_json::to_string(remembered).unwrap_or_default(),
        "title": { "type": "plain_text", "text": form.short_title() },
        "submit": { "type": "plain_text", "text": form.submit_label() },
        "close": { "type": "plain_text", "text": "Cancel" },
        "blocks": blocks,
    })
}

#[tracing::instrument(skip_all)]
async fn interactions(State(app): State<SlackApp>, headers: HeaderMap, body: Body) -> Response {
    let body = match verified(&app, &headers, body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let interaction = serde_urlencoded::from_bytes::<InteractionForm>(&body)
        .map_err(|e| format!("the interaction form is not readable: {e}"))
        .and_then(|form| {
            serde_json::from_str::<Interaction>(&form.payload)
                .map_err(|e| format!("the interaction payload is not readable: {e}"))
        });
    let interaction = match interaction {
        Ok(i) => i,
        Err(e) => return refused(StatusCode::BAD_REQUEST, e),
    };
    match interaction {
        Interaction::BlockActions {
            team,
            user,
            channel,
            actions,
            trigger_id,
            response_url,
        } => {
            if let Err(e) = slack_id(&team.id, "team id").and(slack_id(&user.id, "user id")) {
                return refused(StatusCode::BAD_REQUEST, e);
            }
            let Some(action) = actions.into_iter().next() else {
                return StatusCode::OK.into_response();
            };
            let response_url =
                response_url.and_then(|raw| match app.inner.web.response_url(&raw) {
                    Ok(url) => Some(url),
                    Err(e) => {
                        tracing::warn!(error = %e, "ignoring a response_url");
                        None
                    }
                });
            let channel = channel
                .map(|c| c.id)
                .filter(|c| slack_id(c, "channel id").is_ok());
            let origin = app.origin(&team.id, &user.id, user.display(), channel);
            let click = Clicked {
                id: action.action_id,
                trigger_id,
                response_url,
            };
            tokio::spawn(clicked(app, origin, click));
            StatusCode::OK.into_response()
        }
        Interaction::ViewSubmission { team, user, view } => {
            if let Err(e) = slack_id(&team.id, "team id").and(slack_id(&user.id, "user id")) {
                return refused(StatusCode::BAD_REQUEST, e);
            }
            submitted(app, &team.id, &user, view).await
        }
        Interaction::Other => StatusCode::OK.into_response(),
    }
}

/// A click, with what Slack gives to answer it.
struct Clicked {
    id: String,
    trigger_id: String,
    response_url: Option<Url>,
}

/// A button: a status colour opens the form when a bot token can open it, else answers
/// with the line to type; any other button's answer goes to the response URL.
async fn clicked(app: SlackApp, origin: Origin, click: Clicked) {
    let web = &app.inner.web;
    let answer = match app.inner.core.click(&click.id) {
        Click::Run(prepared) => app.inner.core.run_click(&origin, prepared).await,
        // Not a button of ours (or one this version no longer has): nothing to do.
        Click::Unknown => return,
        Click::Form(form) => {
            if web.has_bot_token() {
                let remembered = Remembered {
                    channel: origin.channel.clone(),
                    response_url: click.response_url.as_ref().map(|u| u.to_string()),
                };
                match web
                    .open_view(&click.trigger_id, modal(&form, &remembered))
                    .await
                {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not open the modal; sending the command instead")
                    }
                }
            }
            let (title, words, line) = form.instead();
            Reply::new(title)
                .paragraph(Text::plain(words))
                .paragraph(Text::new().code(format!("/drumbeat {line}")))
        }
    };
    if let Some(url) = click.response_url {
        web.respond(&url, messages(&answer)).await;
    }
}

/// The modal's answer: the status is posted as `status post` would, or the modal shows
/// what is wrong under the field it is about.
async fn submitted(app: SlackApp, team: &str, user: &User, view: View) -> Response {
    let remembered: Remembered = serde_json::from_str(&view.private_metadata).unwrap_or_default();
    let values: FormValues = view
        .state
        .values
        .iter()
        .filter_map(|(block, inputs)| {
            let value = inputs.values().find_map(|v| v.value.clone())?;
            Some((block.clone(), value))
        })
        .collect();
    let channel = remembered
        .channel
        .filter(|c| slack_id(c, "channel id").is_ok());
    let origin = app.origin(team, &user.id, user.display(), channel);
    match app
        .inner
        .core
        .submit(&origin, &view.callback_id, &values)
        .await
    {
        Submitted::Done(reply) => {
            let url = remembered
                .response_url
                .and_then(|raw| app.inner.web.response_url(&raw).ok());
            if let Some(url) = url {
                tokio::spawn(async move { app.inner.web.respond(&url, messages(&reply)).await });
            }
            StatusCode::OK.into_response()
        }
        Submitted::Invalid { field, message } => view_errors(field, &message),
        Submitted::Refused(message) => {
            let field = ActionId::parse(&view.callback_id)
                .and_then(|id| Form::of(&id))
                .map_or("summary", |f| f.first_field());
            view_errors(field, &message)
        }
    }
}

/// Keeps the modal open with a message under one of its inputs.
fn view_errors(block: &str, msg: &str) -> Response {
    let msg: String = msg.chars().take(300).collect();
    axum::Json(serde_json::json!({
        "response_action": "errors",
        "errors": { block: msg },
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Key, Rag};

    #[test]
    fn slacks_escaped_text_reads_as_typed() {
        for (sent, typed) in [
            (
                "project add atlas api --owner <@U123ABC|dana>",
                "project add atlas api --owner <@U123ABC>",
            ),
            ("--owner <@W0LEE>", "--owner <@W0LEE>"),
            (
                "digest subscribe atlas --channel <#C123ABC|general>",
                "digest subscribe atlas --channel <#C123ABC>",
            ),
            ("--channel <#C123ABC|team room>", "--channel <#C123ABC>"),
            (
                "program route atlas --slack-webhook <https://hooks.slack.com/services/T1/B2/x>",
                "program route atlas --slack-webhook https://hooks.slack.com/services/T1/B2/x",
            ),
            (
                "--what <https://example.com/a?b=1&amp;c=2|example.com/a>",
                "--what https://example.com/a?b=1&c=2",
            ),
            (
                "<mailto:dana@example.com|dana@example.com>",
                "dana@example.com",
            ),
            (
                r#"risk add atlas "R&amp;D &lt;late&gt; &amp;amp;" <!channel>"#,
                r#"risk add atlas "R&D <late> &amp;" <!channel>"#,
            ),
            ("a < b and & alone <", "a < b and & alone <"),
            ("a &lt; b <c &amp; d", "a < b <c & d"),
            ("<>", "<>"),
            ("<<@U1|x>>", "<<@U1>>"),
            ("", ""),
        ] {
            assert_eq!(typed_text(sent), typed, "{sent}");
        }
    }

    #[test]
    fn slack_ids_are_letters_and_digits() {
        assert!(slack_id("T1DC2JH3J", "team_id").is_ok());
        for bad in ["", "T 1", "T<!channel>", &"T".repeat(33), "../x"] {
            assert!(slack_id(bad, "team_id").is_err(), "{bad}");
        }
    }

    #[test]
    fn the_modal_fits_slacks_limits() {
        let form = Form::Status(crate::interaction::StatusForm::new(
            Key::parse("a-very-long-program-key-xx").unwrap(),
            Key::parse("api").unwrap(),
            Rag::Amber,
        ));
        let view = modal(&form, &Remembered::default());
        let title = view["title"]["text"].as_str().unwrap();
        assert!(title.chars().count() <= 24, "{title}");
        assert!(view["callback_id"].as_str().unwrap().len() <= 255);
        for block in view["blocks"].as_array().unwrap() {
            if let Some(hint) = block["hint"]["text"].as_str() {
                assert!(hint.chars().count() <= 2000, "{hint}");
            }
        }
    }
}
