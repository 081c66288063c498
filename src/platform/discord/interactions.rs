//! Discord's HTTP interactions endpoint, `POST /discord/interactions`: the way in that lets
//! any of several processes behind a load balancer answer Discord, with or without a
//! gateway. A request is verified (Ed25519 over its timestamp and body with the
//! application's public key, a 300 s window, a size limit) before a byte of it is parsed.
//! A PING is answered with a PONG; everything else by the same [`Bot`] as the gateway's, so
//! both ways in give the same answers, in the same tenant, as the same person.
//!
//! Discord waits 3 s for the first answer, which is the HTTP response's body: slow commands
//! are deferred there and edited in by REST, as on the gateway, and so is any answer not
//! ready within [`ANSWER_WITHIN`]. Follow-ups and files go by REST once the response is out.
//!
//! Without `discord.public_key` the route is not mounted (a request to it gets the server's
//! plain 404): unverified, it would take anyone's commands.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ::serenity::all as serenity;
use ::serenity::http::Http;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::bot::{BodyAnswer, Bot, GatewayState, Reach, DEFERRED_CHANNEL_MESSAGE};
use super::verify::{PublicKey, Refusal, Verifier, BODY_MAX, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::clock::Clock;
use crate::config::Settings;
use crate::http::{bounded_body, refused, unread};
use crate::outbox::WebhookPolicy;
use crate::store::Store;

/// Where Discord sends interactions: give `{http.public_url}/discord/interactions` as the
/// application's Interactions Endpoint URL.
pub const PATH: &str = "/discord/interactions";

/// An answer not ready this long after its request was read is deferred, and edited in
/// when it is. Discord allows 3 s from sending the request; the network takes some of it.
pub const ANSWER_WITHIN: Duration = Duration::from_millis(2000);

/// Interaction and response types (Discord's numbers).
const PING: u64 = 1;
const PONG: u64 = 1;
const AUTOCOMPLETE_RESULT: u64 = 8;

/// The endpoint with what it needs: the verifier, the bot that answers, a REST client for
/// what follows the first answer, and the clock the window is judged by.
#[derive(Clone)]
pub struct DiscordInteractions {
    inner: Arc<Inner>,
}

struct Inner {
    verifier: Verifier,
    bot: Arc<Bot>,
    http: Arc<Http>,
    clock: Arc<dyn Clock>,
    /// A request body must arrive within this (`http.body_timeout_ms`).
    body_timeout: Duration,
    answer_within: Duration,
}

impl DiscordInteractions {
    /// The endpoint the settings describe, or `None` without `discord.public_key`. A public
    /// key that is not 64 hex digits is an error, and so is one without a bot token: the
    /// endpoint needs the token for follow-ups and to check channels named in commands.
    pub fn from_settings(
        settings: &Settings,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Option<Self>> {
        let Some(raw) = settings.discord.public_key() else {
            return Ok(None);
        };
        let key = PublicKey::parse(raw).map_err(anyhow::Error::msg)?;
        let Some(token) = settings.discord.token() else {
            anyhow::bail!(
                "discord.public_key is set but there is no Discord bot token: POST {PATH} needs it to follow up answers and check channels; set DISCORD_TOKEN, or unset discord.public_key"
            );
        };
        let webhooks = Arc::new(WebhookPolicy::from_settings(&settings.delivery));
        let bot = Bot::new(
            &settings.discord,
            &token,
            webhooks,
            settings.http.public_url(),
            store,
            clock.clone(),
            GatewayState::default(),
        );
        let http = super::http_client(&token, settings.discord.proxy_url.as_deref());
        Ok(Some(Self {
            inner: Arc::new(Inner {
                verifier: Verifier::new(key),
                bot: Arc::new(bot),
                http: Arc::new(http),
                clock,
                body_timeout: settings.http.body_timeout(),
                answer_within: ANSWER_WITHIN,
            }),
        }))
    }

    /// Defers answers not ready within `limit` instead of [`ANSWER_WITHIN`]. Call it before
    /// the app is served (it is ignored on an app already shared).
    pub fn with_answer_within(mut self, limit: Duration) -> Self {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => inner.answer_within = limit,
            None => tracing::warn!("answer_within set on an endpoint already in use; ignored"),
        }
        self
    }

    /// Waits up to `limit` for the interactions still being answered (a deferred answer is
    /// edited in after its HTTP response went out); false if some still are.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        self.inner.bot.wait_idle(limit).await
    }
}

