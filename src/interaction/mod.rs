//! The interaction core: everything a chat platform's adapter would otherwise do for itself.
//! An adapter turns its payloads into an [`Origin`] (tenant, actor, channel, platform) and
//! words, a clicked [`ActionId`] or a form's values, calls the core, and renders the
//! [`Reply`] it gets back. The core builds the command context, runs the command in one
//! transaction, decides which commands are slow, opens and checks the status form, runs
//! dependency buttons, completes keys, and words every refusal and internal error, so the
//! same refusal reads the same on every platform.
//!
//! See docs/ARCHITECTURE.md for where this sits between the platforms and the command layer.

mod complete;
mod form;
mod replays;
pub mod wording;

use std::sync::Arc;

pub use complete::{Asked, Choice, Completion};
pub use form::{Answer, AnswerForm, Form, FormField, FormValues, StatusForm, Submitted};
pub use replays::Replays;

use crate::clock::Clock;
use crate::command::{self, Actor, ChannelCheck, Command, CommandError, Ctx, Parsed};
use crate::domain::{ActionId, Platform, Tenant};
use crate::outbox::WebhookPolicy;
use crate::reply::Reply;
use crate::store::{self, Store};

/// Where an interaction came from and who made it.
#[derive(Debug, Clone)]
pub struct Origin {
    pub tenant: Tenant,
    pub platform: Platform,
    pub actor: Actor,
    /// The channel it was made in (for programs bound to a channel), if any.
    pub channel: Option<String>,
}

/// The command context of `origin` at `now`: the one place a [`Ctx`] is made, for the
/// core and for the console alike.
pub fn context(
    origin: &Origin,
    now: chrono::DateTime<chrono::Utc>,
    webhooks: &Arc<WebhookPolicy>,
    public_url: Option<&Arc<str>>,
    channels: &Arc<dyn ChannelCheck>,
) -> Ctx {
    Ctx {
        tenant: origin.tenant.clone(),
        platform: origin.platform,
        actor: origin.actor.clone(),
        channel: origin.channel.clone(),
        now,
        webhooks: webhooks.clone(),
        public_url: public_url.cloned(),
        channels: channels.clone(),
    }
}

/// What the core shares between interactions: the store, the clock, and the settings every
/// command context carries.
#[derive(Clone)]
pub struct Core {
    store: Store,
    clock: Arc<dyn Clock>,
    webhooks: Arc<WebhookPolicy>,
    public_url: Option<Arc<str>>,
    channels: Arc<dyn ChannelCheck>,
}

/// A command read from a platform's words or text, ready to run; or the answer already
/// (help, or a refusal of what could not be read).
pub enum Prepared {
    Run(Command),
    Answer(Reply),
}

impl Prepared {
    /// Whether running it reads and analyses a whole program (digests, reports, paths,
    /// charts): platforms with a reply deadline acknowledge these first and answer after.
    pub fn is_slow(&self) -> bool {
        matches!(self, Prepared::Run(c) if c.is_slow())
    }
}

/// What a click gets: a form to fill in, a command to run (ask [`Prepared::is_slow`] first,
/// then [`Core::run_click`]), or nothing for a button this version does not know (an older
/// message's).
pub enum Click {
    Form(Form),
    Run(Prepared),
    /// Platforms that must answer every click say [`wording::STALE_BUTTON`]; the others
    /// acknowledge it and do nothing.
    Unknown,
}

