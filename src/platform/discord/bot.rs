//! The gateway side: slash commands registered from [`super::slash`] with serenity's
//! builders, buttons and modals for status prompts, autocomplete of keys. Handlers only turn
//! options into the core's words and render its reply; the core decides everything else.
//! [`Bot::on_interaction`] answers an [`serenity::Interaction`] however it arrived, so the
//! gateway is one way in among others.
//!
//! The tenant is the guild. A click in a DM finds its guild in the button's custom id
//! (`{guild}:status:atlas:api:amber`), which is all a click needs, so buttons keep working
//! after a restart.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::serenity::all as serenity;
use ::serenity::http::{Http, HttpBuilder, LightMethod, Route};
use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};

use super::channels::DiscordChannels;
use super::sender::{messages, request, with_files};
use super::slash::{self, Complete, Given, Kind, SlashCommand, SlashOption};
use crate::clock::Clock;
use crate::command::{self, Actor, ChannelCheck, CommandError, Ctx};
use crate::config::DiscordSettings;
use crate::domain::{Key, Platform, Tenant};
use crate::outbox::WebhookPolicy;
use crate::reply::{Attachment, Reply, Tone};
use crate::store::{self, Store};

/// Interaction response types and flags (Discord's numbers).
const CHANNEL_MESSAGE: u8 = 4;
const DEFERRED_CHANNEL_MESSAGE: u8 = 5;
const MODAL: u8 = 9;
const EPHEMERAL: u64 = 1 << 6;
/// Modal titles and text-input labels are at most 45 characters.
const MODAL_TITLE_MAX: usize = 45;

/// An HTTP client for Discord's REST API, or for the proxy named in the settings.
pub fn http_client(token: &SecretString, proxy_url: Option<&str>) -> Http {
    let mut builder = HttpBuilder::new(token.expose_secret());
    if let Some(p) = proxy_url.filter(|p| !p.is_empty()) {
        // serenity's own rate limiter always calls discord.com; behind a proxy the proxy
        // keeps the buckets (that is what such proxies are for), and a 429 that still comes
        // back is retried by the outbox.
        builder = builder
            .proxy(p.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    builder.build()
}

/// Whether the gateway session is up: set on ready and resume, cleared when the shard
/// leaves the connected stage and when the bot stops. Readiness checks read it.
#[derive(Debug, Clone, Default)]
pub struct GatewayState(Arc<AtomicBool>);

impl GatewayState {
    pub fn is_connected(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    fn set(&self, connected: bool) {
        self.0.store(connected, Ordering::SeqCst);
    }
}

/// Counts handlers at work, so a stop can wait for them.
#[derive(Default)]
struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

struct InFlightGuard<'a>(&'a InFlight);

impl InFlight {
    fn enter(&self) -> InFlightGuard<'_> {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(self)
    }

    async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.idle.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.count.load(Ordering::SeqCst) == 0;
            }
        }
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// What every handler shares.
pub struct Bot {
    store: Store,
    clock: Arc<dyn Clock>,
    commands: Vec<SlashCommand>,
    /// `discord.admin_role`: the id of the role whose members are tenant admins.
    admin_role: Option<u64>,
    in_flight: Arc<InFlight>,
    webhooks: Arc<WebhookPolicy>,
    public_url: Option<Arc<str>>,
    gateway: GatewayState,
    /// Whether a channel named in a command is in the guild it was typed in.
    channels: Arc<dyn ChannelCheck>,
}

/// What the bot is told besides its settings: Drumbeat's public address (`http.public_url`)
/// for replies, and the gateway state it keeps up to date.
#[derive(Debug, Clone, Default)]
pub struct Links {
    pub public_url: Option<Arc<str>>,
    pub gateway: GatewayState,
}

/// A running bot, for whoever started it: stop it and wait.
pub struct BotHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl BotHandle {
    /// Stops taking interactions, lets the ones in flight finish, and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await.context("the Discord bot's task")?
    }
}

