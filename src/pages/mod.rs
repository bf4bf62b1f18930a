//! Screens. Each owns its requests; shared transitions live in [`crate::app::AppCtx`].

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
