//! The `drumbeat` binary: reads the command line and hands over to [`drumbeat::app`].

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    drumbeat::app::main(drumbeat::app::Cli::parse())
}
