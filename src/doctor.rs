//! `drumbeat doctor`: checks what `drumbeat run` depends on, before it is run — the
//! configuration, the database file, the stored timezones and webhook URLs, the platform
//! secrets (by shape; Discord's token live only with `--online`), and the clock and
//! timezone data — and prints one table. Secrets are never shown, only whether they are set
//! and how long they are. Nothing is written (a probe file that shows the database's folder
//! is writable is removed at once).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use secrecy::ExposeSecret as _;

use crate::config::Settings;
use crate::outbox::{Destination, WebhookPolicy};
use crate::store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub detail: String,
    /// What to do about it; empty when nothing is to be done.
    pub fix: String,
}

fn check(name: &str, status: Status, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        name: name.to_owned(),
        status,
        detail: detail.into(),
        fix: fix.into(),
    }
}

/// Every check's outcome, in the order they ran.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub checks: Vec<Check>,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// A configuration that does not load: the one check there is to report.
    pub fn unloadable_config(error: &anyhow::Error) -> Self {
        Self {
            checks: vec![check(
                "config",
                Status::Fail,
                format!("{error:#}"),
                "fix the file or the DRUMBEAT_… variable it names (see config/default.toml)",
            )],
        }
    }

    /// The table: check · status · detail · fix, columns padded, long cells wrapped.
    pub fn table(&self) -> String {
        let header = ["check", "status", "detail", "fix"];
        let name_w = self
            .checks
            .iter()
            .map(|c| c.name.chars().count())
            .chain([header[0].len()])
            .max()
            .unwrap_or(5);
        const STATUS_W: usize = 6;
        const DETAIL_W: usize = 60;
        let mut out = String::new();
        let row = |out: &mut String, cells: [&str; 4]| {
            let details = wrap(cells[2], DETAIL_W);
            for (i, detail) in details.iter().enumerate() {
                let (name, status, fix) = if i == 0 {
                    (cells[0], cells[1], cells[3])
                } else {
                    ("", "", "")
                };
                let line =
                    format!("{name:<name_w$}  {status:<STATUS_W$}  {detail:<DETAIL_W$}  {fix}");
                let _ = writeln!(out, "{}", line.trim_end());
            }
        };
        row(&mut out, header);
        let _ = writeln!(
            out,
            "{}",
            "-".repeat(name_w + 2 + STATUS_W + 2 + DETAIL_W + 2 + 3)
        );
        for c in &self.checks {
            row(&mut out, [&c.name, c.status.as_str(), &c.detail, &c.fix]);
        }
        let (warn, fail) = self.checks.iter().fold((0, 0), |(w, f), c| match c.status {
            Status::Warn => (w + 1, f),
            Status::Fail => (w, f + 1),
            Status::Ok => (w, f),
        });
        let _ = writeln!(
            out,
            "\n{} checks: {} ok, {warn} warn, {fail} failed.",
            self.checks.len(),
            self.checks.len() - warn - fail
        );
        out
    }
}

