//! The process: `main.rs` reads the command line ([`Cli`]) and hands it to [`main`], which
//! loads the settings, sets up logging and the runtime, and runs the mode asked for. `run`
//! wires the store, the senders, the scheduler, the HTTP server and the adapters. See
//! docs/ARCHITECTURE.md.

mod cli;
mod modes;
mod serve;

pub use cli::{Cli, DiscordMode, Mode, TenantMode, Who};
pub use modes::main;
pub use serve::{run, senders, store_options};
