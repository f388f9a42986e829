//! # shopbench
//!
//! The command-line front of shopbench: parses the command line, loads the settings, calls one
//! library function per step of a command, maps errors to exit codes and prints. Nothing here
//! knows SQL or servers (no `sqlx`, no `redis`, no statements).
//!
//! ## Layout
//!
//! - `cli.rs`: the clap-derive command line (doc comments are the help text).
//! - `commands/`: one file per command group: `services.rs` (up, down, status), `schema.rs`
//!   (apply, check, reset), `seed.rs`, `verify.rs`, `run.rs`, `capacity.rs` and what they share
//!   (`workload.rs`: mix overrides, the output folder, the live line, Ctrl-C), `report.rs`
//!   (report, merge, compare), `calibrate.rs` (the instrument beside pgbench), `demo.rs` (the other commands' real command lines, in order).
//! - `exit.rs`: exit codes (0 ok, 1 check failed, 2 bad input, 3 environment) and the one-line
//!   error printer that scrubs secrets.
//!
//! Tests call `cli::Cli::try_parse_from` (clap's `Parser`) and [`run`] in-process.

pub mod cli;
pub mod commands;
pub mod exit;

use std::ffi::OsString;

pub use exit::Outcome;

/// Runs a parsed command line.
pub async fn run(cli: cli::Cli) -> anyhow::Result<Outcome> {
    commands::dispatch(cli).await
}

/// The whole program: parse `args`, run on a Tokio runtime, print the error (if any) on one
/// line, return the exit code.
pub fn main_entry(args: impl IntoIterator<Item = OsString>) -> std::process::ExitCode {
    let cli = match <cli::Cli as clap::Parser>::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => return exit::clap_error(err),
    };
    // `run` and `capacity`: the workers run on client threads of their own, each a
    // current-thread runtime with its own connections (`scenarios/src/lanes.rs` has the
    // measurements); what stays here (the once-a-second collector, the live line, the database
    // observer) needs one thread. Everything else (seeding with --jobs, verify) uses every core.
    let mut builder = match cli.command {
        cli::Command::Run(_) | cli::Command::Capacity(_) | cli::Command::Calibrate(_) => {
            tokio::runtime::Builder::new_current_thread()
        }
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            return exit::report(&anyhow::Error::new(e).context("cannot start the async runtime"))
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(outcome) => outcome.into(),
        Err(err) => exit::report(&err),
    }
}
