//! The operations listener (`--metrics-addr`): `GET /metrics` (Prometheus),
//! `GET /livez` and `GET /readyz`. It is never the public port.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::guard::InFlight;
use crate::metrics::{self, Metrics};
use crate::store::Store;

/// Longest a readiness probe waits for the store.
const STORE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the operations endpoints look at.
pub struct Ops {
    pub metrics: Arc<Metrics>,
    pub store: Store,
    pub in_flight: InFlight,
    /// Set on SIGTERM (or `Server::shutdown`): `/readyz` answers 503 from then on.
    pub draining: Arc<AtomicBool>,
}

impl Ops {
    /// Ready: not draining, and the store takes a write within the probe timeout
    /// (a write, because a store whose writer is stuck answers reads but
    /// cannot grant anything).
    pub async fn ready(&self) -> bool {
        if self.draining.load(Ordering::SeqCst) {
            return false;
        }
        let probe = self.store.probe();
        tokio::time::timeout(STORE_PROBE_TIMEOUT, probe)
            .await
            .unwrap_or(false)
    }
}

pub fn router(ops: Arc<Ops>) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(scrape))
        .with_state(ops)
}

async fn readyz(State(ops): State<Arc<Ops>>) -> Response {
    if ops.ready().await {
        (StatusCode::OK, "ready\n").into_response()
    } else if ops.draining.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "store not answering\n").into_response()
    }
}

/// Gauges are read now (remaining stock from the database, so every process
/// sharing it reports the same), then everything is rendered.
async fn scrape(State(ops): State<Arc<Ops>>) -> Response {
    let m = &ops.metrics;
    m.gauge(metrics::IN_FLIGHT, &[], ops.in_flight.in_use() as f64);
    let items = tokio::time::timeout(STORE_PROBE_TIMEOUT, ops.store.items()).await;
    if let Ok(Ok(items)) = items {
        for item in items {
            if let Some(cap) = item.cap {
                let remaining = cap.saturating_sub(item.granted);
                m.gauge(
                    metrics::ITEM_REMAINING,
                    &[("item", &item.id)],
                    remaining as f64,
                );
            }
        }
    }
    m.gauge(
        metrics::READY,
        &[],
        if ops.ready().await { 1.0 } else { 0.0 },
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        m.render(),
    )
        .into_response()
}
