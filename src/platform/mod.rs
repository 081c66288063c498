//! Platform adapters. Each maps its input to the core command and renders the reply;
//! nothing else.

pub mod console;
pub mod discord;
pub mod slack;