impl Bot {
    /// Connects in the background; see [`Bot::run`].
    pub fn spawn(
        settings: DiscordSettings,
        token: SecretString,
        webhooks: Arc<WebhookPolicy>,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> BotHandle {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let links = Links::default();
            Bot::run(&settings, &token, webhooks, links, store, clock, stopped).await
        });
        BotHandle { stop, task }
    }

    /// Connects to the gateway with the `GUILDS` intent only, registers the slash commands
    /// (in `dev_guild_id` if set, else globally) and handles interactions until `shutdown`
    /// turns true; then it waits for the handlers in flight. Webhook URLs given in
    /// commands must pass `webhooks`; `links` says where replies' addresses point and
    /// carries the connection state for readiness.
    pub async fn run(
        settings: &DiscordSettings,
        token: &SecretString,
        webhooks: Arc<WebhookPolicy>,
        links: Links,
        store: Store,
        clock: Arc<dyn Clock>,
        mut shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let in_flight = Arc::new(InFlight::default());
        let bot = Bot {
            store,
            clock,
            commands: slash::commands(),
            admin_role: admin_role(settings.admin_role.as_deref()),
            in_flight: in_flight.clone(),
            webhooks,
            public_url: links.public_url,
            gateway: links.gateway.clone(),
            channels: Arc::new(DiscordChannels::new(token, settings.proxy_url.as_deref())),
        };
        let handler = Handler {
            bot: Arc::new(bot),
            dev_guild: settings.dev_guild_id,
            registered: AtomicBool::new(false),
        };
        let gateway = links.gateway;
        let http = http_client(token, settings.proxy_url.as_deref());
        let mut client =
            serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::GUILDS)
                .event_handler(handler)
                .await
                .context("starting the Discord client")?;
        let shards = client.shard_manager.clone();
        let watcher = tokio::spawn(async move {
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
            shards.shutdown_all().await;
        });
        let outcome = client.start().await.context("the Discord gateway");
        gateway.set(false);
        watcher.abort();
        if !in_flight.wait_idle(Duration::from_secs(20)).await {
            tracing::warn!("stopped with Discord interactions still in flight");
        }
        outcome
    }

    fn ctx(&self, guild: u64, actor: Actor, channel: Option<String>) -> Ctx {
        Ctx {
            tenant: Tenant::discord(guild),
            platform: Platform::Discord,
            actor,
            channel,
            now: self.clock.now(),
            webhooks: self.webhooks.clone(),
            public_url: self.public_url.clone(),
            channels: self.channels.clone(),
        }
    }

    /// Tenant admin: Manage Server (or Administrator), or the configured role.
    fn is_admin(&self, member: &serenity::Member) -> bool {
        let perms = member.permissions.unwrap_or_default();
        if perms.manage_guild() || perms.administrator() {
            return true;
        }
        self.admin_role
            .is_some_and(|id| member.roles.iter().any(|r| r.get() == id))
    }
}

/// The admin role from `discord.admin_role`, which must be the role's id. A name is not
/// taken: anyone who may create roles could make one with the same name and hand it to
/// themselves, so a name is ignored, loudly.
pub(crate) fn admin_role(setting: Option<&str>) -> Option<u64> {
    let raw = setting.map(str::trim).filter(|r| !r.is_empty())?;
    match raw.parse::<u64>() {
        Ok(id) if id != 0 => Some(id),
        _ => {
            tracing::error!(
                setting = raw,
                "discord.admin_role must be a role id (Server Settings → Roles → the role's … → Copy Role ID); a role name is ignored, so only Manage Server makes tenant admins"
            );
            None
        }
    }
}

/// The gateway's events for the bot: registration on the first ready, the connection state,
/// and every interaction.
struct Handler {
    bot: Arc<Bot>,
    dev_guild: Option<u64>,
    /// Commands are registered once per run, not again after a reconnect.
    registered: AtomicBool,
}

#[serenity::async_trait]
impl serenity::EventHandler for Handler {
    async fn ready(&self, ctx: serenity::Context, ready: serenity::Ready) {
        if !self.registered.swap(true, Ordering::SeqCst) {
            let commands = registration(&self.bot.commands);
            let count = commands.len();
            let registered = match self.dev_guild {
                Some(g) => serenity::GuildId::new(g)
                    .set_commands(&ctx.http, commands)
                    .await
                    .map(drop),
                None => serenity::Command::set_global_commands(&ctx.http, commands)
                    .await
                    .map(drop),
            };
            match registered {
                Ok(()) => tracing::info!(
                    user = %ready.user.name,
                    guilds = ready.guilds.len(),
                    commands = count,
                    "connected to Discord"
                ),
                Err(e) => {
                    // Next ready tries again.
                    self.registered.store(false, Ordering::SeqCst);
                    tracing::error!(error = %e, "could not register the slash commands");
                }
            }
        }
        self.bot.gateway.set(true);
    }

