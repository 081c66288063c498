//! Whether a channel belongs to a tenant: asked of its platform before a channel named in a
//! command or a document is stored, and again before anything is sent there.

use futures_util::future::BoxFuture;

use super::{Platform, Tenant};

/// What the platform says of a channel named in a command (`--channel C`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelVerdict {
    /// The channel is the tenant's.
    Belongs,
    /// The channel exists but is another guild's or workspace's, or does not exist.
    Foreign,
    /// It could not be checked (no token, the platform unreachable): the reason, for people.
    Unchecked(String),
}

/// Confirms that a channel is the tenant's before anything is sent there: an editor of one
/// Discord server must not be able to post its digests into another server's channel.
pub trait ChannelCheck: Send + Sync + std::fmt::Debug {
    fn check<'a>(&'a self, tenant: &'a Tenant, channel: &'a str) -> BoxFuture<'a, ChannelVerdict>;
}

/// The check where no platform can be asked: the console's own channels are names it owns;
/// a Discord or Slack tenant's channel cannot be confirmed, so it is refused.
#[derive(Debug, Default)]
pub struct NoPlatform;

impl ChannelCheck for NoPlatform {
    fn check<'a>(&'a self, tenant: &'a Tenant, _channel: &'a str) -> BoxFuture<'a, ChannelVerdict> {
        let verdict = if tenant.platform() == Platform::Console {
            ChannelVerdict::Belongs
        } else {
            ChannelVerdict::Unchecked(format!(
                "channels of {tenant} can only be checked with its platform's token, which this process does not have"
            ))
        };
        Box::pin(std::future::ready(verdict))
    }
}