/// Splits text into lines of at most `width` characters, at spaces where it can.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().expect("one line at least");
        let len = last.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(word.to_owned());
        } else {
            if len > 0 {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

/// Runs every check. `online` also asks Discord whether the token works.
pub async fn run(settings: &Settings, online: bool) -> Report {
    let mut report = Report::default();
    report.checks.push(check(
        "config",
        Status::Ok,
        "loaded (defaults, files, DRUMBEAT_… variables)",
        "",
    ));
    report.checks.extend(config_checks(settings));
    let newest = database_checks(settings, &mut report).await;
    report.checks.push(discord_check(settings, online).await);
    report.checks.push(discord_interactions_check(settings));
    report.checks.extend(slack_checks(settings));
    report.checks.extend(clock_checks(Utc::now(), newest));
    report
}

fn url_check(name: &str, raw: &str) -> Option<Check> {
    match reqwest::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => None,
        _ => Some(check(
            name,
            Status::Fail,
            format!("`{}` is not an http(s) URL", masked_url(raw)),
            "give a full URL such as https://drumbeat.example.com",
        )),
    }
}

/// A URL with its path and query hidden: they may carry a secret.
fn masked_url(raw: &str) -> String {
    match reqwest::Url::parse(raw) {
        Ok(u) => match u.host_str() {
            Some(h) => format!(
                "{}://{h}{}",
                u.scheme(),
                if u.path().len() > 1 || u.query().is_some() {
                    "/…"
                } else {
                    ""
                }
            ),
            None => format!("{}:…", u.scheme()),
        },
        Err(_) => "(unreadable)".into(),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(h) => h
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

fn config_checks(s: &Settings) -> Vec<Check> {
    let mut out = Vec::new();
    match s.http.addr.parse::<std::net::SocketAddr>() {
        Ok(a) => out.push(check(
            "http.addr",
            Status::Ok,
            format!(
                "{a}{}",
                if a.ip().is_loopback() {
                    " (this machine only; put a reverse proxy in front)"
                } else {
                    ""
                }
            ),
            "",
        )),
        Err(_) => out.push(check(
            "http.addr",
            Status::Fail,
            format!("`{}` is not an address and port", s.http.addr),
            "e.g. 127.0.0.1:8080",
        )),
    }
    match s
        .http
        .public_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        None => out.push(check(
            "http.public_url",
            Status::Ok,
            "not set: replies show feed paths, not full addresses",
            "",
        )),
        Some(raw) => match url_check("http.public_url", raw) {
            Some(bad) => out.push(bad),
            None => {
                let url = reqwest::Url::parse(raw).expect("checked above");
                if url.scheme() == "http" && !is_loopback(&url) {
                    out.push(check(
                        "http.public_url",
                        Status::Warn,
                        format!(
                            "{} is plain http: feed tokens would travel in the clear",
                            masked_url(raw)
                        ),
                        "serve it over https",
                    ));
                } else {
                    out.push(check("http.public_url", Status::Ok, masked_url(raw), ""));
                }
            }
        },
    }
    for (name, value) in [
        ("discord.proxy_url", s.discord.proxy_url.as_deref()),
        ("slack.api_url", s.slack.api_url.as_deref()),
    ] {
        if let Some(bad) = value
            .filter(|v| !v.is_empty())
            .and_then(|v| url_check(name, v))
        {
            out.push(bad);
        }
    }
    if s.delivery.allow_loopback_http {
        out.push(check(
            "delivery.allow_loopback_http",
            Status::Warn,
            "on: webhooks to http://127.0.0.1 are allowed",
            "tests only: set it to false",
        ));
    }
    let bad_hosts: Vec<&String> = s
        .delivery
        .webhook_hosts
        .iter()
        .filter(|h| h.is_empty() || h.contains(['/', ':', ' ', '@']))
        .collect();
    if s.delivery.webhook_hosts.is_empty() {
        out.push(check(
            "delivery.webhook_hosts",
            Status::Warn,
            "empty: every webhook is refused",
            "e.g. [\"hooks.slack.com\"]",
        ));
    } else if !bad_hosts.is_empty() {
        out.push(check(
            "delivery.webhook_hosts",
            Status::Fail,
            format!("not host names: {bad_hosts:?}"),
            "host names only, e.g. hooks.slack.com",
        ));
    }
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&s.log.filter) {
        out.push(check(
            "log.filter",
            Status::Fail,
            format!("`{}`: {e}", s.log.filter),
            "an EnvFilter directive such as warn,drumbeat=info",
        ));
    }
    out
}

/// The database file and what is stored in it. Returns the newest instant stored, for the
/// clock check.
async fn database_checks(s: &Settings, report: &mut Report) -> Option<DateTime<Utc>> {
    let timeout = Duration::from_millis(s.database.busy_timeout_ms);
    let options = match crate::app::store_options(&s.database) {
        Ok(options) => options,
        Err(e) => {
            report.checks.push(check(
                "database",
                Status::Fail,
                format!("{e:#}"),
                "set database.url to sqlite://PATH or postgres://USER@HOST:PORT/DATABASE",
            ));
            return None;
        }
    };
    let location = &options.location;
    let shown = location.describe();
    if let store::Location::Sqlite(path) = location {
        if let Some(why) = database_unusable(path) {
            report.checks.push(check(
                "database",
                Status::Fail,
                format!("{} cannot be created or opened: {why}", path.display()),
                "set database.path (or --db) to a file in a folder this user can write",
            ));
            return None;
        }
        if !path.exists() {
            report.checks.push(check(
                "database",
                Status::Ok,
                format!(
                    "{} does not exist yet; its folder is writable",
                    path.display()
                ),
                "it is created at the first start; check database.path if it should be there",
            ));
            return None;
        }
    }
    let found = match store::inspect(location, timeout).await {
        Ok(found) => found,
        Err(e) => {
            report.checks.push(match location {
                store::Location::Sqlite(_) => check(
                    "database",
                    Status::Fail,
                    format!("{shown} cannot be read: {e:#}"),
                    "check database.path, the file's permissions, and that it is a Drumbeat database",
                ),
                store::Location::Postgres(_) => check(
                    "database",
                    Status::Fail,
                    format!("{shown} cannot be reached: {e:#}"),
                    "check database.url, that PostgreSQL runs and accepts this user, and the network",
                ),
            });
            return None;
        }
    };
    report.checks.push(check(
        "database",
        Status::Ok,
        match &found.server {
            Some(version) => format!("{shown} answers ({version})"),
            None => format!("{shown} opens"),
        },
        "",
    ));
    if location.dialect() == store::Dialect::Postgres {
        report.checks.push(match &found.leader {
            Some(who) => check("leader", Status::Ok, format!("ticking: {who}"), ""),
            None => check(
                "leader",
                Status::Warn,
                "no process holds the scheduler's lock: nothing is ticking",
                "start drumbeat run (any process takes the lead within 10 s)",
            ),
        });
    }
    let list = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    report.checks.push(if !found.unknown.is_empty() {
        check(
            "migrations",
            Status::Fail,
            format!(
                "the file has migrations this binary does not know: {}",
                list(&found.unknown)
            ),
            "run the newer Drumbeat that wrote it, or restore a backup",
        )
    } else if !found.broken.is_empty() {
        check(
            "migrations",
            Status::Fail,
            format!(
                "migrations failed or changed since they ran: {}",
                list(&found.broken)
            ),
            "restore a backup",
        )
    } else if !found.pending.is_empty() {
        check(
            "migrations",
            Status::Warn,
            format!("{} to apply: {}", found.pending.len(), list(&found.pending)),
            "they are applied at the next start (back up first: drumbeat backup --out FILE)",
        )
    } else {
        check(
            "migrations",
            Status::Ok,
            format!(
                "current ({} applied)",
                store::migrator(location.dialect()).iter().count()
            ),
            "",
        )
    });
    report.checks.push(if found.integrity == ["ok"] {
        check(
            "integrity",
            Status::Ok,
            match location.dialect() {
                store::Dialect::Sqlite => "PRAGMA integrity_check: ok",
                store::Dialect::Postgres => "PostgreSQL checks its own pages",
            },
            "",
        )
    } else {
        check(
            "integrity",
            Status::Fail,
            found.integrity.join("; "),
            "restore the latest backup",
        )
    });
    let bad_zones: Vec<String> = found
        .timezones
        .iter()
        .filter(|(_, tz)| tz.parse::<chrono_tz::Tz>().is_err())
        .map(|(whose, tz)| format!("{whose}: `{tz}`"))
        .collect();
    report.checks.push(if bad_zones.is_empty() {
        check(
            "timezones",
            Status::Ok,
            format!("{} stored, all known", found.timezones.len()),
            "",
        )
    } else {
        check(
            "timezones",
            Status::Fail,
            format!("unknown timezone: {}", bad_zones.join("; ")),
            "set an IANA name: program set KEY --tz … / person set @name --tz …",
        )
    });
    let policy = WebhookPolicy::from_settings(&s.delivery);
    let mut bad_hooks = Vec::new();
    for (whose, json) in &found.destinations {
        match serde_json::from_str::<Destination>(json) {
            Ok(Destination::SlackWebhook { url }) => {
                if let Err(why) = policy.url(url.as_str()) {
                    bad_hooks.push(format!("{whose}: {} ({why})", masked_url(url.as_str())));
                }
            }
            Ok(_) => {}
            Err(_) => bad_hooks.push(format!("{whose}: unreadable destination")),
        }
    }
    report.checks.push(if bad_hooks.is_empty() {
        check(
            "webhooks",
            Status::Ok,
            format!(
                "{} stored destinations; webhooks https on {}",
                found.destinations.len(),
                s.delivery.webhook_hosts.join(", ")
            ),
            "",
        )
    } else {
        check(
            "webhooks",
            Status::Fail,
            bad_hooks.join("; "),
            "replace them (program route … / schedule set …), or add the host to delivery.webhook_hosts",
        )
    });
    // A Slack program without a route reaches its people through the Web API.
    if !found.slack_unrouted.is_empty() && s.slack.bot_token().is_none() {
        report.checks.push(check(
            "slack delivery",
            Status::Warn,
            format!(
                "no bot token, and no route for {}: their prompts, reminders and pings will be dead-lettered",
                found.slack_unrouted.join(", ")
            ),
            "set SLACK_BOT_TOKEN (scope chat:write), or program route KEY --slack-webhook URL",
        ));
    }
    found.newest
}

/// Why the database at `path` could not be created or opened by `drumbeat run`, in words;
/// `None` when it can. An existing path must be a file; a missing one needs its nearest
/// existing folder (the start makes the folders in between) to be a folder this process can
/// create files in, which is tried with a probe file that is removed at once: permission
/// bits do not tell (root passes them; `/proc` and read-only mounts refuse root too).
pub fn database_unusable(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => return Some("it is a folder, not a file".into()),
        Ok(_) => {
            return std::fs::File::open(path)
                .err()
                .map(|e| format!("it cannot be read ({})", io_reason(&e)));
        }
        Err(e) if !missing(&e) => {
            return Some(format!("it cannot be looked at ({})", io_reason(&e)));
        }
        Err(_) => {}
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut folder = parent;
    loop {
        match std::fs::metadata(folder) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => {
                return Some(format!("{} is a file, not a folder", folder.display()));
            }
            Err(e) if missing(&e) => match folder.parent() {
                Some(up) if !up.as_os_str().is_empty() => folder = up,
                _ => {
                    folder = Path::new(".");
                    break;
                }
            },
            Err(e) => {
                return Some(format!(
                    "{} cannot be looked at ({})",
                    folder.display(),
                    io_reason(&e)
                ));
            }
        }
    }
    let probe = folder.join(format!(".drumbeat-doctor-{}.probe", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) if folder == parent => Some(format!(
            "no file can be created in {} ({})",
            folder.display(),
            io_reason(&e)
        )),
        Err(e) => Some(format!(
            "{} does not exist and cannot be created in {} ({})",
            parent.display(),
            folder.display(),
            io_reason(&e)
        )),
    }
}

