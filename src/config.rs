//! Layered configuration: the embedded `config/default.toml`, then a git-ignored local
//! file, then `DRUMBEAT_…` environment variables (`__` for nesting).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

pub const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub database: DbSettings,
    pub console: ConsoleSettings,
    pub log: LogSettings,
    #[serde(default)]
    pub delivery: DeliverySettings,
    #[serde(default)]
    pub schedule: SchedulerSettings,
    #[serde(default)]
    pub discord: DiscordSettings,
    #[serde(default)]
    pub slack: SlackSettings,
    #[serde(default)]
    pub http: HttpSettings,
    #[serde(default)]
    pub run: RunSettings,
}

/// `drumbeat run` itself (`[run]`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RunSettings {
    /// Runtime threads; 0 is one per core the process may use (a container's CPU limit
    /// counts). One is tokio's single-threaded runtime.
    pub threads: usize,
}

/// The database (`[database]`). The store takes these as `store::Options`; the program
/// converts them when it opens the store.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DbSettings {
    /// The SQLite file; `--db PATH` overrides it.
    pub path: String,
    /// The database as a URL (`DRUMBEAT_DATABASE__URL`): `sqlite://PATH`, or
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE` for several processes sharing one
    /// PostgreSQL database. Unset: the SQLite file at `path`. It may hold a password, so it
    /// is never printed.
    #[serde(default, skip_serializing)]
    pub url: Option<secrecy::SecretString>,
    pub synchronous: Durability,
    pub busy_timeout_ms: u64,
    pub max_connections: u32,
}

impl Default for DbSettings {
    fn default() -> Self {
        Self {
            path: "drumbeat.db".into(),
            url: None,
            synchronous: Durability::Normal,
            busy_timeout_ms: 5000,
            max_connections: 0,
        }
    }
}

/// How durable a commit is (`database.synchronous`): `normal` is safe in WAL mode against
/// application crashes; `full` also survives power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    Normal,
    Full,
}

/// The HTTP server of `drumbeat run` (`[http]`): health, metrics, calendar feeds, and
/// Slack's endpoints when Slack is configured.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct HttpSettings {
    /// The address `drumbeat run` listens on (`127.0.0.1:0` picks a free port).
    pub addr: String,
    /// The externally reachable base URL of this server (`https://drumbeat.example.com`),
    /// for addresses shown in replies (calendar feeds, chart links). Unset: paths only.
    pub public_url: Option<String>,
    /// `/healthz` reports the outbox stuck when a message has been due this long undelivered.
    pub outbox_stuck_secs: u64,
    /// After SIGTERM or Ctrl-C, `drumbeat run` waits this long for work in flight, then
    /// records what is unfinished and exits.
    pub shutdown_secs: u64,
    /// A connection that has not sent a request's whole head (line and headers) this long
    /// after it opened, or after its previous request, is closed.
    pub header_timeout_ms: u64,
    /// A request body that stops arriving this long, or whose whole reading takes longer
    /// than this, is refused with 408.
    pub body_timeout_ms: u64,
    /// Connections served at once; more wait to be accepted until one closes.
    pub max_connections: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            public_url: None,
            outbox_stuck_secs: 600,
            shutdown_secs: 5,
            header_timeout_ms: 5000,
            body_timeout_ms: 10_000,
            max_connections: 256,
        }
    }
}

impl HttpSettings {
    /// How long a graceful stop may take.
    pub fn shutdown_deadline(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.shutdown_secs)
    }

    /// How long a client may take to send a request's head.
    pub fn header_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.header_timeout_ms.max(1))
    }

    /// How long a request body may pause, or take in all.
    pub fn body_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.body_timeout_ms.max(1))
    }

    /// `public_url` without a trailing slash, when set.
    pub fn public_url(&self) -> Option<std::sync::Arc<str>> {
        self.public_url
            .as_deref()
            .map(|u| u.trim().trim_end_matches('/'))
            .filter(|u| !u.is_empty())
            .map(std::sync::Arc::from)
    }
}

