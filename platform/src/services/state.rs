//! The managed services' folder (`.shopbench/` by default): a lock so that concurrent commands
//! (parallel tests) start each server once, and `state.json` (mode 0600: it holds the generated
//! passwords) recording ports, folders and credentials between commands.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub postgres: Option<PostgresState>,
    pub redis: Option<RedisState>,
    pub clickhouse: Option<ClickHouseState>,
    pub s3: Option<S3State>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PostgresState {
    pub bindir: PathBuf,
    pub data_dir: PathBuf,
    pub port: u16,
    pub os_user: Option<String>,
    pub superuser: String,
    pub password: String,
    pub app_password: String,
    pub loader_password: String,
    pub database: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RedisState {
    pub port: u16,
    pub password: String,
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClickHouseState {
    pub http_port: u16,
    pub tcp_port: u16,
    pub password: String,
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct S3State {
    pub s3_port: u16,
    pub other_ports: Vec<u16>,
    pub access_key: String,
    pub secret_key: String,
    pub dir: PathBuf,
    pub pid: Option<u32>,
}

impl State {
    /// Registers every stored password with the scrubber.
    fn register_secrets(&self) {
        let mut secrets = Vec::new();
        if let Some(pg) = &self.postgres {
            secrets.extend([&pg.password, &pg.app_password, &pg.loader_password]);
        }
        if let Some(r) = &self.redis {
            secrets.push(&r.password);
        }
        if let Some(c) = &self.clickhouse {
            secrets.push(&c.password);
        }
        if let Some(s) = &self.s3 {
            secrets.push(&s.secret_key);
        }
        for s in secrets {
            crate::secret::register(s);
        }
    }
}

/// The managed services' folder.
#[derive(Debug, Clone)]
pub struct Workdir {
    pub root: PathBuf,
}

/// Held while a command inspects or changes the managed services; released on drop.
pub struct Lock(#[allow(dead_code)] File);

impl Workdir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Workdir { root: root.into() }
    }

    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    pub fn create(&self) -> Result<()> {
        std::fs::create_dir_all(&self.root)
            .map_err(|e| Error::io(format!("cannot create {}", self.root.display()), e))
    }

    /// Blocks until this process holds the exclusive lock of the folder, saying on stderr that it
    /// waits when another command holds it (a silent wait looks like a hang).
    pub fn lock(&self) -> Result<Lock> {
        self.create()?;
        let path = self.path("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => return Ok(Lock(file)),
            Err(std::fs::TryLockError::WouldBlock) => eprintln!(
                "waiting for another shopbench command to release {} (it is starting or stopping the managed services)",
                path.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("cannot lock {}", path.display()), e))
            }
        }
        file.lock()
            .map_err(|e| Error::io(format!("cannot lock {}", path.display()), e))?;
        Ok(Lock(file))
    }

    pub fn load(&self) -> Result<State> {
        let path = self.path("state.json");
        let state: State = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::ConfigFile {
                path: path.clone(),
                message: format!(
                    "is not a valid shopbench state file ({e}); run `shopbench down` and remove it"
                ),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(Error::io(format!("cannot read {}", path.display()), e)),
        };
        state.register_secrets();
        Ok(state)
    }

    /// Writes the state atomically (temporary file + rename), readable by its owner only.
    pub fn save(&self, state: &State) -> Result<()> {
        self.create()?;
        let path = self.path("state.json");
        let text = serde_json::to_string_pretty(state).expect("state serializes");
        let fail = |e: std::io::Error| Error::io(format!("cannot write {}", path.display()), e);
        // A temporary file beside it (created 0600: the state holds credentials), synced, then
        // renamed into place, so a reader never sees half a state.
        let mut file = tempfile::NamedTempFile::new_in(&self.root).map_err(fail)?;
        file.write_all(text.as_bytes())
            .and_then(|_| file.as_file().sync_all())
            .map_err(fail)?;
        file.persist(&path).map_err(|e| fail(e.error))?;
        Ok(())
    }
}
