//! Commands of the contract whose implementation arrives in a later release.

use anyhow::Result;

use crate::exit::UsageError;
use crate::Outcome;

/// Exit 2 with a line that says the command exists but is not implemented yet.
pub fn not_yet(command: &str, part: &str) -> Result<Outcome> {
    Err(UsageError(format!(
        "`shopbench {command}` is not implemented yet: it arrives with {part}; available now: demo, up, down, status, schema apply|check|reset"
    ))
    .into())
}
