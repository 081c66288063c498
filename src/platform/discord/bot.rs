//! The bot: slash commands registered from [`super::slash`] with serenity's builders (by
//! the gateway when it connects, or by `drumbeat discord register`), buttons and modals for
//! status prompts, autocomplete of keys. Handlers only turn
//! options into the core's words and render its reply; the core decides everything else.
//! [`Bot::on_interaction`] answers a [`serenity::Interaction`] however it arrived: over the
//! gateway every answer is a REST call; over HTTP ([`super::interactions`]) the first answer
//! is the HTTP response's body and the rest are REST calls, through the same [`Responder`],
//! so both ways in give the same answers.
//!
//! The tenant is the guild. A click in a DM finds its guild in the button's custom id
//! (`{guild}:status:atlas:api:amber`), which is all a click needs, so buttons keep working
//! after a restart.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ::serenity::all as serenity;
use ::serenity::http::{Http, HttpBuilder, LightMethod, Route};
use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use tokio::sync::{oneshot, watch, Notify};

use super::channels::DiscordChannels;
use super::sender::{messages, request, with_files};
use super::slash::{self, Given, Kind, SlashCommand, SlashOption};
use crate::clock::Clock;
use crate::command::Actor;
use crate::config::DiscordSettings;
use crate::domain::{Platform, Tenant};
use crate::interaction::{
    wording, Asked, Click, Core, Form, FormValues, Origin, Prepared, Submitted,
};
use crate::outbox::WebhookPolicy;
use crate::reply::{Attachment, Reply};
use crate::store::Store;

/// Interaction response types and flags (Discord's numbers).
const CHANNEL_MESSAGE: u8 = 4;
pub(super) const DEFERRED_CHANNEL_MESSAGE: u8 = 5;
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
    /// Runs commands, clicks and forms; the bot only translates.
    core: Core,
    commands: Vec<SlashCommand>,
    /// `discord.admin_role`: the id of the role whose members are tenant admins.
    admin_role: Option<u64>,
    in_flight: Arc<InFlight>,
    gateway: GatewayState,
}

/// What the bot is told besides its settings: Drumbeat's public address (`http.public_url`)
/// for replies, and the gateway state it keeps up to date.
#[derive(Debug, Clone, Default)]
pub struct BotSetup {
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
            let setup = BotSetup::default();
            Bot::run(&settings, &token, webhooks, setup, store, clock, stopped).await
        });
        BotHandle { stop, task }
    }

    /// Connects to the gateway with the `GUILDS` intent only, registers the slash commands
    /// (in `dev_guild_id` if set, else globally) and handles interactions until `shutdown`
    /// turns true; then it waits for the handlers in flight. Webhook URLs given in
    /// commands must pass `webhooks`; `setup` says where replies' addresses point and
    /// carries the connection state for readiness.
    pub async fn run(
        settings: &DiscordSettings,
        token: &SecretString,
        webhooks: Arc<WebhookPolicy>,
        setup: BotSetup,
        store: Store,
        clock: Arc<dyn Clock>,
        mut shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let bot = Bot::new(
            settings,
            token,
            webhooks,
            setup.public_url,
            store,
            clock,
            setup.gateway.clone(),
        );
        let handler = Handler {
            bot: Arc::new(bot),
            dev_guild: settings.dev_guild_id,
            registered: AtomicBool::new(false),
        };
        let bot = handler.bot.clone();
        let gateway = setup.gateway;
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
        if !bot.wait_idle(Duration::from_secs(20)).await {
            tracing::warn!("stopped with Discord interactions still in flight");
        }
        outcome
    }

    /// The bot of these settings, whichever way its interactions come: the core that runs
    /// what it is asked (channels named in commands are checked with `token`), the command
    /// list, and who the tenant admins are. `gateway` is the connection state the gateway,
    /// if any, keeps.
    pub(super) fn new(
        settings: &DiscordSettings,
        token: &SecretString,
        webhooks: Arc<WebhookPolicy>,
        public_url: Option<Arc<str>>,
        store: Store,
        clock: Arc<dyn Clock>,
        gateway: GatewayState,
    ) -> Bot {
        // Whether a channel named in a command is in the guild it was typed in.
        let channels = Arc::new(DiscordChannels::new(token, settings.proxy_url.as_deref()));
        Bot {
            core: Core::new(store, clock, webhooks, public_url, channels),
            commands: slash::commands(),
            admin_role: admin_role(settings.admin_role.as_deref()),
            in_flight: Arc::new(InFlight::default()),
            gateway,
        }
    }

    /// Waits up to `limit` for the interactions being answered; false if some still are.
    pub(super) async fn wait_idle(&self, limit: Duration) -> bool {
        self.in_flight.wait_idle(limit).await
    }

    /// Who did something in a guild, as the core knows them: tenant admin by Manage Server
    /// or the configured role; no admin rights come with a DM (no member).
    fn origin(
        &self,
        guild: u64,
        user: &serenity::User,
        member: Option<&serenity::Member>,
        channel: serenity::ChannelId,
    ) -> Origin {
        Origin {
            tenant: Tenant::discord(guild),
            platform: Platform::Discord,
            actor: Actor {
                handle: user.id.to_string(),
                display_name: display_name(user, member),
                is_admin: member.is_some_and(|m| self.is_admin(m)),
            },
            channel: Some(channel.to_string()),
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
            match register_commands(&ctx.http, self.dev_guild).await {
                Ok(registered) => tracing::info!(
                    user = %ready.user.name,
                    guilds = ready.guilds.len(),
                    commands = registered.commands.len(),
                    "connected to Discord"
                ),
                Err(e) => {
                    // Next ready tries again.
                    self.registered.store(false, Ordering::SeqCst);
                    tracing::error!(error = %format!("{e:#}"), "could not register the slash commands");
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
        self.bot
            .on_interaction(&ctx.http, &interaction, Reach::Rest)
            .await;
    }
}

/// Where the slash commands were registered, and which: each command's name and its
/// subcommands' names.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The guild (`discord.dev_guild_id`); `None` is global.
    pub guild: Option<u64>,
    pub commands: Vec<(String, Vec<String>)>,
}

impl std::fmt::Display for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let subcommands: usize = self.commands.iter().map(|(_, s)| s.len()).sum();
        let place = match self.guild {
            Some(g) => format!("in guild {g} (discord.dev_guild_id)"),
            None => "globally, for every server the bot is in".to_owned(),
        };
        writeln!(
            f,
            "Registered {} slash commands ({subcommands} subcommands) {place}:",
            self.commands.len()
        )?;
        for (name, verbs) in &self.commands {
            writeln!(f, "  /{name} {}", verbs.join(", "))?;
        }
        Ok(())
    }
}

