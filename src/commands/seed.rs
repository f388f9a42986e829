//! `seed`: plan, check the disk, load (or resume), summarise.

use std::sync::Arc;

use anyhow::{Context, Result};

use crate::cli::SeedArgs;
use crate::Outcome;
use generator::error::Error as SeedError;
use generator::load::owner::{self, Owner};
use generator::load::{self, images, postgres as pgload, progress::Mode};
use generator::{Model, Plan, Profile, SeedConfig};
use platform::services;
use platform::Settings;
use reports::format::bytes as human_bytes;

fn profile(args: &SeedArgs) -> Profile {
    match args.scale_factor {
        Some(f) => Profile::with_factor(f),
        None => Profile::of(args.scale),
    }
}

fn as_of_us(args: &SeedArgs) -> i64 {
    let day = args
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    day.and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_micros()
}

/// The object store for the sample images, when one is configured or can be managed here.
pub(super) async fn store(settings: &Settings) -> Option<images::Store> {
    if settings.s3.url.is_none() && platform::services::process::find_binary("weed", &[]).is_none()
    {
        return None;
    }
    let (endpoint, credentials) = services::s3(settings).await.ok()?;
    Some(images::Store {
        endpoint: endpoint.expose().clone(),
        bucket: settings.s3_bucket.clone(),
        credentials,
    })
}

pub async fn seed(settings: &Settings, args: SeedArgs) -> Result<Outcome> {
    let jobs = super::jobs_or_cores(args.jobs);
    let mode = if args.json {
        Mode::Json
    } else if args.quiet {
        Mode::Quiet
    } else {
        Mode::Bars
    };
    let store = if args.dry_run {
        None
    } else {
        store(settings).await
    };
    let image_base = store
        .as_ref()
        .map(images::base_url)
        .unwrap_or_else(|| "s3://shopbench-images".to_string());
    let wanted = SeedConfig {
        profile: profile(&args),
        seed: args.seed,
        as_of_us: as_of_us(&args),
        images: args.images,
        image_base,
        product_zipf: args.product_zipf,
    };

    if args.dry_run {
        let model = Model::new(wanted.clone());
        let plan =
            tokio::task::spawn_blocking(move || generator::plan::compute(&model, false)).await?;
        print_plan(&wanted, &plan);
        let target = services::postgres(settings).await.ok();
        check_disk(settings, target.as_ref(), &plan).await?;
        return Ok(Outcome::Ok);
    }

    let target = services::postgres(settings).await?;
    let pool = pgload::connect(&target.loader, jobs as u32 + 2).await?;
    let _watch = load::watch::start(&target.admin);
    let existing = pgload::existing_run(&pool).await?;
    let (config, plan, instance, fresh) = match (existing, args.resume) {
        (Some(run), false) => {
            return Err(SeedError::AlreadySeeded(format!(
                "{} scale, seed {}{}",
                run.config.profile.name,
                run.config.seed,
                if run.finished {
                    ", complete"
                } else {
                    ", interrupted"
                }
            ))
            .into())
        }
        (None, true) => return Err(SeedError::NoSeed.into()),
        (Some(run), true) => {
            if run.finished {
                println!(
                    "the seed in this database is complete ({} scale, seed {}); nothing to resume",
                    run.config.profile.name, run.config.seed
                );
                return Ok(Outcome::Ok);
            }
            println!(
                "resuming the {} seed (seed {}) recorded in this database; its settings apply, not this command's",
                run.config.profile.name, run.config.seed
            );
            (run.config, run.plan, run.instance, false)
        }
        (None, false) => {
            let model = Model::new(wanted.clone());
            let plan =
                tokio::task::spawn_blocking(move || generator::plan::compute(&model, true)).await?;
            (wanted, plan, uuid::Uuid::new_v4(), true)
        }
    };
    // Every store this seed writes to, checked before anything is written anywhere: a store
    // shared with another database's seed is refused (generator/src/load/owner.rs).
    let clickhouse = if services::clickhouse_available(settings) {
        Some(services::clickhouse_url(settings).await?)
    } else {
        println!("clickhouse: not installed and CLICKHOUSE_URL not set; the analytics tables are skipped");
        None
    };
    // The analytics database may not exist yet: it is looked at from the server's side first.
    let analytics = |url: &platform::SecretUrl, inside: bool| {
        load::clickhouse::Target::new(
            platform::schema::clickhouse::client(
                url,
                inside.then_some(settings.clickhouse_database.as_str()),
            ),
            settings.clickhouse_database.clone(),
        )
    };
    let mut targets = load::Targets {
        clickhouse: clickhouse.as_ref().map(|url| analytics(url, false)),
        store,
        search: settings.search.url.clone(),
        maintenance: Some(target.admin.clone()),
    };
    let owner = Owner::new(instance, &target.loader);
    if fresh {
        check_disk(settings, Some(&target), &plan).await?;
    }
    owner::check(&targets, &owner).await?;
    if fresh {
        pgload::begin_run(&pool, &config, &plan, instance).await?;
    }
    if let Some(url) = &clickhouse {
        platform::schema::clickhouse::apply(url, &settings.clickhouse_database).await?;
        targets.clickhouse = Some(analytics(url, true));
    }
    owner::claim(&targets, &owner).await?;
    if mode != Mode::Json {
        println!(
            "seeding {} scale (seed {}, {} tenants, {} planned rows, about {} on disk) with {jobs} jobs into {}",
            config.profile.name,
            config.seed,
            config.profile.tenants,
            plan.total_rows(),
            human_bytes(plan.total_bytes()),
            target.loader
        );
    }
    let model = Arc::new(tokio::task::spawn_blocking(move || Model::new(config)).await?);
    let summary = load::run(
        model,
        &plan,
        &pool,
        &targets,
        &load::Options {
            jobs,
            progress: mode,
        },
    )
    .await
    .context("seed (run `shopbench seed --resume` to finish it)")?;
    pgload::finish_run(&pool, &summary).await?;
    let json = serde_json::to_value(&summary)?;
    std::fs::create_dir_all(&settings.workdir)
        .with_context(|| format!("creating {}", settings.workdir.display()))?;
    // The managed database's summary, or one per external database: a seed into a
    // `DATABASE_URL` must not overwrite the managed seed's.
    let path = settings.workdir.join(if target.managed {
        "seed-summary.json".to_string()
    } else {
        format!("seed-summary-{}.json", file_part(&owner.database))
    });
    std::fs::write(&path, serde_json::to_string_pretty(&json)?)
        .with_context(|| format!("writing {}", path.display()))?;
    if mode == Mode::Json {
        println!(
            "{}",
            serde_json::json!({"event": "summary", "summary": json, "path": path})
        );
    } else {
        print_summary(&summary);
        println!("summary: {}", path.display());
    }
    Ok(Outcome::Ok)
}