/// Nothing at the path: not there, or a file stands where a folder of it should be (the
/// walk up finds that file).
fn missing(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// An I/O error in words, without the `(os error N)` suffix.
fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::NotFound => "no such file or folder".into(),
        std::io::ErrorKind::ReadOnlyFilesystem => "read-only file system".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(at) => text[..at].to_owned(),
                None => text,
            }
        }
    }
}

/// A Discord bot token is three dot-separated base64url parts, the first the bot's id.
fn discord_token_shape(token: &str) -> Result<(), &'static str> {
    if token.starts_with("Bot ") {
        return Err("it starts with `Bot `: give the token alone");
    }
    let parts: Vec<&str> = token.split('.').collect();
    let base64url = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if parts.len() != 3 || !parts.iter().all(|p| base64url(p)) {
        return Err("it is not three dot-separated parts of letters, digits, - and _");
    }
    if parts[0].len() < 16 || parts[2].len() < 20 {
        return Err("it is too short to be a bot token");
    }
    Ok(())
}

async fn discord_check(s: &Settings, online: bool) -> Check {
    let Some(token) = s.discord.token() else {
        return check("discord token", Status::Ok, "not set: Discord is off", "");
    };
    let raw = token.expose_secret();
    let set = format!("set ({} characters)", raw.chars().count());
    if let Err(why) = discord_token_shape(raw) {
        return check(
            "discord token",
            Status::Fail,
            format!("{set}, but {why}"),
            "copy it again from the Developer Portal (Bot → Reset Token)",
        );
    }
    if !online {
        return check(
            "discord token",
            Status::Ok,
            format!("{set}, shaped like a bot token"),
            "drumbeat doctor --online asks Discord",
        );
    }
    let http = crate::platform::discord::http_client(&token, s.discord.proxy_url.as_deref());
    match tokio::time::timeout(Duration::from_secs(10), http.get_current_user()).await {
        Ok(Ok(me)) => check(
            "discord token",
            Status::Ok,
            format!("{set}; Discord knows it as {}", me.name),
            "",
        ),
        Ok(Err(e)) => check(
            "discord token",
            Status::Fail,
            format!("{set}; Discord refused it: {e}"),
            "reset the token in the Developer Portal and set DISCORD_TOKEN",
        ),
        Err(_) => check(
            "discord token",
            Status::Warn,
            format!("{set}; Discord did not answer in 10 s"),
            "check the network or discord.proxy_url",
        ),
    }
}