    async fn resume(&self, _ctx: serenity::Context, _event: serenity::ResumedEvent) {
        self.bot.gateway.set(true);
    }

    async fn shard_stage_update(
        &self,
        _ctx: serenity::Context,
        event: serenity::ShardStageUpdateEvent,
    ) {
        self.bot
            .gateway
            .set(event.new == serenity::ConnectionStage::Connected);
    }

    async fn interaction_create(&self, ctx: serenity::Context, interaction: serenity::Interaction) {
        self.bot.on_interaction(&ctx.http, &interaction).await;
    }
}

/// The slash commands as Discord registers them: one command per area, its verbs as
/// subcommands, guild channels only.
fn registration(commands: &[SlashCommand]) -> Vec<serenity::CreateCommand> {
    commands
        .iter()
        .map(|c| {
            let mut command = serenity::CreateCommand::new(&c.name)
                .description(&c.description)
                .contexts(vec![serenity::InteractionContext::Guild]);
            for o in &c.options {
                command = command.add_option(option(o));
            }
            for verb in &c.subcommands {
                let mut sub = serenity::CreateCommandOption::new(
                    serenity::CommandOptionType::SubCommand,
                    &verb.name,
                    &verb.description,
                );
                for o in &verb.options {
                    sub = sub.add_sub_option(option(o));
                }
                command = command.add_option(sub);
            }
            command
        })
        .collect()
}

fn option(o: &SlashOption) -> serenity::CreateCommandOption {
    use serenity::CommandOptionType as Type;
    let kind = match o.kind {
        Kind::Text => Type::String,
        Kind::Flag => Type::Boolean,
        Kind::User => Type::User,
        Kind::Choice | Kind::Integer { .. } => Type::Integer,
        Kind::Channel => Type::Channel,
    };
    let mut option = serenity::CreateCommandOption::new(kind, &o.name, &o.description)
        .required(o.required)
        .set_autocomplete(o.complete.is_some());
    match o.kind {
        Kind::Text => option = option.max_length(4000),
        Kind::Integer { min, max } => {
            option = option
                .min_int_value(u64::try_from(min).unwrap_or(0))
                .max_int_value(u64::try_from(max).unwrap_or(0))
        }
        Kind::Channel => {
            option = option.channel_types(vec![
                serenity::ChannelType::Text,
                serenity::ChannelType::News,
            ])
        }
        Kind::Flag | Kind::User | Kind::Choice => {}
    }
    for (i, word) in o.choices.iter().enumerate() {
        option = option.add_int_choice(*word, i32::try_from(i).unwrap_or(i32::MAX));
    }
    option
}

/// (option name, value) pairs, and (user id, display name) of the users picked.
type Options = (Vec<(String, Given)>, Vec<(String, String)>);

