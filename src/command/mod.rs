//! The command layer: text or typed options in, a [`Reply`] out. `grammar` parses without
//! I/O; the handlers run each command in one transaction that writes the state change and
//! its events together, or nothing at all.

pub mod grammar;
mod handlers;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use grammar::{parse, parse_argv, Command, ParseError, Parsed};
pub use handlers::{plan_lines, run, run_plan, run_plan_then, PlanLine};

pub use crate::domain::{ChannelCheck, ChannelVerdict, NoPlatform};
use crate::domain::{Invalid, Platform, Tenant};
use crate::outbox::WebhookPolicy;
use crate::reply::Reply;
use crate::store::Store;

/// The one running a command.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Console name, Discord user id or Slack user id.
    pub handle: String,
    pub display_name: String,
    /// Tenant admin: may create programs, and acts as owner of every program.
    pub is_admin: bool,
}

/// Everything a handler knows about where a command came from.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub tenant: Tenant,
    pub platform: Platform,
    pub actor: Actor,
    /// The channel the command was typed in, for bound programs.
    pub channel: Option<String>,
    pub now: DateTime<Utc>,
    /// Where webhook URLs given in commands may point (`delivery.webhook_hosts`): refused
    /// when they are subscribed, not only when they are first called.
    pub webhooks: Arc<WebhookPolicy>,
    /// Drumbeat's externally reachable base URL (`http.public_url`), for addresses shown in
    /// replies such as the calendar feed's; without it they are shown as paths.
    pub public_url: Option<Arc<str>>,
    /// Asks the platform whether a channel named in a command belongs to this tenant.
    pub channels: Arc<dyn ChannelCheck>,
}

/// The two tiers of failure: a user error is shown word for word; an internal one is
/// logged with its context chain, and the user sees a short message with an id.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    User(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl CommandError {
    pub fn user(msg: impl Into<String>) -> Self {
        Self::User(msg.into())
    }
}

impl From<Invalid> for CommandError {
    fn from(e: Invalid) -> Self {
        Self::User(e.0)
    }
}

impl From<ParseError> for CommandError {
    fn from(e: ParseError) -> Self {
        Self::User(e.0)
    }
}

pub type Result<T, E = CommandError> = std::result::Result<T, E>;

/// Parses and runs one line of the command language.
/// The text is logged masked: a webhook URL or a token typed into a command stays out of logs.
#[tracing::instrument(
    skip(store, ctx, text),
    fields(tenant = %ctx.tenant, actor = %ctx.actor.handle, text = %crate::telemetry::mask_secrets(text))
)]
pub async fn execute(store: &Store, ctx: &Ctx, text: &str) -> Result<Reply> {
    match parse(text)? {
        Parsed::Help(help) => Ok(Reply::new("Help").preformatted(help).ephemeral()),
        Parsed::Run(command) => run(store, ctx, command).await,
    }
}

/// Runs a command given as words (a platform's typed options), with no quoting to undo.
#[tracing::instrument(skip(store, ctx, words), fields(tenant = %ctx.tenant, actor = %ctx.actor.handle))]
pub async fn execute_argv(store: &Store, ctx: &Ctx, words: &[String]) -> Result<Reply> {
    match parse_argv(words)? {
        Parsed::Help(help) => Ok(Reply::new("Help").preformatted(help).ephemeral()),
        Parsed::Run(command) => run(store, ctx, command).await,
    }
}
