//! The app's shared state and the release gate's transitions: which screen
//! shows ([`Screen`]), what the gate knows ([`GateState`]), which pages this
//! bundle draws ([`Journey`]), and the handles every page shares ([`AppCtx`]).
//! No views here: `app` draws the screens, `pages` the pages.

use leptos::prelude::*;
use leptos::task::spawn_local;
use maeum_contract::gate::{self, Phase, ServerClock};
use maeum_contract::{Status, Timestamp};

use crate::api::{self, storage, ApiError};
use crate::browser::{focus_heading, mono_ms, random_ms, sleep};
use crate::config;
use crate::route::{self, Route};

/// What the app shows, decided by the release gate.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    /// Asking the server for its status.
    Loading,
    /// The status request failed.
    Unreachable(ApiError),
    /// Before the release instant: countdown, no package or claim request.
    Teaser {
        opens_at: Timestamp,
    },
    /// The release instant passed: a random wait before loading the package.
    Opening,
    Open,
    Paused {
        retry_after_s: u32,
    },
    Closed {
        closes_at: Option<Timestamp>,
    },
    /// No token, or the server rejected it.
    NeedApp,
}

/// What the gate knows besides the screen (not drawn, so not reactive).
#[derive(Clone, Copy, Debug, Default)]
pub struct GateState {
    /// The server's clock, carried on `performance.now()`.
    pub clock: Option<ServerClock>,
    /// Postponement from the runtime `config.json`.
    pub runtime_release: Option<Timestamp>,
    /// Upper bound of the random wait at opening, seconds.
    pub spread_s: u32,
    /// Whether a screen other than loading has been shown (focus moves only after).
    pub settled: bool,
}

/// The pages one wasm bundle draws once the gate is open. The package (`/`)
/// and the small-business journey (`/business…`) ship as separate bundles,
/// so neither downloads the other; a link between them loads the other page.
#[derive(Clone, Copy)]
pub struct Journey {
    /// Whether this bundle draws `route` (links elsewhere are full page loads).
    pub draws: fn(Route) -> bool,
    /// The open page for a route.
    pub page: fn(Route) -> AnyView,
    /// Run once at start (the journey's listeners and stores).
    pub install: fn(AppCtx),
}

/// Shared state and the gate's transitions. `Copy`: handles only.
#[derive(Clone, Copy)]
pub struct AppCtx {
    pub journey: Journey,
    pub screen: RwSignal<Screen>,
    pub route: RwSignal<Route>,
    pub gate: StoredValue<GateState>,
    /// Text of the polite live region (claim results).
    pub announcement: RwSignal<String>,
}

impl AppCtx {
    pub fn new(screen: Screen, journey: Journey) -> Self {
        AppCtx {
            journey,
            screen: RwSignal::new(screen),
            route: RwSignal::new(Route::current()),
            gate: StoredValue::new(GateState {
                spread_s: gate::DEFAULT_SPREAD_SECONDS,
                ..GateState::default()
            }),
            announcement: RwSignal::new(String::new()),
        }
    }

    pub fn expect() -> Self {
        expect_context::<AppCtx>()
    }

    /// The server's clock now, if a status was ever received.
    pub fn server_now(self) -> Option<Timestamp> {
        self.gate
            .try_with_value(|g| g.clock)
            .flatten()
            .map(|c| c.now(mono_ms()))
    }

    /// Shows `next` (no-op when it is already showing) and, after the first
    /// screen, moves focus to its heading. A screen that only changes its
    /// data (the teaser's instant moved) keeps the focus where it is.
    pub fn show(self, next: Screen) {
        if self.screen.with_untracked(|s| *s == next) {
            return;
        }
        let loading = next == Screen::Loading;
        let same_screen = self
            .screen
            .with_untracked(|s| std::mem::discriminant(s) == std::mem::discriminant(&next));
        self.screen.try_set(next);
        let settled = self.gate.try_with_value(|g| g.settled).unwrap_or(false);
        if settled && !loading && !same_screen {
            focus_heading();
        }
        if !loading {
            self.gate.try_update_value(|g| g.settled = true);
        }
    }

    /// The instant the teaser counts down to, while it shows.
    pub fn opens_at(self) -> Option<Timestamp> {
        self.screen.with(|s| match s {
            Screen::Teaser { opens_at } => Some(*opens_at),
            _ => None,
        })
    }

    /// Client-side navigation to `path` (a page load when another bundle draws it).
    pub fn navigate(self, path: &str) {
        route::navigate(self, path);
    }

    /// Says `text` in the polite live region (re-announces equal text).
    pub fn announce(self, text: String) {
        self.announcement.update(|current| {
            *current = if *current == text {
                format!("{text}\u{a0}")
            } else {
                text
            };
        });
    }