/// The route: `POST /discord/interactions`.
pub fn router(app: DiscordInteractions) -> Router {
    Router::new()
        .route(PATH, post(interactions))
        .with_state(app)
}

/// Checks the signature headers and the timestamp, then reads the body (at most
/// [`BODY_MAX`] bytes, within `http.body_timeout_ms`) and checks it is what was signed.
/// Only what this returns may be parsed. A request without both headers, outside the
/// window, with a malformed signature or declaring a body over the limit is refused before
/// a byte of its body is read.
async fn verified(
    app: &DiscordInteractions,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, Response> {
    let inner = &app.inner;
    let header = |name: &str| headers.get(name).map(|v| v.as_bytes());
    let now = inner.clock.now();
    let signed =
        match inner
            .verifier
            .check_headers(header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER), now)
        {
            Ok(signed) => signed,
            Err(refusal) => {
                tracing::warn!(%refusal, "refused a Discord request unread");
                return Err(unread(StatusCode::UNAUTHORIZED, refusal));
            }
        };
    let body = bounded_body(headers, body, BODY_MAX, inner.body_timeout).await?;
    if let Err(refusal) = signed.check_body(&body) {
        tracing::warn!(%refusal, "refused a Discord request");
        let status = match refusal {
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::UNAUTHORIZED,
        };
        return Err(refused(status, refusal));
    }
    Ok(body)
}

#[tracing::instrument(skip_all)]
async fn interactions(
    State(app): State<DiscordInteractions>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match verified(&app, &headers, body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return refused(
                StatusCode::BAD_REQUEST,
                format!("the interaction is not JSON: {e}"),
            )
        }
    };
    if value.get("type").and_then(Value::as_u64) == Some(PING) {
        return json_response(json!({ "type": PONG }), None);
    }
    match serde_json::from_value::<serenity::Interaction>(value) {
        Ok(interaction) => answered(&app, interaction).await,
        Err(e) => refused(
            StatusCode::BAD_REQUEST,
            format!("the interaction is not readable: {e}"),
        ),
    }
}

/// Has the bot answer, and returns its first answer as the response; an answer that is not
/// ready in time is deferred here and edited in by the bot.
async fn answered(app: &DiscordInteractions, interaction: serenity::Interaction) -> Response {
    let inner = &app.inner;
    let (give, mut given) = oneshot::channel();
    let first = Arc::new(Mutex::new(Some(give)));
    let (written, on_written) = oneshot::channel::<()>();
    let late = late_answer(&interaction);
    let reach = Reach::Body(BodyAnswer::new(first.clone(), on_written));
    let (bot, http) = (inner.bot.clone(), inner.http.clone());
    tokio::spawn(async move { bot.on_interaction(&http, &interaction, reach).await });
    let body = tokio::select! {
        biased;
        answer = &mut given => answer.ok(),
        () = tokio::time::sleep(inner.answer_within) => {
            let unanswered = first.lock().unwrap_or_else(PoisonError::into_inner).take();
            match unanswered {
                Some(_) => {
                    tracing::info!(
                        within_ms = inner.answer_within.as_millis(),
                        "a Discord interaction's answer is late; deferred"
                    );
                    Some(late)
                }
                // The answer is being handed over right now.
                None => given.await.ok(),
            }
        }
    };
    match body {
        Some(body) => json_response(body, Some(written)),
        None => {
            tracing::error!("a Discord interaction ended without an answer");
            refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the interaction was not answered",
            )
        }
    }
}

/// What the endpoint answers in the bot's place when its answer is late: no choices for an
/// autocomplete (which cannot be deferred), a deferral for the rest.
fn late_answer(interaction: &serenity::Interaction) -> Value {
    match interaction {
        serenity::Interaction::Autocomplete(_) => {
            json!({ "type": AUTOCOMPLETE_RESULT, "data": { "choices": [] } })
        }
        _ => json!({ "type": DEFERRED_CHANNEL_MESSAGE }),
    }
}

/// `body` as a JSON response. `written`, if given, is dropped once the body has been handed
/// to the connection: that tells the bot its REST calls may follow.
fn json_response(body: Value, written: Option<oneshot::Sender<()>>) -> Response {
    let bytes = Bytes::from(body.to_string());
    let length = bytes.len();
    let chunks =
        futures_util::stream::unfold((Some(bytes), written), |(next, written)| async move {
            let chunk = next?;
            Some((Ok::<_, std::convert::Infallible>(chunk), (None, written)))
        });
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        Body::from_stream(chunks),
    )
        .into_response()
}
