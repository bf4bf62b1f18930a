//! PostgreSQL storage (`serve --database postgres://...`): the same operations
//! and guarantees as `db` and `bizdb`, for several server processes sharing one
//! database.
//!
//! Driver: `tokio-postgres` with the `deadpool-postgres` pool. Chosen over sqlx
//! because the server needs none of sqlx's compile-time checking or multi-engine
//! layer (SQLite stays on rusqlite), it is a much smaller build on this shared
//! machine, and SQLSTATEs are plain values to match on.
//!
//! Every guarantee rests on a constraint, not on a lock held by one process:
//! `claims (user_id, item_id)` (never an item twice), `idempotency (user_id, key)`
//! (one answer per key), `damage_claims.brn` and `channel_cash.brn` (once per
//! business), and `item_stripes.granted <= share` with shares adding up to the cap
//! (the exact cap, see docs/scaling.md). Transactions run at the default READ
//! COMMITTED level (uploads, whose quota is a count, at SERIALIZABLE); a
//! transaction that loses a race on one of those constraints, a serialization
//! failure (40001) or a deadlock (40P01) is rolled back and run again from the
//! start, where it now sees the winner's row and answers as SQLite would.
//! No advisory locks, no LISTEN/NOTIFY, no triggers or procedures: the SQL is
//! what CockroachDB, YugabyteDB, Citus and Aurora accept too.

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use maeum_contract::business::{
    ChannelCash, DamageClaimReceipt, DamageClaimStatus, Upload, CHANNEL_CASH_WON,
};
use maeum_contract::gate::Phase;
use maeum_contract::{
    Claim, ClaimResponse, ClaimResult, ClaimStatus, MyClaims, Package, Timestamp,
};
use rand::seq::SliceRandom;
use rand::Rng;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_postgres::error::SqlState;
use tokio_postgres::Row;

use crate::bizdb::{
    self, category_str, json_err, ChannelCashInput, DamageClaimInput, DamageClaimRow, Decision,
    NewUpload, Outcome, Refused, UploadOutcome,
};
use crate::campaign::Campaign;
use crate::db::{
    self, to_i64, to_u64, ClaimInput, ClaimOutcome, DbError, DbResult, ItemRow, MinuteCount,
    Report, Settings,
};

/// Rows each item's grant count is spread over (docs/scaling.md, "the hot row").
pub const STRIPES: i32 = 256;
/// Runs of one transaction before a lost race is answered as busy (503, retryable).
const MAX_ATTEMPTS: u32 = 12;
/// Longest wait for a pooled connection or a new one.
const POOL_WAIT: Duration = Duration::from_secs(5);
/// Connections per process, by default.
pub const DEFAULT_POOL_SIZE: usize = 8;

/// Versioned schema changes, in order; `schema_migrations` records those applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_init.sql"),
    include_str!("../migrations/postgres/0002_business.sql"),
];

/// A `CHECK` refused a write: on the claim's one statement, a stripe that filled up.
fn is_check_violation(e: &DbError) -> bool {
    matches!(e, DbError::Postgres(e) if e.code() == Some(&SqlState::CHECK_VIOLATION))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The common claim in one statement (see `Pg::claim_at_once`). $1 user, $2 key,
/// $3 now, $4 item ids, $5 a stripe per item, $6 expiry and $7 code per item,
/// $8 request hash, $9 the answer. The phase test is `Settings::phase`'s "open".
const CLAIM_AT_ONCE: &str = "
WITH gate AS (
    SELECT 1 FROM campaign
     WHERE id = 1 AND NOT paused AND release_at <= $3 AND (closes_at IS NULL OR $3 < closes_at)
       AND NOT EXISTS (SELECT 1 FROM ineligible WHERE user_id = $1)
       AND NOT EXISTS (SELECT 1 FROM idempotency WHERE user_id = $1 AND key = $2)
       AND NOT EXISTS (SELECT 1 FROM claims WHERE user_id = $1 AND item_id = ANY($4))
), counted AS (
    -- Locked in one order in every process (an updated row moves in the heap,
    -- so a plain scan's order varies and two claims could deadlock).
    UPDATE item_stripes s SET granted = s.granted + 1
      FROM (SELECT t.item_id, t.stripe
              FROM gate, item_stripes t, unnest($4::text[], $5::int[]) AS w(item_id, stripe)
             WHERE t.item_id = w.item_id AND t.stripe = w.stripe
             ORDER BY t.item_id, t.stripe
               FOR UPDATE OF t) AS l
     WHERE s.item_id = l.item_id AND s.stripe = l.stripe
), granted AS (
    INSERT INTO claims (user_id, item_id, claimed_at, expires_at, code, idempotency_key)
    SELECT $1, c.item_id, $3, c.expires_at, c.code, $2
      FROM gate, unnest($4::text[], $6::bigint[], $7::text[]) AS c(item_id, expires_at, code)
)
INSERT INTO idempotency (user_id, key, request_hash, response, created_at)
SELECT $1, $2, $8, $9, $3 FROM gate
RETURNING 1";

/// Lost a race that a fresh run of the same transaction resolves.
fn is_retryable(e: &DbError) -> bool {
    let DbError::Postgres(e) = e else {
        return false;
    };
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
    )
}

fn pool_error(e: deadpool_postgres::PoolError) -> DbError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => DbError::Postgres(e),
        other => DbError::Unavailable(other.to_string()),
    }
}

/// Shared handle to the PostgreSQL pool.
#[derive(Clone)]
pub struct Pg {
    pool: Pool,
    recent: Arc<Recent>,
}

/// How long a claim may be admitted by, and pick its stripes from, what this
/// process last read of the campaign row and the items (docs/scaling.md, "What a
/// process remembers"). Never used to refuse, to grant or to answer a read: the
/// claim's statement or transaction checks the row itself, and every read
/// endpoint gets a read that started after it arrived.
pub const RECENT_FOR: Duration = Duration::from_secs(1);

/// The campaign row and the items as last read, and the reads of them shared by
/// requests that arrive together.
#[derive(Default)]
struct Recent {
    settings: Mutex<Option<(Instant, Settings)>>,
    items: Mutex<Option<Arc<RecentItems>>>,
    settings_reads: Coalesced<Settings>,
    items_reads: Coalesced<Arc<RecentItems>>,
}

struct RecentItems {
    read_at: Instant,
    rows: Vec<ItemRow>,
    /// Stripes that had room when read, per item (same order as `rows`).
    open_stripes: Vec<Vec<i32>>,
}