    /// Starts over: status first, then the screen it calls for.
    pub fn boot(self) {
        self.show(Screen::Loading);
        spawn_local(async move {
            match self.refresh_status().await {
                // No network, but this tab read the package before: show that.
                Err(ApiError::Offline | ApiError::Timeout)
                    if storage::token().is_some() && api::kept_package().is_some() =>
                {
                    self.show(Screen::Open)
                }
                Err(e) => self.show(Screen::Unreachable(e)),
                Ok(()) => {}
            }
        });
    }

    /// Fetches the status (and the runtime config) and applies it. On failure
    /// the current screen stays; the caller decides what to show.
    pub async fn refresh_status(self) -> Result<(), ApiError> {
        let sent = mono_ms();
        let (status, runtime) = (api::status(), api::runtime_release_at());
        let reply = status.await;
        let received = mono_ms();
        let runtime = runtime.await;
        let status = reply?;
        self.gate.try_update_value(|g| {
            g.clock = Some(ServerClock::from_sample(status.server_time, sent, received));
            g.runtime_release = runtime;
            g.spread_s = gate::spread_seconds(&status);
        });
        self.apply_status(&status);
        Ok(())
    }

    fn baked(self) -> Option<Timestamp> {
        config::effective_release_at(self.gate.try_with_value(|g| g.runtime_release).flatten())
    }

    fn apply_status(self, status: &Status) {
        let Some(now) = self.server_now() else { return };
        let current = self.screen.get_untracked();
        let phase = gate::phase(self.baked(), status, now);
        if phase != Phase::Open {
            api::boot::forget();
        }
        let next = match phase {
            Phase::BeforeOpen { opens_at } => Screen::Teaser { opens_at },
            // Opening while people wait: spread the herd.
            Phase::Open if matches!(current, Screen::Teaser { .. } | Screen::Opening) => {
                return self.start_opening()
            }
            Phase::Open => self.open_screen(),
            Phase::Paused if matches!(current, Screen::Paused { .. }) => return,
            Phase::Paused => Screen::Paused {
                retry_after_s: config::DEFAULT_PAUSE_RETRY_S,
            },
            Phase::Closed => Screen::Closed {
                closes_at: status.closes_at,
            },
        };
        self.show(next);
    }

    /// The open screen for this visitor: the package, or "open it from KakaoTalk".
    pub fn open_screen(self) -> Screen {
        if storage::token().is_some() {
            Screen::Open
        } else {
            Screen::NeedApp
        }
    }

    /// The release instant passed while the teaser showed: wait a random
    /// 0..N seconds, then open.
    pub fn start_opening(self) {
        if self.screen.with_untracked(|s| *s == Screen::Opening) {
            return;
        }
        self.show(Screen::Opening);
        let spread_ms = self
            .gate
            .try_with_value(|g| g.spread_s)
            .unwrap_or(gate::DEFAULT_SPREAD_SECONDS)
            .saturating_mul(1000);
        spawn_local(async move {
            sleep(random_ms(spread_ms)).await;
            if self.screen.with_untracked(|s| *s == Screen::Opening) {
                self.show(self.open_screen());
            }
        });
    }

    /// Handles the errors that change the whole screen. Returns `false` for
    /// the ones the caller shows itself.
    pub fn handle(self, error: &ApiError) -> bool {
        let next = match error {
            ApiError::Unauthorized => {
                storage::set_token(None);
                Screen::NeedApp
            }
            ApiError::NotOpen {
                release_at,
                server_time,
            } => {
                if let Some(server_time) = server_time {
                    let m = mono_ms();
                    self.gate.try_update_value(|g| {
                        g.clock = Some(ServerClock::from_sample(*server_time, m, m))
                    });
                }
                let baked = self.baked();
                let fallback = self.server_now().map(|n| Timestamp(n.0 + 30_000));
                match release_at
                    .map(|r| gate::opens_at(baked, r))
                    .or(baked)
                    .or(fallback)
                {
                    Some(opens_at) => Screen::Teaser { opens_at },
                    None => {
                        self.boot();
                        return true;
                    }
                }
            }
            ApiError::Paused { retry_after_s } => Screen::Paused {
                retry_after_s: retry_after_s.unwrap_or(config::DEFAULT_PAUSE_RETRY_S),
            },
            ApiError::Closed => Screen::Closed { closes_at: None },
            _ => return false,
        };
        self.show(next);
        true
    }
}

impl route::Navigator for AppCtx {
    fn draws(self, route: Route) -> bool {
        (self.journey.draws)(route)
    }

    fn switch(self, route: Route) {
        if self.route.get_untracked() != route {
            self.route.set(route);
            focus_heading();
        }
    }
}