/// How Discord's interactions reach this process: the gateway, the HTTP endpoint (with a
/// public key of the right shape, and the token it needs), both, or neither.
fn discord_interactions_check(s: &Settings) -> Check {
    const NAME: &str = "discord interactions";
    let token = s.discord.token().is_some();
    let gateway = token && s.discord.gateway;
    let Some(raw) = s.discord.public_key() else {
        return match (token, gateway) {
            (false, _) => check(NAME, Status::Ok, "not set: Discord is off", ""),
            (true, true) => check(
                NAME,
                Status::Ok,
                "over the gateway (discord.public_key is not set, so there is no HTTP endpoint)",
                "",
            ),
            (true, false) => check(
                NAME,
                Status::Warn,
                "neither the gateway (discord.gateway = false) nor POST /discord/interactions (discord.public_key is not set): slash commands go unanswered",
                "set discord.public_key, or discord.gateway = true",
            ),
        };
    };
    if let Err(why) = crate::platform::discord::verify::PublicKey::parse(raw) {
        return check(
            NAME,
            Status::Fail,
            why,
            "copy it from the Developer Portal (General Information → Public Key)",
        );
    }
    if !token {
        return check(
            NAME,
            Status::Fail,
            "discord.public_key is set but there is no bot token: `drumbeat run` refuses to start",
            "set DISCORD_TOKEN, or unset discord.public_key",
        );
    }
    check(
        NAME,
        Status::Ok,
        format!(
            "POST /discord/interactions, checked with the application's public key; the gateway is {}",
            if gateway { "on too" } else { "off" }
        ),
        "give Discord {http.public_url}/discord/interactions; run `drumbeat discord register` once per release",
    )
}

