//! The one integration-test binary: helpers, then one module per area.

mod helpers;

mod analysis;
mod bad_input;
mod documents;
mod lifecycle;
mod limits;
mod tenancy;