impl RecentItems {
    fn young(&self) -> bool {
        self.read_at.elapsed() < RECENT_FOR
    }

    fn row(&self, id: &str) -> Option<(usize, &ItemRow)> {
        self.rows.iter().enumerate().find(|(_, r)| r.id == id)
    }
}

/// One read for every request waiting when it starts. Each request still gets a
/// read that *started after it arrived*, so it sees every change committed before
/// (an operator's `admin pause` shows on the very next status poll), but a burst
/// of N polls costs the database about two reads, not N. Hand-written: it is a
/// list of waiters and a fair lock; no crate does exactly this.
struct Coalesced<T> {
    waiting: Mutex<Vec<tokio::sync::oneshot::Sender<Result<T, SharedError>>>>,
    /// Held by the request reading for the others (tokio's lock is first come, first served).
    reader: tokio::sync::Mutex<()>,
}

impl<T> Default for Coalesced<T> {
    fn default() -> Self {
        Coalesced {
            waiting: Mutex::default(),
            reader: tokio::sync::Mutex::default(),
        }
    }
}

/// A read's failure as told to the requests that shared it: still 503 when it was "not now".
#[derive(Clone)]
struct SharedError {
    busy: bool,
    what: String,
}

impl From<SharedError> for DbError {
    fn from(e: SharedError) -> DbError {
        if e.busy {
            DbError::Unavailable(e.what)
        } else {
            DbError::Other(e.what)
        }
    }
}

impl<T: Clone> Coalesced<T> {
    async fn read<F: std::future::Future<Output = DbResult<T>>>(
        &self,
        read: impl FnOnce() -> F,
    ) -> DbResult<T> {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        lock(&self.waiting).push(tx);
        let _reader = self.reader.lock().await;
        // Answered by the reader before us (we were waiting when it started).
        if let Ok(answer) = rx.try_recv() {
            return answer.map_err(DbError::from);
        }
        // Everyone waiting now, us included, gets the read that starts now.
        let batch = std::mem::take(&mut *lock(&self.waiting));
        let result = read().await;
        let shared = result.as_ref().map(T::clone).map_err(|e| SharedError {
            busy: e.is_busy(),
            what: e.to_string(),
        });
        for waiter in batch {
            let _ = waiter.send(shared.clone());
        }
        // Ours went into the batch too; answer with the original error if any.
        let _ = rx.try_recv();
        result
    }
}

/// Runs `$body` (an expression using the transaction `$tx`) in a transaction,
/// again from the start while it loses a race (see the module comment).
macro_rules! in_tx {
    ($pg:expr, $iso:expr, |$tx:ident| $body:expr) => {{
        let mut attempt = 0u32;
        loop {
            let result: DbResult<_> = async {
                let mut client = $pg.pool.get().await.map_err(pool_error)?;
                let $tx = client
                    .build_transaction()
                    .isolation_level($iso)
                    .start()
                    .await?;
                let out = $body;
                $tx.commit().await?;
                Ok(out)
            }
            .await;
            match result {
                Err(e) if is_retryable(&e) && attempt + 1 < MAX_ATTEMPTS => {
                    attempt += 1;
                    backoff(attempt).await;
                }
                Err(e) if is_retryable(&e) => {
                    break Err(DbError::Unavailable(format!(
                        "still contended after {MAX_ATTEMPTS} runs: {e}"
                    )))
                }
                other => break other,
            }
        }
    }};
}

use tokio_postgres::IsolationLevel::{ReadCommitted, Serializable};

