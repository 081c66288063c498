//! Drumbeat: program state, one command language, and the weekly rhythm of a technical
//! program, for Discord, Slack and the console.

pub mod domain;
pub mod store;
pub mod analysis;
pub mod command;
pub mod reply;
pub mod clock;
pub mod config;
pub mod document;
pub mod platform;
pub mod telemetry;
