//! Writing the rendered files: everything is rendered in memory first, then each file is
//! written to a temporary name and renamed into place, so a failure leaves no half-written
//! report behind and a reader never sees a partial file.

use std::path::{Path, PathBuf};

use crate::compare::{self, Comparison};
use crate::{html, junit, markdown, plot};
use results::run::RunResults;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing {path}: {detail}")]
    Write { path: String, detail: String },
    #[error(transparent)]
    Plot(#[from] plot::Error),
}

pub const REPORT: &str = "report.html";
pub const SUMMARY: &str = "summary.md";
pub const JUNIT: &str = "junit.xml";
pub const COMPARE_HTML: &str = "compare.html";
pub const COMPARE_MD: &str = "compare.md";

/// Renders `report.html`, `summary.md` and `junit.xml` into `dir`; returns their paths.
pub fn report(dir: &Path, r: &RunResults) -> Result<Vec<PathBuf>, Error> {
    write_all(dir, &files(r)?)
}

/// The report's files (name, text) in memory, for a store that is not a folder.
pub fn files(r: &RunResults) -> Result<Vec<(&'static str, String)>, Error> {
    Ok(vec![
        (REPORT, html::render(r)?),
        (SUMMARY, markdown::render(r)),
        (JUNIT, junit::render(r)),
    ])
}

/// Renders `compare.html` and `compare.md` into `dir`.
pub fn comparison(dir: &Path, c: &Comparison) -> Result<Vec<PathBuf>, Error> {
    write_all(
        dir,
        &[
            (COMPARE_HTML, compare::html(c)),
            (COMPARE_MD, compare::markdown(c)),
        ],
    )
}

fn write_all(dir: &Path, files: &[(&str, String)]) -> Result<Vec<PathBuf>, Error> {
    files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            results::file::write_atomic(&path, text.as_bytes()).map_err(|e| Error::Write {
                path: path.display().to_string(),
                detail: e.to_string(),
            })?;
            Ok(path)
        })
        .collect()
}