fn slack_checks(s: &Settings) -> Vec<Check> {
    let mut out = Vec::new();
    match s.slack.signing_secret() {
        None => out.push(check(
            "slack signing secret",
            Status::Ok,
            "not set: Slack's endpoints are off",
            "",
        )),
        Some(secret) => {
            let raw = secret.expose_secret();
            let set = format!("set ({} characters)", raw.chars().count());
            // Slack's signing secrets are 32 lowercase hex digits.
            if raw.len() == 32 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
                out.push(check("slack signing secret", Status::Ok, set, ""));
            } else {
                out.push(check(
                    "slack signing secret",
                    Status::Warn,
                    format!("{set}, but not 32 hex digits as Slack makes them"),
                    "copy the Signing Secret (not the token) from Basic Information",
                ));
            }
        }
    }
    if let Some(token) = s.slack.bot_token() {
        let raw = token.expose_secret();
        if !raw.starts_with("xoxb-") {
            out.push(check(
                "slack bot token",
                Status::Warn,
                format!(
                    "set ({} characters), but not an xoxb- bot token",
                    raw.chars().count()
                ),
                "copy the Bot User OAuth Token from OAuth & Permissions",
            ));
        } else {
            out.push(check("slack bot token", Status::Ok, "set (xoxb-…)", ""));
        }
    }
    out
}

