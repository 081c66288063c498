//! The one integration-test binary: helpers, then one module per area.

mod helpers;

mod analysis;
mod bad_input;
mod chart_links;
mod charts;
mod crash;
mod discord;
mod discord_bot;
mod documents;
mod fake_discord;
mod fake_slack;
mod fake_webhook;
mod hardening_http;
mod lifecycle;
mod limits;
mod ops;
mod outbox;
mod schedule;
mod slack;
mod tenancy;
