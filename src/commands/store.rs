//! Where results go and come from: a folder, or an S3 prefix (`s3://bucket/prefix/`, on the
//! project's S3 endpoint). A shard of a split run writes `shard-I/results.json` under it, and
//! `report merge` reads every `shard-I/` back.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use platform::objects::{Objects, S3Path};
use platform::Settings;
use results::load::Shard;
use results::run::FILE_NAME;
use results::RunResults;

use crate::exit::UsageError;

/// A folder or an S3 prefix, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Folder(PathBuf),
    S3(S3Path),
}

impl Place {
    /// `s3://bucket/prefix/`, or a folder path.
    pub fn parse(s: &str) -> Result<Place, String> {
        if s.starts_with("s3:") {
            return s.parse().map(Place::S3);
        }
        if s.trim().is_empty() {
            return Err("give a folder path or s3://bucket/prefix/".into());
        }
        Ok(Place::Folder(PathBuf::from(s)))
    }

    /// Where shard `shard` of a split run writes: `shard-I/` under this place.
    pub fn for_shard(&self, shard: Shard) -> Place {
        let name = format!("shard-{}", shard.index);
        match self {
            Place::Folder(dir) => Place::Folder(dir.join(name)),
            Place::S3(p) => Place::S3(p.join(&name)),
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Folder(d) => write!(f, "{}", d.display()),
            Place::S3(p) => write!(f, "{p}"),
        }
    }
}

/// A place checked for writing: the folder exists, or the bucket answers (and exists).
pub enum Target {
    Folder(PathBuf),
    S3(S3Path, Box<Objects>),
}

/// Checks `place` before anything is measured, so a bad --out costs nothing.
pub async fn open(place: &Place, settings: &Settings) -> Result<Target> {
    match place {
        Place::Folder(dir) => {
            super::workload::out_dir(dir)?;
            Ok(Target::Folder(dir.clone()))
        }
        Place::S3(path) => {
            let objects = Objects::connect(settings, &path.bucket).await?;
            objects
                .ensure_bucket()
                .await
                .with_context(|| format!("--out {path}"))?;
            Ok(Target::S3(path.clone(), Box::new(objects)))
        }
    }
}

/// Writes results.json, and the report's files when `report` is set; returns what was written.
pub async fn write(target: &Target, results: &RunResults, report: bool) -> Result<Vec<String>> {
    match target {
        Target::Folder(dir) => {
            let mut written = vec![results.write(dir)?.display().to_string()];
            if report {
                written.extend(
                    reports::output::report(dir, results)
                        .with_context(|| format!("rendering the report of {}", dir.display()))?
                        .iter()
                        .map(|p| p.display().to_string()),
                );
            }
            Ok(written)
        }
        Target::S3(path, objects) => {
            let mut files = vec![(FILE_NAME, results.to_json())];
            if report {
                files.extend(
                    reports::output::files(results)
                        .context("rendering the report")?
                        .into_iter()
                        .map(|(name, text)| (name, text.into_bytes())),
                );
            }
            let mut written = Vec::new();
            for (name, bytes) in files {
                let key = path.key(name);
                objects.put(&key, bytes, content_type(name)).await?;
                written.push(format!("s3://{}/{key}", path.bucket));
            }
            Ok(written)
        }
    }
}

fn content_type(name: &str) -> &'static str {
    match Path::new(name).extension().and_then(|e| e.to_str()) {
        Some("json") => "application/json",
        Some("html") => "text/html; charset=utf-8",
        Some("md") => "text/markdown; charset=utf-8",
        Some("xml") => "application/xml",
        _ => "application/octet-stream",
    }
}

/// The results a place holds: its own results.json, or else one per `shard-I/` folder in it.
/// Each with the name it is found by (for messages).
pub async fn read(place: &Place, settings: &Settings) -> Result<Vec<(String, RunResults)>> {
    match place {
        Place::Folder(dir) => read_folder(dir),
        Place::S3(path) => read_s3(path, settings).await,
    }
}

fn bad(e: impl std::fmt::Display) -> anyhow::Error {
    UsageError(e.to_string()).into()
}

fn is_shard_folder(name: &str) -> bool {
    name.strip_prefix("shard-")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

fn read_folder(dir: &Path) -> Result<Vec<(String, RunResults)>> {
    if !dir.exists() {
        return Err(bad(format!(
            "{}: no such folder (give the --out folder of a run, or a folder of shard-I folders)",
            dir.display()
        )));
    }
    if dir.join(FILE_NAME).exists() || !dir.is_dir() {
        let r = RunResults::read(dir).map_err(bad)?;
        return Ok(vec![(dir.display().to_string(), r)]);
    }
    let mut shards: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_str().is_some_and(is_shard_folder))
        .map(|e| e.path())
        .collect();
    shards.sort();
    if shards.is_empty() {
        return Err(bad(format!(
            "{}: holds neither {FILE_NAME} nor shard-I folders (give the --out folder of a run)",
            dir.display()
        )));
    }
    shards
        .iter()
        .map(|d| Ok((d.display().to_string(), RunResults::read(d).map_err(bad)?)))
        .collect()
}

async fn read_s3(path: &S3Path, settings: &Settings) -> Result<Vec<(String, RunResults)>> {
    let objects = Objects::connect(settings, &path.bucket).await?;
    let keys = objects.list(&path.prefix).await?;
    let own = path.key(FILE_NAME);
    let chosen: Vec<&String> = if keys.contains(&own) {
        vec![&own]
    } else {
        keys.iter()
            .filter(|k| {
                k.strip_prefix(&path.prefix)
                    .and_then(|rest| rest.strip_suffix(&format!("/{FILE_NAME}")))
                    .is_some_and(is_shard_folder)
            })
            .collect()
    };
    if chosen.is_empty() {
        return Err(bad(format!(
            "{path}: holds neither {FILE_NAME} nor shard-I/{FILE_NAME} (give the --out of a run)"
        )));
    }
    let mut parts = Vec::new();
    for key in chosen {
        let name = format!("s3://{}/{key}", path.bucket);
        let bytes = objects
            .get(key)
            .await?
            .ok_or_else(|| bad(format!("{name}: gone while reading")))?;
        let text = String::from_utf8(bytes).map_err(|_| bad(format!("{name}: not text")))?;
        parts.push((name.clone(), RunResults::parse(&text, &name).map_err(bad)?));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_folders_or_s3_prefixes() {
        assert_eq!(
            Place::parse("runs/a").unwrap(),
            Place::Folder(PathBuf::from("runs/a"))
        );
        let s3 = Place::parse("s3://shopbench-results/run-1/").unwrap();
        assert_eq!(s3.to_string(), "s3://shopbench-results/run-1/");
        assert_eq!(
            s3.for_shard(Shard { index: 2, count: 3 }).to_string(),
            "s3://shopbench-results/run-1/shard-2/"
        );
        assert!(Place::parse("s3://x").is_err());
        assert!(Place::parse("").is_err());
        assert!(is_shard_folder("shard-12"));
        assert!(!is_shard_folder("shard-"));
        assert!(!is_shard_folder("merged"));
    }
}
