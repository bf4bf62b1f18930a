//! maeum-server: the reference backend of the 전 국민 마음 패키지 app.
//!
//! [`start`] opens the data directory, binds the listener and serves the API
//! (and, with a dist directory, the built app); the binary, the tests and the
//! bench all start it this way.

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
    /// `s3://BUCKET/PREFIX`: keep evidence in an S3-compatible store instead of `DIR/uploads`.
    pub uploads: Option<String>,
    /// App origins allowed to call the API from another origin (CORS); empty: none.
    pub allow_origins: Vec<String>,
    /// Extra API origins the app may connect to (added to the HTML policy's `connect-src`,
    /// besides those found in the dist's `config.json`).
    pub connect_src: Vec<String>,
}

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
            uploads: None,
            allow_origins: Vec::new(),
            connect_src: Vec::new(),
        }
    }
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    clock: Arc<Clock>,
    tokens: TokenKey,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The clock that decides the release gate; tests may move it.
    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    /// A valid bearer token for `user`.
    pub fn token(&self, user: &str) -> String {
        self.tokens.issue(user, clock::system_now().0 / 1000)
    }

    /// Stops accepting, lets requests in flight finish, and returns.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    /// Serves until ctrl-c or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        shutdown_signal().await;
        eprintln!("maeum-server: shutting down");
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
    eprintln!("maeum-server: a request handler panicked");
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
) -> Router {
    let shed = axum::middleware::from_fn_with_state(in_flight, guard::limit_in_flight);
    let router = match dist {
        Some(root) => Router::new()
            .nest(api::API_BASE, api::router(state, dev).layer(shed))
            .fallback(dist::serve)
            .with_state(Arc::new(dist::Dist::new(root))),
        None => Router::new()
            .nest(api::API_BASE, api::router(state, dev).layer(shed))
            .fallback(problem::not_found),
    };
    router
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn_with_state(
            security,
            headers::security_headers,
        ))
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
    let (store, notes) = store::Store::open(&database, &config.campaign, config.clock.now())
        .await
        .map_err(|e| format!("database {}: {e}", database.describe()))?;
    for note in notes {
        eprintln!("maeum-server: note: {note}");
    }

    let uploads_dir = config.data_dir.join(business::UPLOADS_DIR);
    let blobs = blobs::Blobs::open(config.uploads.as_deref(), &uploads_dir)?;
    let sweep_dir = uploads_dir.clone();
    if let Ok(n @ 1..) =
        tokio::task::spawn_blocking(move || business::sweep_stale_temp_files(&sweep_dir)).await
    {
        eprintln!("maeum-server: note: removed {n} unfinished upload(s) left by an earlier crash");
    }
    let state = Arc::new(state::AppState {
        store,
        clock: config.clock.clone(),
        tokens: tokens.clone(),
        pause_retry_after_seconds: config.campaign.pause_retry_after_seconds,
        blobs,
        staging_dir: uploads_dir.join("tmp"),
        upload_quota: config.upload_quota,
        rate_limiter: config.rate_limit.map(guard::RateLimiter::new),
    });
    let security = headers::Security::new(
        dist.clone(),
        config.connect_src.clone(),
        config.allow_origins.clone(),
    );
    let app = app(
        state,
        config.dev,
        dist.as_deref(),
        guard::InFlight::new(config.max_in_flight).body_idle_timeout(config.body_idle_timeout),
        security,
    );

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
        clock: config.clock,
        tokens,
        shutdown: Some(tx),
        task,
    })
}
