//! Drumbeat: program state, one command language, and the weekly rhythm of a technical
//! program, for Discord, Slack and the console.
//!
//! Modules are listed by layer, bottom first; a module uses only those above it in this
//! list. docs/ARCHITECTURE.md is the map: the layers, the rule that keeps them apart (checked
//! by `tests/it/layers.rs`), and the path of the main flows.

// The domain: validated values and rules, no I/O.
pub mod clock;
pub mod domain;

// Pure views over the domain: analysis, replies and their renderers, documents.
pub mod analysis;
pub mod digest;
pub mod ical;
pub mod reply;
pub mod report;

// State: all SQL.
pub mod store;

// Settings.
pub mod config;

// Services beside the commands: delivery, the rhythm, charts, links, read-only pages,
// documents, telemetry.
pub mod chart;
pub mod document;
pub mod fixture;
pub mod links;
pub mod outbox;
pub mod schedule;
pub mod telemetry;
pub mod web;

// Commands: the grammar and one transaction per command.
pub mod command;

// The interaction core every chat adapter calls.
pub mod interaction;

// Importing spreadsheets and trackers' exports: rows become commands, run as one plan.
pub mod import;

// Adapters and the process.
pub mod app;
pub mod demo;
pub mod doctor;
pub mod http;
pub mod platform;
