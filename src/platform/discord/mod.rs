//! Discord: slash commands, buttons and modals over the gateway (serenity) or over HTTP
//! (`POST /discord/interactions`, signed with the application's key), answered by one
//! translation; the outbox's sender for channels and DMs; and the registration of the slash
//! commands. A setting `proxy_url` sends every REST call to another base URL, as
//! deployments behind an HTTP proxy do and as the tests' fake Discord does; the gateway
//! address then comes from that host's `GET /api/v10/gateway`.

mod bot;
mod channels;
pub mod interactions;
mod sender;
pub mod slash;
pub mod verify;

pub use bot::{
    http_client, register, register_commands, Bot, BotHandle, BotSetup, GatewayState, Registered,
};
pub use channels::DiscordChannels;
pub use interactions::DiscordInteractions;
pub use sender::{messages, payloads, DiscordSender};
