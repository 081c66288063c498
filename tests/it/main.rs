//! The one integration-test binary: helpers, then one module per area.

mod helpers;

mod analysis;
mod bad_input;
mod chart_links;
mod charts;
mod crash;
mod dashboard;
mod discord;
mod discord_bot;
mod discord_interactions;
mod documents;
mod fake_discord;
mod fake_slack;
mod fake_webhook;
mod hardening_http;
mod import_in_place;
mod imports;
mod json_data;
mod layers;
mod lifecycle;
mod limits;
mod living_plan;
mod operations;
mod ops;
mod outbox;
mod portfolio;
mod processes;
mod raid;
mod readiness;
mod same_words;
mod scale_out;
mod schedule;
mod slack;
mod tenancy;
