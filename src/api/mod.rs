//! Talking to a backend that follows the maeum contract (v1).

pub mod backends;
pub mod business;
pub mod client;
pub mod errors;
pub mod json;
pub mod retry;
pub mod storage;
pub mod to_js;
pub mod upload;

pub use client::{claim, kept_package, my_claims, package, runtime_release_at, status};
pub use errors::ApiError;
pub use storage::Intent;
