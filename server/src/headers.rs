//! Security headers on everything served, the app's Content-Security-Policy,
//! and CORS for the API when the app runs on another origin.
//!
//! The policy allows the build's inline loaders and styles by hash, never
//! `'unsafe-inline'`: the hashes of every inline `<script>` and `<style>` are read
//! from each bundle's page (`dist/index.html` and `dist/*/index.html`) at start and
//! again whenever one of those files or `config.json` changes, so the policy
//! follows each build.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::api::API_BASE;

pub const REFERRER_POLICY: &str = "no-referrer";
/// For JSON and other non-HTML answers: nothing may load or frame them.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// How long a browser may cache a CORS preflight answer.
const PREFLIGHT_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(600);

/// `'sha256-…'` of every inline `<script>` (one without `src`) in `html`.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    elements(html, "script")
        .into_iter()
        .filter(|e| !has_attribute(&e.attrs.to_ascii_lowercase(), "src"))
        .map(|e| csp_hash(e.content))
        .collect()
}

/// `'sha256-…'` of every `<style>` element's content in `html`.
pub fn inline_style_hashes(html: &str) -> Vec<String> {
    elements(html, "style")
        .into_iter()
        .map(|e| csp_hash(e.content))
        .collect()
}

/// `'sha256-…'` of `content`, byte for byte, as a CSP source.
fn csp_hash(content: &str) -> String {
    format!(
        "'sha256-{}'",
        B64.encode(Sha256::digest(content.as_bytes()))
    )
}

/// One `<tag …>…</tag>` element: its start tag's attributes and its exact content.
struct Element<'a> {
    attrs: &'a str,
    content: &'a str,
}

/// Every element named `tag` (lowercase; matched in any case) in `html`, in order.
fn elements<'a>(html: &'a str, tag: &str) -> Vec<Element<'a>> {
    // ASCII lowercasing keeps every byte offset, so `lower`'s are `html`'s.
    let lower = html.to_ascii_lowercase();
    let open = format!("<{tag}");
    let close = format!("</{tag}");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find(&open).map(|i| i + from) {
        let after_name = start + open.len();
        // `<scripts>` or `<style-x>` are other elements.
        if !lower[after_name..]
            .starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        {
            from = after_name;
            continue;
        }
        let Some(tag_end) = tag_end(&lower, after_name) else {
            break;
        };
        let body_start = tag_end + 1;
        let Some(body_end) = lower[body_start..].find(&close).map(|i| i + body_start) else {
            break;
        };
        found.push(Element {
            attrs: &html[after_name..tag_end],
            content: &html[body_start..body_end],
        });
        from = body_end + close.len();
    }
    found
}

/// The `>` that ends a start tag, skipping quoted attribute values.
fn tag_end(s: &str, from: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, b) in s.bytes().enumerate().skip(from) {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), b) if b == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn has_attribute(attrs: &str, name: &str) -> bool {
    let bytes = attrs.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None => {
                let boundary = i == 0 || bytes[i - 1].is_ascii_whitespace();
                if boundary && attrs[i..].starts_with(name) {
                    let rest = attrs[i + name.len()..].trim_start();
                    if rest.is_empty()
                        || rest.starts_with('=')
                        || rest.starts_with(|c: char| c.is_ascii_whitespace() || c == '/')
                    {
                        return true;
                    }
                }
            }
        }
        i += 1;
    }
    false
}

/// The app's policy, given the inline script and style hashes and extra API origins.
pub fn app_csp(script_hashes: &[String], style_hashes: &[String], connect: &[String]) -> String {
    let mut script_src = vec!["'self'".to_string(), "'wasm-unsafe-eval'".to_string()];
    script_src.extend(script_hashes.iter().cloned());
    let mut style_src = vec!["'self'".to_string()];
    style_src.extend(style_hashes.iter().cloned());
    let mut connect_src = vec!["'self'".to_string()];
    for origin in connect {
        if !connect_src.contains(origin) {
            connect_src.push(origin.clone());
        }
    }
    format!(
        "default-src 'self'; script-src {}; style-src {}; img-src 'self' data: blob:; \
         connect-src {}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'",
        script_src.join(" "),
        style_src.join(" "),
        connect_src.join(" ")
    )
}