fn print_plan(config: &SeedConfig, plan: &Plan) {
    println!(
        "plan: {} scale (factor {}), seed {}, {} tenants{}",
        config.profile.name,
        config.profile.factor,
        config.seed,
        config.profile.tenants,
        if plan.exact {
            ""
        } else {
            " (order tables estimated from a sample of chunks)"
        }
    );
    println!("{:<34} {:>16} {:>12}", "table", "rows", "disk");
    for (table, rows) in &plan.rows {
        println!(
            "{table:<34} {rows:>16} {:>12}",
            human_bytes(plan.bytes[table])
        );
    }
    println!(
        "{:<34} {:>16} {:>12}",
        "total",
        plan.total_rows(),
        human_bytes(plan.total_bytes())
    );
}

fn print_summary(s: &results::seed::SeedSummary) {
    println!(
        "{:<34} {:>14} {:>12} {:>9} {:>12}",
        "table", "rows", "COPY bytes", "seconds", "rows/s"
    );
    for t in &s.tables {
        println!(
            "{:<34} {:>14} {:>12} {:>9.1} {:>12.0}",
            t.table,
            t.rows,
            human_bytes(t.bytes),
            t.seconds,
            t.rows_per_second
        );
    }
    println!(
        "loaded {} rows in {:.1} s ({:.0} rows/s, {} jobs, peak memory {})",
        s.rows,
        s.seconds,
        s.rows_per_second,
        s.jobs,
        human_bytes(s.peak_memory_bytes)
    );
    // Said whenever the rebuild ran, nothing to do included (a resumed seed's, after its rebuild).
    if let Some(seconds) = s.phases.get("indexes") {
        let slowest: Vec<String> = s
            .rebuilds
            .iter()
            .take(3)
            .map(|r| format!("{} {:.1} s", r.name, r.seconds))
            .collect();
        let analyzed = s.rebuilds.iter().filter(|r| r.kind == "analyze").count();
        let mut line = format!(
            "rebuilt {} keys, indexes and foreign keys and analyzed {analyzed} tables in {seconds:.1} s",
            s.rebuilds.len() - analyzed,
        );
        if !slowest.is_empty() {
            line += &format!("; slowest: {}", slowest.join(", "));
        }
        println!("{line}");
    }
    if let Some(seconds) = s.phases.get("vacuum") {
        println!(
            "vacuumed every loaded table in {seconds:.1} s (autovacuum has nothing left to do)"
        );
    }
}

/// `host:port/database` as a file name's part: `host-port-database`.
fn file_part(database: &str) -> String {
    database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string()
}

/// Refuses (exit 3) when the filesystem of a local PostgreSQL cannot hold the plan.
async fn check_disk(
    settings: &Settings,
    target: Option<&services::PostgresTarget>,
    plan: &Plan,
) -> Result<()> {
    let needed = plan.total_bytes();
    let dir = match target {
        Some(t) if t.managed => Some(settings.workdir.clone()),
        Some(t) => pgload::local_data_directory(t).await,
        None => Some(settings.workdir.clone()),
    };
    let Some(dir) = dir
        .filter(|d| d.exists())
        .or_else(|| Some(std::path::PathBuf::from(".")))
    else {
        return Ok(());
    };
    match services::process::free_disk(&dir) {
        Some(free) if free < needed => Err(SeedError::DiskTooSmall {
            path: dir.display().to_string(),
            free: human_bytes(free),
            needed: human_bytes(needed),
        }
        .into()),
        Some(free) => {
            println!(
                "disk: {} free at {}, about {} needed",
                human_bytes(free),
                dir.display(),
                human_bytes(needed)
            );
            Ok(())
        }
        None => Ok(()),
    }
}