fn given(args: &[serenity::ResolvedOption<'_>]) -> Options {
    let mut out = Vec::new();
    let mut names = Vec::new();
    for a in args {
        let value = match &a.value {
            serenity::ResolvedValue::String(s) => Given::Text((*s).to_owned()),
            serenity::ResolvedValue::Integer(i) => Given::Integer(*i),
            serenity::ResolvedValue::Boolean(b) => Given::Flag(*b),
            serenity::ResolvedValue::User(u, m) => {
                let name = m
                    .and_then(|m| m.nick.clone())
                    .or_else(|| u.global_name.clone())
                    .unwrap_or_else(|| u.name.clone());
                names.push((u.id.to_string(), name));
                Given::User(u.id.to_string())
            }
            serenity::ResolvedValue::Unresolved(serenity::Unresolved::User(id)) => {
                Given::User(id.to_string())
            }
            serenity::ResolvedValue::Channel(c) => Given::Channel(c.id.to_string()),
            serenity::ResolvedValue::Unresolved(serenity::Unresolved::Channel(id)) => {
                Given::Channel(id.to_string())
            }
            serenity::ResolvedValue::Number(n) => Given::Text(n.to_string()),
            _ => continue,
        };
        out.push((a.name.to_owned(), value));
    }
    (out, names)
}

impl Bot {
    /// Answers one interaction: a slash command, an autocomplete, a button or a form.
    pub async fn on_interaction(&self, http: &Http, interaction: &serenity::Interaction) {
        let _working = self.in_flight.enter();
        match interaction {
            serenity::Interaction::Command(c) => on_slash(self, http, c).await,
            serenity::Interaction::Autocomplete(c) => on_autocomplete(self, http, c).await,
            serenity::Interaction::Component(c) => on_button(self, http, c).await,
            serenity::Interaction::Modal(m) => on_modal(self, http, m).await,
            _ => {}
        }
    }
}

/// The command's path (`[area]` or `[area, verb]`) and the options of its leaf.
fn command_path(data: &serenity::CommandData) -> (Vec<String>, Vec<serenity::ResolvedOption<'_>>) {
    let mut path = vec![data.name.clone()];
    let mut args = data.options();
    loop {
        match args.as_slice() {
            [serenity::ResolvedOption {
                name,
                value:
                    serenity::ResolvedValue::SubCommand(inner)
                    | serenity::ResolvedValue::SubCommandGroup(inner),
                ..
            }] => {
                path.push((*name).to_owned());
                args = inner.clone();
            }
            _ => return (path, args),
        }
    }
}

/// Every slash command lands here.
async fn on_slash(bot: &Bot, http: &Http, interaction: &serenity::CommandInteraction) {
    let started = Instant::now();
    let (path, args) = command_path(&interaction.data);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let responder = Responder::new(
        interaction.id.get(),
        &interaction.token,
        interaction.application_id.get(),
    );
    let (given, names) = given(&args);
    let argv = match slash::argv(&bot.commands, &path, &given) {
        Ok(w) => w,
        Err(msg) => {
            responder.refuse(http, &msg).await;
            return;
        }
    };
    let Some(guild) = interaction.guild_id.map(|g| g.get()) else {
        responder
            .refuse(
                http,
                "Drumbeat's commands work in a server's channels, where the program lives.",
            )
            .await;
        return;
    };
    // Digests, reports and paths may take longer than Discord's 3 seconds: say so first.
    let deferred =
        crate::command::grammar::is_slow_command(path[0], path.get(1).copied().unwrap_or(""));
    if deferred {
        if let Err(e) = responder.defer(http).await {
            tracing::warn!(error = %e, "could not defer a Discord interaction");
            return;
        }
    }
    let member = interaction.member.as_deref();
    let actor = Actor {
        handle: interaction.user.id.to_string(),
        display_name: display_name(&interaction.user, member),
        is_admin: match member {
            Some(m) => bot.is_admin(m),
            None => false,
        },
    };
    let cctx = bot.ctx(guild, actor, Some(interaction.channel_id.to_string()));
    let outcome = command::execute_argv(&bot.store, &cctx, &argv).await;
    if outcome.is_ok() && !names.is_empty() {
        if let Err(e) = name_people(&bot.store, &cctx.tenant, &names).await {
            tracing::warn!(error = %e, "could not record Discord display names");
        }
    }
    responder.answer(http, guild, outcome, deferred).await;
    tracing::debug!(
        command = %path.join(" "),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "slash command answered"
    );
}

fn display_name(user: &serenity::User, member: Option<&serenity::Member>) -> String {
    member
        .and_then(|m| m.nick.clone())
        .or_else(|| user.global_name.clone())
        .unwrap_or_else(|| user.name.clone())
}

/// People first known by their id (mentioned before they ever spoke) get their name.
async fn name_people(
    store: &Store,
    tenant: &Tenant,
    names: &[(String, String)],
) -> anyhow::Result<()> {
    let mut tx = store.write().await?;
    for (handle, name) in names {
        store::name_person(&mut tx, tenant, handle, name).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Answers one interaction: the first message as the interaction's response (or as the
/// edit of a deferred one), the rest as follow-ups.
struct Responder<'a> {
    interaction: u64,
    token: &'a str,
    application: u64,
}

impl<'a> Responder<'a> {
    fn new(interaction: u64, token: &'a str, application: u64) -> Self {
        Self {
            interaction,
            token,
            application,
        }
    }

    async fn post(
        &self,
        http: &Http,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&Value>,
        file: Option<&Attachment>,
    ) -> anyhow::Result<()> {
        http.request(request(route, method, body, file)).await?;
        Ok(())
    }

    async fn callback(&self, http: &Http, body: Value) -> anyhow::Result<()> {
        self.callback_with(http, body, None).await
    }

    async fn callback_with(
        &self,
        http: &Http,
        body: Value,
        file: Option<&Attachment>,
    ) -> anyhow::Result<()> {
        self.post(
            http,
            Route::InteractionResponse {
                interaction_id: serenity::InteractionId::new(self.interaction),
                token: self.token,
            },
            LightMethod::Post,
            Some(&body),
            file,
        )
        .await
    }

    async fn defer(&self, http: &Http) -> anyhow::Result<()> {
        self.callback(http, json!({ "type": DEFERRED_CHANNEL_MESSAGE }))
            .await
    }

    async fn followup(
        &self,
        http: &Http,
        body: &Value,
        file: Option<&Attachment>,
    ) -> anyhow::Result<()> {
        self.post(
            http,
            Route::WebhookFollowupMessages {
                application_id: serenity::ApplicationId::new(self.application),
                token: self.token,
            },
            LightMethod::Post,
            Some(body),
            file,
        )
        .await
    }

    /// A user error, shown only to the one who asked.
    async fn refuse(&self, http: &Http, msg: &str) {
        let body = json!({ "type": CHANNEL_MESSAGE, "data": error_message(msg) });
        if let Err(e) = self.callback(http, body).await {
            tracing::warn!(error = %e, "could not answer a Discord interaction");
        }
    }

    async fn answer(
        &self,
        http: &Http,
        guild: u64,
        outcome: command::Result<Reply>,
        deferred: bool,
    ) {
        let answered: Reply;
        let parts: Vec<(Value, Option<&Attachment>)> = match outcome {
            Ok(reply) => {
                answered = reply;
                let ephemeral = answered.ephemeral;
                let parts = messages(&answered, Some(guild))
                    .into_iter()
                    .map(|mut m| {
                        if ephemeral {
                            m["flags"] = EPHEMERAL.into();
                        }
                        m
                    })
                    .collect();
                with_files(parts, &answered)
            }
            Err(CommandError::User(msg)) => vec![(error_message(&msg), None)],
            Err(CommandError::Internal(e)) => {
                let id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
                tracing::error!(error_id = %id, error = format!("{e:#}"), "command failed");
                vec![(
                    error_message(&format!(
                        "Something went wrong on our side; nothing was changed. Error id `{id}` is in the log."
                    )),
                    None,
                )]
            }
        };
        let result = async {
            let mut rest = parts.iter();
            if let Some((first, file)) = rest.next() {
                let private = first.get("flags").is_some();
                if deferred && private {
                    // The deferred answer is public; a private one replaces it.
                    let original = Route::WebhookOriginalInteractionResponse {
                        application_id: serenity::ApplicationId::new(self.application),
                        token: self.token,
                    };
                    self.post(http, original, LightMethod::Delete, None, None)
                        .await?;
                    self.followup(http, first, *file).await?;
                } else if deferred {
                    let original = Route::WebhookOriginalInteractionResponse {
                        application_id: serenity::ApplicationId::new(self.application),
                        token: self.token,
                    };
                    self.post(http, original, LightMethod::Patch, Some(first), *file)
                        .await?;
                } else {
                    let body = json!({ "type": CHANNEL_MESSAGE, "data": first });
                    self.callback_with(http, body, *file).await?;
                }
            }
            for (part, file) in rest {
                self.followup(http, part, *file).await?;
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not answer a Discord interaction");
        }
    }
}

/// A private message for an error: plain content, pinging nobody.
fn error_message(msg: &str) -> Value {
    let reply = Reply::new("Not done")
        .tone(Tone::Warning)
        .paragraph(crate::reply::Text::plain(msg));
    let mut m = messages(&reply, None)
        .into_iter()
        .next()
        .unwrap_or_else(|| json!({}));
    m["flags"] = EPHEMERAL.into();
    m
}

/// What a button's custom id says: `{guild}:{action}`, the action being one of
/// `status:PROGRAM:PROJECT:RAG`, `dep:PROGRAM:N:deliver`, `dep:PROGRAM:N:snooze`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ButtonId {
    pub guild: Option<u64>,
    pub action: Vec<String>,
}

impl ButtonId {
    pub(crate) fn parse(raw: &str) -> Self {
        let mut parts: Vec<String> = raw.split(':').map(str::to_owned).collect();
        let guild = parts.first().and_then(|g| g.parse::<u64>().ok());
        if guild.is_some() {
            parts.remove(0);
        }
        Self {
            guild,
            action: parts,
        }
    }

    /// The command a button runs straight away, if it is not one that asks for more.
    fn command(&self) -> Option<Vec<String>> {
        let a: Vec<&str> = self.action.iter().map(String::as_str).collect();
        match a.as_slice() {
            ["dep", program, n, "deliver"] => Some(words(&["dep", "deliver", program, n])),
            ["dep", program, n, "snooze"] => {
                Some(words(&["dep", "snooze", program, n, "--until", "+1w"]))
            }
            _ => None,
        }
    }

    /// `status:PROGRAM:PROJECT:RAG`, checked.
    fn status(&self) -> Option<(Key, Key, crate::domain::Rag)> {
        match self.action.as_slice() {
            [kind, program, project, rag] if kind == "status" => Some((
                Key::parse(program).ok()?,
                Key::parse(project).ok()?,
                crate::domain::Rag::parse(rag).ok()?,
            )),
            _ => None,
        }
    }
}

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|s| (*s).to_owned()).collect()
}

