//! Serving the built app (`--dist DIR`): files as they are (or their `.br`/`.gz`
//! siblings), hashed assets cached for a year, everything else revalidated.
//!
//! Deep links: a GET or HEAD for an unknown path without a file extension is
//! answered with the nearest `index.html` at or above it, walking only plain
//! path segments (`/business/claims/X` tries `business/claims/X/index.html`,
//! `business/claims/index.html`, `business/index.html`, then `index.html`).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const NO_CACHE: &str = "no-cache";

pub struct Dist {
    root: PathBuf,
    dir: ServeDir,
}

impl Dist {
    pub fn new(root: &Path) -> Dist {
        Dist {
            root: root.to_path_buf(),
            // Directories are left to the deep-link rule, so `/business` gets
            // `business/index.html` as `/business/` does, not a redirect.
            dir: ServeDir::new(root)
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(false),
        }
    }

    /// The `index.html` nearest to `path`, or `None` when there is none or the
    /// path has a segment that is not plain.
    async fn index_for(&self, path: &str) -> Option<PathBuf> {
        let segments = plain_segments(path)?;
        // Down to the deepest directory that exists: nothing below it can hold
        // an index, so a long made-up path costs no more than the real tree.
        let mut dirs = vec![self.root.clone()];
        for segment in segments {
            let next = dirs[dirs.len() - 1].join(segment);
            if !tokio::fs::metadata(&next).await.is_ok_and(|m| m.is_dir()) {
                break;
            }
            dirs.push(next);
        }
        for dir in dirs.iter().rev() {
            let index = dir.join("index.html");
            if tokio::fs::metadata(&index).await.is_ok_and(|m| m.is_file()) {
                return Some(index);
            }
        }
        None
    }
}

/// The decoded segments of a request path, empty ones (`//`, a trailing `/`)
/// skipped; `None` when one is not a plain name: `.`, `..`, one holding a `\`
/// or an encoded `/` or `\`, a control character, or bytes that are not UTF-8.
pub fn plain_segments(path: &str) -> Option<Vec<String>> {
    path.split('/')
        .filter(|raw| !raw.is_empty())
        .map(|raw| {
            let segment = percent_decode(raw)?;
            let mut components = Path::new(&segment).components();
            // `.` and `..` are not `Normal`, nor is a Windows drive prefix.
            let one_name = matches!(components.next(), Some(Component::Normal(_)))
                && components.next().is_none();
            let plain = one_name
                && !segment.contains(['/', '\\'])
                && !segment.chars().any(char::is_control);
            plain.then_some(segment)
        })
        .collect()
}

/// `%XX` escapes decoded; `None` for a malformed escape or a result that is not UTF-8.
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
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
    let deep_link = res.status() == StatusCode::NOT_FOUND && is_read && !has_extension(&path);
    let index = if deep_link {
        dist.index_for(&path).await
    } else {
        None
    };
    let cache = if let Some(index) = index {
        let file = ServeFile::new(index)
            .precompressed_br()
            .precompressed_gzip();
        res = match file.oneshot(index_req).await {
            Ok(res) => res.into_response(),
            Err(never) => match never {},
        };
        NO_CACHE
    } else if (res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED)
        && is_hashed_asset(&path)
    {
        IMMUTABLE
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
            "/business/maeum-business-0a1b2c3d4e5f6a7b_bg.wasm",
            "maeum-business-0a1b2c3d4e5f6a7b_bg.wasm",
            "/business/maeum-business-0a1b2c3d4e5f6a7b.js",
            "/style-9f8e7d6c5b4a3210.css",
            "/snippets/x/inline0-1234abcd.js",
        ] {
            assert!(is_hashed_asset(name), "{name}");
        }
        for name in [
            "/index.html",
            "/business/index.html",
            "/business/maeum-business_bg.wasm",
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

    #[test]
    fn only_plain_segments_make_a_deep_link() {
        let segments = |path: &str| plain_segments(path);
        assert_eq!(
            segments("/business/claims/D-2301-7Q4K93"),
            Some(vec![
                "business".into(),
                "claims".into(),
                "D-2301-7Q4K93".into()
            ])
        );
        assert_eq!(segments("/"), Some(vec![]));
        assert_eq!(segments("//business//"), Some(vec!["business".into()]));
        assert_eq!(segments("/%EB%A7%88%EC%9D%8C"), Some(vec!["마음".into()]));
        assert_eq!(segments("/v1.2/x"), Some(vec!["v1.2".into(), "x".into()]));
        for path in [
            "/..",
            "/business/../x",
            "/./business",
            "/%2e%2e/x",
            "/business/%2E",
            "/a%2Fb",
            "/a%2f..%2fb",
            "/a%5Cb",
            "/a\\b",
            "/a%00b",
            "/a%zzb",
            "/a%2",
            "/a%+1b",
            "/%FF",
        ] {
            assert_eq!(segments(path), None, "{path}");
        }
    }

    #[tokio::test]
    async fn a_deep_link_gets_the_nearest_index_and_never_one_outside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("dist");
        for dir in ["business/claims/D-1", "business/info", "secret"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for page in [
            "index.html",
            "business/index.html",
            "business/claims/index.html",
            "business/claims/D-1/index.html",
        ] {
            std::fs::write(root.join(page), page).unwrap();
        }
        std::fs::write(tmp.path().join("index.html"), "outside").unwrap();
        let dist = Dist::new(&root);
        for (path, page) in [
            (
                "/business/claims/D-1/more",
                "business/claims/D-1/index.html",
            ),
            ("/business/claims/D-2", "business/claims/index.html"),
            ("/business/claims", "business/claims/index.html"),
            ("/business/info", "business/index.html"),
            ("/business", "business/index.html"),
            ("/business/", "business/index.html"),
            ("/secret/x", "index.html"),
            ("/nope/business/claims", "index.html"),
            ("/", "index.html"),
        ] {
            assert_eq!(dist.index_for(path).await, Some(root.join(page)), "{path}");
        }
        for path in ["/..", "/../x", "/business/../..", "/%2e%2e/x"] {
            assert_eq!(dist.index_for(path).await, None, "{path}");
        }
        std::fs::remove_file(root.join("index.html")).unwrap();
        assert_eq!(dist.index_for("/package").await, None);
    }
}
