//! `shopbench demo`: the tour for a new machine: start the services, provision and check the
//! schema, seed `tiny` (or finish a seed already there), verify it, and run the storefront mix
//! for 20 seconds, and render its report, printing the path of report.html.

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::Outcome;
use platform::services::{self, Service};
use platform::Settings;

pub async fn demo(settings: &Settings) -> Result<Outcome> {
    println!("== 1/7 services");
    let mut postgres_error = None;
    for (service, result) in services::up(settings, &Service::ALL).await {
        match result {
            Ok(where_) => println!("{:<11} {where_}", service.name()),
            Err(e) if service == Service::Postgres => {
                println!("{:<11} FAILED: {e}", service.name());
                postgres_error = Some(e);
            }
            Err(e) => println!(
                "{:<11} unavailable ({e}); the demo goes on without it",
                service.name()
            ),
        }
    }
    if let Some(e) = postgres_error {
        return Err(e.into());
    }
    println!("== 2/7 schema apply");
    super::schema::apply(settings).await?;
    println!("== 3/7 schema check");
    let target = services::postgres(settings).await?;
    let findings = platform::schema::check(&target).await?;
    let problems: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == platform::schema::Severity::Problem)
        .collect();
    for f in &findings {
        println!("{f}");
    }
    println!("schema check: {} problems", problems.len());
    if !problems.is_empty() {
        return Ok(Outcome::CheckFailed);
    }
    println!("== 4/7 seed tiny");
    let pool = generator::load::postgres::connect(&target.loader, 2).await?;
    match generator::load::postgres::existing_run(&pool).await? {
        Some(run) if run.finished => println!(
            "a {} seed is already loaded (seed {}); keeping it",
            run.config.profile.name, run.config.seed
        ),
        existing => {
            let mut line = vec!["seed", "--scale", "tiny", "--seed", "42", "--quiet"];
            if existing.is_some() {
                line.push("--resume");
            }
            let Command::Seed(args) = parsed(&line) else {
                unreachable!("a seed command line")
            };
            super::seed::seed(settings, args).await?;
        }
    }
    println!("== 5/7 verify");
    let Command::Verify(args) = parsed(&["verify"]) else {
        unreachable!("a verify command line")
    };
    let verified = super::verify::verify(settings, args).await?;
    println!("== 6/7 run: storefront mix, 50 operations/s for 20 s");
    let out = settings.workdir.join("runs").join("demo-storefront");
    let out_arg = out.display().to_string();
    let Command::Run(run) = parsed(&[
        "run",
        "--mix",
        "storefront",
        "--rate",
        "50",
        "--duration",
        "20s",
        "--warmup",
        "3s",
        "--out",
        &out_arg,
    ]) else {
        unreachable!("a run command line")
    };
    let ran = super::run::run(settings, run).await?;
    println!("== 7/7 report");
    let results = results::RunResults::read(&out)?;
    let written = reports::output::report(&out, &results)?;
    for path in &written {
        println!("{}", path.display());
    }
    println!(
        "\nThe data tier runs on {} with a verified seed; the storefront run's results are in {}{}. \
         Stop the services with `shopbench down`.\n\nOpen the report: {}",
        target.admin,
        out.join(results::run::FILE_NAME).display(),
        if ran == Outcome::Ok { "" } else { " (an SLO failed on this machine: see the table above)" },
        out.join(reports::output::REPORT).display()
    );
    Ok(verified)
}

/// The demo's steps are the commands a user would type: parsed by the same command line, so
/// every option the demo does not name has its real default.
fn parsed(args: &[&str]) -> Command {
    <Cli as clap::Parser>::try_parse_from(std::iter::once("shopbench").chain(args.iter().copied()))
        .expect("the demo's command lines are valid")
        .command
}