/// The guild a click belongs to: the interaction's, or (in a DM) the button's.
fn guild_for(id: &ButtonId, interaction_guild: Option<serenity::GuildId>) -> Option<u64> {
    match (interaction_guild.map(|g| g.get()), id.guild) {
        // A button from another guild's message cannot act here.
        (Some(here), Some(from)) if here != from => None,
        (Some(here), _) => Some(here),
        (None, from) => from,
    }
}

async fn on_button(bot: &Bot, http: &Http, c: &serenity::ComponentInteraction) {
    let responder = Responder::new(c.id.get(), &c.token, c.application_id.get());
    let id = ButtonId::parse(&c.data.custom_id);
    let Some(guild) = guild_for(&id, c.guild_id) else {
        responder
            .refuse(http, "This button belongs to another server's program.")
            .await;
        return;
    };
    if let Some((program, project, rag)) = id.status() {
        let title = format!("{project} in {program}: {}", capitalised(rag.as_str()));
        let input = |custom_id: &str, label: &str, required: bool, placeholder: &str| {
            json!({ "type": 1, "components": [{
                "type": 4, "custom_id": custom_id, "style": 2, "label": label,
                "required": required, "max_length": 4000, "placeholder": placeholder,
            }]})
        };
        let body = json!({ "type": MODAL, "data": {
            "custom_id": format!("{guild}:status:{program}:{project}:{}", rag.as_str()),
            "title": slash::cut(&title, MODAL_TITLE_MAX),
            "components": [
                input("summary", "Summary", true, "Where things stand this week"),
                input("blockers", "Blockers", false, "What is in the way, if anything"),
                input("next", "Next steps", false, "What happens next"),
            ],
        }});
        if let Err(e) = responder.callback(http, body).await {
            tracing::warn!(error = %e, "could not open the status form");
        }
        return;
    }
    let Some(argv) = id.command() else {
        responder
            .refuse(
                http,
                "This button is from an older message and does nothing now.",
            )
            .await;
        return;
    };
    let who = Clicked {
        guild,
        user: &c.user,
        member: c.member.as_ref(),
        channel: c.channel_id,
    };
    run_clicked(bot, http, &responder, who, &argv).await;
}

