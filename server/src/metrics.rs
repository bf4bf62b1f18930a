//! The server's Prometheus metrics.
//!
//! Each server owns its recorder ([`Metrics`], kept in the app state) instead of
//! installing `metrics`' process-wide one: tests start several servers in one
//! process, and each must count only its own requests. So the counters are
//! registered on this recorder directly rather than through the `metrics::counter!`
//! macros, which would reach the global recorder.

use metrics::{Counter, Key, Label, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::time::Duration;

pub const HTTP_REQUESTS: &str = "maeum_http_requests_total";
pub const HTTP_DURATION: &str = "maeum_http_request_duration_seconds";
pub const CLAIMS_GRANTED: &str = "maeum_claims_granted_total";
pub const ITEM_REMAINING: &str = "maeum_item_remaining";
pub const SHED: &str = "maeum_requests_shed_total";
pub const RATE_LIMITED: &str = "maeum_rate_limited_total";
pub const IN_FLIGHT: &str = "maeum_in_flight_requests";
pub const EARLY_ATTEMPTS: &str = "maeum_early_attempts_total";
pub const DAMAGE_CLAIMS: &str = "maeum_damage_claims_total";
pub const UPLOAD_BYTES: &str = "maeum_upload_bytes_total";
pub const READY: &str = "maeum_ready";

/// Request latency buckets, in seconds: a claim is a few milliseconds; an
/// upload on a slow phone network is seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// One server's metrics registry.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), DURATION_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        let m = Metrics { recorder, handle };
        for (name, unit, help) in [
            (
                HTTP_REQUESTS,
                None,
                "HTTP requests answered, by route template, method and status.",
            ),
            (
                HTTP_DURATION,
                Some(Unit::Seconds),
                "Time to answer an HTTP request, by route template and method.",
            ),
            (
                CLAIMS_GRANTED,
                None,
                "Gifts granted by POST /v1/claims, by item.",
            ),
            (
                ITEM_REMAINING,
                None,
                "Gifts left under a capped item's cap (read from the database at scrape time).",
            ),
            (
                SHED,
                None,
                "API requests refused with 503 busy because the in-flight bound was reached.",
            ),
            (
                RATE_LIMITED,
                None,
                "Requests refused with 429 rate_limited by the per-user limit.",
            ),
            (
                IN_FLIGHT,
                None,
                "API requests holding an in-flight slot right now.",
            ),
            (
                EARLY_ATTEMPTS,
                None,
                "Requests for a gated endpoint refused before the release instant.",
            ),
            (
                DAMAGE_CLAIMS,
                None,
                "Damage claims accepted, by kind of support (won or review).",
            ),
            (
                UPLOAD_BYTES,
                Some(Unit::Bytes),
                "Bytes of evidence files stored.",
            ),
            (READY, None, "1 while /readyz answers 200."),
        ] {
            let desc = SharedString::const_str(help);
            let key = name.into();
            if name == HTTP_DURATION {
                m.recorder.describe_histogram(key, unit, desc);
            } else if name == ITEM_REMAINING || name == IN_FLIGHT || name == READY {
                m.recorder.describe_gauge(key, unit, desc);
            } else {
                m.recorder.describe_counter(key, unit, desc);
            }
        }
        // Counters without labels start at 0, so `rate()` and `increase()` see their first event.
        for name in [SHED, RATE_LIMITED, EARLY_ATTEMPTS, UPLOAD_BYTES] {
            m.counter(name, Vec::new()).increment(0);
        }
        m
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    fn label(name: &'static str, value: impl Into<String>) -> Label {
        Label::new(name, value.into())
    }

    /// One answered HTTP request.
    pub fn request(&self, route: &str, method: &str, status: u16, latency: Duration) {
        self.counter(
            HTTP_REQUESTS,
            vec![
                Self::label("route", route),
                Self::label("method", method),
                Self::label("status", status.to_string()),
            ],
        )
        .increment(1);
        self.recorder
            .register_histogram(
                &Key::from_parts(
                    HTTP_DURATION,
                    vec![Self::label("route", route), Self::label("method", method)],
                ),
                &METADATA,
            )
            .record(latency.as_secs_f64());
    }

    pub fn claim_granted(&self, item: &str) {
        self.counter(CLAIMS_GRANTED, vec![Self::label("item", item)])
            .increment(1);
    }

    pub fn shed(&self) {
        self.counter(SHED, Vec::new()).increment(1);
    }

    pub fn rate_limited(&self) {
        self.counter(RATE_LIMITED, Vec::new()).increment(1);
    }

    pub fn early_attempt(&self) {
        self.counter(EARLY_ATTEMPTS, Vec::new()).increment(1);
    }

    /// `support`: `won` or `review`.
    pub fn damage_claim(&self, support: &'static str) {
        self.counter(DAMAGE_CLAIMS, vec![Self::label("support", support)])
            .increment(1);
    }

    pub fn upload_bytes(&self, bytes: u64) {
        self.counter(UPLOAD_BYTES, Vec::new()).increment(bytes);
    }

    /// Sets a gauge (values read at scrape time).
    pub fn gauge(&self, name: &'static str, labels: &[(&'static str, &str)], value: f64) {
        let labels: Vec<Label> = labels.iter().map(|(k, v)| Self::label(k, *v)).collect();
        self.recorder
            .register_gauge(&Key::from_parts(name, labels), &METADATA)
            .set(value);
    }

    /// Everything in the Prometheus text format.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }
}
