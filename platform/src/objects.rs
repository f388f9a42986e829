//! Objects in an S3 bucket: the product images a seed uploads and the results files a run writes
//! (`--out s3://bucket/prefix/`) and `report merge` reads back. rusty-s3 signs each request
//! (SigV4, presigned) and reqwest sends it; the endpoint and keys are the project's S3 settings
//! (`S3_ENDPOINT` and its keys, or the managed SeaweedFS).

use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use crate::error::{Error, Result};
use crate::secret::{scrub, SecretUrl};

const SERVICE: &str = "S3";
/// How long a presigned request stays valid.
const SIGNED_FOR: Duration = Duration::from_secs(600);

/// `s3://bucket/prefix/`: where a run's results go, or where `report merge` finds shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Path {
    pub bucket: String,
    /// Empty, or ending in `/`.
    pub prefix: String,
}

impl S3Path {
    /// The key of `name` under the prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The folder `name` under this one.
    pub fn join(&self, name: &str) -> S3Path {
        S3Path {
            bucket: self.bucket.clone(),
            prefix: format!("{}{}/", self.prefix, name.trim_matches('/')),
        }
    }
}

impl std::fmt::Display for S3Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

impl std::str::FromStr for S3Path {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<S3Path, String> {
        let rest = s.strip_prefix("s3://").ok_or_else(|| {
            format!("'{s}' is not an S3 location: write it as s3://bucket/prefix/")
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // S3's bucket naming rules: 3–63 lowercase letters, digits, dots and hyphens.
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && bucket.starts_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            return Err(format!(
                "'{s}': '{bucket}' is not a bucket name (3 to 63 lowercase letters, digits, dots or hyphens): write it as s3://bucket/prefix/"
            ));
        }
        let prefix = prefix.trim_matches('/');
        Ok(S3Path {
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        })
    }
}

/// An HTTP client for the object store and the search server (rustls with ring).
pub fn http_client(timeout: Duration) -> std::result::Result<reqwest::Client, reqwest::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(timeout).build()
}

/// One bucket of an S3 endpoint.
pub struct Objects {
    endpoint: SecretUrl,
    bucket: Bucket,
    credentials: Option<Credentials>,
    http: reqwest::Client,
}

impl Objects {
    /// The bucket `bucket` at `endpoint` (path-style URLs, as SeaweedFS and MinIO serve them).
    pub fn new(
        endpoint: &SecretUrl,
        bucket: &str,
        credentials: Option<(String, String)>,
    ) -> Result<Objects> {
        let err = |detail: String| Error::service(SERVICE, detail);
        Ok(Objects {
            bucket: Bucket::new(
                endpoint.expose().clone(),
                UrlStyle::Path,
                bucket.to_string(),
                "us-east-1",
            )
            .map_err(|e| err(format!("bucket {bucket} at {endpoint}: {e}")))?,
            endpoint: endpoint.clone(),
            credentials: credentials.map(|(a, s)| Credentials::new(a, s)),
            http: http_client(Duration::from_secs(60))
                .map_err(|e| err(format!("an HTTP client: {e}")))?,
        })
    }

    /// The bucket at the project's S3 endpoint (starting the managed SeaweedFS if none is set).
    pub async fn connect(settings: &crate::Settings, bucket: &str) -> Result<Objects> {
        let (endpoint, credentials) = crate::services::s3(settings).await?;
        Objects::new(&endpoint, bucket, credentials)
    }

    pub fn bucket(&self) -> &str {
        self.bucket.name()
    }

    fn fail(&self, what: &str, detail: impl std::fmt::Display) -> Error {
        Error::Unreachable {
            service: SERVICE,
            url: self.endpoint.to_string(),
            reason: format!("{what}: {}", scrub(&detail.to_string())),
        }
    }