/// Who clicked a button or sent a form, and where.
struct Clicked<'a> {
    guild: u64,
    user: &'a serenity::User,
    /// None in a DM: no tenant-admin rights come with such a click.
    member: Option<&'a serenity::Member>,
    channel: serenity::ChannelId,
}

/// Runs what a click or a form asks for, as the one who clicked, and answers privately.
async fn run_clicked(
    bot: &Bot,
    http: &Http,
    responder: &Responder<'_>,
    who: Clicked<'_>,
    argv: &[String],
) {
    let Clicked {
        guild,
        user,
        member,
        channel,
    } = who;
    let actor = Actor {
        handle: user.id.to_string(),
        display_name: display_name(user, member),
        is_admin: match member {
            Some(m) => bot.is_admin(m),
            None => false,
        },
    };
    let ctx = bot.ctx(guild, actor, Some(channel.to_string()));
    let outcome = command::execute_argv(&bot.store, &ctx, argv).await;
    responder
        .answer(http, guild, outcome.map(Reply::ephemeral), false)
        .await;
}

async fn on_modal(bot: &Bot, http: &Http, m: &serenity::ModalInteraction) {
    let responder = Responder::new(m.id.get(), &m.token, m.application_id.get());
    let id = ButtonId::parse(&m.data.custom_id);
    let (Some(guild), Some((program, project, rag))) = (guild_for(&id, m.guild_id), id.status())
    else {
        responder
            .refuse(http, "This form is not one Drumbeat knows.")
            .await;
        return;
    };
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for row in &m.data.components {
        for c in &row.components {
            if let serenity::ActionRowComponent::InputText(t) = c {
                if let Some(v) = t.value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                    fields.insert(t.custom_id.as_str(), v);
                }
            }
        }
    }
    let mut argv = words(&["status", "post", program.as_str(), project.as_str()]);
    argv.push(format!("--rag={}", rag.as_str()));
    argv.push(format!(
        "--summary={}",
        fields.get("summary").copied().unwrap_or_default()
    ));
    for (field, long) in [("blockers", "blockers"), ("next", "next")] {
        if let Some(v) = fields.get(field) {
            argv.push(format!("--{long}={v}"));
        }
    }
    let who = Clicked {
        guild,
        user: &m.user,
        member: m.member.as_ref(),
        channel: m.channel_id,
    };
    run_clicked(bot, http, &responder, who, &argv).await;
}

