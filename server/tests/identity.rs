//! Identity tokens: JWTs signed with a key pair made here, verified against a
//! JWKS served over real HTTP, with every refusal a 401 problem document.

mod common;

use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use axum::response::IntoResponse;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use maeum_server::jwt::{JwksSource, JwtConfig};
use ring::signature::KeyPair as _;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const ISSUER: &str = "https://kauth.kakao.example";
const AUDIENCE: &str = "maeum-app";

/// A signing key and its public JWK.
struct SigningKey {
    kid: String,
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn rsa_key(kid: &str) -> SigningKey {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let der = private.to_pkcs1_der().unwrap();
    SigningKey {
        kid: kid.into(),
        alg: Algorithm::RS256,
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": B64URL.encode(private.n().to_bytes_be()),
            "e": B64URL.encode(private.e().to_bytes_be()),
        }),
    }
}

fn ec_key(kid: &str) -> SigningKey {
    use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref(); // 0x04 ‖ x ‖ y
    SigningKey {
        kid: kid.into(),
        alg: Algorithm::ES256,
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({
            "kty": "EC", "kid": kid, "crv": "P-256", "use": "sig",
            "x": B64URL.encode(&point[1..33]),
            "y": B64URL.encode(&point[33..65]),
        }),
    }
}

fn now() -> i64 {
    maeum_server::clock::system_now().0 / 1000
}

fn mint(key: &SigningKey, claims: Value) -> String {
    let mut header = Header::new(key.alg);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, &claims, &key.encoding).unwrap()
}

fn claims(sub: &str) -> Value {
    json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now(), "exp": now() + 600 })
}

/// The provider's JWKS endpoint: its keys, whether it is up, and its hits.
#[derive(Default)]
struct Provider {
    keys: Vec<Value>,
    down: bool,
    hits: usize,
}

async fn jwks(State(p): State<Arc<Mutex<Provider>>>) -> axum::response::Response {
    let mut p = p.lock().unwrap();
    p.hits += 1;
    if p.down {
        return AxumStatus::SERVICE_UNAVAILABLE.into_response();
    }
    axum::Json(json!({ "keys": p.keys })).into_response()
}

