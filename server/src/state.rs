//! What every API handler shares.

use std::sync::Arc;

use crate::clock::Clock;
use crate::guard::RateLimiter;
use crate::jwt::JwtVerifier;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::token::TokenKey;

pub struct AppState {
    pub store: Store,
    pub clock: Arc<Clock>,
    pub tokens: TokenKey,
    pub pause_retry_after_seconds: u32,
    /// Where evidence files live, content addressed (`DIR/uploads` or an S3 bucket).
    pub blobs: crate::blobs::Blobs,
    /// `DIR/uploads/tmp`: uploads being received, before they go to `blobs`.
    pub staging_dir: std::path::PathBuf,
    /// Most evidence uploads one user may store.
    pub upload_quota: u64,
    /// Per-user limit on the claim endpoints (`None`: off).
    pub rate_limiter: Option<RateLimiter>,
    /// With a JWKS configured: verifies identity tokens (and `tokens` are not accepted).
    pub jwt: Option<Arc<JwtVerifier>>,
    /// This server's metrics.
    pub metrics: Arc<Metrics>,
}

pub(crate) type Shared = Arc<AppState>;