fn capitalised(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Autocomplete: programs of the guild, or keys and numbers of the program named in the
/// other options (or bound to the channel). Up to 25, matching what was typed so far.
async fn on_autocomplete(bot: &Bot, http: &Http, interaction: &serenity::CommandInteraction) {
    let (path, args) = command_path(&interaction.data);
    let focused = interaction.data.autocomplete();
    let what = focused.as_ref().and_then(|f| {
        let area = bot.commands.iter().find(|c| c.name == path[0])?;
        let command = match path.get(1) {
            Some(verb) => area.subcommands.iter().find(|c| &c.name == verb)?,
            None => area,
        };
        command.options.iter().find(|o| o.name == f.name)?.complete
    });
    let mut response = serenity::CreateAutocompleteResponse::new();
    if let (Some(what), Some(focused), Some(guild)) = (what, &focused, interaction.guild_id) {
        let tenant = Tenant::discord(guild.get());
        let program = args.iter().find_map(|a| match (&a.value, a.name) {
            (serenity::ResolvedValue::String(s), "program") => Some((*s).to_owned()),
            _ => None,
        });
        let channel = interaction.channel_id.to_string();
        match choices(
            &bot.store,
            &tenant,
            &channel,
            program.as_deref(),
            &path[0],
            what,
            focused.value,
        )
        .await
        {
            Ok(list) => {
                for (name, value) in list.into_iter().take(25) {
                    response = response.add_string_choice(slash::cut(&name, 100), value);
                }
            }
            Err(e) => tracing::warn!(error = %e, "autocomplete failed"),
        }
    }
    let answer = serenity::CreateInteractionResponse::Autocomplete(response);
    if let Err(e) = interaction.create_response(http, answer).await {
        tracing::warn!(error = %e, "could not answer an autocomplete");
    }
}

async fn choices(
    store: &Store,
    tenant: &Tenant,
    channel: &str,
    program: Option<&str>,
    area: &str,
    what: Complete,
    partial: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let partial = partial.trim().to_ascii_lowercase();
    let matches = |key: &str, label: &str| {
        partial.is_empty()
            || key.to_ascii_lowercase().contains(&partial)
            || label.to_ascii_lowercase().contains(&partial)
    };
    let mut tx = store.read().await?;
    let mut out = Vec::new();
    if what == Complete::Program {
        for p in store::list_programs(&mut tx, tenant).await? {
            if !p.archived && matches(p.key.as_str(), p.name.as_str()) {
                out.push((
                    format!("{} · {}", p.key, p.name.as_str()),
                    p.key.to_string(),
                ));
            }
        }
        tx.commit().await?;
        return Ok(out);
    }
    let key = match program.map(Key::parse) {
        Some(Ok(k)) => Some(k),
        Some(Err(_)) => None,
        None => store::bound_program(&mut tx, tenant, channel).await?,
    };
    let Some(key) = key else {
        return Ok(out);
    };
    let Some((scope, _)) = store::find_program(&mut tx, tenant, &key).await? else {
        return Ok(out);
    };
    if matches!(what, Complete::Project | Complete::Key) {
        for p in store::projects(&mut tx, &scope).await? {
            if !p.removed && matches(p.key.as_str(), p.name.as_str()) {
                out.push((
                    format!("{} · {}", p.key, p.name.as_str()),
                    p.key.to_string(),
                ));
            }
        }
    }
    if matches!(what, Complete::Milestone | Complete::Key) {
        for m in store::milestones(&mut tx, &scope).await? {
            if m.state == crate::domain::MilestoneState::Planned
                && matches(m.key.as_str(), m.title.as_str())
            {
                out.push((
                    format!("{} · {}", m.key, m.title.as_str()),
                    m.key.to_string(),
                ));
            }
        }
    }
    if what == Complete::Number {
        let numbered: Vec<(i64, String)> = match area {
            "dep" => store::dependencies(&mut tx, &scope)
                .await?
                .into_iter()
                .map(|d| (d.number, d.what.as_str().to_owned()))
                .collect(),
            "risk" => store::risks(&mut tx, &scope)
                .await?
                .into_iter()
                .map(|r| (r.number, r.title.as_str().to_owned()))
                .collect(),
            "decision" => store::decisions(&mut tx, &scope)
                .await?
                .into_iter()
                .map(|d| (d.number, d.title.as_str().to_owned()))
                .collect(),
            _ => vec![],
        };
        for (n, label) in numbered {
            if matches(&n.to_string(), &label) {
                out.push((format!("{n} · {label}"), n.to_string()));
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_role_is_an_id_never_a_name() {
        assert_eq!(
            admin_role(Some(" 555000000000000001 ")),
            Some(555000000000000001)
        );
        for ignored in [
            None,
            Some(""),
            Some("  "),
            Some("pm-leads"),
            Some("0"),
            Some("<@&5>"),
        ] {
            assert_eq!(admin_role(ignored), None, "{ignored:?}");
        }
    }

    #[test]
    fn button_ids_carry_the_guild_and_what_to_do() {
        let id = ButtonId::parse("42:status:atlas:api:amber");
        assert_eq!(id.guild, Some(42));
        let (program, project, rag) = id.status().unwrap();
        assert_eq!(
            (program.as_str(), project.as_str(), rag.as_str()),
            ("atlas", "api", "amber")
        );
        assert_eq!(
            ButtonId::parse("42:dep:atlas:3:snooze").command().unwrap(),
            ["dep", "snooze", "atlas", "3", "--until", "+1w"]
        );
        // Without a guild (a reply's button in a channel), the interaction's guild counts.
        let local = ButtonId::parse("status:atlas:api:red");
        assert_eq!(local.guild, None);
        assert_eq!(guild_for(&local, Some(serenity::GuildId::new(7))), Some(7));
        // A button of one guild cannot act in another.
        assert_eq!(guild_for(&id, Some(serenity::GuildId::new(7))), None);
        assert_eq!(guild_for(&id, None), Some(42));
        for bad in [
            "status:atlas:api:purple",
            "status:BAD KEY:api:red",
            "nope",
            "42:dep:atlas:3",
            "42:dep:atlas:3:frobnicate",
        ] {
            let b = ButtonId::parse(bad);
            assert!(b.status().is_none() && b.command().is_none(), "{bad}");
        }
    }
}