impl Core {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        webhooks: Arc<WebhookPolicy>,
        public_url: Option<Arc<str>>,
        channels: Arc<dyn ChannelCheck>,
    ) -> Self {
        Self {
            store,
            clock,
            webhooks,
            public_url,
            channels,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The command context of an interaction, at this instant.
    pub fn ctx(&self, origin: &Origin) -> Ctx {
        context(
            origin,
            self.clock.now(),
            &self.webhooks,
            self.public_url.as_ref(),
            &self.channels,
        )
    }

    /// Reads a command typed as one line.
    pub fn prepare_text(text: &str) -> Prepared {
        Self::prepared(command::parse(text))
    }

    /// Reads a command given as words (a platform's typed options).
    pub fn prepare_words(words: &[String]) -> Prepared {
        Self::prepared(command::parse_argv(words))
    }

    fn prepared(parsed: Result<Parsed, command::ParseError>) -> Prepared {
        match parsed {
            Ok(Parsed::Run(c)) => Prepared::Run(c),
            Ok(Parsed::Help(help)) => Prepared::Answer(wording::help(help)),
            Err(e) => Prepared::Answer(wording::refusal(&e.0)),
        }
    }

    /// Runs a prepared command as `origin`: its reply, or the refusal or internal error in
    /// the words every platform shows.
    pub async fn run(&self, origin: &Origin, prepared: Prepared) -> Reply {
        match prepared {
            Prepared::Answer(reply) => reply,
            Prepared::Run(command) => self.answer(self.execute(origin, command).await),
        }
    }

    /// Runs a command and keeps the error apart, for adapters that show it elsewhere (a
    /// form's field).
    pub async fn execute(&self, origin: &Origin, command: Command) -> command::Result<Reply> {
        command::run(&self.store, &self.ctx(origin), command).await
    }

    /// An outcome as the reply to show.
    pub fn answer(&self, outcome: command::Result<Reply>) -> Reply {
        match outcome {
            Ok(reply) => reply,
            Err(CommandError::User(msg)) => wording::refusal(&msg),
            Err(CommandError::Internal(e)) => wording::internal(&e),
        }
    }

    /// People picked in a platform's user option come with their display names; people
    /// first known by their id (mentioned before they ever spoke) get theirs. A failure is
    /// logged, never the command's.
    pub async fn remember_names(&self, tenant: &Tenant, names: &[(String, String)]) {
        if names.is_empty() {
            return;
        }
        let recorded = async {
            let mut tx = self.store.write().await?;
            for (handle, name) in names {
                store::name_person(&mut tx, tenant, handle, name).await?;
            }
            tx.commit().await?;
            anyhow::Ok(())
        };
        if let Err(e) = recorded.await {
            tracing::warn!(error = %e, "could not record people's display names");
        }
    }

    /// Up to `limit` completions of what is being typed; none when they cannot be read (the
    /// failure is logged: completion is a convenience).
    pub async fn complete(&self, asked: &Asked<'_>, limit: usize) -> Vec<Choice> {
        match complete::choices(&self.store, asked, limit).await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(error = %e, "completion failed");
                Vec::new()
            }
        }
    }

    /// Runs what a button asked for as the one who clicked; the answer is theirs alone.
    pub async fn run_click(&self, origin: &Origin, prepared: Prepared) -> Reply {
        self.run(origin, prepared).await.ephemeral()
    }

    /// A click on a button of ours: a status colour, "Propose a date" and "Decline" open
    /// their form; the others run their command.
    pub fn click(&self, raw_id: &str) -> Click {
        match ActionId::parse(raw_id) {
            Some(action) => match Form::of(&action) {
                Some(form) => Click::Form(form),
                None => Click::Run(Self::prepare_words(&action.words().unwrap_or_default())),
            },
            None => Click::Unknown,
        }
    }

    /// A form sent back: checked field by field, then run as its command would be (`status
    /// post`, `dep propose`, `dep decline`). A problem with one field is reported against
    /// it, so the form can stay open.
    pub async fn submit(&self, origin: &Origin, raw_id: &str, values: &FormValues) -> Submitted {
        let Some(form) = ActionId::parse(raw_id).and_then(|id| Form::of(&id)) else {
            return Submitted::Refused(wording::UNKNOWN_FORM.to_owned());
        };
        let command = match form.command(values) {
            Ok(c) => c,
            Err((field, msg)) => {
                return Submitted::Invalid {
                    field,
                    message: msg,
                }
            }
        };
        match self.execute(origin, command).await {
            Ok(reply) => Submitted::Done(reply.ephemeral()),
            Err(CommandError::User(msg)) => match form.field_of(values, &msg) {
                // The update's own rule, checked after who may post: under its field.
                Some(field) => Submitted::Invalid {
                    field,
                    message: msg,
                },
                None => Submitted::Refused(msg),
            },
            Err(CommandError::Internal(e)) => Submitted::Refused(wording::internal_text(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_commands_are_known_before_they_run() {
        let slow = Core::prepare_text("digest show atlas");
        assert!(slow.is_slow());
        let quick = Core::prepare_text("program list");
        assert!(!quick.is_slow());
        let refused = Core::prepare_text("frobnicate");
        assert!(!refused.is_slow());
        match refused {
            Prepared::Answer(r) => assert_eq!(r.title, "Not done"),
            Prepared::Run(_) => panic!("not a command"),
        }
    }
}
