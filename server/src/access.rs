//! One access-log line and one metrics sample per request, and the request id.
//!
//! The line names the route template (`/api/v1/damage-claims/{receipt_no}`),
//! never the raw path or query, and no header but `X-Request-Id`: bearer
//! tokens, `Idempotency-Key`s and personal details in paths or bodies never
//! reach the log.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rand::RngCore;
use std::sync::Arc;
use std::time::Instant;

use crate::api::API_BASE;
use crate::metrics::Metrics;
use crate::problem::ProblemCode;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client's request id is kept when it is 1 to 64 of `A-Z a-z 0-9 . _ -`
/// (so it cannot smuggle anything into a log line); otherwise one is made.
fn request_id(req: &Request) -> HeaderValue {
    let given = req.headers().get(&REQUEST_ID).filter(|v| {
        let b = v.as_bytes();
        (1..=64).contains(&b.len())
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
    });
    match given {
        Some(v) => v.clone(),
        None => {
            let mut bytes = [0u8; 16];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            HeaderValue::from_str(&hex).unwrap_or(HeaderValue::from_static("-"))
        }
    }
}

fn is_api(path: &str) -> bool {
    path.strip_prefix(API_BASE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Middleware around the whole app.
pub async fn log(State(metrics): State<Arc<Metrics>>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = request_id(&req);
    req.headers_mut().insert(REQUEST_ID, id.clone());
    let method = req.method().clone();
    // Bounded labels: a route template; `unmatched` for any other API path;
    // `app` for everything outside the API (the built app's files and pages).
    let route = match req.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_string(),
        None if is_api(req.uri().path()) => "unmatched".to_string(),
        None => "app".to_string(),
    };
    let mut res = next.run(req).await;
    let latency = start.elapsed();
    let status = res.status().as_u16();
    let code = res
        .extensions()
        .get::<ProblemCode>()
        .map_or("-", |c| c.0.as_str());
    tracing::info!(
        target: "maeum::access",
        method = %method,
        route = %route,
        status,
        latency_ms = latency.as_secs_f64() * 1000.0,
        request_id = id.to_str().unwrap_or("-"),
        code,
        "request"
    );
    metrics.request(&route, method.as_str(), status, latency);
    res.headers_mut().insert(REQUEST_ID, id);
    res
}
