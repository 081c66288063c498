//! The console adapter: the local tenant, `--as @name` as the actor, and a REPL.

use std::io::Write;

use crate::clock::Clock;
use crate::command::{self, Actor, CommandError, Ctx};
use crate::config::ConsoleSettings;
use crate::domain::{PersonRef, Platform, Tenant};
use crate::reply::{text, Reply};
use crate::store::Store;

/// Who is at the console.
#[derive(Debug, Clone)]
pub struct Console {
    pub tenant: Tenant,
    pub actor: Actor,
    pub channel: String,
}

impl Console {
    /// `as_person` is the `--as` value (`@dana`); the configured actor otherwise.
    pub fn new(
        settings: &ConsoleSettings,
        tenant: Tenant,
        as_person: Option<&str>,
    ) -> Result<Self, String> {
        let handle = match as_person {
            Some(raw) => match PersonRef::parse(raw) {
                Ok(PersonRef::Name(n)) => n,
                Ok(_) => return Err(format!("--as takes a console name like @dana, not `{raw}`")),
                Err(e) => return Err(format!("--as: {}", e.0)),
            },
            None => settings.actor.clone(),
        };
        let is_admin = settings
            .admins
            .iter()
            .any(|a| a.trim_start_matches('@') == handle);
        Ok(Self {
            tenant,
            actor: Actor {
                display_name: handle.clone(),
                handle,
                is_admin,
            },
            channel: settings.channel.clone(),
        })
    }

    pub fn ctx(&self, clock: &dyn Clock) -> Ctx {
        Ctx {
            tenant: self.tenant.clone(),
            platform: Platform::Console,
            actor: self.actor.clone(),
            channel: Some(self.channel.clone()),
            now: clock.now(),
        }
    }

    pub async fn execute(
        &self,
        store: &Store,
        clock: &dyn Clock,
        line: &str,
    ) -> Result<Reply, CommandError> {
        command::execute(store, &self.ctx(clock), line).await
    }
}

/// Shows an internal error the way every adapter does: a short message and an id that is
/// in the log with the whole context chain.
pub fn report_internal(e: &anyhow::Error) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    tracing::error!(error_id = %id, error = ?e, "internal error");
    format!("something went wrong on our side (error id {id}); the log has the details")
}

/// The interactive console: line editing, history, one command per line.
pub async fn repl(
    store: &Store,
    clock: &dyn Clock,
    console: &Console,
    history: Option<&str>,
) -> anyhow::Result<()> {
    let mut editor = rustyline::DefaultEditor::new()?;
    if let Some(h) = history {
        let _ = editor.load_history(h);
    }
    println!(
        "Drumbeat console — you are @{}{}. Type `help`, or `quit` to leave.",
        console.actor.handle,
        if console.actor.is_admin {
            " (admin)"
        } else {
            ""
        }
    );
    loop {
        let line = match editor.readline("drumbeat> ") {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if matches!(trimmed, "quit" | "exit") {
            break;
        }
        let _ = editor.add_history_entry(trimmed);
        match console.execute(store, clock, trimmed).await {
            Ok(reply) => print!("{}", text::render(&reply)),
            Err(CommandError::User(msg)) => println!("error: {msg}"),
            Err(CommandError::Internal(e)) => println!("error: {}", report_internal(&e)),
        }
        let _ = std::io::stdout().flush();
    }
    if let Some(h) = history {
        let _ = editor.save_history(h);
    }
    Ok(())
}