async fn serve_provider(provider: Arc<Mutex<Provider>>) -> String {
    let app = axum::Router::new()
        .route("/jwks", axum::routing::get(jwks))
        .with_state(provider);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn me(s: &TestServer, token: &str) -> reqwest::Response {
    s.http
        .get(s.url("/api/v1/me/claims"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn start(jwks: JwksSource) -> TestServer {
    TestServer::start_with(|c| {
        c.jwt = Some(JwtConfig {
            jwks,
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
        })
    })
    .await
}

/// Sends `token` until it is accepted (the verifier fetches at most once a second).
async fn until_accepted(s: &TestServer, token: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let status = me(s, token).await.status();
        if status == 200 {
            return;
        }
        assert_eq!(status, 401);
        assert!(std::time::Instant::now() < deadline, "never accepted");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn tokens_signed_by_the_providers_keys_are_accepted_and_every_other_one_is_a_401() {
    let (rs, es, stranger) = (rsa_key("rs-1"), ec_key("es-1"), rsa_key("rs-1"));
    let provider = Arc::new(Mutex::new(Provider {
        keys: vec![rs.jwk.clone(), es.jwk.clone()],
        ..Provider::default()
    }));
    let s = start(JwksSource::Url(serve_provider(provider.clone()).await)).await;

    // RS256 and ES256; `sub` is the user.
    let res = me(&s, &mint(&rs, claims("4012345678"))).await;
    assert_eq!(res.status(), 200);
    assert!(
        s.claim_with(&mint(&es, claims("es-user")), "k1")
            .await
            .status()
            == 200
    );
    let res = me(&s, &mint(&es, claims("es-user"))).await;
    assert_eq!(json(res).await["claims"].as_array().unwrap().len(), 1);

    let t = now();
    let refused = [
        (
            "signed by another key under the same kid",
            mint(&stranger, claims("u")),
        ),
        (
            "wrong issuer",
            mint(
                &rs,
                json!({"iss": "https://evil.example", "aud": AUDIENCE, "sub": "u", "exp": t + 600}),
            ),
        ),
        (
            "wrong audience",
            mint(
                &rs,
                json!({"iss": ISSUER, "aud": "another-app", "sub": "u", "exp": t + 600}),
            ),
        ),
        (
            "expired beyond the leeway",
            mint(
                &rs,
                json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": t - 120}),
            ),
        ),
        (
            "not yet valid",
            mint(
                &rs,
                json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": t + 600, "nbf": t + 300}),
            ),
        ),
        (
            "without exp",
            mint(&rs, json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "u"})),
        ),
        (
            "a sub that is no user id",
            mint(
                &rs,
                json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "a b/c", "exp": t + 600}),
            ),
        ),
        ("an unknown kid", mint(&rsa_key("rs-unknown"), claims("u"))),
        ("HS256 with the public key as secret", {
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some("rs-1".into());
            jsonwebtoken::encode(&h, &claims("u"), &EncodingKey::from_secret(b"n")).unwrap()
        }),
        (
            "alg none",
            format!(
                "{}.{}.",
                B64URL.encode(br#"{"alg":"none","kid":"rs-1"}"#),
                B64URL.encode(claims("u").to_string())
            ),
        ),
        ("the server's own dev token", s.token("u")),
        ("garbage", "not.a.jwt".to_string()),
    ];
    for (why, token) in refused {
        let res = me(&s, &token).await;
        assert_eq!(res.status(), 401, "{why}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{why}");
        expect_problem(res, 401, "unauthorized").await;
    }
    // Within the leeway, an expired token still passes.
    let res = me(
        &s,
        &mint(
            &rs,
            json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": t - 5}),
        ),
    )
    .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_new_key_is_fetched_on_its_first_token_and_an_outage_keeps_the_cached_keys() {
    let (old, new) = (rsa_key("old"), ec_key("new"));
    let provider = Arc::new(Mutex::new(Provider {
        keys: vec![old.jwk.clone()],
        ..Provider::default()
    }));
    let s = start(JwksSource::Url(serve_provider(provider.clone()).await)).await;
    assert_eq!(me(&s, &mint(&old, claims("u1"))).await.status(), 200);
    let hits = provider.lock().unwrap().hits;
    assert_eq!(hits, 1, "fetched once at start, then cached");

    // The provider rotates in a key: its first token makes the server fetch again.
    provider.lock().unwrap().keys.push(new.jwk.clone());
    until_accepted(&s, &mint(&new, claims("u2"))).await;
    let after_rotation = provider.lock().unwrap().hits;
    assert!(after_rotation > hits);
    for _ in 0..5 {
        assert_eq!(me(&s, &mint(&new, claims("u2"))).await.status(), 200);
    }
    assert_eq!(
        provider.lock().unwrap().hits,
        after_rotation,
        "known keys need no fetch"
    );

    // The provider goes down: cached keys still work, unknown ones are a 401, never a 500.
    provider.lock().unwrap().down = true;
    let unknown = rsa_key("unknown");
    for _ in 0..3 {
        assert_eq!(me(&s, &mint(&old, claims("u1"))).await.status(), 200);
        let res = me(&s, &mint(&unknown, claims("u3"))).await;
        expect_problem(res, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn an_unreachable_jwks_refuses_tokens_with_401_and_a_jwks_file_works_alone() {
    let key = ec_key("file-key");
    // Nothing listens there: the server starts, and refuses tokens.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/jwks", l.local_addr().unwrap())
    };
    let s = start(JwksSource::Url(dead)).await;
    expect_problem(me(&s, &mint(&key, claims("u"))).await, 401, "unauthorized").await;
    assert_eq!(s.get("/api/v1/status", None).await.status(), 200);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, json!({ "keys": [key.jwk] }).to_string()).unwrap();
    let s = start(JwksSource::File(file)).await;
    assert_eq!(me(&s, &mint(&key, claims("u"))).await.status(), 200);

    // A missing file stops the start.
    let mut config = maeum_server::Config::new(dir.path().join("data2"));
    config.jwt = Some(JwtConfig {
        jwks: JwksSource::File(dir.path().join("missing.json")),
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
    });
    let err = maeum_server::start(config).await.err().unwrap();
    assert!(err.contains("missing.json"), "{err}");
}

trait ClaimWith {
    async fn claim_with(&self, token: &str, key: &str) -> reqwest::Response;
}

impl ClaimWith for TestServer {
    async fn claim_with(&self, token: &str, key: &str) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/claims"))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&json!({ "item_ids": [DRAWER] }))
            .send()
            .await
            .unwrap()
    }
}
