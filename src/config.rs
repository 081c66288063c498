//! Layered configuration: the embedded `config/default.toml`, then a git-ignored local
//! file, then `DRUMBEAT_…` environment variables (`__` for nesting).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::store::DbSettings;

pub const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub database: DbSettings,
    pub console: ConsoleSettings,
    pub log: LogSettings,
    #[serde(default)]
    pub delivery: DeliverySettings,
    #[serde(default)]
    pub schedule: crate::schedule::SchedulerSettings,
    #[serde(default)]
    pub discord: DiscordSettings,
    #[serde(default)]
    pub slack: SlackSettings,
    #[serde(default)]
    pub http: HttpSettings,
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
    /// `/readyz` fails when a message has been due this long without being delivered.
    pub outbox_stuck_secs: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            public_url: None,
            outbox_stuck_secs: 600,
        }
    }
}

impl HttpSettings {
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
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
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
}

impl DiscordSettings {
    /// The token from the settings, else from `DISCORD_TOKEN`.
    pub fn token(&self) -> Option<secrecy::SecretString> {
        self.token.clone().or_else(|| env_secret("DISCORD_TOKEN"))
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
        figment.extract().context("reading the configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closure signature, not ours
    fn defaults_parse_and_env_overrides() {
        figment::Jail::expect_with(|jail| {
            let s = Settings::load(None).expect("defaults load");
            assert_eq!(s.database.path, "drumbeat.db");
            assert_eq!(s.console.actor, "tpm");
            assert_eq!(s.delivery.webhook_hosts, ["hooks.slack.com"]);
            assert!(!s.delivery.allow_loopback_http);
            jail.set_env("DRUMBEAT_DATABASE__PATH", "/tmp/x.db");
            jail.set_env("DRUMBEAT_LOG__FORMAT", "json");
            let s = Settings::load(None).expect("env loads");
            assert_eq!(s.database.path, "/tmp/x.db");
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