    async fn send(
        &self,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response> {
        // Without the URL: a presigned URL is a credential for as long as it is valid.
        request
            .send()
            .await
            .map_err(|e| self.fail(what, e.without_url()))
    }

    /// The server's complaint in one line: status and the start of its body.
    async fn refused(&self, what: &str, response: reqwest::Response) -> Error {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Error::service(
            SERVICE,
            format!(
                "{what} in bucket {}: {status} {}",
                self.bucket(),
                scrub(&text.chars().take(200).collect::<String>())
            ),
        )
    }

    /// Creates the bucket unless it exists.
    pub async fn ensure_bucket(&self) -> Result<()> {
        let head = self.bucket.head_bucket(self.credentials.as_ref());
        let what = "checking the bucket";
        let response = self
            .send(what, self.http.head(head.sign(SIGNED_FOR)))
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        let create = self.bucket.create_bucket(
            self.credentials
                .as_ref()
                .ok_or_else(|| Error::service(SERVICE, "creating a bucket needs S3 keys"))?,
        );
        let what = "creating the bucket";
        let response = self
            .send(what, self.http.put(create.sign(SIGNED_FOR)))
            .await?;
        // Another writer may have created it meanwhile: a conflict is as good as a success.
        if response.status().is_success() || response.status() == reqwest::StatusCode::CONFLICT {
            return Ok(());
        }
        Err(self.refused(what, response).await)
    }

    /// Writes `key` (replacing it).
    pub async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<()> {
        let action = self.bucket.put_object(self.credentials.as_ref(), key);
        let what = format!("writing {key}");
        let response = self
            .send(
                &what,
                self.http
                    .put(action.sign(SIGNED_FOR))
                    .header("content-type", content_type)
                    .body(body),
            )
            .await?;
        if !response.status().is_success() {
            return Err(self.refused(&what, response).await);
        }
        Ok(())
    }

    /// Reads `key`; `None` when there is no such object.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let action = self.bucket.get_object(self.credentials.as_ref(), key);
        let what = format!("reading {key}");
        let response = self
            .send(&what, self.http.get(action.sign(SIGNED_FOR)))
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.refused(&what, response).await);
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.fail(&what, e.without_url()))?;
        Ok(Some(bytes.to_vec()))
    }

    /// Deletes `key` (no error if it is not there).
    pub async fn delete(&self, key: &str) -> Result<()> {
        let action = self.bucket.delete_object(self.credentials.as_ref(), key);
        let what = format!("deleting {key}");
        let response = self
            .send(&what, self.http.delete(action.sign(SIGNED_FOR)))
            .await?;
        if !response.status().is_success() && response.status() != reqwest::StatusCode::NOT_FOUND {
            return Err(self.refused(&what, response).await);
        }
        Ok(())
    }

    /// Every key under `prefix`, in order (all pages). A bucket that does not exist has none.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        let what = format!("listing {prefix}");
        loop {
            let mut action = self.bucket.list_objects_v2(self.credentials.as_ref());
            action.with_prefix(prefix);
            if let Some(t) = &token {
                action.with_continuation_token(t.as_str());
            }
            let response = self
                .send(&what, self.http.get(action.sign(SIGNED_FOR)))
                .await?;
            if response.status() == reqwest::StatusCode::NOT_FOUND {
                return Ok(keys);
            }
            if !response.status().is_success() {
                return Err(self.refused(&what, response).await);
            }
            let text = response
                .text()
                .await
                .map_err(|e| self.fail(&what, e.without_url()))?;
            let page = rusty_s3::actions::ListObjectsV2::parse_response(&text)
                .map_err(|e| Error::service(SERVICE, format!("{what}: unreadable answer: {e}")))?;
            keys.extend(page.contents.into_iter().map(|c| c.key));
            match page.next_continuation_token {
                Some(t) => token = Some(t),
                None => return Ok(keys),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_paths_parse_with_a_folder_prefix() {
        let p: S3Path = "s3://shopbench-results/runs/2026-12-04".parse().unwrap();
        assert_eq!(p.bucket, "shopbench-results");
        assert_eq!(p.prefix, "runs/2026-12-04/");
        assert_eq!(p.key("results.json"), "runs/2026-12-04/results.json");
        assert_eq!(
            p.join("shard-1").to_string(),
            "s3://shopbench-results/runs/2026-12-04/shard-1/"
        );
        let root: S3Path = "s3://bucket".parse().unwrap();
        assert_eq!(root.prefix, "");
        for bad in [
            "bucket/x",
            "s3://",
            "s3://Upper/x",
            "s3://ab/x",
            "http://bucket/x",
        ] {
            assert!(bad.parse::<S3Path>().is_err(), "{bad}");
        }
    }
}
