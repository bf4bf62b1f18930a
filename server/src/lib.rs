//! maeum-server: the reference backend of the 전 국민 마음 패키지 app.
//!
//! [`start`] opens the data directory, binds the listener and serves the API
//! (and, with a dist directory, the built app); the binary, the tests and the
//! bench all start it this way.

pub mod access;
pub mod api;
pub mod auth;
pub mod bizdb;
pub mod blobs;
pub mod business;
pub mod campaign;
pub mod claims;
pub mod cli;
pub mod clock;
pub mod conn;
pub mod db;
pub mod dist;
pub mod extract;
pub mod gate;
pub mod guard;
pub mod headers;
pub mod health;
pub mod jwt;
pub mod logging;
pub mod metrics;
pub mod pg;
pub mod problem;
pub mod state;
pub mod store;
pub mod token;
pub mod writer;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;

pub use campaign::Campaign;
pub use clock::Clock;
pub use guard::RateLimit;
pub use token::TokenKey;

/// Everything `serve` needs.
#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// The built app to serve beside the API.
    pub dist: Option<PathBuf>,
    /// Adds `GET /api/dev/login`.
    pub dev: bool,
    pub campaign: Campaign,
    pub clock: Arc<Clock>,
    /// API requests handled at once; more are shed with 503 `busy` (`/v1/status` is exempt).
    pub max_in_flight: usize,
    /// Longest pause inside a request body before the request is dropped and its slot freed.
    pub body_idle_timeout: std::time::Duration,
    /// Longest wait for a request head before the connection is closed.
    pub header_read_timeout: std::time::Duration,
    /// Per-user limit on the claim endpoints; `None` turns it off.
    pub rate_limit: Option<RateLimit>,
    /// Most evidence uploads one user may store.
    pub upload_quota: u64,
    /// `postgres://...`: keep the data in PostgreSQL instead of `DIR/maeum.sqlite3`.
    pub database: Option<String>,
    /// Connections to PostgreSQL this process keeps at most.
    pub database_pool: usize,
    /// `s3://BUCKET/PREFIX`: keep evidence in an S3-compatible store instead of `DIR/uploads`.
    pub uploads: Option<String>,
    /// App origins allowed to call the API from another origin (CORS); empty: none.
    pub allow_origins: Vec<String>,
    /// Extra API origins the app may connect to (added to the HTML policy's `connect-src`,
    /// besides those found in the dist's `config.json`).
    pub connect_src: Vec<String>,
    /// Identity tokens from a JWKS instead of the server's own dev tokens.
    pub jwt: Option<jwt::JwtConfig>,
    /// Where `/metrics`, `/livez` and `/readyz` are served (`None`: nowhere).
    pub metrics_addr: Option<SocketAddr>,
    /// How long requests in flight may take to finish once shutdown begins.
    pub shutdown_grace: std::time::Duration,
    /// Routes merged under `/api` beside the API's own. Tests only (a panicking
    /// handler); the command line never sets it.
    #[doc(hidden)]
    pub test_routes: Option<Router>,
}

/// How long requests in flight may take to finish after SIGTERM, by default.
pub const DEFAULT_SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Evidence uploads one user may store, by default.
pub const DEFAULT_UPLOAD_QUOTA: u64 = 30;

impl Config {
    /// Loopback on a free port, the shipped campaign, the machine's clock.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            dist: None,
            dev: false,
            campaign: Campaign::shipped(),
            clock: Arc::new(Clock::system()),
            max_in_flight: guard::DEFAULT_MAX_IN_FLIGHT,
            body_idle_timeout: guard::DEFAULT_BODY_IDLE_TIMEOUT,
            header_read_timeout: conn::DEFAULT_HEADER_READ_TIMEOUT,
            rate_limit: Some(RateLimit::default()),
            upload_quota: DEFAULT_UPLOAD_QUOTA,
            database: None,
            database_pool: pg::DEFAULT_POOL_SIZE,
            uploads: None,
            allow_origins: Vec::new(),
            connect_src: Vec::new(),
            jwt: None,
            metrics_addr: None,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            test_routes: None,
        }
    }
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    clock: Arc<Clock>,
    tokens: TokenKey,
    draining: Arc<AtomicBool>,
    shutdown_grace: std::time::Duration,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    ops_task: Option<JoinHandle<()>>,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://ADDR` of the operations listener, when there is one.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics_addr.map(|a| format!("http://{a}"))
    }

    /// The clock that decides the release gate; tests may move it.
    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    /// A valid bearer token for `user`.
    pub fn token(&self, user: &str) -> String {
        self.tokens.issue(user, clock::system_now().0 / 1000)
    }

    /// Turns `/readyz` to 503, stops accepting, lets requests in flight finish
    /// (for at most the shutdown grace period), and returns.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        self.draining.store(true, Ordering::SeqCst);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let result = match tokio::time::timeout(self.shutdown_grace, &mut self.task).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(std::io::Error::other(e)),
            Err(_) => {
                tracing::warn!(
                    grace_seconds = self.shutdown_grace.as_secs_f64(),
                    "requests still in flight at the end of the grace period were cut off"
                );
                self.task.abort();
                Ok(())
            }
        };
        if let Some(ops) = self.ops_task.take() {
            ops.abort();
        }
        result
    }

    /// Serves until ctrl-c or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down: draining requests in flight");
        self.shutdown().await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked; answered 500");
    let mut res = problem::internal().into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The whole HTTP app: `/api` plus, optionally, the built app.