/// Jittered, growing pause between runs, so that racing transactions spread out.
async fn backoff(attempt: u32) {
    let ceiling = 2u64 << attempt.min(6);
    let ms = rand::thread_rng().gen_range(1..=ceiling);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// TLS as the URL's `sslmode` asks (`require` for managed databases; the default
/// `prefer` falls back to plain TCP when the server offers no TLS), verified
/// against the system's root certificates.
fn tls() -> DbResult<tokio_postgres_rustls::MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| DbError::Other(format!("TLS setup: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl Pg {
    /// Connects the pool (lazily: the first query opens the first connection).
    pub fn connect(url: &str, max_size: usize) -> DbResult<Pg> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            DbError::Other(format!("--database is not a usable PostgreSQL URL: {e}"))
        })?;
        let manager = Manager::from_config(
            config,
            tls()?,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(POOL_WAIT))
            .recycle_timeout(Some(POOL_WAIT))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Other(format!("cannot build the database pool: {e}")))?;
        Ok(Pg {
            pool,
            recent: Arc::default(),
        })
    }

    /// Applies the migrations not applied yet. Safe from several processes at
    /// once: each migration's `schema_migrations` row is inserted in the same
    /// transaction as its DDL, so a second process waits, fails on the key and
    /// finds it applied on its next run.
    pub async fn migrate(&self) -> DbResult<()> {
        for attempt in 0.. {
            let client = self.pool.get().await.map_err(pool_error)?;
            let created = client
                .batch_execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (
                        version    INT PRIMARY KEY,
                        applied_at BIGINT NOT NULL
                    )",
                )
                .await;
            match created {
                // Two processes creating it at once: one loses on the catalog's key.
                Err(e) if attempt < 3 && e.code().is_some() => continue,
                r => r?,
            }
            break;
        }
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let version = i as i32 + 1;
            in_tx!(self, ReadCommitted, |tx| {
                let applied = tx
                    .query_opt(
                        &tx.prepare_cached("SELECT 1 FROM schema_migrations WHERE version = $1")
                            .await?,
                        &[&version],
                    )
                    .await?
                    .is_some();
                if !applied {
                    tx.execute(
                        &tx.prepare_cached(
                            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                        )
                        .await?,
                        &[&version, &crate::clock::system_now().0],
                    )
                    .await?;
                    tx.batch_execute(sql).await?;
                }
            })?;
        }
        let client = self.pool.get().await.map_err(pool_error)?;
        let newest: Option<i32> = client
            .query_one(
                &client
                    .prepare_cached("SELECT MAX(version) FROM schema_migrations")
                    .await?,
                &[],
            )
            .await?
            .get(0);
        if newest.unwrap_or(0) as usize > MIGRATIONS.len() {
            return Err(DbError::Other(format!(
                "the database schema (version {}) is newer than this server knows ({})",
                newest.unwrap_or(0),
                MIGRATIONS.len()
            )));
        }
        Ok(())
    }

    /// Fails unless the schema exists (for `admin` and `report`).
    pub async fn check_seeded(&self) -> DbResult<()> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let seeded = client
            .query_opt(
                &client
                    .prepare_cached("SELECT to_regclass('campaign') IS NOT NULL")
                    .await?,
                &[],
            )
            .await?
            .map(|r| r.get::<_, bool>(0))
            .unwrap_or(false);
        if !seeded {
            return Err(DbError::Other(
                "this database has no campaign yet (start `maeum-server serve --database ...` once first)".into(),
            ));
        }
        Ok(())
    }

    /// As `db::seed`: the campaign on first start, items new in the file.
    pub async fn seed(&self, campaign: &Campaign, now: Timestamp) -> DbResult<Vec<String>> {
        in_tx!(self, ReadCommitted, |tx| seed_tx(&tx, campaign, now)
            .await?)
    }

    /// The campaign row, read after this call began (shared with the calls
    /// waiting at the same moment), and kept as the recent copy.
    pub async fn settings(&self) -> DbResult<Settings> {
        let read = self
            .recent
            .settings_reads
            .read(|| async {
                let client = self.pool.get().await.map_err(pool_error)?;
                settings(&client).await
            })
            .await?;
        *lock(&self.recent.settings) = Some((Instant::now(), read));
        Ok(read)
    }

    /// The campaign row as read at most [`RECENT_FOR`] ago: only for admitting a
    /// claim, whose statement or transaction reads the row again.
    pub async fn recent_settings(&self) -> DbResult<Settings> {
        let cached = lock(&self.recent.settings)
            .filter(|(at, _)| at.elapsed() < RECENT_FOR)
            .map(|(_, s)| s);
        match cached {
            Some(s) => Ok(s),
            None => self.settings().await,
        }
    }

    /// Forgets the campaign row (a transaction found it changed).
    pub fn forget_settings(&self) {
        *lock(&self.recent.settings) = None;
    }

    /// The items as read at most [`RECENT_FOR`] ago (for the claim statement).
    async fn recent_items(&self) -> DbResult<Arc<RecentItems>> {
        let cached = lock(&self.recent.items).clone().filter(|r| r.young());
        match cached {
            Some(r) => Ok(r),
            None => self.read_items().await,
        }
    }

    /// The items with their counts and open stripes, read after this call
    /// began (shared as [`Pg::settings`]), and kept as the recent copy.
    async fn read_items(&self) -> DbResult<Arc<RecentItems>> {
        let read = self
            .recent
            .items_reads
            .read(|| async {
                let client = self.pool.get().await.map_err(pool_error)?;
                let open = client
                    .prepare_cached(
                        "SELECT item_id, stripe FROM item_stripes WHERE share IS NULL OR granted < share",
                    )
                    .await?;
                let (rows, open) = futures_util::try_join!(items(&client), async {
                    Ok::<_, DbError>(client.query(&open, &[]).await?)
                })?;
                let open_stripes = rows
                    .iter()
                    .map(|r| {
                        open.iter()
                            .filter(|o| o.get::<_, &str>(0) == r.id)
                            .map(|o| o.get(1))
                            .collect()
                    })
                    .collect();
                Ok(Arc::new(RecentItems {
                    read_at: Instant::now(),
                    rows,
                    open_stripes,
                }))
            })
            .await?;
        *lock(&self.recent.items) = Some(read.clone());
        Ok(read)
    }

    pub async fn record_early_attempt(
        &self,
        at: Timestamp,
        user: Option<&str>,
        endpoint: &str,
    ) -> DbResult<()> {
        let client = self.pool.get().await.map_err(pool_error)?;
        record_early_attempt(&client, at, user, endpoint).await
    }

    pub async fn items(&self) -> DbResult<Vec<ItemRow>> {
        let client = self.pool.get().await.map_err(pool_error)?;
        items(&client).await
    }

    pub async fn package(&self, now: Timestamp) -> DbResult<Package> {
        Ok(Package {
            items: self
                .read_items()
                .await?
                .rows
                .iter()
                .map(|i| i.to_item(now))
                .collect(),
        })
    }

    pub async fn my_claims(&self, user: &str) -> DbResult<MyClaims> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let held = client.prepare_cached("SELECT c.item_id, c.claimed_at, c.expires_at, c.code FROM claims c JOIN items i ON i.id = c.item_id
                 WHERE c.user_id = $1 ORDER BY i.position").await?;
        // Both sent at once: one round trip.
        let (rows, ineligible_reason) = futures_util::try_join!(
            async { Ok::<_, DbError>(client.query(&held, &[&user]).await?) },
            ineligible_reason(&client, user),
        )?;
        Ok(MyClaims {
            claims: rows.iter().map(claim_from_row).collect(),
            ineligible_reason,
        })
    }

    /// Decides a claim: first as one statement for the common case (open,
    /// nothing held, a new key, room on the stripes picked); anything else, or a
    /// lost race, by the full transaction, which can give every answer.
    pub async fn claim(&self, input: &ClaimInput) -> DbResult<ClaimOutcome> {
        let recent = self.recent_items().await?;
        match self.claim_at_once(&recent, input).await {
            Ok(Some(body)) => return Ok(ClaimOutcome::Done(body)),
            Err(e) if !(is_retryable(&e) || is_check_violation(&e)) => return Err(e),
            Ok(None) | Err(_) => {}
        }
        let outcome = in_tx!(self, ReadCommitted, |tx| claim_tx(&tx, input).await?)?;
        if let ClaimOutcome::NotOpen { .. } | ClaimOutcome::Closed | ClaimOutcome::Paused = outcome
        {
            // The campaign row changed: the next claim is admitted by a fresh read.
            self.forget_settings();
        }
        Ok(outcome)
    }

    /// The common claim as one statement in its own (implicit) transaction:
    /// if the campaign is open, the key new, the person eligible and holding
    /// none of the items, it counts each item on a stripe that had room when
    /// last read, inserts the claims and the stored answer, and returns the
    /// answer. A stripe that filled up since fails the statement on its
    /// `CHECK (granted <= share)` and nothing is written; any condition not met
    /// writes nothing either (every write reads `gate`). `None`: not decided
    /// here.
    async fn claim_at_once(
        &self,
        recent: &RecentItems,
        input: &ClaimInput,
    ) -> DbResult<Option<String>> {
        let mut stripes = Vec::with_capacity(input.item_ids.len());
        let mut claims = Vec::with_capacity(input.item_ids.len());
        for id in &input.item_ids {
            let Some((i, row)) = recent.row(id) else {
                return Ok(None); // unknown (or new since the read): the transaction says
            };
            let Some(stripe) = recent.open_stripes[i].choose(&mut rand::thread_rng()) else {
                return Ok(None); // sold out when read: the transaction looks again
            };
            stripes.push(*stripe);
            claims.push(granted_claim(row, input.now));
        }
        let results = claims
            .iter()
            .map(|c| ClaimResult {
                item_id: c.item_id.clone(),
                status: ClaimStatus::Granted,
                claim: Some(c.clone()),
                reason: None,
            })
            .collect();
        let body = serde_json::to_string(&ClaimResponse { results })
            .map_err(|e| DbError::Other(e.to_string()))?;
        let expires: Vec<Option<i64>> = claims.iter().map(|c| c.expires_at.map(|t| t.0)).collect();
        let codes: Vec<Option<&str>> = claims.iter().map(|c| c.code.as_deref()).collect();
        let client = self.pool.get().await.map_err(pool_error)?;
        let stmt = client.prepare_cached(CLAIM_AT_ONCE).await?;
        let written = client
            .query_opt(
                &stmt,
                &[
                    &input.user,
                    &input.key,
                    &input.now.0,
                    &input.item_ids,
                    &stripes,
                    &expires,
                    &codes,
                    &input.request_hash,
                    &body,
                ],
            )
            .await?;
        Ok(written.map(|_| body))
    }

    /// (uploads stored by `user`, whether these bytes are among them).
    pub async fn upload_stats(&self, user: &str, sha256: &str) -> DbResult<(u64, bool)> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let row = client.query_one(&client.prepare_cached("SELECT COUNT(*), COUNT(*) FILTER (WHERE sha256 = $2) FROM uploads WHERE user_id = $1").await?,
                &[&user, &sha256],
            )
            .await?;
        Ok((to_u64(row.get(0)), row.get::<_, i64>(1) > 0))
    }

    pub async fn insert_upload(&self, new: &NewUpload, quota: u64) -> DbResult<UploadOutcome> {
        // SERIALIZABLE: the quota is a count, and two uploads of one user at once
        // must not both see room for one more.
        in_tx!(self, Serializable, |tx| insert_upload_tx(&tx, new, quota)
            .await?)
    }

    pub async fn foreign_uploads(&self, user: &str, ids: &[String]) -> DbResult<Vec<String>> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let mut foreign = Vec::new();
        for id in ids {
            let owner: Option<String> = client
                .query_opt(
                    &client
                        .prepare_cached("SELECT user_id FROM uploads WHERE id = $1")
                        .await?,
                    &[id],
                )
                .await?
                .map(|r| r.get(0));
            if owner.as_deref() != Some(user) && !foreign.contains(id) {
                foreign.push(id.clone());
            }
        }
        Ok(foreign)
    }

    pub async fn submit_damage_claim(&self, input: &DamageClaimInput) -> DbResult<Outcome> {
        in_tx!(self, ReadCommitted, |tx| submit_damage_claim_tx(&tx, input)
            .await?)
    }

    pub async fn receipt_for(
        &self,
        user: &str,
        receipt_no: &str,
    ) -> DbResult<Option<DamageClaimReceipt>> {
        let client = self.pool.get().await.map_err(pool_error)?;
        Ok(damage_claim(&client, receipt_no)
            .await?
            .filter(|row| row.user_id == user)
            .map(|row| row.receipt()))
    }

    pub async fn channel_cash(&self, input: &ChannelCashInput) -> DbResult<Outcome> {
        in_tx!(self, ReadCommitted, |tx| channel_cash_tx(&tx, input)
            .await?)
    }

    // ---- operator changes ----

    /// Sets an item's cap and spreads what is left of it over the stripes.
    /// Returns (old cap, granted so far).
    pub async fn set_cap(&self, item_id: &str, cap: Option<u64>) -> DbResult<(Option<u64>, u64)> {
        in_tx!(self, ReadCommitted, |tx| set_cap_tx(&tx, item_id, cap)
            .await?)
    }

    pub async fn set_ineligible(
        &self,
        user: &str,
        reason: Option<&str>,
        now: Timestamp,
    ) -> DbResult<()> {
        let client = self.pool.get().await.map_err(pool_error)?;
        match reason {
            Some(reason) => client.execute(&client.prepare_cached("INSERT INTO ineligible (user_id, reason, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id) DO UPDATE SET reason = excluded.reason, updated_at = excluded.updated_at").await?,
                &[&user, &reason, &now.0],
            ).await?,
            None => client.execute(&client.prepare_cached("DELETE FROM ineligible WHERE user_id = $1").await?, &[&user]).await?,
        };
        Ok(())
    }

    pub async fn set_paused(&self, paused: bool, now: Timestamp) -> DbResult<()> {
        let client = self.pool.get().await.map_err(pool_error)?;
        client
            .execute(
                &client
                    .prepare_cached("UPDATE campaign SET paused = $1, updated_at = $2 WHERE id = 1")
                    .await?,
                &[&paused, &now.0],
            )
            .await?;
        Ok(())
    }

    pub async fn set_release_at(&self, at: Timestamp, now: Timestamp) -> DbResult<Timestamp> {
        in_tx!(self, ReadCommitted, |tx| {
            let old: i64 = tx
                .query_one(
                    &tx.prepare_cached("SELECT release_at FROM campaign WHERE id = 1 FOR UPDATE")
                        .await?,
                    &[],
                )
                .await?
                .get(0);
            tx.execute(
                &tx.prepare_cached(
                    "UPDATE campaign SET release_at = $1, updated_at = $2 WHERE id = 1",
                )
                .await?,
                &[&at.0, &now.0],
            )
            .await?;
            Timestamp(old)
        })
    }

    pub async fn set_closes_at(&self, at: Option<Timestamp>, now: Timestamp) -> DbResult<()> {
        let client = self.pool.get().await.map_err(pool_error)?;
        client
            .execute(
                &client
                    .prepare_cached(
                        "UPDATE campaign SET closes_at = $1, updated_at = $2 WHERE id = 1",
                    )
                    .await?,
                &[&at.map(|t| t.0), &now.0],
            )
            .await?;
        Ok(())
    }

    pub async fn list_damage_claims(&self) -> DbResult<Vec<DamageClaimRow>> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let rows = client
            .query(
                &format!(
                    "SELECT {CLAIM_COLUMNS} FROM damage_claims ORDER BY submitted_at, receipt_no"
                ),
                &[],
            )
            .await?;
        rows.iter().map(build_claim).collect()
    }

    pub async fn decide_damage_claim(
        &self,
        receipt_no: &str,
        decision: &Decision,
        now: Timestamp,
    ) -> DbResult<(DamageClaimRow, DamageClaimRow)> {
        let receipt_no = bizdb::normalize_receipt_no(receipt_no);
        in_tx!(self, ReadCommitted, |tx| {
            let locked = tx
                .query_opt(
                    &tx.prepare_cached(
                        "SELECT 1 FROM damage_claims WHERE receipt_no = $1 FOR UPDATE",
                    )
                    .await?,
                    &[&receipt_no],
                )
                .await?;
            let before = match (locked, damage_claim(&tx, &receipt_no).await?) {
                (Some(_), Some(before)) => before,
                _ => {
                    return Err(DbError::Other(format!(
                    "no damage claim with receipt number {receipt_no:?} (see `admin claims list`)"
                )))
                }
            };
            let (reason, support_json) = decision.check(&before)?;
            tx.execute(&tx.prepare_cached("UPDATE damage_claims SET status = $2, reason = $3, support = $4, updated_at = $5 WHERE receipt_no = $1").await?,
                &[&receipt_no, &bizdb::status_str(decision.target()), &reason, &support_json, &now.0],
            )
            .await?;
            let after = damage_claim(&tx, &receipt_no).await?.ok_or_else(|| {
                DbError::Other(format!("{receipt_no} vanished during the update"))
            })?;
            (before, after)
        })
    }

    pub async fn report(&self) -> DbResult<Report> {
        let client = self.pool.get().await.map_err(pool_error)?;
        let settings = settings(&client).await?;
        let per_minute = async |sql: &str| -> DbResult<Vec<MinuteCount>> {
            Ok(client
                .query(sql, &[])
                .await?
                .iter()
                .map(|r| MinuteCount {
                    minute: Timestamp(r.get(0)),
                    key: r.get(1),
                    count: to_u64(r.get(2)),
                    users: to_u64(r.get(3)),
                })
                .collect())
        };
        let granted_per_minute = per_minute(
            "SELECT (claimed_at / 60000) * 60000 AS m, item_id, COUNT(*), COUNT(DISTINCT user_id)
             FROM claims GROUP BY m, item_id ORDER BY m, item_id",
        )
        .await?;
        let early_per_minute = per_minute(
            "SELECT (at / 60000) * 60000 AS m, endpoint, COUNT(*), COUNT(DISTINCT user_id)
             FROM early_attempts GROUP BY m, endpoint ORDER BY m, endpoint",
        )
        .await?;
        let granted_before_release = client.query(&client.prepare_cached("SELECT item_id, COUNT(*) FROM claims WHERE claimed_at < $1 GROUP BY item_id ORDER BY item_id").await?,
                &[&settings.release_at.0],
            )
            .await?
            .iter()
            .map(|r| (r.get::<_, String>(0), to_u64(r.get(1))))
            .collect();
        let r = client.query_one(&client.prepare_cached("SELECT COUNT(*), COUNT(DISTINCT user_id), MIN(at), MAX(at) FROM early_attempts").await?,
                &[],
            )
            .await?;
        Ok(Report {
            settings,
            items: items(&client).await?,
            granted_per_minute,
            granted_before_release,
            early_per_minute,
            early_total: to_u64(r.get(0)),
            early_users: to_u64(r.get(1)),
            early_first: r.get::<_, Option<i64>>(2).map(Timestamp),
            early_last: r.get::<_, Option<i64>>(3).map(Timestamp),
        })
    }
}