/// The timezone data is there and the system clock is plausible: not before this code was
/// written, and not behind what the database already holds.
fn clock_checks(now: DateTime<Utc>, newest: Option<DateTime<Utc>>) -> Vec<Check> {
    let mut out = Vec::new();
    let zones = chrono_tz::TZ_VARIANTS.len();
    let berlin = "Europe/Berlin".parse::<chrono_tz::Tz>();
    out.push(match berlin {
        Ok(tz) if zones > 300 => check(
            "timezone data",
            Status::Ok,
            format!(
                "{zones} zones (IANA {}); Europe/Berlin is on {} now",
                chrono_tz::IANA_TZDB_VERSION,
                tz.offset_from_utc_datetime(&now.naive_utc())
            ),
            "",
        ),
        _ => check(
            "timezone data",
            Status::Fail,
            format!("only {zones} zones are known"),
            "rebuild with chrono-tz's full data",
        ),
    });
    let floor = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let ceiling = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).unwrap();
    out.push(if now < floor || now > ceiling {
        check(
            "clock",
            Status::Fail,
            format!("the system clock says {}", now.format("%Y-%m-%d %H:%M UTC")),
            "set the system clock (NTP)",
        )
    } else {
        match newest {
            Some(t) if t - now > chrono::Duration::minutes(5) => check(
                "clock",
                Status::Warn,
                format!(
                    "{} is before the newest stored instant, {}",
                    now.format("%Y-%m-%d %H:%M UTC"),
                    t.format("%Y-%m-%d %H:%M UTC")
                ),
                "check the system clock (NTP): schedules would wait for it",
            ),
            _ => check(
                "clock",
                Status::Ok,
                now.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                "",
            ),
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_token_shapes() {
        let good = format!("{}.{}.{}", "M".repeat(24), "G1a2b3", "x".repeat(38));
        assert_eq!(discord_token_shape(&good), Ok(()));
        for bad in [
            format!("Bot {good}"),
            "test-token".to_owned(),
            "a.b.c".to_owned(),
            format!("{}.{}.{}", "M".repeat(24), "G1 a2", "x".repeat(38)),
        ] {
            assert!(discord_token_shape(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn discord_interactions_need_a_well_formed_key_and_a_token() {
        use figment::providers::Format as _;
        let mut s: Settings =
            figment::Figment::from(figment::providers::Toml::string(crate::config::DEFAULTS))
                .extract()
                .unwrap();
        let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
        s.discord.token = Some(secrecy::SecretString::from("t".to_owned()));
        let status = |s: &Settings| discord_interactions_check(s).status;
        assert_eq!(status(&s), Status::Ok, "the gateway alone");
        s.discord.gateway = false;
        assert_eq!(status(&s), Status::Warn, "no way in");
        s.discord.public_key = Some(key.into());
        assert_eq!(status(&s), Status::Ok, "the endpoint alone");
        s.discord.public_key = Some(key[..40].into());
        let short = discord_interactions_check(&s);
        assert_eq!(short.status, Status::Fail);
        assert!(short.detail.contains("64 hex digits"), "{}", short.detail);
        s.discord.public_key = Some(key.into());
        s.discord.token = None;
        if std::env::var_os("DISCORD_TOKEN").is_none() {
            assert_eq!(status(&s), Status::Fail, "a key without a token");
        }
    }

    #[test]
    fn the_table_wraps_details_and_counts() {
        let report = Report {
            checks: vec![
                check("database", Status::Ok, "x.db opens", ""),
                check("timezones", Status::Fail, "word ".repeat(30), "set one"),
            ],
        };
        let t = report.table();
        assert!(t.starts_with("check"), "{t}");
        assert!(t.contains("FAIL"), "{t}");
        assert!(t.lines().all(|l| l.chars().count() <= 120), "{t}");
        assert!(t.contains("2 checks: 1 ok, 0 warn, 1 failed."), "{t}");
        assert!(report.failed());
    }

    #[test]
    fn clocks_before_the_code_fail() {
        let then = Utc.with_ymd_and_hms(2001, 1, 1, 0, 0, 0).unwrap();
        assert!(clock_checks(then, None)
            .iter()
            .any(|c| c.name == "clock" && c.status == Status::Fail));
        let now = Utc::now();
        let later = now + chrono::Duration::days(1);
        assert!(clock_checks(now, Some(later))
            .iter()
            .any(|c| c.name == "clock" && c.status == Status::Warn));
    }
}