pub fn app(
    state: Arc<state::AppState>,
    dev: bool,
    dist: Option<&std::path::Path>,
    in_flight: guard::InFlight,
    security: headers::Security,
    test_routes: Option<Router>,
) -> Router {
    let metrics = state.metrics.clone();
    let mut api: Router = api::router(state, dev, &in_flight);
    if let Some(extra) = test_routes {
        api = api.merge(extra);
    }
    // Outside the shedding, so a 503 `busy` carries CORS headers too.
    if let Some(cors) = security.cors() {
        api = api.layer(cors);
    }
    let router = Router::new().nest(api::API_BASE, api);
    let router = match dist {
        Some(root) => router.fallback_service(
            axum::routing::any(dist::serve).with_state(Arc::new(dist::Dist::new(root))),
        ),
        None => router.fallback(problem::not_found),
    };
    router
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn_with_state(
            security,
            headers::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(metrics, access::log))
}

/// Opens (creating if needed) the data directory and database, binds `config.addr`
/// and starts serving in the background.
pub async fn start(config: Config) -> Result<Server, String> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        format!(
            "cannot create the data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let dist = config
        .dist
        .as_deref()
        .map(dist::root_is_usable)
        .transpose()?;
    let tokens = TokenKey::load_or_create(&config.data_dir)?;

    let database = store::Database::choose(config.database.as_deref(), &config.data_dir)?;
    let (store, notes) = store::Store::open(
        &database,
        config.database_pool,
        &config.campaign,
        config.clock.now(),
    )
    .await
    .map_err(|e| format!("database {}: {e}", database.describe()))?;
    for note in notes {
        tracing::info!("note: {note}");
    }

    let uploads_dir = config.data_dir.join(business::UPLOADS_DIR);
    let blobs = blobs::Blobs::open(config.uploads.as_deref(), &uploads_dir)?;
    let sweep_dir = uploads_dir.clone();
    if let Ok(n @ 1..) =
        tokio::task::spawn_blocking(move || business::sweep_stale_temp_files(&sweep_dir)).await
    {
        tracing::info!("note: removed {n} unfinished upload(s) left by an earlier crash");
    }
    let jwt = match config.jwt.clone() {
        Some(c) => Some(Arc::new(jwt::JwtVerifier::new(c).await?)),
        None => None,
    };
    let metrics = Arc::new(metrics::Metrics::new());
    let state = Arc::new(state::AppState {
        store,
        clock: config.clock.clone(),
        tokens: tokens.clone(),
        pause_retry_after_seconds: config.campaign.pause_retry_after_seconds,
        blobs,
        staging_dir: uploads_dir.join("tmp"),
        upload_quota: config.upload_quota,
        rate_limiter: config.rate_limit.map(guard::RateLimiter::new),
        jwt,
        metrics: metrics.clone(),
    });
    let security = headers::Security::new(
        dist.clone(),
        config.connect_src.clone(),
        config.allow_origins.clone(),
    );
    let in_flight = guard::InFlight::new(config.max_in_flight, metrics.clone())
        .body_idle_timeout(config.body_idle_timeout);
    let draining = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(health::Ops {
        metrics,
        store: state.store.clone(),
        in_flight: in_flight.clone(),
        draining: draining.clone(),
    });
    let app = app(
        state,
        config.dev,
        dist.as_deref(),
        in_flight,
        security,
        config.test_routes,
    );
    let (metrics_addr, ops_task) = match config.metrics_addr {
        None => (None, None),
        Some(at) => {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| format!("cannot listen on {at} (--metrics-addr): {e}"))?;
            let bound = listener.local_addr().map_err(|e| e.to_string())?;
            let router = health::router(ops);
            let task = tokio::spawn(async move {
                let _ = axum::serve(listener, router).await;
            });
            (Some(bound), Some(task))
        }
    };

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(conn::serve(
        listener,
        app,
        config.header_read_timeout,
        async {
            let _ = rx.await;
        },
    ));
    Ok(Server {
        addr,
        metrics_addr,
        clock: config.clock,
        tokens,
        draining,
        shutdown_grace: config.shutdown_grace,
        shutdown: Some(tx),
        task,
        ops_task,
    })
}
