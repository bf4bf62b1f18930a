//! The JSON API under `/api` (contract v1): its routes and the layers every
//! API answer gets. Every error is an RFC 9457 problem document with a stable
//! `code` (see [`crate::problem`]), including the framework's own rejections.

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::{any, get, post, MethodRouter};
use axum::Router;

use crate::business;
use crate::claims::{dev_login, get_my_claims, get_package, get_status, post_claims};
use crate::extract::BODY_LIMIT_BYTES;
use crate::guard::{bounded, InFlight, EXEMPT};
use crate::problem::{method_not_allowed, not_found};
use crate::state::Shared;

/// Where the API is mounted.
pub const API_BASE: &str = "/api";

/// One route of the API, relative to [`API_BASE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    /// Only routed with `--dev`.
    pub dev_only: bool,
}

/// Every route the server answers; the router is built from this list and a
/// test checks it against `contract/openapi.yaml`.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/v1/status",
        dev_only: false,
    },
    Route {
        method: "GET",
        path: "/v1/package",
        dev_only: false,
    },
    Route {
        method: "GET",
        path: "/v1/me/claims",
        dev_only: false,
    },
    Route {
        method: "POST",
        path: "/v1/claims",
        dev_only: false,
    },
    Route {
        method: "POST",
        path: "/v1/uploads",
        dev_only: false,
    },
    Route {
        method: "POST",
        path: "/v1/damage-claims",
        dev_only: false,
    },
    Route {
        method: "GET",
        path: "/v1/damage-claims/{receipt_no}",
        dev_only: false,
    },
    Route {
        method: "POST",
        path: "/v1/channel-cash",
        dev_only: false,
    },
    Route {
        method: "GET",
        path: "/dev/login",
        dev_only: true,
    },
];

fn endpoint(route: &Route) -> MethodRouter<Shared> {
    match (route.method, route.path) {
        ("GET", "/v1/status") => get(get_status),
        ("GET", "/v1/package") => get(get_package),
        ("GET", "/v1/me/claims") => get(get_my_claims),
        ("POST", "/v1/claims") => post(post_claims),
        ("POST", "/v1/uploads") => post(business::post_upload)
            .layer(DefaultBodyLimit::max(business::UPLOAD_BODY_LIMIT_BYTES)),
        ("POST", "/v1/damage-claims") => post(business::post_damage_claim),
        ("GET", "/v1/damage-claims/{receipt_no}") => get(business::get_damage_claim),
        ("POST", "/v1/channel-cash") => post(business::post_channel_cash),
        ("GET", "/dev/login") => get(dev_login),
        // A route listed without a handler answers 404, and the OpenAPI test fails.
        _ => any(not_found),
    }
}

/// The API router, to be nested under [`API_BASE`].
pub fn router<S: Clone + Send + Sync + 'static>(
    state: Shared,
    dev: bool,
    in_flight: &InFlight,
) -> Router<S> {
    let mut api = Router::new();
    for route in ROUTES.iter().filter(|r| dev || !r.dev_only) {
        let handler = if EXEMPT.contains(&route.path) {
            endpoint(route)
        } else {
            bounded(endpoint(route), in_flight)
        };
        api = api.route(route.path, handler);
    }
    api.method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::map_response(no_store))
        .with_state(state)
}

async fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
