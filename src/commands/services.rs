//! `up`, `down`, `status`.

use anyhow::Result;

use crate::Outcome;
use platform::services::{self, Service};
use platform::Settings;

pub async fn up(settings: &Settings, which: &[Service]) -> Result<Outcome> {
    let mut which: Vec<Service> = which.to_vec();
    if which.is_empty() {
        which = Service::ALL.to_vec();
    }
    which.sort();
    which.dedup();
    let mut first_error = None;
    for (service, result) in services::up(settings, &which).await {
        match result {
            Ok(where_) => println!("{:<11} {where_}", service.name()),
            Err(e) => {
                println!(
                    "{:<11} FAILED: {}",
                    service.name(),
                    platform::secret::scrub(&e.to_string())
                );
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e.into()),
        None => Ok(Outcome::Ok),
    }
}

pub fn down(settings: &Settings, which: &[services::Service]) -> Result<Outcome> {
    let stopped = services::down(settings, which)?;
    if stopped.is_empty() {
        println!("no managed service was running");
    } else {
        let names: Vec<&str> = stopped.iter().map(|s| s.name()).collect();
        println!("stopped {}", names.join(", "));
    }
    Ok(Outcome::Ok)
}

pub async fn status(settings: &Settings) -> Result<Outcome> {
    let lines = services::status(settings).await?;
    println!(
        "{:<11} {:<14} {:<8} {:<58} detail",
        "service", "mode", "running", "address"
    );
    for l in lines {
        println!(
            "{:<11} {:<14} {:<8} {:<58} {}",
            l.service,
            l.mode,
            if l.running { "yes" } else { "no" },
            l.address.as_deref().unwrap_or("-"),
            platform::secret::scrub(&l.detail)
        );
    }
    if let Some(file) = &settings.config_file {
        println!("config file: {}", file.display());
    }
    println!("work folder: {}", settings.workdir.display());
    Ok(Outcome::Ok)
}