/// Slack (`[slack]`). The signing secret and bot token are secrets: they come from
/// `SLACK_SIGNING_SECRET` / `SLACK_BOT_TOKEN` (or `DRUMBEAT_SLACK__…`, or the git-ignored
/// secrets file), are never serialized, and print as `[REDACTED]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct SlackSettings {
    #[serde(skip_serializing)]
    pub signing_secret: Option<secrecy::SecretString>,
    #[serde(skip_serializing)]
    pub bot_token: Option<secrecy::SecretString>,
    /// Send Web API calls (`views.open`) here instead of https://slack.com/api (tests).
    pub api_url: Option<String>,
    /// Tenant admins, each of one workspace: `TEAM:USER` (`T0123:U0456`). They may create
    /// programs there. A bare user id is refused: it would make the user admin of every
    /// workspace that installs the app.
    pub admins: Vec<SlackAdmin>,
    /// A request's `response_url` must be https on one of these hosts (loopback http too
    /// when `delivery.allow_loopback_http` is set, for tests).
    pub response_hosts: Vec<String>,
    /// How long a quick command may take before it is acknowledged and its answer sent to
    /// `response_url` instead (Slack waits 3 s).
    pub ack_after_ms: u64,
}

impl Default for SlackSettings {
    fn default() -> Self {
        Self {
            signing_secret: None,
            bot_token: None,
            api_url: None,
            admins: Vec::new(),
            response_hosts: vec!["hooks.slack.com".into()],
            ack_after_ms: 2000,
        }
    }
}

impl SlackSettings {
    /// The signing secret from the settings, else from `SLACK_SIGNING_SECRET`.
    pub fn signing_secret(&self) -> Option<secrecy::SecretString> {
        self.signing_secret
            .clone()
            .or_else(|| env_secret("SLACK_SIGNING_SECRET"))
    }

    /// The Web API's base URL, without a trailing `/` (Slack's own unless `api_url` is set).
    pub fn api_base(&self) -> String {
        self.api_url
            .as_deref()
            .unwrap_or("https://slack.com/api")
            .trim_end_matches('/')
            .to_owned()
    }

    /// The bot token from the settings, else from `SLACK_BOT_TOKEN`.
    pub fn bot_token(&self) -> Option<secrecy::SecretString> {
        self.bot_token
            .clone()
            .or_else(|| env_secret("SLACK_BOT_TOKEN"))
    }
}

/// A Slack tenant admin: a user of one workspace, written `TEAM:USER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct SlackAdmin {
    pub team: String,
    pub user: String,
}

impl SlackAdmin {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        let id = |part: &str, first: &[u8]| {
            (2..=32).contains(&part.len())
                && first.contains(&part.as_bytes()[0])
                && part
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        };
        match s.split_once(':') {
            Some((team, user)) if id(team, b"T") && id(user, b"UW") => Ok(Self {
                team: team.to_owned(),
                user: user.to_owned(),
            }),
            Some(_) => Err(format!(
                "slack.admins: `{s}` is not TEAM:USER: write the workspace's id (T…), a colon and the user's id (U… or W…), e.g. T0123ABC:U0456DEF"
            )),
            None => Err(format!(
                "slack.admins: `{s}` has no workspace: write it TEAM:USER (e.g. T0123ABC:{s}), so the user is admin of that workspace only and not of every one that installs the app"
            )),
        }
    }
}

impl TryFrom<String> for SlackAdmin {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<SlackAdmin> for String {
    fn from(a: SlackAdmin) -> String {
        a.to_string()
    }
}

impl std::fmt::Display for SlackAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.team, self.user)
    }
}

fn env_secret(name: &str) -> Option<secrecy::SecretString> {
    std::env::var(name)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(|t| secrecy::SecretString::from(t.trim().to_owned()))
}

/// Discord (`[discord]`). The token is a secret: it comes from `DISCORD_TOKEN` or
/// `DRUMBEAT_DISCORD__TOKEN` (or the git-ignored secrets file), is never serialized, and
/// prints as `[REDACTED]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct DiscordSettings {
    #[serde(skip_serializing)]
    pub token: Option<secrecy::SecretString>,
    /// Send every REST call to this base URL instead of discord.com (an HTTP proxy such as
    /// twilight's http-proxy, or a test's fake Discord).
    pub proxy_url: Option<String>,
    /// Register slash commands in this guild only (instant, for development); unset
    /// registers them globally.
    pub dev_guild_id: Option<u64>,
    /// Members with this role are tenant admins, besides those with Manage Server.
    pub admin_role: Option<String>,
    /// The application's public key (64 hex digits, Developer Portal → General
    /// Information), which checks the requests to `POST /discord/interactions`. Unset, that
    /// endpoint is not served. Not a secret.
    pub public_key: Option<String>,
    /// Whether `drumbeat run` opens the gateway when it has a token. Off, interactions come
    /// only over HTTP and messages go out by REST; of several processes, at most one keeps
    /// it on.
    pub gateway: bool,
}