/// `https://api.example.com` from `https://api.example.com/api/`; `None` for anything else.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    if host.is_empty() || host.contains(['@', ' ', '\'', '"', ';', ',']) {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// Origins of every absolute http(s) URL in the app's `config.json` (its API bases).
pub fn config_origins(config_json: &str) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => {
                if let Some(o) = origin_of(s) {
                    if !out.contains(&o) {
                        out.push(o);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(m) => m.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(config_json) {
        walk(&v, &mut out);
    }
    out
}

/// The bundles' pages, root first: `index.html` and each `*/index.html` one level down.
pub fn bundle_pages(dist: &Path) -> Vec<PathBuf> {
    let root = dist.join("index.html");
    let mut nested: Vec<PathBuf> = std::fs::read_dir(dist)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("index.html"))
        .filter(|page| page.is_file())
        .collect();
    nested.sort();
    root.is_file()
        .then_some(root)
        .into_iter()
        .chain(nested)
        .collect()
}

fn push_new(into: &mut Vec<String>, items: Vec<String>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

/// Each file the policy is read from, with when it was last modified and its length.
type Stamp = Vec<(PathBuf, Option<SystemTime>, u64)>;

/// The policy for HTML, recomputed when a bundle's page or `config.json` changes
/// (or a bundle comes or goes).
struct HtmlPolicy {
    dist: PathBuf,
    connect: Vec<String>,
    cached: Mutex<(Option<Stamp>, HeaderValue)>,
}

impl HtmlPolicy {
    fn stamp(&self) -> Stamp {
        let mut files = bundle_pages(&self.dist);
        files.push(self.dist.join("config.json"));
        files
            .into_iter()
            .filter_map(|file| {
                let meta = std::fs::metadata(&file).ok()?;
                Some((file, meta.modified().ok(), meta.len()))
            })
            .collect()
    }

    fn compute(&self) -> HeaderValue {
        let (mut scripts, mut styles) = (Vec::new(), Vec::new());
        for page in bundle_pages(&self.dist) {
            let html = std::fs::read_to_string(page).unwrap_or_default();
            push_new(&mut scripts, inline_script_hashes(&html));
            push_new(&mut styles, inline_style_hashes(&html));
        }
        let mut connect = self.connect.clone();
        if let Ok(config) = std::fs::read_to_string(self.dist.join("config.json")) {
            push_new(&mut connect, config_origins(&config));
        }
        let csp = app_csp(&scripts, &styles, &connect);
        HeaderValue::from_str(&csp).unwrap_or_else(|_| {
            HeaderValue::from_static("default-src 'self'; object-src 'none'; base-uri 'none'")
        })
    }

    fn current(&self) -> HeaderValue {
        let stamp = Some(self.stamp());
        let Ok(mut cached) = self.cached.lock() else {
            return self.compute();
        };
        if cached.0 != stamp {
            cached.1 = self.compute();
            cached.0 = stamp;
        }
        cached.1.clone()
    }
}

/// What the security middleware needs.
#[derive(Clone)]
pub struct Security {
    html: Option<Arc<HtmlPolicy>>,
    allow_origins: Arc<Vec<String>>,
}

impl Security {
    /// `dist`: the built app (for the HTML policy); `connect`: extra API origins
    /// the app may call; `allow_origins`: app origins allowed to call this API.
    pub fn new(
        dist: Option<PathBuf>,
        connect: Vec<String>,
        allow_origins: Vec<String>,
    ) -> Security {
        let html = dist.map(|dist| {
            let policy = HtmlPolicy {
                dist,
                connect,
                cached: Mutex::new((None, HeaderValue::from_static(""))),
            };
            policy.current();
            Arc::new(policy)
        });
        Security {
            html,
            allow_origins: Arc::new(allow_origins),
        }
    }

    /// The HTML policy as it stands now (for the log at start).
    pub fn html_policy(&self) -> Option<String> {
        self.html
            .as_ref()
            .and_then(|p| p.current().to_str().ok().map(str::to_string))
    }

    /// CORS for the API, when app origins are allowed to call it from elsewhere.
    pub fn cors(&self) -> Option<CorsLayer> {
        if self.allow_origins.is_empty() {
            return None;
        }
        let origins = self
            .allow_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok());
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    HeaderName::from_static("idempotency-key"),
                ])
                // So the app can read them on errors and replays.
                .expose_headers([
                    header::RETRY_AFTER,
                    HeaderName::from_static("idempotent-replayed"),
                ])
                .max_age(PREFLIGHT_MAX_AGE),
        )
    }
}

