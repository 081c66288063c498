//! Which guild a Discord channel belongs to, asked of Discord (`GET /channels/{id}`), so that
//! an editor of one server cannot send its digests and pings into another server's channel:
//! checked when a command names the channel, and again when a message is sent there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use secrecy::SecretString;
use serenity::http::{Http, HttpError, LightMethod, Request, Route};
use serenity::model::id::ChannelId;

use crate::command::{ChannelCheck, ChannelVerdict};
use crate::domain::Tenant;

/// How long a channel's guild, once read, is trusted. A channel never moves to another
/// guild, but a deleted one should not stay "ours" for long.
const KEEP: Duration = Duration::from_secs(300);

/// What Discord says of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The channel's guild; `None` for a DM or group DM.
    Guild(Option<u64>),
    /// Discord does not know the channel (404).
    Missing,
    /// The bot may not see it (403): Discord's words.
    NoAccess(String),
    /// Discord could not be asked (network error, 5xx, 429): why, for people.
    Failed(String),
}

/// Reads channels' guilds through Discord's REST API (or the proxy of `discord.proxy_url`),
/// keeping each answer for a few minutes.
pub struct DiscordChannels {
    http: Arc<Http>,
    guilds: Mutex<HashMap<u64, (Instant, Option<u64>)>>,
}

impl std::fmt::Debug for DiscordChannels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordChannels").finish_non_exhaustive()
    }
}

impl DiscordChannels {
    pub fn new(token: &SecretString, proxy_url: Option<&str>) -> Self {
        Self::with_http(Arc::new(super::http_client(token, proxy_url)))
    }

    pub(crate) fn with_http(http: Arc<Http>) -> Self {
        Self {
            http,
            guilds: Mutex::new(HashMap::new()),
        }
    }

    /// The guild of `channel`, from the cache or from Discord.
    #[tracing::instrument(skip(self))]
    pub(crate) async fn lookup(&self, channel: u64) -> Lookup {
        if let Ok(cache) = self.guilds.lock() {
            if let Some((at, guild)) = cache.get(&channel) {
                if at.elapsed() < KEEP {
                    return Lookup::Guild(*guild);
                }
            }
        }
        let lookup = self.ask(channel).await;
        if let Lookup::Guild(guild) = lookup {
            if let Ok(mut cache) = self.guilds.lock() {
                cache.retain(|_, (at, _)| at.elapsed() < KEEP);
                cache.insert(channel, (Instant::now(), guild));
            }
        }
        lookup
    }

    async fn ask(&self, channel: u64) -> Lookup {
        let route = Route::Channel {
            channel_id: ChannelId::new(channel),
        };
        let response = match self
            .http
            .request(Request::new(route, LightMethod::Get))
            .await
        {
            Ok(r) => r,
            Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(r))) => {
                let status = r.status_code.as_u16();
                let said = format!(
                    "Discord answered {status}: {} (code {})",
                    r.error.message, r.error.code
                );
                return match status {
                    404 => Lookup::Missing,
                    403 => Lookup::NoAccess(said),
                    _ => Lookup::Failed(said),
                };
            }
            Err(e) => return Lookup::Failed(format!("Discord could not be reached: {e}")),
        };
        let body: serde_json::Value = match response.json().await {
            Ok(v) => v,
            Err(e) => return Lookup::Failed(format!("Discord's answer was unreadable: {e}")),
        };
        if body.get("id").is_none() {
            return Lookup::Failed("Discord's answer was not a channel".into());
        }
        Lookup::Guild(
            body.get("guild_id")
                .and_then(|g| g.as_str())
                .and_then(|g| g.parse::<u64>().ok()),
        )
    }

    /// Whether `channel` is a channel of `tenant`'s guild, as a command needs to know.
    pub(crate) async fn verdict(&self, tenant: &Tenant, channel: &str) -> ChannelVerdict {
        let Some(guild) = super::sender::guild_of(tenant) else {
            return ChannelVerdict::Unchecked(format!(
                "{tenant} is not a Discord server, so its channels are not Discord's to check"
            ));
        };
        let Some(id) = channel.parse::<u64>().ok().filter(|id| *id != 0) else {
            return ChannelVerdict::Foreign;
        };
        match self.lookup(id).await {
            Lookup::Guild(Some(g)) if g == guild => ChannelVerdict::Belongs,
            Lookup::Guild(_) | Lookup::Missing => ChannelVerdict::Foreign,
            Lookup::NoAccess(said) => ChannelVerdict::Unchecked(format!(
                "Drumbeat may not see that channel ({said}); give Drumbeat's role View Channel there"
            )),
            Lookup::Failed(why) => ChannelVerdict::Unchecked(why),
        }
    }
}

impl ChannelCheck for DiscordChannels {
    fn check<'a>(&'a self, tenant: &'a Tenant, channel: &'a str) -> BoxFuture<'a, ChannelVerdict> {
        Box::pin(self.verdict(tenant, channel))
    }
}
