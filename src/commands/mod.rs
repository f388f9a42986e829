//! One file per command group; `dispatch` routes a parsed command line.

mod calibrate;
mod capacity;
mod demo;
mod report;
mod run;
mod schema;
mod seed;
mod services;
pub(crate) mod store;
mod verify;
mod workload;

use anyhow::Result;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::Outcome;
use platform::{Overrides, Settings};

pub async fn dispatch(cli: Cli) -> Result<Outcome> {
    let settings = load_settings(&cli.global)?;
    match cli.command {
        Command::Demo => demo::demo(&settings).await,
        Command::Up { services } => services::up(&settings, &services).await,
        Command::Down { services } => services::down(&settings, &services),
        Command::Status => services::status(&settings).await,
        Command::Schema { action } => schema::schema(&settings, action).await,
        Command::Seed(args) => seed::seed(&settings, args).await,
        Command::Verify(args) => verify::verify(&settings, args).await,
        Command::Run(args) => run::run(&settings, args).await,
        Command::Capacity(args) => capacity::capacity(&settings, args).await,
        Command::Report(args) => report::report(&settings, args).await,
        Command::Compare(args) => report::compare(args),
        Command::Calibrate(args) => calibrate::calibrate(&settings, args).await,
    }
}

fn load_settings(global: &GlobalArgs) -> Result<Settings> {
    let overrides = Overrides {
        config: global.config.clone(),
        workdir: global.workdir.clone(),
        database_url: global.database_url.clone(),
        redis_url: global.redis_url.clone(),
        clickhouse_url: global.clickhouse_url.clone(),
        search_url: global.search_url.clone(),
        s3_endpoint: global.s3_endpoint.clone(),
    };
    Ok(Settings::load(&overrides)?)
}

/// `--jobs`, or the number of cores when it is not given.
fn jobs_or_cores(jobs: Option<u32>) -> usize {
    jobs.map(|j| j as usize).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    })
}
