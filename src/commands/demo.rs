//! `shopbench demo`: the tour for a new machine: start the services, provision and check the
//! schema, seed `tiny` (or finish a seed already there) and verify it. The storefront run and the
//! report join as they land.

use anyhow::Result;

use crate::cli::{Scale, SeedArgs};
use crate::Outcome;
use platform::services::{self, Service};
use platform::Settings;

pub async fn demo(settings: &Settings) -> Result<Outcome> {
    println!("== 1/5 services");
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
    println!("== 2/5 schema apply");
    super::schema::apply(settings).await?;
    println!("== 3/5 schema check");
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
    println!("== 4/5 seed tiny");
    let pool = generator::load::postgres::connect(&target.loader, 2).await?;
    match generator::load::postgres::existing_run(&pool).await? {
        Some(run) if run.finished => println!(
            "a {} seed is already loaded (seed {}); keeping it",
            run.config.profile.name, run.config.seed
        ),
        existing => {
            let args = SeedArgs {
                scale: Scale::Tiny,
                scale_factor: None,
                seed: 42,
                jobs: None,
                resume: existing.is_some(),
                dry_run: false,
                as_of: None,
                images: 16,
                quiet: true,
                json: false,
            };
            super::seed::seed(settings, args).await?;
        }
    }
    println!("== 5/5 verify");
    let verified = super::verify::verify(settings).await?;
    println!(
        "\nThe data tier runs on {} with a verified seed. The storefront run and the report arrive in the \
         next releases. Stop the services with `shopbench down`.",
        target.admin
    );
    Ok(verified)
}
