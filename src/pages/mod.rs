//! Screens. Each owns its requests; shared transitions live in [`crate::state::AppCtx`].

pub mod business;
mod closed;
mod errors;
mod open_from_app;
mod package;
mod paused;
mod teaser;

pub use closed::ClosedPage;
pub use errors::{NotFoundPage, UnreachablePage};
pub use open_from_app::OpenFromAppPage;
pub use package::PackagePage;
pub use paused::PausedPage;
pub use teaser::{OpeningPage, Teaser, TeaserPage};

use leptos::prelude::*;

use crate::route::Route;
use crate::state::Journey;

/// The package bundle (`/`, `/package`): what a 카카오 나우 banner tap opens.
pub const PACKAGE: Journey = Journey {
    draws: |route| !matches!(route, Route::Business(_)),
    page: |route| match route {
        Route::Package => view! { <PackagePage /> }.into_any(),
        _ => view! { <NotFoundPage /> }.into_any(),
    },
    install: |_| {},
};

/// Every page in one bundle: debug builds, so `trunk serve` and its preview
/// bar show the business journey too.
pub const EVERY: Journey = Journey {
    draws: |_| true,
    page: |route| match route {
        Route::Business(_) => (business::JOURNEY.page)(route),
        _ => (PACKAGE.page)(route),
    },
    install: business::JOURNEY.install,
};
