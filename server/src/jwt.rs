//! Identity tokens from an OpenID Connect provider (KakaoTalk sign-in): a JWT
//! signed with RS256 or ES256, checked against the provider's JWKS, its
//! issuer, audience, `exp` and `nbf`. The user id is `sub`.
//!
//! Keys are cached by `kid`. A token naming a key not in the cache makes one
//! refetch (at most one fetch a second, whatever the traffic, so made-up `kid`s
//! cannot flood the provider); when the JWKS cannot be fetched, the cached keys
//! keep working.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::token::valid_user_id;

/// Clock difference tolerated on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 30;
/// Fewest time between two JWKS fetches.
const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(1);
/// Longest wait for the JWKS endpoint.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the keys come from.
#[derive(Clone, Debug)]
pub enum JwksSource {
    Url(String),
    File(PathBuf),
}

/// `--jwks-url|--jwks-file`, `--issuer`, `--audience`.
#[derive(Clone, Debug)]
pub struct JwtConfig {
    pub jwks: JwksSource,
    pub issuer: String,
    pub audience: String,
}

/// Why a token was refused (logged at debug level; the client sees one 401).
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    Algorithm,
    UnknownKey,
    Invalid(String),
    Subject,
}

#[derive(Clone)]
struct Key {
    key: DecodingKey,
    alg: Algorithm,
}

pub struct JwtVerifier {
    config: JwtConfig,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, Key>>,
    /// Held while fetching (one fetch at a time); the instant of the last fetch.
    fetched: tokio::sync::Mutex<Option<Instant>>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

impl JwtVerifier {
    /// Loads the keys once. A JWKS file must be readable; a JWKS URL that does
    /// not answer yet only logs a warning (tokens are refused until it does).
    pub async fn new(config: JwtConfig) -> Result<JwtVerifier, String> {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the JWKS client: {e}"))?;
        let verifier = JwtVerifier {
            config,
            http,
            keys: RwLock::new(HashMap::new()),
            fetched: tokio::sync::Mutex::new(None),
        };
        match (verifier.refresh().await, &verifier.config.jwks) {
            (Ok(n), _) => tracing::info!(keys = n, "JWKS loaded"),
            (Err(e), JwksSource::File(_)) => return Err(e),
            (Err(e), JwksSource::Url(_)) => {
                tracing::warn!("JWKS not loaded yet, tokens are refused until it is: {e}")
            }
        }
        Ok(verifier)
    }

    /// The user id (`sub`) of a valid token.
    pub async fn verify(&self, token: &str) -> Result<String, Refusal> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Malformed)?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(Refusal::Algorithm);
        }
        let kid = header.kid.unwrap_or_default();
        let key = match self.key(&kid) {
            Some(k) => k,
            None => {
                self.refetch().await;
                self.key(&kid).ok_or(Refusal::UnknownKey)?
            }
        };
        if key.alg != header.alg {
            return Err(Refusal::Algorithm);
        }
        let mut validation = Validation::new(key.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map_err(|e| Refusal::Invalid(format!("{:?}", e.kind())))?;
        if valid_user_id(&data.claims.sub) {
            Ok(data.claims.sub)
        } else {
            Err(Refusal::Subject)
        }
    }

    /// The key for `kid`; a token without a `kid` may use the only key there is.
    fn key(&self, kid: &str) -> Option<Key> {
        let keys = self.keys.read().ok()?;
        match keys.get(kid) {
            Some(k) => Some(k.clone()),
            None if kid.is_empty() && keys.len() == 1 => keys.values().next().cloned(),
            None => None,
        }
    }

    /// Fetches again (unless a fetch happened within the last second).
    async fn refetch(&self) {
        if let Err(e) = self.refresh().await {
            tracing::warn!("JWKS refetch failed, the cached keys stay in use: {e}");
        }
    }

    /// Fetches the JWKS and replaces the cache; on failure the cache stays.
    async fn refresh(&self) -> Result<usize, String> {
        let mut fetched = self.fetched.lock().await;
        if fetched.is_some_and(|t| t.elapsed() < MIN_REFETCH_INTERVAL) {
            return Ok(self.keys.read().map(|k| k.len()).unwrap_or(0));
        }
        *fetched = Some(Instant::now());
        let set: JwkSet = match &self.config.jwks {
            JwksSource::File(path) => {
                let text = tokio::fs::read_to_string(path)
                    .await
                    .map_err(|e| format!("JWKS file {}: {e}", path.display()))?;
                serde_json::from_str(&text)
                    .map_err(|e| format!("JWKS file {}: {e}", path.display()))?
            }
            JwksSource::Url(url) => {
                let res = self
                    .http
                    .get(url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| format!("JWKS {url}: {e}"))?;
                res.json().await.map_err(|e| format!("JWKS {url}: {e}"))?
            }
        };
        let keys = usable_keys(&set);
        if keys.is_empty() {
            return Err("the JWKS has no RS256 or ES256 key with a kid".into());
        }
        let n = keys.len();
        if let Ok(mut cache) = self.keys.write() {
            *cache = keys;
        }
        Ok(n)
    }
}

/// The set's RS256 and P-256 (ES256) signing keys, by `kid`; others are skipped.
fn usable_keys(set: &JwkSet) -> HashMap<String, Key> {
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
            (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
            (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
                if ec.curve == EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            _ => continue,
        };
        let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) else {
            continue;
        };
        keys.insert(kid, Key { key, alg });
    }
    keys
}