impl Default for DiscordSettings {
    fn default() -> Self {
        Self {
            token: None,
            proxy_url: None,
            dev_guild_id: None,
            admin_role: None,
            public_key: None,
            gateway: true,
        }
    }
}

impl DiscordSettings {
    /// The token from the settings, else from `DISCORD_TOKEN`.
    pub fn token(&self) -> Option<secrecy::SecretString> {
        self.token.clone().or_else(|| env_secret("DISCORD_TOKEN"))
    }

    /// The public key as given, when one is (an empty one counts as none).
    pub fn public_key(&self) -> Option<&str> {
        self.public_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ConsoleSettings {
    pub actor: String,
    pub admins: Vec<String>,
    pub channel: String,
    pub history_file: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogSettings {
    pub filter: String,
    pub format: LogFormat,
}

/// Scheduler settings (`[schedule]`); `config/default.toml` says what each does.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct SchedulerSettings {
    /// How often the scheduler looks for due slots, in seconds.
    pub tick_secs: u64,
    /// How late a missed slot may still run, per kind, in minutes.
    pub grace_prompt_mins: i64,
    pub grace_reminder_mins: i64,
    pub grace_digest_mins: i64,
    pub grace_nudge_mins: i64,
    /// A reminder goes only to owners asked at least this many hours before it.
    pub remind_after_hours: i64,
    /// Working days on one rung of the blocker escalation ladder.
    pub rung_work_days: i64,
    /// How many days ahead "milestone due soon" looks.
    pub due_soon_days: i64,
    /// At most this many slots are caught up per job and tick (a minute schedule after a
    /// long outage would otherwise write thousands of skip rows at once).
    pub max_slots_per_tick: usize,
    /// How long a claim on a digest or nudge slot holds while its messages are built, in
    /// seconds; a claim whose process died is taken over once it runs out.
    pub lease_secs: i64,
    /// Where status prompts go: to each owner directly, or to the program's channel with
    /// the owner mentioned (by DM when no channel is bound).
    pub prompts: PromptRoute,
}

/// Where status prompts go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptRoute {
    #[default]
    Dm,
    Channel,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            tick_secs: 30,
            grace_prompt_mins: 120,
            grace_reminder_mins: 120,
            grace_digest_mins: 12 * 60,
            grace_nudge_mins: 6 * 60,
            remind_after_hours: 4,
            rung_work_days: 2,
            due_soon_days: 3,
            max_slots_per_tick: 2000,
            lease_secs: 300,
            prompts: PromptRoute::Dm,
        }
    }
}

/// The outbox worker and its senders (`[delivery]`); `config/default.toml` says what each
/// setting does.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct DeliverySettings {
    pub poll_interval_ms: u64,
    pub batch: u32,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    pub max_attempts: u32,
    pub connect_timeout_ms: u64,
    pub request_timeout_ms: u64,
    pub webhook_hosts: Vec<String>,
    pub allow_loopback_http: bool,
    pub stale_claim_secs: u64,
    pub webhook_min_interval_ms: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            poll_interval_ms: 1000,
            batch: 20,
            retry_base_ms: 2000,
            retry_max_ms: 600_000,
            max_attempts: 10,
            connect_timeout_ms: 5000,
            request_timeout_ms: 10_000,
            webhook_hosts: vec!["hooks.slack.com".into()],
            allow_loopback_http: false,
            stale_claim_secs: 300,
            webhook_min_interval_ms: 1000,
        }
    }
}

impl Settings {
    /// Loads the layers. `explicit` is a file named on the command line; it must exist.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        let from_env = std::env::var_os("DRUMBEAT_CONFIG").map(PathBuf::from);
        match explicit.map(Path::to_path_buf).or(from_env) {
            Some(path) => {
                anyhow::ensure!(
                    path.exists(),
                    "the config file {} does not exist",
                    path.display()
                );
                figment = figment.merge(Toml::file(path));
            }
            None => {
                figment = figment
                    .merge(Toml::file("config/local.toml"))
                    .merge(Toml::file("config/secrets.toml"));
            }
        }
        figment = figment.merge(Env::prefixed("DRUMBEAT_").split("__").ignore(&["config"]));
        let mut settings: Settings = figment.extract().context("reading the configuration")?;
        settings.read_secret_files()?;
        Ok(settings)
    }

    /// Fills the secrets not set in the settings from files: `X_FILE` (a path), else the
    /// systemd credential `x` in `$CREDENTIALS_DIRECTORY` when `X` is not set either. The
    /// plain variable `X` is read where the secret is used. Both `X` and `X_FILE` set is
    /// an error, as is a file that is named and cannot be read or is empty. An empty
    /// credential leaves its platform off (deployments ship all three).
    fn read_secret_files(&mut self) -> anyhow::Result<()> {
        for (var, slot) in [
            ("DISCORD_TOKEN", &mut self.discord.token),
            ("SLACK_SIGNING_SECRET", &mut self.slack.signing_secret),
            ("SLACK_BOT_TOKEN", &mut self.slack.bot_token),
        ] {
            let from_file = secret_from_file(var)?;
            if slot.is_none() {
                *slot = from_file;
            }
        }
        Ok(())
    }
}

