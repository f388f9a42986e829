//! `report DIR`, `report merge A B … --out DIR` and `compare BASELINE CURRENT`: read results
//! files, render them, exit 1 on a regression. No server is needed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use reports::compare::{self, Thresholds};
use reports::output;
use results::RunResults;

use crate::cli::{CompareArgs, ReportArgs, ReportCommand};
use crate::exit::UsageError;
use crate::Outcome;

pub fn report(args: ReportArgs) -> Result<Outcome> {
    match (args.action, args.dir) {
        (Some(ReportCommand::Merge { dirs, out }), _) => merge(&dirs, &out),
        (None, Some(dir)) => {
            let results = read(&dir)?;
            let written = render(&dir, &results)?;
            print_written(&written);
            Ok(Outcome::Ok)
        }
        (None, None) => Err(UsageError("give the run folder: shopbench report DIR".into()).into()),
    }
}

/// A results file that cannot be read is bad input: one line naming the file and the fix.
fn read(dir: &Path) -> Result<RunResults> {
    if !dir.exists() {
        return Err(UsageError(format!(
            "{}: no such folder (give the --out folder of a run or capacity)",
            dir.display()
        ))
        .into());
    }
    RunResults::read(dir).map_err(|e| UsageError(e.to_string()).into())
}

fn render(dir: &Path, results: &RunResults) -> Result<Vec<PathBuf>> {
    output::report(dir, results)
        .with_context(|| format!("rendering the report of {}", dir.display()))
}

fn print_written(paths: &[PathBuf]) {
    for p in paths {
        println!("{}", p.display());
    }
}

fn merge(dirs: &[PathBuf], out: &Path) -> Result<Outcome> {
    let parts = dirs
        .iter()
        .map(|d| Ok((d.display().to_string(), read(d)?)))
        .collect::<Result<Vec<_>>>()?;
    let merged = results::merge::merge(&parts).map_err(|e| match e {
        results::merge::Error::Incompatible(why) => anyhow::Error::new(UsageError(why)),
        other => anyhow::Error::new(other).context("merging"),
    })?;
    let mut written = vec![merged.write(out)?];
    written.extend(render(out, &merged)?);
    println!(
        "merged {} load generators: {} operations scheduled, verdict {}",
        parts.len(),
        merged.schedule.scheduled,
        if merged.verdict.pass { "PASS" } else { "FAIL" }
    );
    print_written(&written);
    Ok(if merged.verdict.pass {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

pub fn compare(args: CompareArgs) -> Result<Outcome> {
    let base = read(&args.baseline)?;
    let cur = read(&args.current)?;
    let thresholds = Thresholds {
        confidence: args.confidence,
        min_change: args.threshold,
        floor_ms: args.floor.as_secs_f64() * 1e3,
        error_floor: args.error_floor,
    };
    let names = (
        args.baseline.display().to_string(),
        args.current.display().to_string(),
    );
    let comparison = compare::compare(&base, &cur, (&names.0, &names.1), thresholds)
        .context("comparing the runs' histograms")?;
    let out = args.out.unwrap_or(args.current);
    let written = output::comparison(&out, &comparison)?;
    for w in &comparison.warnings {
        println!("warning: {w}");
    }
    for r in comparison.regressions() {
        let show = |v: f64| r.figure.show(v);
        println!(
            "REGRESSED {} {}: {} → {}",
            r.operation,
            r.figure,
            show(r.baseline),
            show(r.current)
        );
    }
    println!(
        "{}",
        if comparison.regressed() {
            "compare: regression against the baseline"
        } else {
            "compare: no regression against the baseline"
        }
    );
    print_written(&written);
    Ok(if comparison.regressed() {
        Outcome::CheckFailed
    } else {
        Outcome::Ok
    })
}
