//! Talking to a backend that follows the maeum contract (v1).

pub mod backends;
pub mod boot;
pub mod business;
pub mod client;
pub mod codec;
pub mod errors;
#[cfg(debug_assertions)]
pub mod responder;
pub mod retry;
pub mod storage;
pub mod upload;

pub use client::{claim, kept_package, my_claims, package, runtime_release_at, status};
pub use errors::ApiError;
pub use storage::Intent;
