//! Where evidence bytes live: a local folder (`DIR/uploads`, the default) or an
//! S3-compatible bucket (`--uploads s3://BUCKET/PREFIX`), through one
//! `object_store` code path.
//!
//! Objects are content-addressed (`<2 hex>/<64 hex>` of their SHA-256) and
//! written whole or not at all: S3 makes a multipart object visible only when
//! it completes, and the local store writes a staging file and renames it. The
//! upload's row is inserted only after the object is in place, so no damage
//! claim can name an object that is missing or half-written.

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, PutPayload, RetryConfig, WriteMultipart,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Parts of a multipart upload; smaller files go up in one request.
const PART_BYTES: usize = 5 * 1024 * 1024;
/// Longest a whole store operation may take before the uploader is told to retry.
pub const STORE_DEADLINE: Duration = Duration::from_secs(20);

/// The store failed or was too slow; nothing that names the object was written.
#[derive(Debug)]
pub struct BlobError(pub String);

impl std::fmt::Display for BlobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BlobError {}

fn err(what: &str, e: impl std::fmt::Display) -> BlobError {
    BlobError(format!("{what}: {e}"))
}

/// Shared handle to the evidence store.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    describe: String,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

impl Blobs {
    /// `--uploads s3://BUCKET/PREFIX` if given, else the folder `local_dir`.
    pub fn open(uploads: Option<&str>, local_dir: &Path) -> Result<Blobs, String> {
        match uploads.map(str::trim).filter(|u| !u.is_empty()) {
            None => Blobs::local(local_dir),
            Some(url) => Blobs::s3(url),
        }
    }

    pub fn local(dir: &Path) -> Result<Blobs, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the uploads folder {}: {e}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| format!("uploads folder {}: {e}", dir.display()))?;
        Ok(Blobs {
            store: Arc::new(store),
            prefix: ObjectPath::default(),
            describe: dir.display().to_string(),
        })
    }

    /// An S3-compatible bucket; credentials, region and endpoint come from the
    /// standard `AWS_*` variables (`AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint).
    pub fn s3(url: &str) -> Result<Blobs, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or("--uploads must be s3://BUCKET/PREFIX (without it, DIR/uploads is used)")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("--uploads s3://BUCKET/PREFIX needs a bucket name".into());
        }
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(3))
                    .with_timeout(Duration::from_secs(15)),
            )
            // Set after the client options, which would otherwise reset it.
            .with_allow_http(
                std::env::var("AWS_ALLOW_HTTP").is_ok_and(|v| v.eq_ignore_ascii_case("true")),
            )
            // Few quick retries: the uploader retries too, and must hear back in time.
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 2,
                retry_timeout: Duration::from_secs(10),
            })
            .build()
            .map_err(|e| format!("--uploads {url}: {e}"))?;
        Ok(Blobs {
            store: Arc::new(store),
            prefix: ObjectPath::from(prefix.trim_matches('/')),
            describe: format!("s3://{bucket}/{}", prefix.trim_matches('/')),
        })
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn path(&self, sha256: &str) -> ObjectPath {
        let head = &sha256[..2.min(sha256.len())];
        self.prefix.child(head).child(sha256)
    }

    /// Whether the object for these bytes is stored.
    pub async fn exists(&self, sha256: &str) -> Result<bool, BlobError> {
        let head = tokio::time::timeout(STORE_DEADLINE, self.store.head(&self.path(sha256)))
            .await
            .map_err(|_| BlobError("the evidence store did not answer in time".into()))?;
        match head {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(err("checking the evidence store", e)),
        }
    }

    /// Copies the staged file (`size` bytes, hashing to `sha256`) to its
    /// content address, unless those bytes are stored already. Memory stays
    /// at one part whatever the size.
    pub async fn put_file(&self, sha256: &str, file: &Path, size: u64) -> Result<(), BlobError> {
        if self.exists(sha256).await? {
            return Ok(());
        }
        let path = self.path(sha256);
        tokio::time::timeout(STORE_DEADLINE, self.upload(&path, file, size))
            .await
            .map_err(|_| BlobError("the evidence store did not finish in time".into()))?
    }

    async fn upload(&self, path: &ObjectPath, file: &Path, size: u64) -> Result<(), BlobError> {
        let mut f = tokio::fs::File::open(file)
            .await
            .map_err(|e| err("reading the staged file", e))?;
        if size <= PART_BYTES as u64 {
            let mut buf = Vec::with_capacity(size as usize);
            f.read_to_end(&mut buf)
                .await
                .map_err(|e| err("reading the staged file", e))?;
            self.store
                .put(path, PutPayload::from(Bytes::from(buf)))
                .await
                .map_err(|e| err("writing to the evidence store", e))?;
            return Ok(());
        }
        let upload = self
            .store
            .put_multipart(path)
            .await
            .map_err(|e| err("starting the upload to the evidence store", e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match f.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(err("reading the staged file", e));
                }
            };
            if n == 0 {
                break;
            }
            // At most two parts in flight: memory stays flat.
            if let Err(e) = writer.wait_for_capacity(2).await {
                let _ = writer.abort().await;
                return Err(err("writing to the evidence store", e));
            }
            writer.write(&buf[..n]);
        }
        writer
            .finish()
            .await
            .map_err(|e| err("finishing the upload to the evidence store", e))?;
        Ok(())
    }

    /// The stored bytes for this content address, if any (for tests and operators).
    pub async fn read(&self, sha256: &str) -> Result<Option<Vec<u8>>, BlobError> {
        match self.store.get(&self.path(sha256)).await {
            Ok(got) => Ok(Some(
                got.bytes()
                    .await
                    .map_err(|e| err("reading from the evidence store", e))?
                    .to_vec(),
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(err("reading from the evidence store", e)),
        }
    }

    /// Every stored object's content address (for tests and operators).
    pub async fn list(&self) -> Result<Vec<String>, BlobError> {
        use futures_util::TryStreamExt;
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let metas: Vec<_> = self
            .store
            .list(prefix)
            .try_collect()
            .await
            .map_err(|e| err("listing the evidence store", e))?;
        let mut names: Vec<String> = metas
            .into_iter()
            .filter_map(|m| m.location.filename().map(str::to_string))
            .filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
            .collect();
        names.sort();
        Ok(names)
    }
}
