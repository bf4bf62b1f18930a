//! Bearer tokens: `base64url(user_id "." expiry_unix_seconds) "." base64url(HMAC-SHA256)`.
//! The secret comes from `MAEUM_TOKEN_SECRET`, or is generated once into `DIR/token.key`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::io::Write;
use std::path::Path;

use crate::campaign::valid_id;

type HmacSha256 = Hmac<Sha256>;

pub const SECRET_ENV: &str = "MAEUM_TOKEN_SECRET";
pub const KEY_FILE: &str = "token.key";
/// How long an issued token is valid.
pub const TOKEN_TTL_SECONDS: i64 = 30 * 24 * 3600;
const MIN_SECRET_LEN: usize = 16;

#[derive(Clone)]
pub struct TokenKey {
    secret: Vec<u8>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// User ids: 1 to 64 characters of `[A-Za-z0-9_-]`.
pub fn valid_user_id(user: &str) -> bool {
    valid_id(user)
}

impl TokenKey {
    pub fn from_secret(secret: impl Into<Vec<u8>>) -> Result<TokenKey, String> {
        let secret = secret.into();
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "the token secret must be at least {MIN_SECRET_LEN} bytes"
            ));
        }
        Ok(TokenKey { secret })
    }

    /// `MAEUM_TOKEN_SECRET` if set, else `DIR/token.key`, created (mode 0600) on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<TokenKey, String> {
        match std::env::var(SECRET_ENV) {
            Ok(s) if !s.is_empty() => {
                return TokenKey::from_secret(s).map_err(|e| format!("{SECRET_ENV}: {e}"))
            }
            _ => {}
        }
        let path = data_dir.join(KEY_FILE);
        let read = || -> Result<TokenKey, String> {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            TokenKey::from_secret(text.trim()).map_err(|e| format!("{}: {e}", path.display()))
        };
        if path.exists() {
            return read();
        }
        // Several processes may start on one fresh data directory: each writes a
        // whole key to a file of its own, and the first to link it into place
        // wins. A reader never sees a half-written key.
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = data_dir.join(format!("{KEY_FILE}.{:016x}.tmp", rand::random::<u64>()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let written = opts
            .open(&tmp)
            .and_then(|mut file| {
                file.write_all(hex.as_bytes())
                    .and_then(|()| file.sync_all())
            })
            .and_then(|()| std::fs::hard_link(&tmp, &path));
        let _ = std::fs::remove_file(&tmp);
        match written {
            Ok(()) => TokenKey::from_secret(hex),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(),
            Err(e) => Err(format!("cannot create {}: {e}", path.display())),
        }
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length.
        match HmacSha256::new_from_slice(&self.secret) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    /// A token for `user` that expires `TOKEN_TTL_SECONDS` after `now_unix`.
    pub fn issue(&self, user: &str, now_unix: i64) -> String {
        let payload = B64.encode(format!("{user}.{}", now_unix + TOKEN_TTL_SECONDS));
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        format!("{payload}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    /// The user id, if the token is ours, intact and unexpired at `now_unix`.
    pub fn verify(&self, token: &str, now_unix: i64) -> Option<String> {
        if token.len() > 512 {
            return None;
        }
        let (payload, sig) = token.split_once('.')?;
        let sig = B64.decode(sig).ok()?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&sig).ok()?; // constant time
        let text = String::from_utf8(B64.decode(payload).ok()?).ok()?;
        let (user, exp) = text.rsplit_once('.')?;
        let exp: i64 = exp.parse().ok()?;
        (valid_user_id(user) && now_unix < exp).then(|| user.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Processes starting together on a fresh data directory agree on one
    /// whole key (one used to read another's half-written file).
    #[test]
    fn racing_starts_share_one_key() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let keys: Vec<Vec<u8>> = std::thread::scope(|s| {
                let starts: Vec<_> = (0..8)
                    .map(|_| s.spawn(|| TokenKey::load_or_create(dir.path()).unwrap().secret))
                    .collect();
                starts.into_iter().map(|t| t.join().unwrap()).collect()
            });
            assert!(keys.iter().all(|k| *k == keys[0]));
            let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
            assert_eq!(names.len(), 1, "no temporary file is left");
        }
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let key = TokenKey::from_secret("0123456789abcdef0123").unwrap();
        let t = key.issue("user-1", 1_000);
        assert_eq!(key.verify(&t, 1_001).as_deref(), Some("user-1"));
        assert_eq!(key.verify(&t, 1_000 + TOKEN_TTL_SECONDS), None);
    }

    #[test]
    fn tampered_or_foreign_tokens_are_rejected() {
        let key = TokenKey::from_secret("0123456789abcdef0123").unwrap();
        let other = TokenKey::from_secret("another secret, long enough").unwrap();
        let t = key.issue("alice", 0);
        assert_eq!(other.verify(&t, 1), None);
        let (payload, sig) = t.split_once('.').unwrap();
        let forged = format!("{}.{sig}", B64.encode(format!("bob.{}", TOKEN_TTL_SECONDS)));
        assert_eq!(key.verify(&forged, 1), None);
        assert_eq!(key.verify(&format!("{payload}.{}", &sig[1..]), 1), None);
        for junk in ["", ".", "a.b", "%%%.%%%", &"x".repeat(600)] {
            assert_eq!(key.verify(junk, 1), None);
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKey::from_secret("short").is_err());
    }

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        if std::env::var(SECRET_ENV).is_ok_and(|s| !s.is_empty()) {
            return; // the environment overrides the file
        }
        let a = TokenKey::load_or_create(dir.path()).unwrap();
        let b = TokenKey::load_or_create(dir.path()).unwrap();
        assert_eq!(b.verify(&a.issue("u", 0), 1).as_deref(), Some("u"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