/// Registers the slash commands ([`slash::commands`]) in `dev_guild` if given, else
/// globally, in place of whatever was registered there before. `http` must know the
/// application's id (the gateway's ready sets it; [`register`] asks Discord for it).
pub async fn register_commands(http: &Http, dev_guild: Option<u64>) -> anyhow::Result<Registered> {
    let commands = slash::commands();
    let built = registration(&commands);
    match dev_guild {
        Some(0) => anyhow::bail!("discord.dev_guild_id is 0; give a server's id or leave it unset"),
        Some(g) => serenity::GuildId::new(g)
            .set_commands(http, built)
            .await
            .map(drop)
            .with_context(|| format!("registering the slash commands in guild {g}"))?,
        None => serenity::Command::set_global_commands(http, built)
            .await
            .map(drop)
            .context("registering the slash commands globally")?,
    }
    Ok(Registered {
        guild: dev_guild,
        commands: commands
            .iter()
            .map(|c| {
                let verbs = c.subcommands.iter().map(|v| v.name.clone()).collect();
                (c.name.clone(), verbs)
            })
            .collect(),
    })
}

/// `drumbeat discord register`: asks Discord which application the token is for, then
/// registers the slash commands as the gateway does when it connects.
pub async fn register(
    settings: &DiscordSettings,
    token: &SecretString,
) -> anyhow::Result<Registered> {
    let http = http_client(token, settings.proxy_url.as_deref());
    let asked = async {
        let app = http
            .get_current_application_info()
            .await
            .context("asking Discord which application the token is for")?;
        http.set_application_id(app.id);
        register_commands(&http, settings.dev_guild_id).await
    };
    tokio::time::timeout(Duration::from_secs(60), asked)
        .await
        .map_err(|_| anyhow::anyhow!("Discord did not answer within 60 s"))?
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
    /// `reach` says how its answers travel.
    pub(super) async fn on_interaction(
        &self,
        http: &Http,
        interaction: &serenity::Interaction,
        reach: Reach,
    ) {
        let _working = self.in_flight.enter();
        match interaction {
            serenity::Interaction::Command(c) => on_slash(self, http, c, reach).await,
            serenity::Interaction::Autocomplete(c) => on_autocomplete(self, http, c, reach).await,
            serenity::Interaction::Component(c) => on_button(self, http, c, reach).await,
            serenity::Interaction::Modal(m) => on_modal(self, http, m, reach).await,
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
async fn on_slash(
    bot: &Bot,
    http: &Http,
    interaction: &serenity::CommandInteraction,
    reach: Reach,
) {
    let started = Instant::now();
    let (path, args) = command_path(&interaction.data);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let responder = Responder::new(
        interaction.id.get(),
        &interaction.token,
        interaction.application_id.get(),
        reach,
    );
    let (given, names) = given(&args);
    let argv = match slash::argv(&bot.commands, &path, &given) {
        Ok(w) => w,
        Err(msg) => return responder.refuse(http, &msg).await,
    };
    let Some(guild) = interaction.guild_id.map(|g| g.get()) else {
        return responder.refuse(http, wording::OUTSIDE_TENANT).await;
    };
    let prepared = Core::prepare_words(&argv);
    // Digests, reports and paths may take longer than Discord's 3 seconds: say so first.
    let deferred = prepared.is_slow();
    if deferred {
        if let Err(e) = responder.defer(http).await {
            tracing::warn!(error = %e, "could not defer a Discord interaction");
            return;
        }
    }
    let origin = bot.origin(
        guild,
        &interaction.user,
        interaction.member.as_deref(),
        interaction.channel_id,
    );
    let reply = match prepared {
        Prepared::Run(command) => {
            let outcome = bot.core.execute(&origin, command).await;
            if outcome.is_ok() {
                bot.core.remember_names(&origin.tenant, &names).await;
            }
            bot.core.answer(outcome)
        }
        answered => bot.core.run(&origin, answered).await,
    };
    responder.answer(http, guild, reply, deferred).await;
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

/// How an interaction's answers travel.
pub(super) enum Reach {
    /// It came over the gateway: every answer is a REST call, the first to its callback.
    Rest,
    /// It came over HTTP: the first answer is the HTTP response's body, the rest are REST
    /// calls made once that response has gone out.
    Body(BodyAnswer),
}

/// The HTTP side of an interaction that came over HTTP.
pub(super) struct BodyAnswer {
    /// Whoever answers first takes it: the responder, with its answer; or the HTTP handler
    /// when the answer is late, which then defers (and the responder edits its answer in).
    first: Arc<Mutex<Option<oneshot::Sender<Value>>>>,
    /// Resolves once the HTTP response has gone out (or was abandoned).
    written: Mutex<Option<oneshot::Receiver<()>>>,
}

impl BodyAnswer {
    pub(super) fn new(
        first: Arc<Mutex<Option<oneshot::Sender<Value>>>>,
        written: oneshot::Receiver<()>,
    ) -> Self {
        Self {
            first,
            written: Mutex::new(Some(written)),
        }
    }
}

/// How long a REST call waits for the HTTP response that went before it to go out.
const WRITTEN_WAIT: Duration = Duration::from_secs(3);
/// Discord records an HTTP answer once it has read it: a follow-up or an edit that overtook
/// it would find no interaction, so the first REST call after one waits this much more.
const WRITTEN_SETTLE: Duration = Duration::from_millis(100);

/// What became of an interaction's first answer.
enum First {
    /// It is the interaction's response.
    Given,
    /// The response is a deferral: the answer is to be edited in. Over HTTP that is so when
    /// the answer carries a file (a response body cannot) or came too late (the HTTP
    /// handler deferred in its place).
    Deferred,
}

/// Answers one interaction: the first message as the interaction's response (or as the
/// edit of a deferred one), the rest as follow-ups.
struct Responder<'a> {
    interaction: u64,
    token: &'a str,
    application: u64,
    reach: Reach,
}

impl<'a> Responder<'a> {
    fn new(interaction: u64, token: &'a str, application: u64, reach: Reach) -> Self {
        Self {
            interaction,
            token,
            application,
            reach,
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
        self.written().await;
        http.request(request(route, method, body, file)).await?;
        Ok(())
    }

    /// Over HTTP, waits (once) until the response with the first answer has gone out.
    async fn written(&self) {
        let Reach::Body(answer) = &self.reach else {
            return;
        };
        let pending = answer
            .written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(written) = pending {
            let _ = tokio::time::timeout(WRITTEN_WAIT, written).await;
            tokio::time::sleep(WRITTEN_SETTLE).await;
        }
    }

    /// The interaction's response: a REST call over the gateway, the HTTP response's body
    /// over HTTP (see [`First`] for when that becomes a deferral).
    async fn respond(
        &self,
        http: &Http,
        body: Value,
        file: Option<&Attachment>,
    ) -> anyhow::Result<First> {
        match &self.reach {
            Reach::Rest => {
                let route = Route::InteractionResponse {
                    interaction_id: serenity::InteractionId::new(self.interaction),
                    token: self.token,
                };
                self.post(http, route, LightMethod::Post, Some(&body), file)
                    .await?;
                Ok(First::Given)
            }
            Reach::Body(answer) => {
                let slot = answer
                    .first
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                let Some(slot) = slot else {
                    return Ok(First::Deferred);
                };
                let (body, first) = match file {
                    None => (body, First::Given),
                    Some(_) => (json!({ "type": DEFERRED_CHANNEL_MESSAGE }), First::Deferred),
                };
                slot.send(body).map_err(|_| {
                    anyhow::anyhow!("the HTTP request ended before it was answered")
                })?;
                Ok(first)
            }
        }
    }

    async fn callback(&self, http: &Http, body: Value) -> anyhow::Result<First> {
        self.respond(http, body, None).await
    }

    async fn defer(&self, http: &Http) -> anyhow::Result<()> {
        self.callback(http, json!({ "type": DEFERRED_CHANNEL_MESSAGE }))
            .await
            .map(drop)
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
        self.answer(http, 0, wording::refusal(msg), false).await;
    }

    /// Shows a reply: private when it is ephemeral (refusals are), in as many messages as
    /// it takes. `guild` goes into its buttons' ids (0 for a reply that has none).
    async fn answer(&self, http: &Http, guild: u64, reply: Reply, deferred: bool) {
        let ephemeral = reply.ephemeral;
        let guild = (guild != 0).then_some(guild);
        let bodies: Vec<Value> = messages(&reply, guild)
            .into_iter()
            .map(|mut m| {
                if ephemeral {
                    m["flags"] = EPHEMERAL.into();
                }
                m
            })
            .collect();
        let parts = with_files(bodies, &reply);
        let result = async {
            let mut rest = parts.iter();
            if let Some((first, file)) = rest.next() {
                let mut deferred = deferred;
                if !deferred {
                    let body = json!({ "type": CHANNEL_MESSAGE, "data": first });
                    deferred = matches!(self.respond(http, body, *file).await?, First::Deferred);
                }
                let private = first.get("flags").is_some();
                let original = || Route::WebhookOriginalInteractionResponse {
                    application_id: serenity::ApplicationId::new(self.application),
                    token: self.token,
                };
                if deferred && private {
                    // The deferred answer is public; a private one replaces it.
                    self.post(http, original(), LightMethod::Delete, None, None)
                        .await?;
                    self.followup(http, first, *file).await?;
                } else if deferred {
                    self.post(http, original(), LightMethod::Patch, Some(first), *file)
                        .await?;
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

/// A button's or form's custom id: `{guild}:{action}`. Messages sent to a DM carry their
/// guild this way; a reply's buttons may not, and then the interaction's guild counts.
pub(crate) fn split_guild(raw: &str) -> (Option<u64>, &str) {
    match raw.split_once(':') {
        Some((guild, rest)) if !guild.is_empty() && guild.bytes().all(|b| b.is_ascii_digit()) => {
            (guild.parse().ok(), rest)
        }
        _ => (None, raw),
    }
}

/// The guild a click belongs to: the interaction's, or (in a DM) the button's.
fn guild_for(from: Option<u64>, interaction_guild: Option<serenity::GuildId>) -> Option<u64> {
    match (interaction_guild.map(|g| g.get()), from) {
        // A button from another guild's message cannot act here.
        (Some(here), Some(from)) if here != from => None,
        (Some(here), _) => Some(here),
        (None, from) => from,
    }
}

async fn on_button(bot: &Bot, http: &Http, c: &serenity::ComponentInteraction, reach: Reach) {
    let responder = Responder::new(c.id.get(), &c.token, c.application_id.get(), reach);
    let (from, action) = split_guild(&c.data.custom_id);
    let Some(guild) = guild_for(from, c.guild_id) else {
        return responder.refuse(http, wording::OTHER_TENANT).await;
    };
    match bot.core.click(action) {
        Click::Form(form) => match responder.callback(http, modal(guild, &form)).await {
            Ok(First::Given) => {}
            // A form cannot follow a deferral: the click was answered too late.
            Ok(First::Deferred) => {
                tracing::warn!("the form was opened too late; the click did nothing")
            }
            Err(e) => tracing::warn!(error = %e, "could not open the form"),
        },
        Click::Run(prepared) => {
            // A full digest may take longer than Discord's 3 seconds: say so first.
            let deferred = prepared.is_slow();
            if deferred {
                if let Err(e) = responder.defer(http).await {
                    tracing::warn!(error = %e, "could not defer a Discord click");
                    return;
                }
            }
            let origin = bot.origin(guild, &c.user, c.member.as_ref(), c.channel_id);
            let reply = bot.core.run_click(&origin, prepared).await;
            responder.answer(http, guild, reply, deferred).await
        }
        // Discord shows "interaction failed" unless every click is answered.
        Click::Unknown => responder.refuse(http, wording::STALE_BUTTON).await,
    }
}

/// A form as a Discord modal: its id carries the guild, like the button's.
fn modal(guild: u64, form: &Form) -> Value {
    let rows: Vec<Value> = form
        .fields()
        .iter()
        .map(|f| {
            json!({ "type": 1, "components": [{
                "type": 4, "custom_id": f.id, "style": if f.multiline { 2 } else { 1 },
                "label": f.label,
                "required": f.required, "max_length": f.max_chars.min(4000),
                "placeholder": slash::cut(&f.hint, 100),
            }]})
        })
        .collect();
    json!({ "type": MODAL, "data": {
        "custom_id": format!("{guild}:{}", form.id()),
        "title": slash::cut(&form.title(), MODAL_TITLE_MAX),
        "components": rows,
    }})
}

async fn on_modal(bot: &Bot, http: &Http, m: &serenity::ModalInteraction, reach: Reach) {
    let responder = Responder::new(m.id.get(), &m.token, m.application_id.get(), reach);
    let (from, form) = split_guild(&m.data.custom_id);
    let Some(guild) = guild_for(from, m.guild_id) else {
        return responder.refuse(http, wording::OTHER_TENANT).await;
    };
    let values: FormValues = m
        .data
        .components
        .iter()
        .flat_map(|row| &row.components)
        .filter_map(|c| match c {
            serenity::ActionRowComponent::InputText(t) => {
                Some((t.custom_id.clone(), t.value.clone().unwrap_or_default()))
            }
            _ => None,
        })
        .collect();
    let origin = bot.origin(guild, &m.user, m.member.as_ref(), m.channel_id);
    let reply = match bot.core.submit(&origin, form, &values).await {
        Submitted::Done(reply) => reply,
        // A modal cannot stay open on Discord: the problem is the answer.
        Submitted::Invalid { message, .. } | Submitted::Refused(message) => {
            wording::refusal(&message)
        }
    };
    responder.answer(http, guild, reply, false).await;
}

/// Autocomplete: programs of the guild, or keys and numbers of the program named in the
/// other options (or bound to the channel). Up to 25, matching what was typed so far.
async fn on_autocomplete(
    bot: &Bot,
    http: &Http,
    interaction: &serenity::CommandInteraction,
    reach: Reach,
) {
    let responder = Responder::new(
        interaction.id.get(),
        &interaction.token,
        interaction.application_id.get(),
        reach,
    );
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
            (serenity::ResolvedValue::String(s), "program") => Some(*s),
            _ => None,
        });
        let channel = interaction.channel_id.to_string();
        let asked = Asked {
            tenant: &tenant,
            channel: &channel,
            program,
            area: &path[0],
            what,
            partial: focused.value,
        };
        for c in bot.core.complete(&asked, 25).await {
            response = response.add_string_choice(slash::cut(&c.label, 100), c.value);
        }
    }
    let answer = serenity::CreateInteractionResponse::Autocomplete(response);
    let answered = match serde_json::to_value(&answer) {
        Ok(body) => responder.callback(http, body).await.map(drop),
        Err(e) => Err(anyhow::Error::new(e).context("writing the autocomplete's choices")),
    };
    if let Err(e) = answered {
        tracing::warn!(error = %format!("{e:#}"), "could not answer an autocomplete");
    }
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
    fn custom_ids_carry_the_guild() {
        assert_eq!(
            split_guild("42:status:atlas:api:amber"),
            (Some(42), "status:atlas:api:amber")
        );
        assert_eq!(
            split_guild("status:atlas:api:red"),
            (None, "status:atlas:api:red")
        );
        assert_eq!(split_guild(":x"), (None, ":x"));
        // Without a guild (a reply's button in a channel), the interaction's guild counts.
        assert_eq!(guild_for(None, Some(serenity::GuildId::new(7))), Some(7));
        // A button of one guild cannot act in another.
        assert_eq!(guild_for(Some(42), Some(serenity::GuildId::new(7))), None);
        assert_eq!(guild_for(Some(42), None), Some(42));
        assert_eq!(guild_for(None, None), None);
    }
}
