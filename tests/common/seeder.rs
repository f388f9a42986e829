//! A test database seeded through the real binary, with its own ClickHouse database (named
//! after the PostgreSQL one, through a config file).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use sqlx::PgConnection;

use super::{settings, TestDb};

/// A per-test ClickHouse database and S3 bucket, named after the PostgreSQL one, through a config
/// file.
pub struct Seeder {
    pub db: TestDb,
    pub config: PathBuf,
    pub clickhouse_db: String,
    pub s3_bucket: String,
    /// The managed services' folder: the tests' shared one, or a test's own.
    pub workdir: PathBuf,
}

impl Seeder {
    pub async fn new() -> Seeder {
        Seeder::with_workdir(settings().workdir).await
    }

    /// A seeder whose managed Redis, ClickHouse and S3 are the ones under `workdir` (a test that
    /// stops and starts them has its own); PostgreSQL is the tests' shared cluster.
    pub async fn with_workdir(workdir: PathBuf) -> Seeder {
        let db = TestDb::new().await;
        let clickhouse_db = db.name.clone();
        let s3_bucket = db.name.replace('_', "-");
        let config = std::env::temp_dir().join(format!("{}.toml", db.name));
        // Its own analytics database and bucket: a seed refuses stores another seed filled.
        std::fs::write(
            &config,
            format!("clickhouse_database = \"{clickhouse_db}\"\ns3_bucket = \"{s3_bucket}\"\n"),
        )
        .unwrap();
        Seeder {
            db,
            config,
            clickhouse_db,
            s3_bucket,
            workdir,
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shopbench"));
        let loader_password = self
            .db
            .target
            .loader
            .expose()
            .password()
            .unwrap_or("")
            .to_string();
        let app_password = self
            .db
            .target
            .app
            .expose()
            .password()
            .unwrap_or("")
            .to_string();
        cmd.arg("--workdir")
            .arg(&self.workdir)
            .arg("--config")
            .arg(&self.config)
            .args(["--database-url", self.db.target.admin.expose().as_str()])
            .args(args)
            .env("SHOPBENCH_LOADER_PASSWORD", loader_password)
            .env("SHOPBENCH_APP_PASSWORD", app_password)
            .env_remove("DATABASE_URL")
            .env_remove("SHOPBENCH_CONFIG");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().expect("run shopbench")
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start shopbench")
    }

    pub async fn admin(&self) -> PgConnection {
        self.db.admin().await
    }

    pub async fn finish(self) {
        let _ = std::fs::remove_file(&self.config);
        if let Ok(url) = platform::services::clickhouse_url(&settings()).await {
            let client = platform::schema::clickhouse::client(&url, None);
            let _ = client
                .query(&format!("DROP DATABASE IF EXISTS {}", self.clickhouse_db))
                .execute()
                .await;
        }
        self.db.finish().await;
    }
}
