//! Platform adapters. Each maps its input to the core command and renders the reply;
//! nothing else.

pub mod console;
pub mod discord;
pub mod slack;

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::command::{ChannelCheck, ChannelVerdict, NoPlatform};
use crate::config::Settings;
use crate::domain::{Platform, Tenant};

/// How this process checks that a channel named in a command or a document belongs to its
/// tenant, from the platform tokens it has. Without a token, a platform's channels cannot be
/// checked, and are refused.
pub fn channel_check(settings: &Settings) -> Arc<dyn ChannelCheck> {
    let slack = match slack::channel_checker(settings) {
        Ok(check) => check,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "Slack channels cannot be checked; they are refused");
            Arc::new(slack::NoToken)
        }
    };
    let discord = settings.discord.token().map(|token| {
        Arc::new(discord::DiscordChannels::new(
            &token,
            settings.discord.proxy_url.as_deref(),
        )) as Arc<dyn ChannelCheck>
    });
    Arc::new(ByPlatform { slack, discord })
}

/// Sends each tenant's question to its own platform's check; Discord without a token
/// refuses, as [`NoPlatform`] does.
#[derive(Debug)]
struct ByPlatform {
    slack: Arc<dyn ChannelCheck>,
    discord: Option<Arc<dyn ChannelCheck>>,
}

impl ChannelCheck for ByPlatform {
    fn check<'a>(&'a self, tenant: &'a Tenant, channel: &'a str) -> BoxFuture<'a, ChannelVerdict> {
        match (tenant.platform(), &self.discord) {
            (Platform::Slack, _) => self.slack.check(tenant, channel),
            (Platform::Discord, Some(discord)) => discord.check(tenant, channel),
            _ => {
                let none: &'static NoPlatform = &NoPlatform;
                none.check(tenant, channel)
            }
        }
    }
}