/// The secret `var` from `{var}_FILE` or from the systemd credential named like `var` in
/// lower case, when one is there; see [`Settings::load`] for the order.
fn secret_from_file(var: &str) -> anyhow::Result<Option<secrecy::SecretString>> {
    let file_var = format!("{var}_FILE");
    let named = std::env::var_os(&file_var).filter(|p| !p.is_empty());
    let plain = std::env::var_os(var).is_some_and(|v| !v.is_empty());
    let from_credentials = named.is_none();
    let path = match named {
        Some(path) => {
            anyhow::ensure!(
                !plain,
                "both {var} and {file_var} are set: keep one of them (the file is safer)"
            );
            PathBuf::from(path)
        }
        None if plain => return Ok(None),
        None => {
            let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY").filter(|d| !d.is_empty())
            else {
                return Ok(None);
            };
            let path = Path::new(&dir).join(var.to_ascii_lowercase());
            if !path.exists() {
                return Ok(None);
            }
            path
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        anyhow::anyhow!(
            "the {var} secret file {} cannot be read: {}",
            path.display(),
            match e.kind() {
                std::io::ErrorKind::NotFound => "it does not exist".to_owned(),
                std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
                _ => e.to_string(),
            }
        )
    })?;
    let secret = text.trim();
    // Deployments ship every credential; an empty one leaves its platform off.
    if secret.is_empty() && from_credentials {
        return Ok(None);
    }
    anyhow::ensure!(
        !secret.is_empty(),
        "the {var} secret file {} is empty",
        path.display()
    );
    Ok(Some(secrecy::SecretString::from(secret.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closure signature, not ours
    fn secrets_come_from_files_and_credentials() {
        use secrecy::ExposeSecret as _;
        figment::Jail::expect_with(|jail| {
            for var in [
                "DISCORD_TOKEN",
                "SLACK_SIGNING_SECRET",
                "SLACK_BOT_TOKEN",
                "CREDENTIALS_DIRECTORY",
            ] {
                std::env::remove_var(var);
                std::env::remove_var(format!("{var}_FILE"));
            }
            let dir = jail.directory().to_path_buf();
            jail.create_file("discord.txt", "file-token\n")?;
            jail.set_env("DISCORD_TOKEN_FILE", dir.join("discord.txt").display());
            let s = Settings::load(None).expect("a token file loads");
            assert_eq!(s.discord.token().unwrap().expose_secret(), "file-token");

            // Both the variable and the file: refused, naming both.
            jail.set_env("DISCORD_TOKEN", "plain-token");
            let e = format!("{:#}", Settings::load(None).unwrap_err());
            assert!(e.contains("DISCORD_TOKEN and DISCORD_TOKEN_FILE"), "{e}");
            std::env::remove_var("DISCORD_TOKEN");

            // A named file that is not there, or empty: a startup error naming it.
            jail.set_env("DISCORD_TOKEN_FILE", dir.join("nope.txt").display());
            let e = format!("{:#}", Settings::load(None).unwrap_err());
            assert!(
                e.contains("DISCORD_TOKEN secret file") && e.contains("nope.txt"),
                "{e}"
            );
            assert!(e.contains("does not exist"), "{e}");
            jail.create_file("empty.txt", "\n")?;
            jail.set_env("DISCORD_TOKEN_FILE", dir.join("empty.txt").display());
            let e = format!("{:#}", Settings::load(None).unwrap_err());
            assert!(e.contains("is empty"), "{e}");
            std::env::remove_var("DISCORD_TOKEN_FILE");

            // systemd credentials: used when neither the variable nor a file is named.
            jail.create_dir("creds")?;
            jail.create_file("creds/slack_signing_secret", "cred-secret")?;
            jail.create_file("creds/slack_bot_token", "xoxb-cred")?;
            jail.create_file("creds/discord_token", "")?;
            jail.set_env("CREDENTIALS_DIRECTORY", dir.join("creds").display());
            jail.set_env("SLACK_BOT_TOKEN", "xoxb-plain");
            let s = Settings::load(None).expect("credentials load");
            assert_eq!(
                s.slack.signing_secret().unwrap().expose_secret(),
                "cred-secret"
            );
            assert_eq!(s.slack.bot_token().unwrap().expose_secret(), "xoxb-plain");
            assert!(
                s.discord.token().is_none(),
                "an empty credential: Discord is off"
            );
            // The settings (secrets file, DRUMBEAT_… variables) still come first.
            jail.set_env("DRUMBEAT_SLACK__SIGNING_SECRET", "from-settings");
            let s = Settings::load(None).expect("settings load");
            assert_eq!(
                s.slack.signing_secret().unwrap().expose_secret(),
                "from-settings"
            );
            std::env::remove_var("CREDENTIALS_DIRECTORY");
            std::env::remove_var("SLACK_BOT_TOKEN");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closure signature, not ours
    fn defaults_parse_and_env_overrides() {
        figment::Jail::expect_with(|jail| {
            let s = Settings::load(None).expect("defaults load");
            assert_eq!(s.database.path, "drumbeat.db");
            assert_eq!(s.database.synchronous, Durability::Normal);
            assert_eq!(s.console.actor, "tpm");
            assert_eq!(s.delivery.webhook_hosts, ["hooks.slack.com"]);
            assert!(!s.delivery.allow_loopback_http);
            assert_eq!(
                s.http.shutdown_deadline(),
                std::time::Duration::from_secs(5)
            );
            assert_eq!(s.http.header_timeout(), std::time::Duration::from_secs(5));
            assert_eq!(s.http.body_timeout(), std::time::Duration::from_secs(10));
            assert_eq!(s.http.max_connections, 256);
            assert_eq!(s.run.threads, 0, "one thread per core unless told");
            jail.set_env("DRUMBEAT_HTTP__SHUTDOWN_SECS", "2");
            jail.set_env("DRUMBEAT_RUN__THREADS", "1");
            assert_eq!(Settings::load(None).expect("env loads").run.threads, 1);
            assert_eq!(
                Settings::load(None).expect("env loads").http.shutdown_secs,
                2
            );
            jail.set_env("DRUMBEAT_DATABASE__PATH", "/tmp/x.db");
            jail.set_env("DRUMBEAT_DATABASE__SYNCHRONOUS", "full");
            jail.set_env("DRUMBEAT_LOG__FORMAT", "json");
            let s = Settings::load(None).expect("env loads");
            assert_eq!(s.database.path, "/tmp/x.db");
            assert_eq!(s.database.synchronous, Durability::Full);
            assert_eq!(s.log.format, LogFormat::Json);
            jail.create_dir("config")?;
            jail.create_file("config/local.toml", "[console]\nactor = \"dana\"\n")?;
            assert_eq!(
                Settings::load(None).expect("local loads").console.actor,
                "dana"
            );
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closure signature, not ours
    fn slack_admins_are_of_one_workspace_and_a_bare_user_id_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("DRUMBEAT_SLACK__ADMINS", r#"["T0A:U0DANA", "T0B:W0LEE"]"#);
            let s = Settings::load(None).expect("scoped admins load");
            assert_eq!(
                s.slack.admins,
                [
                    SlackAdmin::parse("T0A:U0DANA").unwrap(),
                    SlackAdmin::parse("T0B:W0LEE").unwrap()
                ]
            );
            jail.set_env("DRUMBEAT_SLACK__ADMINS", r#"["U0DANA"]"#);
            let e = format!("{:#}", Settings::load(None).expect_err("a bare id"));
            assert!(e.contains("`U0DANA` has no workspace"), "{e}");
            assert!(e.contains("TEAM:USER"), "{e}");
            Ok(())
        });
        for bad in [
            "",
            ":U1",
            "T1:",
            "t0a:U0DANA",
            "T0A:C0DANA",
            "T0A:U0 DANA",
            "T0A:U0:X",
        ] {
            assert!(SlackAdmin::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            SlackAdmin::parse(" T0A:U0DANA ").unwrap().to_string(),
            "T0A:U0DANA"
        );
    }
}
