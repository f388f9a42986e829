//! `shopbench demo`: the tour for a new machine. Today: start the services, provision the schema,
//! check it. Seeding, the storefront run and the report join as they land.

use anyhow::Result;

use crate::Outcome;
use platform::services::{self, Service};
use platform::Settings;

pub async fn demo(settings: &Settings) -> Result<Outcome> {
    println!("== 1/3 services");
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
    println!("== 2/3 schema apply");
    super::schema::apply(settings).await?;
    println!("== 3/3 schema check");
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
    println!(
        "\nThe schema is provisioned on {}. This release stops here: `seed`, `run` and `report` arrive in \
         the next releases. Stop the services with `shopbench down`.",
        target.admin
    );
    Ok(if problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::CheckFailed
    })
}