// ---- the transactions and reads, on any client or transaction ----

async fn settings(c: &impl GenericClient) -> DbResult<Settings> {
    let row = c
        .query_opt(
            &c.prepare_cached("SELECT release_at, closes_at, paused FROM campaign WHERE id = 1")
                .await?,
            &[],
        )
        .await?
        .ok_or_else(|| DbError::Other("the campaign has not been seeded".into()))?;
    Ok(Settings {
        release_at: Timestamp(row.get(0)),
        closes_at: row.get::<_, Option<i64>>(1).map(Timestamp),
        paused: row.get(2),
    })
}

async fn record_early_attempt(
    c: &impl GenericClient,
    at: Timestamp,
    user: Option<&str>,
    endpoint: &str,
) -> DbResult<()> {
    c.execute(
        &c.prepare_cached("INSERT INTO early_attempts (at, user_id, endpoint) VALUES ($1, $2, $3)")
            .await?,
        &[&at.0, &user, &endpoint],
    )
    .await?;
    Ok(())
}

/// The gate, checked inside the transaction (early attempts are recorded).
async fn gate(
    tx: &Tx<'_>,
    user: &str,
    now: Timestamp,
    endpoint: &str,
) -> DbResult<Option<Refused>> {
    let settings = settings(tx).await?;
    Ok(match settings.phase(now) {
        Phase::BeforeOpen { .. } => {
            record_early_attempt(tx, now, Some(user), endpoint).await?;
            Some(Refused::NotOpen {
                release_at: settings.release_at,
            })
        }
        Phase::Closed => Some(Refused::Closed),
        Phase::Paused => Some(Refused::Paused),
        Phase::Open => None,
    })
}

