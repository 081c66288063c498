//! What the adapter sends back to Slack outside a response: answers to a request's
//! `response_url`, and `views.open` with the bot token. Both go through one reqwest client
//! with timeouts and no redirects; a `response_url` must be on the allowlist.

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::outbox::senders::outbound_client;
use crate::outbox::WebhookPolicy;
use crate::reply::slack;

/// Slack lets an app use a `response_url` this many times.
pub const RESPONSE_URL_USES: usize = 5;

/// A message for a `response_url`: shown to the one who asked only.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub response_type: &'static str,
    pub replace_original: bool,
    pub text: String,
    pub blocks: Vec<slack::Block>,
}

impl Answer {
    pub fn ephemeral(m: slack::Message) -> Self {
        Self {
            response_type: "ephemeral",
            replace_original: false,
            text: m.text,
            blocks: m.blocks,
        }
    }
}

pub struct Web {
    http: reqwest::Client,
    responses: WebhookPolicy,
    api_url: String,
    bot_token: Option<SecretString>,
}

#[derive(Deserialize)]
struct ApiAnswer {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
}

impl Web {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let delivery = &settings.delivery;
        Ok(Self {
            http: outbound_client(delivery)?,
            responses: WebhookPolicy::for_hosts(&settings.slack.response_hosts, delivery),
            api_url: settings.slack.api_base(),
            bot_token: settings.slack.bot_token(),
        })
    }

    pub fn has_bot_token(&self) -> bool {
        self.bot_token.is_some()
    }

    /// The `response_url` if it may be called, else why not (without the URL: it is a
    /// credential for a few minutes).
    pub fn response_url(&self, raw: &str) -> Result<Url, String> {
        self.responses
            .url(raw)
            .map_err(|e| e.0.replace("webhook", "response_url"))
    }

    /// Posts messages to a `response_url`, in order, at most [`RESPONSE_URL_USES`].
    pub async fn respond(&self, url: &Url, messages: Vec<slack::Message>) {
        let total = messages.len();
        if total > RESPONSE_URL_USES {
            tracing::warn!(
                parts = total,
                "a reply has more parts than a response_url takes; the rest are dropped"
            );
        }
        for m in messages.into_iter().take(RESPONSE_URL_USES) {
            let sent = self
                .http
                .post(url.clone())
                .json(&Answer::ephemeral(m))
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    tracing::warn!(status = %r.status(), "Slack refused an answer to response_url");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e.without_url(), "could not answer a response_url");
                    return;
                }
            }
        }
    }

    /// Opens a modal with `views.open`. Needs the bot token.
    pub async fn open_view(&self, trigger_id: &str, view: serde_json::Value) -> Result<(), String> {
        let Some(token) = &self.bot_token else {
            return Err("no bot token is configured".into());
        };
        let response = self
            .http
            .post(format!("{}/views.open", self.api_url))
            .bearer_auth(token.expose_secret())
            .json(&serde_json::json!({ "trigger_id": trigger_id, "view": view }))
            .send()
            .await
            .map_err(|e| format!("views.open failed: {}", e.without_url()))?;
        let status = response.status();
        let answer: ApiAnswer = response
            .json()
            .await
            .map_err(|e| format!("views.open answered {status} without Slack's JSON: {e}"))?;
        if answer.ok {
            Ok(())
        } else {
            Err(format!(
                "views.open answered {}",
                answer.error.as_deref().unwrap_or("not ok")
            ))
        }
    }
}
