//! Drumbeat: program state, one command language, and the weekly rhythm of a technical
//! program, for Discord, Slack and the console.

pub mod analysis;
pub mod chart;
pub mod clock;
pub mod command;
pub mod config;
pub mod demo;
pub mod digest;
pub mod doctor;
pub mod document;
pub mod domain;
pub mod fixture;
pub mod http;
pub mod ical;
pub mod interaction;
pub mod links;
pub mod outbox;
pub mod platform;
pub mod reply;
pub mod report;
pub mod schedule;
pub mod store;
pub mod telemetry;
