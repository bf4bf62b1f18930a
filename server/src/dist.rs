//! Serving the built app (`--dist DIR`): files as they are (or their `.br`/`.gz`
//! siblings), hashed assets cached for a year, everything else revalidated,
//! and `index.html` for any unknown path without a file extension (deep links).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const NO_CACHE: &str = "no-cache";

pub struct Dist {
    dir: ServeDir,
    index: ServeFile,
}

impl Dist {
    pub fn new(root: &Path) -> Dist {
        Dist {
            dir: ServeDir::new(root)
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(true),
            index: ServeFile::new(root.join("index.html"))
                .precompressed_br()
                .precompressed_gzip(),
        }
    }
}

/// `maeum-0a1b2c3d4e5f6a7b_bg.wasm`, `maeum-0a1b2c3d4e5f6a7b.js`, `style-0a1b2c3d4e5f6a7b.css`:
/// a name whose stem ends in `-` and 8 to 64 lowercase hex digits.
pub fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    if !matches!(
        ext,
        "js" | "mjs" | "css" | "wasm" | "woff2" | "woff" | "png" | "svg" | "webp" | "jpg" | "ico"
    ) {
        return false;
    }
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((_, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    (8..=64).contains(&hash.len())
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn has_extension(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|name| name.contains('.'))
}

fn copy_request(req: &Request) -> Request {
    let mut copy = Request::new(Body::empty());
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.headers_mut() = req.headers().clone();
    copy
}

pub async fn serve(State(dist): State<Arc<Dist>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let is_read = matches!(*req.method(), Method::GET | Method::HEAD);
    let index_req = copy_request(&req);
    let mut res = match dist.dir.clone().oneshot(req).await {
        Ok(res) => res.into_response(),
        Err(never) => match never {},
    };
    let cache = if res.status() == StatusCode::NOT_FOUND && is_read && !has_extension(&path) {
        res = match dist.index.clone().oneshot(index_req).await {
            Ok(res) => res.into_response(),
            Err(never) => match never {},
        };
        NO_CACHE
    } else if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
        if is_hashed_asset(&path) {
            IMMUTABLE
        } else {
            NO_CACHE
        }
    } else {
        NO_CACHE
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

pub fn root_is_usable(root: &Path) -> Result<PathBuf, String> {
    let index = root.join("index.html");
    if !index.is_file() {
        return Err(format!(
            "--dist {}: no index.html there (build the app first)",
            root.display()
        ));
    }
    Ok(root.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_asset_names_count_as_hashed() {
        for name in [
            "/maeum-0a1b2c3d4e5f6a7b_bg.wasm",
            "/maeum-0a1b2c3d4e5f6a7b.js",
            "/style-9f8e7d6c5b4a3210.css",
            "/snippets/x/inline0-1234abcd.js",
        ] {
            assert!(is_hashed_asset(name), "{name}");
        }
        for name in [
            "/index.html",
            "/favicon.ico",
            "/maeum.js",
            "/style-main.css",
            "/maeum-0A1B2C3D4E5F6A7B.js",
            "/config.json",
            "/logo-12345678.json",
        ] {
            assert!(!is_hashed_asset(name), "{name}");
        }
    }
}