const ITEM_SELECT: &str =
    "SELECT i.id, i.kind, i.title, i.price_won, i.validity, i.code_prefix, i.cap,
        COALESCE((SELECT SUM(s.granted) FROM item_stripes s WHERE s.item_id = i.id), 0)::BIGINT
     FROM items i";

fn item_from_row(r: &Row) -> DbResult<ItemRow> {
    db::build_item((
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
        r.get(7),
    ))
}

async fn items(c: &impl GenericClient) -> DbResult<Vec<ItemRow>> {
    c.query(
        &c.prepare_cached(&format!("{ITEM_SELECT} ORDER BY i.position"))
            .await?,
        &[],
    )
    .await?
    .iter()
    .map(item_from_row)
    .collect()
}

async fn ineligible_reason(c: &impl GenericClient, user: &str) -> DbResult<Option<String>> {
    Ok(c.query_opt(
        &c.prepare_cached("SELECT reason FROM ineligible WHERE user_id = $1")
            .await?,
        &[&user],
    )
    .await?
    .map(|r| r.get(0)))
}

fn claim_from_row(r: &Row) -> Claim {
    Claim {
        item_id: r.get(0),
        claimed_at: Timestamp(r.get(1)),
        expires_at: r.get::<_, Option<i64>>(2).map(Timestamp),
        code: r.get(3),
    }
}

