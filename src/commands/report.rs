//! `report DIR`, `report merge A B … --out DIR` and `compare BASELINE CURRENT`: read results
//! files, render them, exit 1 on a regression. No server is needed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use reports::compare::{self, Thresholds};
use reports::output;
use results::RunResults;

use platform::Settings;

use super::store;
use crate::cli::{CompareArgs, Place, ReportArgs, ReportCommand};
use crate::exit::UsageError;
use crate::Outcome;

pub async fn report(settings: &Settings, args: ReportArgs) -> Result<Outcome> {
    match (args.action, args.dir) {
        (Some(ReportCommand::Merge { sources, out }), _) => merge(settings, &sources, &out).await,
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

async fn merge(settings: &Settings, sources: &[Place], out: &Place) -> Result<Outcome> {
    let mut parts = Vec::new();
    for place in sources {
        parts.extend(store::read(place, settings).await?);
    }
    let sharded = parts.iter().any(|(_, r)| r.shard.is_some());
    if parts.len() < 2 && !sharded {
        return Err(UsageError(
            "nothing to merge: give two or more result folders, or a folder (or s3:// prefix) of a split run's shard-I folders".into(),
        )
        .into());
    }
    let merged = results::merge::merge(&parts).map_err(|e| match e {
        results::merge::Error::Incompatible(why) => anyhow::Error::new(UsageError(why)),
        other => anyhow::Error::new(other).context("merging"),
    })?;
    let target = store::open(out, settings).await?;
    let written = store::write(&target, &merged, true).await?;
    println!(
        "merged {} load generators: {} operations scheduled, verdict {}",
        parts.len(),
        merged.schedule.scheduled,
        if merged.verdict.pass { "PASS" } else { "FAIL" }
    );
    for g in &merged.merged_from {
        if let (Some(s), Some(achieved)) = (&g.shard, g.achieved_rate) {
            println!(
                "  shard {} on {}: {achieved:.1} of {:.1} operations/s, {}{}",
                s.shard,
                g.hostname,
                g.target_rate.unwrap_or(0.0),
                if g.keeping_up == Some(false) {
                    "did NOT keep up"
                } else {
                    "kept up"
                },
                if s.start_offset_ms > 0.0 {
                    format!(", started {:.0} ms late", s.start_offset_ms)
                } else {
                    String::new()
                }
            );
        }
    }
    for w in written {
        println!("{w}");
    }
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
