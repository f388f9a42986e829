//! Exit codes and error printing.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | a check failed: an SLO, a regression, `schema check` problems |
//! | 2 | bad input or usage: a flag, a config file, a URL, a results file |
//! | 3 | environment failure: a server unreachable, a binary missing, a database refusing |
//!
//! An error is printed as one line, `error: <context>: <cause>: ...`, with every known secret
//! scrubbed.

use std::process::ExitCode;

use platform::ErrorKind;

/// How a command ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Ok,
    /// Exit 1: the command ran, and what it checked is not acceptable.
    CheckFailed,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Ok => ExitCode::SUCCESS,
            Outcome::CheckFailed => ExitCode::from(1),
        }
    }
}

/// Bad input detected by the command layer (not by clap, not by the platform crate).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub const BAD_INPUT: u8 = 2;
pub const ENVIRONMENT: u8 = 3;

/// The exit code an error maps to: the first classified error in its chain decides; anything
/// unclassified is an environment failure.
pub fn code_of(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return BAD_INPUT;
        }
        if let Some(e) = cause.downcast_ref::<generator::error::Error>() {
            use generator::error::Error as G;
            return match e {
                G::AlreadySeeded(_) | G::NoSeed | G::Claimed { .. } => BAD_INPUT,
                _ => ENVIRONMENT,
            };
        }
        if let Some(e) = cause.downcast_ref::<scenarios::session::Error>() {
            return match e.kind() {
                ErrorKind::BadInput => BAD_INPUT,
                ErrorKind::Environment => ENVIRONMENT,
            };
        }
        if let Some(e) = cause.downcast_ref::<scenarios::calibration::Error>() {
            return match e.kind() {
                ErrorKind::BadInput => BAD_INPUT,
                ErrorKind::Environment => ENVIRONMENT,
            };
        }
        if let Some(e) = cause.downcast_ref::<platform::Error>() {
            return match e.kind() {
                ErrorKind::BadInput => BAD_INPUT,
                ErrorKind::Environment => ENVIRONMENT,
            };
        }
    }
    ENVIRONMENT
}

/// The error as one line, secrets scrubbed.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string().replace('\n', " ");
        // thiserror variants often repeat their source's text; keep each piece once
        if !parts.iter().any(|p| p.contains(text.as_str())) {
            parts.push(text);
        }
    }
    platform::secret::scrub(&parts.join(": "))
}

/// Prints `err` and returns its exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {}", one_line(err));
    ExitCode::from(code_of(err))
}

/// clap's own outcome: help and version print as usual (exit 0); a usage error becomes one line
/// (exit 2) that says what is wrong and where to look.
pub fn clap_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind as K;
    match err.kind() {
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            if err.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(BAD_INPUT)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            eprintln!("{}", clap_one_line(&err));
            ExitCode::from(BAD_INPUT)
        }
    }
}

/// clap's multi-line message folded into one line ending with a pointer to `--help`.
pub fn clap_one_line(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let mut pieces: Vec<String> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .map(str::to_string)
        .collect();
    if pieces.is_empty() {
        pieces.push("invalid command line".into());
    }
    let line = pieces.join(" ");
    let line = if line.starts_with("error:") {
        line
    } else {
        format!("error: {line}")
    };
    platform::secret::scrub(&format!("{line} (see shopbench --help)"))
}
