//! The console adapter: the local tenant, `--as @name` as the actor, and a REPL.

use std::io::Write;
use std::sync::Arc;

use crate::clock::Clock;
use crate::command::{self, Actor, CommandError, Ctx};
use crate::config::ConsoleSettings;
use crate::domain::{PersonRef, Platform, Tenant};
use crate::interaction::{context, Origin};
use crate::outbox::WebhookPolicy;
use crate::reply::{text, Reply};
use crate::store::Store;

/// Who is at the console.
#[derive(Debug, Clone)]
pub struct Console {
    pub tenant: Tenant,
    pub actor: Actor,
    pub channel: String,
    /// `delivery.webhook_hosts`, for webhook URLs given in commands.
    pub webhooks: Arc<WebhookPolicy>,
    /// `http.public_url`, for addresses shown in replies.
    pub public_url: Option<Arc<str>>,
    /// Checks channels named in commands (`platform::channel_check`): the local tenant's
    /// are its own; a Discord or Slack tenant's are asked of that platform.
    pub channels: Arc<dyn crate::command::ChannelCheck>,
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
                Ok(_) => {
                    return Err(format!(
                        "--as takes a console name like @dana, not `{}`",
                        crate::domain::truncate_for_error(raw)
                    ))
                }
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
            webhooks: Arc::default(),
            public_url: None,
            channels: Arc::new(crate::command::NoPlatform),
        })
    }

    pub fn ctx(&self, clock: &dyn Clock) -> Ctx {
        let origin = Origin {
            tenant: self.tenant.clone(),
            platform: Platform::Console,
            actor: self.actor.clone(),
            channel: Some(self.channel.clone()),
        };
        context(
            &origin,
            clock.now(),
            &self.webhooks,
            self.public_url.as_ref(),
            &self.channels,
        )
    }

    pub async fn execute(
        &self,
        store: &Store,
        clock: &dyn Clock,
        line: &str,
    ) -> Result<Reply, CommandError> {
        command::execute(store, &self.ctx(clock), line).await
    }

    /// Runs a plan file (`exec --file`, `source FILE`): every line or none. Returns what
    /// to print, or the refusal naming the file's line.
    pub async fn run_file(
        &self,
        store: &Store,
        clock: &dyn Clock,
        path: &std::path::Path,
    ) -> Result<String, CommandError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CommandError::user(format!("cannot read {}: {e}", path.display())))?;
        let lines = command::plan_lines(&text);
        if lines.is_empty() {
            return Err(CommandError::user(format!(
                "{} has no commands: one per line, `#` starts a comment",
                path.display()
            )));
        }
        match command::run_plan(store, &self.ctx(clock), &lines).await {
            Ok(replies) => {
                let mut out = String::new();
                for (n, reply) in &replies {
                    let first = text::render(reply);
                    let first = first.lines().next().unwrap_or_default();
                    out.push_str(&format!("{n:>4}  {first}\n"));
                }
                out.push_str(&format!(
                    "Applied {} commands from {} in one transaction.\n",
                    replies.len(),
                    path.display()
                ));
                Ok(out)
            }
            Err((n, CommandError::User(msg))) => Err(CommandError::user(format!(
                "{} line {n}: {msg}. Nothing was changed",
                path.display()
            ))),
            Err((_, e)) => Err(e),
        }
    }
}

/// What the console prints for a reply. Attachments with `--out` are written (the first to
/// that file or into that directory, the others beside it under their own names) and the
/// reply says which files it wrote; a text attachment without is printed as it is, so
/// `digest show --format slack` can be piped. A chart without `--out` is not dumped on the
/// terminal: the reply says how to write it. With `json`, the structured value behind the
/// reply is printed when there is one, else the reply itself. A file that cannot be written
/// is the user's error, in words.
pub fn present(reply: &Reply, json: bool) -> Result<String, String> {
    let mut wrote: Vec<(std::path::PathBuf, usize)> = Vec::new();
    let mut beside: Option<std::path::PathBuf> = None;
    for a in &reply.attachments {
        let Some(out) = &a.save_to else { continue };
        let path = match &beside {
            Some(dir) => dir.join(&a.filename),
            None => {
                let mut path = std::path::PathBuf::from(out);
                if path.is_dir() {
                    path.push(&a.filename);
                }
                beside = Some(
                    path.parent()
                        .map(std::path::Path::to_path_buf)
                        .unwrap_or_default(),
                );
                path
            }
        };
        std::fs::write(&path, a.body.as_bytes())
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        wrote.push((path, a.body.len()));
    }
    if let Some((first, bytes)) = wrote.first() {
        return Ok(if json {
            let files: Vec<serde_json::Value> = wrote
                .iter()
                .map(|(p, n)| serde_json::json!({ "path": p.display().to_string(), "bytes": n }))
                .collect();
            serde_json::json!({ "wrote": first.display().to_string(), "bytes": bytes, "files": files })
                .to_string()
                + "\n"
        } else {
            wrote
                .iter()
                .map(|(p, n)| format!("Wrote {} ({n} bytes)\n", p.display()))
                .collect()
        });
    }
    if json {
        let v = match &reply.data {
            Some(v) => serde_json::to_string_pretty(v),
            None => serde_json::to_string_pretty(reply),
        };
        return v
            .map(|s| s + "\n")
            .map_err(|e| format!("cannot show JSON: {e}"));
    }
    if let Some(text) = reply.attachment().and_then(|a| a.body.as_text()) {
        let mut body = text.to_owned();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        return Ok(body);
    }
    Ok(text::render(reply))
}

/// Shows an internal error the way every adapter does: a short message and an id that is
/// in the log with the whole context chain.
pub fn report_internal(e: &anyhow::Error) -> String {
    crate::interaction::wording::internal_text(e)
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
        if let Some(file) = trimmed.strip_prefix("source ") {
            match console
                .run_file(store, clock, std::path::Path::new(file.trim()))
                .await
            {
                Ok(out) => print!("{out}"),
                Err(CommandError::User(msg)) => println!("error: {msg}"),
                Err(CommandError::Internal(e)) => println!("error: {}", report_internal(&e)),
            }
            let _ = std::io::stdout().flush();
            continue;
        }
        match console.execute(store, clock, trimmed).await {
            Ok(reply) => match present(&reply, false) {
                Ok(out) => print!("{out}"),
                Err(msg) => println!("error: {msg}"),
            },
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