async fn earlier_answer(
    tx: &Tx<'_>,
    user: &str,
    key: &str,
    request_hash: &str,
) -> DbResult<Option<Result<String, ()>>> {
    let previous = tx
        .query_opt(
            &tx.prepare_cached(
                "SELECT request_hash, response FROM idempotency WHERE user_id = $1 AND key = $2",
            )
            .await?,
            &[&user, &key],
        )
        .await?;
    Ok(previous.map(|r| {
        if r.get::<_, &str>(0) == request_hash {
            Ok(r.get(1))
        } else {
            Err(())
        }
    }))
}

async fn remember_answer(
    tx: &Tx<'_>,
    user: &str,
    key: &str,
    request_hash: &str,
    response: &str,
    now: Timestamp,
) -> DbResult<()> {
    tx.execute(&tx.prepare_cached("INSERT INTO idempotency (user_id, key, request_hash, response, created_at) VALUES ($1, $2, $3, $4, $5)").await?,
        &[&user, &key, &request_hash, &response, &now.0],
    )
    .await?;
    Ok(())
}

/// Spreads `room` over `n` stripes: the first `room % n` get one more.
fn spread(room: u64, stripe: i32, n: usize) -> i64 {
    let n = n.max(1) as u64;
    to_i64(room / n + u64::from((stripe as u64) < room % n))
}

async fn seed_tx(tx: &Tx<'_>, campaign: &Campaign, now: Timestamp) -> DbResult<Vec<String>> {
    let mut notes = Vec::new();
    let stored = tx
        .query_opt(
            &tx.prepare_cached("SELECT release_at, closes_at FROM campaign WHERE id = 1")
                .await?,
            &[],
        )
        .await?;
    match stored {
        None => {
            tx.execute(&tx.prepare_cached("INSERT INTO campaign (id, release_at, closes_at, paused, updated_at) VALUES (1, $1, $2, FALSE, $3)").await?,
                &[&campaign.release_at.0, &campaign.closes_at.map(|t| t.0), &now.0],
            )
            .await?;
        }
        Some(r) => {
            let (release, closes): (i64, Option<i64>) = (r.get(0), r.get(1));
            if release != campaign.release_at.0 || closes != campaign.closes_at.map(|t| t.0) {
                notes.push(format!(
                    "the database keeps release_at {} (the campaign file says {}); change it with `admin release-at`",
                    Timestamp(release),
                    campaign.release_at
                ));
            }
        }
    }
    let mut position: i32 = tx
        .query_one(
            &tx.prepare_cached("SELECT COALESCE(MAX(position), -1) + 1 FROM items")
                .await?,
            &[],
        )
        .await?
        .get(0);
    for item in &campaign.items {
        let validity = serde_json::to_string(&item.validity).map_err(json_err)?;
        let added = tx.execute(&tx.prepare_cached("INSERT INTO items (id, position, kind, title, price_won, validity, code_prefix, cap)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING").await?,
                &[
                    &item.id,
                    &position,
                    &db::kind_str(item.kind),
                    &item.title,
                    &to_i64(item.price_won),
                    &validity,
                    &item.code_prefix,
                    &item.cap.map(to_i64),
                ],
            )
            .await?;
        if added == 1 {
            position += 1;
            let insert = tx
                .prepare_cached(
                    "INSERT INTO item_stripes (item_id, stripe, share, granted) VALUES ($1, $2, $3, 0)",
                )
                .await?;
            // Sent together (pipelined), not one round trip per stripe.
            futures_util::future::try_join_all((0..STRIPES).map(|stripe| {
                let share = item.cap.map(|cap| spread(cap, stripe, STRIPES as usize));
                let insert = &insert;
                async move { tx.execute(insert, &[&item.id, &stripe, &share]).await }
            }))
            .await?;
        }
    }
    Ok(notes)
}

/// Counts one grant of `item` against its cap: false when it is sold out.
/// Tries one stripe at random; if that one is full, lists those with room and
/// tries them in random order. A stripe only fills up (shares grow only by
/// `admin cap`), so each round drops at least one, and "sold out" is said only
/// when no stripe had room.
async fn take(tx: &Tx<'_>, item: &str) -> DbResult<bool> {
    let update = tx
        .prepare_cached(
            "UPDATE item_stripes SET granted = granted + 1
             WHERE item_id = $1 AND stripe = $2 AND (share IS NULL OR granted < share)",
        )
        .await?;
    let first = rand::thread_rng().gen_range(0..STRIPES);
    if tx.execute(&update, &[&item, &first]).await? == 1 {
        return Ok(true);
    }
    let open = tx
        .prepare_cached(
            "SELECT stripe FROM item_stripes WHERE item_id = $1 AND (share IS NULL OR granted < share)",
        )
        .await?;
    loop {
        let mut stripes: Vec<i32> = tx
            .query(&open, &[&item])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if stripes.is_empty() {
            return Ok(false);
        }
        stripes.shuffle(&mut rand::thread_rng());
        for stripe in stripes {
            if tx.execute(&update, &[&item, &stripe]).await? == 1 {
                return Ok(true);
            }
        }
    }
}

/// What a person is given for `row`, claimed at `now`.
fn granted_claim(row: &ItemRow, now: Timestamp) -> Claim {
    Claim {
        item_id: row.id.clone(),
        claimed_at: now,
        expires_at: row.validity.expires_at(now),
        code: row.code_prefix.as_deref().map(db::new_code),
    }
}

