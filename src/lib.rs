//! Drumbeat: program state, one command language, and the weekly rhythm of a technical
//! program, for Discord, Slack and the console.

pub mod domain;
pub mod store;
