//! HTTP to the backend under test. Every exchange is kept in a form the report can
//! print (the bearer token never is), and every answer is audited against the
//! rules that hold for all of them: documented status and schema, content type,
//! `Cache-Control: no-store`, `Retry-After` on 429/503.

use crate::openapi;
use reqwest::blocking::Client as Http;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;

/// Why a check failed, and the exchange that showed it.
#[derive(Clone, Debug)]
pub struct Failure {
    pub why: String,
    /// The request and the answer, as printed in the report.
    pub exchange: Option<String>,
}

impl Failure {
    pub fn new(why: impl Into<String>) -> Failure {
        Failure {
            why: why.into(),
            exchange: None,
        }
    }

    pub fn at(why: impl Into<String>, x: &Exchange) -> Failure {
        Failure {
            why: why.into(),
            exchange: Some(x.render()),
        }
    }
}

/// Fails with `why` (and the exchange) unless `ok`.
pub fn ensure(ok: bool, why: impl FnOnce() -> String, x: &Exchange) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure::at(why(), x))
    }
}

/// One request and its answer.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    /// Relative to the API base, e.g. `/v1/claims`.
    pub path: String,
    /// Request headers as shown (the token elided).
    pub request_headers: Vec<(String, String)>,
    /// The request body as shown (binary and long bodies summarised).
    pub request_body: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Exchange {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The problem `code`, if the body has one.
    pub fn code(&self) -> Option<String> {
        self.json()["code"].as_str().map(str::to_string)
    }

    /// Asserts a problem answer with this status and code; returns its body.
    pub fn problem(&self, status: u16, code: &str) -> Result<Value, Failure> {
        let body = self.json();
        ensure(
            self.status == status && body["code"] == code,
            || format!("expected {status} `{code}`"),
            self,
        )?;
        Ok(body)
    }

    /// Asserts this status; returns the JSON body.
    pub fn expect(&self, status: u16) -> Result<Value, Failure> {
        ensure(self.status == status, || format!("expected {status}"), self)?;
        Ok(self.json())
    }

    /// `> request` and `< answer` lines for the report.
    pub fn render(&self) -> String {
        let mut out = format!("> {} {}\n", self.method, self.path);
        for (k, v) in &self.request_headers {
            out.push_str(&format!("> {k}: {v}\n"));
        }
        if !self.request_body.is_empty() {
            out.push_str(&format!("> {}\n", self.request_body));
        }
        out.push_str(&format!("< {}\n", self.status));
        for (k, v) in &self.headers {
            out.push_str(&format!("< {k}: {}\n", v.to_str().unwrap_or("(not text)")));
        }
        if !self.body.is_empty() {
            out.push_str(&format!("< {}\n", openapi::clip(&self.body)));
        }
        out
    }
}

/// A request being built.
pub struct Req<'c> {
    client: &'c Client,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    shown: Vec<(String, String)>,
    body: Vec<u8>,
    shown_body: String,
}

impl Req<'_> {
    pub fn bearer(mut self, token: &str) -> Self {
        self.headers
            .push(("Authorization".into(), format!("Bearer {token}")));
        self.shown
            .push(("Authorization".into(), "Bearer (token)".into()));
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self.shown.push((name.into(), value.into()));
        self
    }

    pub fn key(self, key: &str) -> Self {
        self.header(maeum_contract::IDEMPOTENCY_KEY, key)
    }

    /// A JSON body, sent exactly as given (malformed ones included).
    pub fn json_text(self, text: &str) -> Self {
        self.header("Content-Type", "application/json")
            .raw_body(text.as_bytes().to_vec(), openapi::clip(text))
    }

    pub fn json(self, v: &Value) -> Self {
        self.json_text(&v.to_string())
    }

    /// A body of another type; `shown` is what the report prints for it.
    pub fn raw_body(mut self, bytes: Vec<u8>, shown: String) -> Self {
        self.body = bytes;
        self.shown_body = shown;
        self
    }

    pub fn send(self) -> Result<Exchange, Failure> {
        let c = self.client;
        let mut req = c
            .http
            .request(self.method.clone(), format!("{}{}", c.base, self.path));
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        if !self.body.is_empty() {
            req = req.body(self.body);
        }
        let mut x = Exchange {
            method: self.method.to_string(),
            path: self.path,
            request_headers: self.shown,
            request_body: self.shown_body,
            status: 0,
            headers: HeaderMap::new(),
            body: String::new(),
        };
        let res = req
            .send()
            .map_err(|e| Failure::at(format!("no answer: {}", error_chain(&e)), &x))?;
        x.status = res.status().as_u16();
        x.headers = res.headers().clone();
        let bytes = res
            .bytes()
            .map_err(|e| Failure::at(format!("the answer broke off: {}", error_chain(&e)), &x))?;
        x.body = String::from_utf8_lossy(&bytes).into_owned();
        c.audit(&x);
        Ok(x)
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    s
}

