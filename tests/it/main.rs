//! The one integration-test binary: helpers, then one module per area.

mod helpers;

mod analysis;
mod bad_input;
mod crash;
mod documents;
mod fake_webhook;
mod lifecycle;
mod limits;
mod outbox;
mod schedule;
mod tenancy;
