//! `schema apply | check | reset`.

use anyhow::{Context, Result};

use crate::cli::SchemaCommand;
use crate::exit::UsageError;
use crate::Outcome;
use platform::schema::{self, Severity};
use platform::services;
use platform::Settings;

pub async fn schema(settings: &Settings, action: SchemaCommand) -> Result<Outcome> {
    match action {
        SchemaCommand::Apply => apply(settings).await,
        SchemaCommand::Check => check(settings).await,
        SchemaCommand::Reset { yes } => reset(settings, yes).await,
    }
}

pub async fn apply(settings: &Settings) -> Result<Outcome> {
    let target = services::postgres(settings).await?;
    let report = schema::apply(
        &target,
        settings.app_password.as_deref(),
        settings.loader_password.as_deref(),
    )
    .await
    .with_context(|| format!("schema apply on {}", target.admin))?;
    if report.applied.is_empty() {
        println!(
            "postgres    {}: up to date ({} migrations)",
            target.admin, report.already_applied
        );
    } else {
        println!(
            "postgres    {}: applied {} ({} already there)",
            target.admin,
            report.applied.join(", "),
            report.already_applied
        );
    }
    apply_clickhouse(settings).await?;
    Ok(Outcome::Ok)
}

async fn apply_clickhouse(settings: &Settings) -> Result<()> {
    if !services::clickhouse_available(settings) {
        println!(
            "clickhouse  skipped: clickhouse-server is not installed and CLICKHOUSE_URL is not set"
        );
        return Ok(());
    }
    let url = services::clickhouse_url(settings).await?;
    schema::clickhouse::apply(&url, &settings.clickhouse_database).await?;
    println!(
        "clickhouse  {url}: database {} with {}",
        settings.clickhouse_database,
        schema::clickhouse::TABLES.join(", ")
    );
    Ok(())
}

async fn check(settings: &Settings) -> Result<Outcome> {
    let target = services::postgres(settings).await?;
    let mut findings = schema::check(&target)
        .await
        .with_context(|| format!("schema check on {}", target.admin))?;
    let state_has_clickhouse = platform::services::state::Workdir::new(&settings.workdir)
        .load()
        .map(|s| s.clickhouse.is_some())
        .unwrap_or(false);
    if settings.clickhouse.url.is_some() || state_has_clickhouse {
        let url = services::clickhouse_url(settings).await?;
        for table in schema::clickhouse::missing_tables(&url, &settings.clickhouse_database).await?
        {
            findings.push(schema::Finding {
                severity: Severity::Problem,
                category: "clickhouse",
                detail: format!(
                    "{}.{table} is missing: run `shopbench schema apply`",
                    settings.clickhouse_database
                ),
            });
        }
    }
    for f in &findings {
        println!("{f}");
    }
    let problems = findings
        .iter()
        .filter(|f| f.severity == Severity::Problem)
        .count();
    println!(
        "schema check on {}: {} problem{}",
        target.admin,
        problems,
        if problems == 1 { "" } else { "s" }
    );
    Ok(if problems == 0 {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}

async fn reset(settings: &Settings, yes: bool) -> Result<Outcome> {
    let target = services::postgres(settings).await?;
    if !target.managed && !yes {
        return Err(UsageError(format!(
            "schema reset drops every shopbench table and its data in {}; add --yes to confirm",
            target.admin
        ))
        .into());
    }
    let report = schema::reset(
        &target,
        settings.app_password.as_deref(),
        settings.loader_password.as_deref(),
    )
    .await
    .with_context(|| format!("schema reset on {}", target.admin))?;
    println!(
        "postgres    {}: dropped and applied {} migrations",
        target.admin,
        report.applied.len()
    );
    if services::clickhouse_available(settings) {
        let url = services::clickhouse_url(settings).await?;
        schema::clickhouse::reset(&url, &settings.clickhouse_database).await?;
    }
    apply_clickhouse(settings).await?;
    // The stores the seed shared with other databases: emptied, so the next seed may use them.
    let store = super::seed::store(settings).await;
    for released in
        generator::load::owner::release(store.as_ref(), settings.search.url.as_ref()).await?
    {
        println!("{released}");
    }
    Ok(Outcome::Ok)
}