/// Findings of one rule that every answer must follow.
#[derive(Default, Clone, Debug)]
pub struct Findings {
    /// Answers the rule applied to.
    pub seen: usize,
    /// Answers that broke it.
    pub broken: usize,
    /// The first few, with why.
    pub examples: Vec<Failure>,
}

impl Findings {
    fn note(&mut self, broken: Option<String>, x: &Exchange) {
        self.seen += 1;
        if let Some(why) = broken {
            self.broken += 1;
            if self.examples.len() < 2 {
                self.examples.push(Failure::at(why, x));
            }
        }
    }
}

/// The rules audited on every answer.
#[derive(Default, Clone, Debug)]
pub struct Audit {
    pub schema: Findings,
    pub content_type: Findings,
    pub no_store: Findings,
    pub retry_after: Findings,
}

/// The backend's API, at its base URL.
pub struct Client {
    base: String,
    http: Http,
    audit: Mutex<Audit>,
}

impl Client {
    pub fn new(base: &str) -> Result<Client, String> {
        let http = Http::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Client {
            base: base.trim_end_matches('/').to_string(),
            http,
            audit: Mutex::default(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn request(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            client: self,
            method,
            path: path.to_string(),
            headers: Vec::new(),
            shown: Vec::new(),
            body: Vec::new(),
            shown_body: String::new(),
        }
    }

    pub fn get(&self, path: &str) -> Req<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Req<'_> {
        self.request(Method::POST, path)
    }

    /// What the audit found so far.
    pub fn audit_so_far(&self) -> Audit {
        self.audit.lock().map(|a| a.clone()).unwrap_or_default()
    }

    fn audit(&self, x: &Exchange) {
        // Preflights are CORS's business (checked by the headers group), not the contract's.
        if x.method == "OPTIONS" {
            return;
        }
        let Ok(mut audit) = self.audit.lock() else {
            return;
        };
        let route = openapi::route_of(&x.path);
        let content_type = x.header("content-type");
        let schema = match route {
            None => Some(format!("{} is not a documented route", x.path)),
            Some(route) => openapi::check_answer(
                route,
                &x.method,
                &openapi::Answer {
                    status: x.status,
                    content_type,
                    headers: x.headers.keys().map(|k| k.to_string()).collect(),
                    body: &x.body,
                },
            )
            .err(),
        };
        audit.schema.note(schema, x);
        if let Some(Ok(documented)) = route.map(|r| openapi::content_types(r, &x.method, x.status))
        {
            if !documented.is_empty() {
                let essence = content_type.map(|ct| {
                    ct.split(';')
                        .next()
                        .unwrap_or(ct)
                        .trim()
                        .to_ascii_lowercase()
                });
                let ok = essence.as_ref().is_some_and(|e| documented.contains(e));
                audit.content_type.note(
                    (!ok).then(|| {
                        format!(
                            "a {} answer must be {}, not {}",
                            x.status,
                            documented.join(" or "),
                            content_type.unwrap_or("untyped")
                        )
                    }),
                    x,
                );
            }
        }
        let no_store = x.headers.get_all("cache-control").iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
            })
        });
        audit.no_store.note(
            (!no_store).then(|| "no `Cache-Control: no-store`".to_string()),
            x,
        );
        if matches!(x.status, 429 | 503) {
            let ok = x
                .header("retry-after")
                .is_some_and(|v| v.trim().parse::<u64>().is_ok());
            audit.retry_after.note(
                (!ok).then(|| format!("a {} without `Retry-After: SECONDS`", x.status)),
                x,
            );
        }
    }
}
