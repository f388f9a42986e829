//! `verify`: counts, orphans, invariants and distributions of the seeded data; exit 1 if any
//! check fails.

use anyhow::Result;

use crate::cli::VerifyArgs;
use crate::Outcome;
use generator::error::Error as SeedError;
use generator::load::postgres as pgload;
use generator::Model;
use platform::services;
use platform::Settings;

pub async fn verify(settings: &Settings, args: VerifyArgs) -> Result<Outcome> {
    let jobs = super::jobs_or_cores(args.jobs);
    let target = services::postgres(settings).await?;
    let pool = pgload::connect(&target.loader, jobs as u32).await?;
    let Some(run) = pgload::existing_run(&pool).await? else {
        return Err(SeedError::NoSeed.into());
    };
    if !run.finished {
        println!("the seed in this database was interrupted: run `shopbench seed --resume` first");
        return Ok(Outcome::CheckFailed);
    }
    let config = run.config.clone();
    let (model, plan) = tokio::task::spawn_blocking(move || {
        let model = Model::new(config);
        let plan = generator::plan::compute(&model, true);
        (model, plan)
    })
    .await?;
    let clickhouse = if services::clickhouse_available(settings) {
        let url = services::clickhouse_url(settings).await?;
        Some(generator::load::clickhouse::Target::new(
            platform::schema::clickhouse::client(&url, Some(&settings.clickhouse_database)),
            settings.clickhouse_database.clone(),
        ))
    } else {
        None
    };
    println!(
        "verifying the {} seed (seed {}, as of {}) in {}, {jobs} checks at a time",
        run.config.profile.name,
        run.config.seed,
        chrono::DateTime::from_timestamp_micros(run.config.as_of_us)
            .map(|d| d.date_naive().to_string())
            .unwrap_or_default(),
        target.loader
    );
    let report = generator::verify::verify(
        &model,
        &plan,
        &pool,
        clickhouse.as_ref(),
        settings.search.url.as_ref(),
        jobs,
    )
    .await?;
    for c in &report.checks {
        println!(
            "{} {:<58} {}",
            if c.ok { "ok  " } else { "FAIL" },
            c.name,
            c.detail
        );
        if !c.source.is_empty() {
            println!("     {:<58} source: {}", "", c.source);
        }
    }
    let failures = report.failures();
    println!("verify: {} checks, {failures} failed", report.checks.len());
    Ok(if failures == 0 {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}