fn is_html(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    headers.insert(name, HeaderValue::from_static(value));
}

/// Middleware for the whole app.
pub async fn security_headers(State(sec): State<Security>, req: Request, next: Next) -> Response {
    let is_api =
        req.uri().path() == API_BASE || req.uri().path().starts_with(&format!("{API_BASE}/"));
    let mut res = next.run(req).await;

    let html = is_html(&res);
    let h = res.headers_mut();
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, REFERRER_POLICY);
    if html {
        match &sec.html {
            Some(policy) => {
                h.insert(header::CONTENT_SECURITY_POLICY, policy.current());
            }
            None => set(h, header::CONTENT_SECURITY_POLICY, API_CSP),
        }
        set(h, header::X_FRAME_OPTIONS, "SAMEORIGIN");
    } else if is_api {
        // Not on other files: a script's own policy would bind a worker it starts.
        set(h, header::CONTENT_SECURITY_POLICY, API_CSP);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(s: &str) -> String {
        format!("'sha256-{}'", B64.encode(Sha256::digest(s.as_bytes())))
    }

    #[test]
    fn only_inline_scripts_are_hashed_byte_for_byte() {
        let loader = "\nimport init from '/maeum-0a1b.js';\nawait init();\n";
        let html = format!(
            "<html><head><SCRIPT type=\"module\">{loader}</SCRIPT>\
             <script src=\"/x.js\"></script><script defer src='/y.js' ></script>\
             <script data-note=\"a>b\">1</script><scripts>no</scripts></head></html>"
        );
        assert_eq!(inline_script_hashes(&html), [sha(loader), sha("1")]);
        assert!(inline_script_hashes("<p>no scripts</p>").is_empty());
        assert!(inline_script_hashes("<script>unterminated").is_empty());
        // A `data-src` attribute is not `src`.
        assert_eq!(
            inline_script_hashes("<script data-src=\"z\">2</script>"),
            [sha("2")]
        );
    }

    #[test]
    fn every_style_element_is_hashed_byte_for_byte() {
        let css = "\n:root{--brand:#e8590c}body{margin:0;font-family:\"Pretendard\",sans-serif}\n";
        let html = format!(
            "<html><head><style>{css}</style><STYLE media=\"print\">p{{color:red}}</STYLE>\
             <link rel=\"stylesheet\" href=\"/style-9f8e7d6c5b4a3210.css\">\
             <styles>no</styles><script>let s = 1;</script></head><body>마음</body></html>"
        );
        // The same digests, computed here from a known string.
        let known = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='";
        assert_eq!(sha(""), known, "sha256 of the empty string");
        assert_eq!(inline_style_hashes("<style></style>"), [known]);
        assert_eq!(inline_style_hashes(&html), [sha(css), sha("p{color:red}")]);
        // Styles are not scripts and scripts are not styles.
        assert_eq!(inline_script_hashes(&html), [sha("let s = 1;")]);
        assert!(inline_style_hashes("<p>no styles</p>").is_empty());
        assert!(inline_style_hashes("<style>unterminated").is_empty());
    }

    #[test]
    fn the_policy_allows_the_app_and_nothing_else() {
        let csp = app_csp(
            &["'sha256-abc='".into()],
            &["'sha256-def='".into()],
            &["https://api2.example".into()],
        );
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc='"));
        assert!(csp.contains("style-src 'self' 'sha256-def=';"));
        let plain = app_csp(&[], &[], &[]);
        assert!(plain.contains("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(plain.contains("style-src 'self';"));
        assert!(csp.contains("connect-src 'self' https://api2.example;"));
        assert!(csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"));
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn api_origins_come_from_absolute_urls_in_the_config() {
        let config = r#"{"api_bases": ["/api", "https://API-2.example.com/api/", "http://127.0.0.1:8081/api"], "x": 1, "note": "ftp://no"}"#;
        assert_eq!(
            config_origins(config),
            ["https://api-2.example.com", "http://127.0.0.1:8081"]
        );
        assert!(config_origins("not json").is_empty());
        assert_eq!(origin_of("https://a.b/c?d"), Some("https://a.b".into()));
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("https://a b"), None);
    }

    fn page(script: &str, style: &str) -> String {
        format!(
            "<!doctype html><html><head><style>{style}</style>\
             <script type=\"module\">{script}</script></head><body></body></html>"
        )
    }

    #[test]
    fn the_html_policy_hashes_every_bundle_and_follows_each_build() {
        let tmp = tempfile::tempdir().unwrap();
        let dist = tmp.path();
        std::fs::create_dir_all(dist.join("business")).unwrap();
        std::fs::create_dir_all(dist.join("assets")).unwrap();
        std::fs::create_dir_all(dist.join("business/claims")).unwrap();
        std::fs::write(dist.join("index.html"), page("root()", "body{margin:0}")).unwrap();
        std::fs::write(
            dist.join("business/index.html"),
            page("biz()", "main{gap:0}"),
        )
        .unwrap();
        // Two levels down is no bundle.
        std::fs::write(
            dist.join("business/claims/index.html"),
            page("deep()", "p{}"),
        )
        .unwrap();
        assert_eq!(
            bundle_pages(dist),
            [dist.join("index.html"), dist.join("business/index.html")]
        );

        let policy = HtmlPolicy {
            dist: dist.to_path_buf(),
            connect: vec![],
            cached: Mutex::new((None, HeaderValue::from_static(""))),
        };
        let csp = policy.current().to_str().unwrap().to_string();
        assert!(
            csp.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' {} {};",
                sha("root()"),
                sha("biz()")
            )),
            "{csp}"
        );
        assert!(
            csp.contains(&format!(
                "style-src 'self' {} {};",
                sha("body{margin:0}"),
                sha("main{gap:0}")
            )),
            "{csp}"
        );
        assert!(
            !csp.contains(&sha("deep()")) && !csp.contains(&sha("p{}")),
            "{csp}"
        );

        // A new business build (a different length, so no clock tick is needed).
        std::fs::write(
            dist.join("business/index.html"),
            page("biz2()", "main{gap:1px}"),
        )
        .unwrap();
        let csp = policy.current().to_str().unwrap().to_string();
        assert!(
            csp.contains(&sha("biz2()")) && !csp.contains(&sha("biz()")),
            "{csp}"
        );
        assert!(csp.contains(&sha("main{gap:1px}")) && csp.contains(&sha("body{margin:0}")));
        // A new bundle.
        std::fs::create_dir_all(dist.join("partner")).unwrap();
        std::fs::write(
            dist.join("partner/index.html"),
            page("partner()", "body{margin:0}"),
        )
        .unwrap();
        let csp = policy.current().to_str().unwrap().to_string();
        assert!(
            csp.contains(&sha("partner()")) && csp.contains(&sha("biz2()")),
            "{csp}"
        );
        // The same style in two bundles is listed once.
        assert_eq!(csp.matches(&sha("body{margin:0}")).count(), 1, "{csp}");
    }
}