/// One claim request. The reads go out together and the writes go out together
/// (tokio-postgres pipelines requests issued at once on one connection), so a
/// claim costs a handful of round trips, not one per statement.
async fn claim_tx(tx: &Tx<'_>, input: &ClaimInput) -> DbResult<ClaimOutcome> {
    let user = input.user.as_str();
    let items_stmt = tx
        .prepare_cached(&format!("{ITEM_SELECT} WHERE i.id = ANY($1)"))
        .await?;
    let held_stmt = tx
        .prepare_cached(
            "SELECT item_id, claimed_at, expires_at, code FROM claims WHERE user_id = $1 AND item_id = ANY($2)",
        )
        .await?;
    let (settings, previous, item_rows, reason, held) = futures_util::try_join!(
        settings(tx),
        earlier_answer(tx, user, &input.key, &input.request_hash),
        async { Ok::<_, DbError>(tx.query(&items_stmt, &[&input.item_ids]).await?) },
        ineligible_reason(tx, user),
        async { Ok::<_, DbError>(tx.query(&held_stmt, &[&user, &input.item_ids]).await?) },
    )?;
    match settings.phase(input.now) {
        Phase::BeforeOpen { .. } => {
            record_early_attempt(tx, input.now, Some(user), db::CLAIMS_ENDPOINT).await?;
            return Ok(ClaimOutcome::NotOpen {
                release_at: settings.release_at,
            });
        }
        Phase::Closed => return Ok(ClaimOutcome::Closed),
        Phase::Paused => return Ok(ClaimOutcome::Paused),
        Phase::Open => {}
    }
    match previous {
        Some(Ok(body)) => return Ok(ClaimOutcome::Replay(body)),
        Some(Err(())) => return Ok(ClaimOutcome::KeyReused),
        None => {}
    }
    let found = item_rows
        .iter()
        .map(item_from_row)
        .collect::<DbResult<Vec<ItemRow>>>()?;
    let mut rows = Vec::with_capacity(input.item_ids.len());
    let mut unknown = Vec::new();
    for id in &input.item_ids {
        match found.iter().find(|r| &r.id == id) {
            Some(row) => rows.push(row.clone()),
            None => unknown.push(id.clone()),
        }
    }
    if !unknown.is_empty() {
        return Ok(ClaimOutcome::UnknownItems(unknown));
    }
    let held: Vec<Claim> = held.iter().map(claim_from_row).collect();

    // Which items to count against their caps: not held yet, user eligible.
    let wanted: Vec<&ItemRow> = rows
        .iter()
        .filter(|r| reason.is_none() && !held.iter().any(|c| c.item_id == r.id))
        .collect();
    let taken = futures_util::future::try_join_all(wanted.iter().map(|r| take(tx, &r.id))).await?;

    let insert = tx
        .prepare_cached(
            "INSERT INTO claims (user_id, item_id, claimed_at, expires_at, code, idempotency_key)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    let mut results = Vec::with_capacity(rows.len());
    let mut new_claims = Vec::new();
    for row in &rows {
        let result = |status, claim, reason| ClaimResult {
            item_id: row.id.clone(),
            status,
            claim,
            reason,
        };
        if let Some(existing) = held.iter().find(|c| c.item_id == row.id) {
            results.push(result(
                ClaimStatus::AlreadyClaimed,
                Some(existing.clone()),
                None,
            ));
            continue;
        }
        if let Some(reason) = &reason {
            results.push(result(ClaimStatus::Ineligible, None, Some(reason.clone())));
            continue;
        }
        let got = wanted
            .iter()
            .position(|w| w.id == row.id)
            .and_then(|i| taken.get(i).copied())
            .unwrap_or(false);
        if !got {
            results.push(result(ClaimStatus::SoldOut, None, None));
            continue;
        }
        // A code collision (1 in 10^12) or a racing request of the same user fails
        // on a unique key: the whole transaction runs again (see `in_tx!`).
        let claim = granted_claim(row, input.now);
        new_claims.push(claim.clone());
        results.push(result(ClaimStatus::Granted, Some(claim), None));
    }

    let body = serde_json::to_string(&ClaimResponse { results })
        .map_err(|e| DbError::Other(e.to_string()))?;
    let inserts = new_claims.iter().map(|c| async {
        tx.execute(
            &insert,
            &[
                &user,
                &c.item_id,
                &c.claimed_at.0,
                &c.expires_at.map(|t| t.0),
                &c.code,
                &input.key,
            ],
        )
        .await
        .map_err(DbError::from)
    });
    futures_util::try_join!(
        futures_util::future::try_join_all(inserts),
        remember_answer(tx, user, &input.key, &input.request_hash, &body, input.now),
    )?;
    Ok(ClaimOutcome::Done(body))
}

async fn insert_upload_tx(tx: &Tx<'_>, new: &NewUpload, quota: u64) -> DbResult<UploadOutcome> {
    if let Some(refused) = gate(tx, &new.user, new.now, bizdb::UPLOADS_ENDPOINT).await? {
        return Ok(UploadOutcome::Refused(refused));
    }
    let existing = tx.query_opt(&tx.prepare_cached("SELECT id, sha256, size, content_type FROM uploads WHERE user_id = $1 AND sha256 = $2").await?,
            &[&new.user, &new.sha256],
        )
        .await?;
    if let Some(r) = existing {
        return Ok(UploadOutcome::Existing(Upload {
            id: r.get(0),
            sha256: r.get(1),
            size: to_u64(r.get(2)),
            content_type: r.get(3),
        }));
    }
    let count: i64 = tx
        .query_one(
            &tx.prepare_cached("SELECT COUNT(*) FROM uploads WHERE user_id = $1")
                .await?,
            &[&new.user],
        )
        .await?
        .get(0);
    if to_u64(count) >= quota {
        return Ok(UploadOutcome::QuotaExceeded);
    }
    tx.execute(&tx.prepare_cached("INSERT INTO uploads (id, user_id, sha256, size, content_type, category, filename, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)").await?,
        &[
            &new.id,
            &new.user,
            &new.sha256,
            &to_i64(new.size),
            &new.content_type,
            &new.category.map(category_str),
            &new.filename,
            &new.now.0,
        ],
    )
    .await?;
    Ok(UploadOutcome::Stored(Upload {
        id: new.id.clone(),
        sha256: new.sha256.clone(),
        size: new.size,
        content_type: new.content_type.clone(),
    }))
}

async fn submit_damage_claim_tx(tx: &Tx<'_>, input: &DamageClaimInput) -> DbResult<Outcome> {
    if let Some(refused) = gate(tx, &input.user, input.now, bizdb::DAMAGE_CLAIMS_ENDPOINT).await? {
        return Ok(Outcome::Refused(refused));
    }
    match earlier_answer(tx, &input.user, &input.key, &input.request_hash).await? {
        Some(Ok(body)) => return Ok(Outcome::Replay(body)),
        Some(Err(())) => return Ok(Outcome::KeyReused),
        None => {}
    }
    let brn = input.claim.brn.digits();
    if let Some(r) = tx
        .query_opt(
            &tx.prepare_cached("SELECT receipt_no FROM damage_claims WHERE brn = $1")
                .await?,
            &[&brn],
        )
        .await?
    {
        // Each statement reads its own snapshot (READ COMMITTED): a twin request
        // with this key may have committed this claim since the first look, and
        // then its answer is the one to give.
        return Ok(
            match earlier_answer(tx, &input.user, &input.key, &input.request_hash).await? {
                Some(Ok(body)) => Outcome::Replay(body),
                Some(Err(())) => Outcome::KeyReused,
                None => Outcome::Conflict(r.get(0)),
            },
        );
    }
    let request = &input.claim.request;
    let support = serde_json::to_string(&input.claim.support).map_err(json_err)?;
    let stored_request = serde_json::to_string(request).map_err(json_err)?;
    // A receipt number collision or a racing claim for the same business fails on
    // a unique key: the transaction runs again and finds the winner.
    let receipt_no = bizdb::new_receipt_no(input.now);
    tx.execute(&tx.prepare_cached("INSERT INTO damage_claims (receipt_no, user_id, brn, business_name, loss_won, support, request,
                                    status, submitted_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'received', $8, $8)").await?,
        &[
            &receipt_no,
            &input.user,
            &brn,
            &request.business_name,
            &to_i64(request.loss_won),
            &support,
            &stored_request,
            &input.now.0,
        ],
    )
    .await?;
    for e in &request.evidence {
        tx.execute(&tx.prepare_cached("INSERT INTO damage_claim_evidence (receipt_no, upload_id, category) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING").await?,
            &[&receipt_no, &e.upload_id, &category_str(e.category)],
        )
        .await?;
    }
    let receipt = DamageClaimReceipt {
        receipt_no,
        status: DamageClaimStatus::Received,
        support: input.claim.support,
        submitted_at: input.now,
        reason: None,
    };
    let body = serde_json::to_string(&receipt).map_err(json_err)?;
    remember_answer(
        tx,
        &input.user,
        &input.key,
        &input.request_hash,
        &body,
        input.now,
    )
    .await?;
    Ok(Outcome::Done(body))
}

async fn channel_cash_tx(tx: &Tx<'_>, input: &ChannelCashInput) -> DbResult<Outcome> {
    if let Some(refused) = gate(tx, &input.user, input.now, bizdb::CHANNEL_CASH_ENDPOINT).await? {
        return Ok(Outcome::Refused(refused));
    }
    match earlier_answer(tx, &input.user, &input.key, &input.request_hash).await? {
        Some(Ok(body)) => return Ok(Outcome::Replay(body)),
        Some(Err(())) => return Ok(Outcome::KeyReused),
        None => {}
    }
    let brn = input.brn.digits();
    let earlier = tx
        .query_opt(
            &tx.prepare_cached("SELECT won, granted_at FROM channel_cash WHERE brn = $1")
                .await?,
            &[&brn],
        )
        .await?;
    let grant = match earlier {
        Some(r) => ChannelCash {
            brn: brn.to_string(),
            won: to_u64(r.get(0)),
            granted_at: Timestamp(r.get(1)),
            newly_granted: false,
        },
        None => {
            tx.execute(&tx.prepare_cached("INSERT INTO channel_cash (brn, user_id, won, granted_at) VALUES ($1, $2, $3, $4)").await?,
                &[&brn, &input.user, &to_i64(CHANNEL_CASH_WON), &input.now.0],
            )
            .await?;
            ChannelCash {
                brn: brn.to_string(),
                won: CHANNEL_CASH_WON,
                granted_at: input.now,
                newly_granted: true,
            }
        }
    };
    let body = serde_json::to_string(&grant).map_err(json_err)?;
    remember_answer(
        tx,
        &input.user,
        &input.key,
        &input.request_hash,
        &body,
        input.now,
    )
    .await?;
    Ok(Outcome::Done(body))
}

async fn set_cap_tx(tx: &Tx<'_>, item_id: &str, cap: Option<u64>) -> DbResult<(Option<u64>, u64)> {
    let Some(old) = tx
        .query_opt(
            &tx.prepare_cached("SELECT cap FROM items WHERE id = $1 FOR UPDATE")
                .await?,
            &[&item_id],
        )
        .await?
    else {
        let known: Vec<String> = tx
            .query(
                &tx.prepare_cached("SELECT id FROM items ORDER BY position")
                    .await?,
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        return Err(DbError::Other(format!(
            "no item {item_id:?}; items: {}",
            known.join(", ")
        )));
    };
    let old_cap: Option<i64> = old.get(0);
    // Lock every stripe: no grant of this item runs while the shares move.
    let stripes: Vec<(i32, i64)> = tx.query(&tx.prepare_cached("SELECT stripe, granted FROM item_stripes WHERE item_id = $1 ORDER BY stripe FOR UPDATE").await?,
            &[&item_id],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let granted: u64 = stripes.iter().map(|(_, g)| to_u64(*g)).sum();
    let room = cap.map(|c| c.saturating_sub(granted));
    for (stripe, g) in &stripes {
        let share = room.map(|room| g + spread(room, *stripe, stripes.len()));
        tx.execute(
            &tx.prepare_cached(
                "UPDATE item_stripes SET share = $3 WHERE item_id = $1 AND stripe = $2",
            )
            .await?,
            &[&item_id, stripe, &share],
        )
        .await?;
    }
    tx.execute(
        &tx.prepare_cached("UPDATE items SET cap = $2 WHERE id = $1")
            .await?,
        &[&item_id, &cap.map(to_i64)],
    )
    .await?;
    Ok((old_cap.map(to_u64), granted))
}

const CLAIM_COLUMNS: &str =
    "receipt_no, user_id, status, brn, business_name, loss_won, support, submitted_at, reason";

fn build_claim(r: &Row) -> DbResult<DamageClaimRow> {
    bizdb::build_claim((
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
        r.get(7),
        r.get(8),
    ))
}

async fn damage_claim(
    c: &impl GenericClient,
    receipt_no: &str,
) -> DbResult<Option<DamageClaimRow>> {
    c.query_opt(
        &c.prepare_cached(&format!(
            "SELECT {CLAIM_COLUMNS} FROM damage_claims WHERE receipt_no = $1"
        ))
        .await?,
        &[&receipt_no],
    )
    .await?
    .as_ref()
    .map(build_claim)
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_room_exactly() {
        for room in [0u64, 1, 31, 32, 33, 100, 3_000_000, 3_000_017] {
            let total: i64 = (0..STRIPES)
                .map(|s| spread(room, s, STRIPES as usize))
                .sum();
            assert_eq!(total as u64, room);
        }
    }
}
