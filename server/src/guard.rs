//! Staying up under load: a bounded number of API requests in flight (the rest
//! are shed at once with 503 `busy`), and a per-user token bucket on the claim
//! endpoints (429 `rate_limited`). A request body that stops arriving is cut off
//! after an idle timeout, so a stalled client cannot keep its in-flight slot.

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::Request;
use axum::routing::MethodRouter;
use axum::BoxError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutBody;

use crate::metrics::Metrics;
use crate::problem::ApiError;

/// Default bound on API requests in flight per process.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 512;
/// Default longest pause inside a request body before the request is dropped
/// (a slow network pauses for seconds; a stalled client for ever).
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(20);
/// Paths (under `/api`) that are never shed.
pub const EXEMPT: &[&str] = &["/v1/status"];

/// At most `max` API requests at once; the status endpoint is exempt.
#[derive(Clone)]
pub struct InFlight {
    permits: Arc<Semaphore>,
    max: usize,
    body_idle_timeout: Duration,
    metrics: Arc<Metrics>,
}

impl InFlight {
    pub fn new(max: usize, metrics: Arc<Metrics>) -> InFlight {
        let max = max.max(1);
        InFlight {
            permits: Arc::new(Semaphore::new(max)),
            max,
            body_idle_timeout: DEFAULT_BODY_IDLE_TIMEOUT,
            metrics,
        }
    }

    /// Slots taken right now.
    pub fn in_use(&self) -> usize {
        self.max.saturating_sub(self.permits.available_permits())
    }

    /// A request body that sends nothing for `idle` fails (the handler answers
    /// 400 and the slot is freed).
    pub fn body_idle_timeout(mut self, idle: Duration) -> InFlight {
        self.body_idle_timeout = idle;
        self
    }
}

fn busy() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        maeum_contract::problem::code::BUSY,
        "접속자가 많아 잠시 처리하지 못했어요",
    )
    .detail("잠시 후 자동으로 다시 시도할게요.")
    .retry_after(1)
}

/// The bound on one route, as tower layers: a slot from the shared semaphore
/// or an immediate 503 `busy` (load shedding, never queueing), and the body
/// idle timeout while the slot is held. `/v1/status` is routed without it.
pub fn bounded<S: Clone + Send + Sync + 'static>(
    route: MethodRouter<S>,
    limit: &InFlight,
) -> MethodRouter<S> {
    let metrics = limit.metrics.clone();
    let idle = limit.body_idle_timeout;
    route.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(move |_: BoxError| {
                let metrics = metrics.clone();
                async move {
                    metrics.shed();
                    busy()
                }
            }))
            .load_shed()
            .layer(GlobalConcurrencyLimitLayer::with_semaphore(
                limit.permits.clone(),
            ))
            .map_request(move |req: Request| {
                req.map(|body| Body::new(TimeoutBody::new(idle, body)))
            }),
    )
}

/// Token bucket settings: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    pub burst: u32,
    pub per_second: f64,
}

impl Default for RateLimit {
    /// A person's taps and retries (10 at once, then 2 a second) pass; a script does not.
    fn default() -> Self {
        RateLimit {
            burst: 10,
            per_second: 2.0,
        }
    }
}

/// A retry of one of the user's last few keys costs this much of a token: a
/// retry is the same intent again, not a new one, but it is not free either.
const RETRY_COST: f64 = 0.25;
const RECENT_KEYS: usize = 4;
/// Buckets kept before idle full ones are dropped.
const SWEEP_AT: usize = 100_000;

struct Bucket {
    tokens: f64,
    at: Instant,
    recent: [u64; RECENT_KEYS],
    next: usize,
}

/// Per-user buckets (per process).
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

fn key_hash(key: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    // 0 marks an empty slot.
    h.finish().max(1)
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `user`, or says how many seconds until one is there.
    pub fn check(&self, user: &str, idempotency_key: Option<&[u8]>) -> Result<(), u32> {
        self.check_at(user, idempotency_key, Instant::now())
    }

    fn check_at(&self, user: &str, key: Option<&[u8]>, now: Instant) -> Result<(), u32> {
        let burst = f64::from(self.limit.burst.max(1));
        let rate = self.limit.per_second.max(0.001);
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(()); // a poisoned limiter limits nothing rather than everything
        };
        if buckets.len() >= SWEEP_AT && !buckets.contains_key(user) {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(user.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
            recent: [0; RECENT_KEYS],
            next: 0,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        let hash = key.map(key_hash);
        let retry = hash.is_some_and(|h| bucket.recent.contains(&h));
        let cost = if retry { RETRY_COST } else { 1.0 };
        if bucket.tokens + 1e-9 < cost {
            let wait = (cost - bucket.tokens) / rate;
            return Err(wait.ceil().clamp(1.0, 3600.0) as u32);
        }
        bucket.tokens -= cost;
        if let (Some(h), false) = (hash, retry) {
            bucket.recent[bucket.next] = h;
            bucket.next = (bucket.next + 1) % RECENT_KEYS;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_passes_then_the_bucket_refills_at_its_rate() {
        let l = RateLimiter::new(RateLimit {
            burst: 10,
            per_second: 2.0,
        });
        let t0 = Instant::now();
        for i in 0..10 {
            assert_eq!(
                l.check_at("u", Some(format!("k{i}").as_bytes()), t0),
                Ok(())
            );
        }
        assert_eq!(l.check_at("u", Some(b"k10"), t0), Err(1));
        assert_eq!(l.check_at("other", Some(b"k"), t0), Ok(()), "per user");
        let later = t0 + Duration::from_millis(600);
        assert_eq!(l.check_at("u", Some(b"k11"), later), Ok(()));
        assert!(l.check_at("u", Some(b"k12"), later).is_err());
    }

    #[test]
    fn retries_of_a_recent_key_cost_a_quarter() {
        let l = RateLimiter::new(RateLimit {
            burst: 10,
            per_second: 2.0,
        });
        let t0 = Instant::now();
        // A twentyfold tap with one key: 1 + 19 × 0.25 tokens.
        for _ in 0..20 {
            assert_eq!(l.check_at("tapper", Some(b"one-intent"), t0), Ok(()));
        }
        // but a script repeating one key is still stopped.
        let mut refused = 0;
        for _ in 0..40 {
            refused += l.check_at("tapper", Some(b"one-intent"), t0).is_err() as u32;
        }
        assert!(refused > 20, "{refused}");
    }
}
