//! Discord: slash commands, buttons and modals over the gateway (serenity), and the
//! outbox's sender for channels and DMs. A setting `proxy_url` sends every REST call to
//! another base URL, as deployments behind an HTTP proxy do and as the tests' fake Discord
//! does; the gateway address then comes from that host's `GET /api/v10/gateway`.

mod bot;
mod channels;
mod sender;
pub mod slash;
pub mod verify;

pub use bot::{http_client, Bot, BotHandle, BotSetup, GatewayState};
pub use channels::DiscordChannels;
pub use sender::{messages, payloads, DiscordSender};
