//! SQLite storage: schema, the claim transaction, admin changes and the report.
//!
//! One file, `DIR/maeum.sqlite3`, in WAL mode. Several processes may share it
//! (the server and `maeum-server admin ...`): every write runs in a
//! `BEGIN IMMEDIATE` transaction and waits up to `BUSY_TIMEOUT` for the lock.

use maeum_contract::gate::{self, Phase};
use maeum_contract::{
    Claim, ClaimResponse, ClaimResult, ClaimStatus, Item, ItemKind, MyClaims, Package, Status,
    Timestamp, Validity,
};
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::campaign::Campaign;

pub const DB_FILE: &str = "maeum.sqlite3";
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Unambiguous code characters: no 0/O, 1/I.
pub(crate) const CODE_CHARSET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

pub fn db_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DB_FILE)
}

#[derive(Debug)]
pub enum DbError {
    Sqlite(rusqlite::Error),
    Postgres(tokio_postgres::Error),
    /// The database could not be reached in time (pool wait, connect); safe to retry.
    Unavailable(String),
    Other(String),
}

impl DbError {
    /// The store is busy or unreachable for now, and nothing was decided: the
    /// request may be retried with the same key (the API answers 503 + Retry-After).
    /// SQLite: another connection held the write lock for longer than `BUSY_TIMEOUT`.
    /// PostgreSQL: the connection failed, the server is shutting down or full, or a
    /// serialization failure outlived the server's own retries.
    pub fn is_busy(&self) -> bool {
        match self {
            DbError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            DbError::Postgres(e) => pg_unavailable(e),
            DbError::Unavailable(_) => true,
            DbError::Other(_) => false,
        }
    }
}

/// Whether a database error means "not now" rather than "wrong": the
/// connection or server is gone, or contention outlived our retries.
fn pg_unavailable(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        None => true, // I/O, closed connection, timeout: no answer from the server
        Some(code) => {
            let c = code.code();
            c.starts_with("08") // connection exception
                || c.starts_with("57P") // admin/crash shutdown, cannot connect now
                || c == "53300" // too many connections
                || c == "40001"
                || c == "40P01"
                || c == "25006" // read-only transaction: a replica just promoted / demoted
        }
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Sqlite(e) => write!(f, "sqlite: {e}"),
            DbError::Postgres(e) => write!(f, "postgres: {e}"),
            DbError::Unavailable(s) => write!(f, "database unavailable: {s}"),
            DbError::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for DbError {}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError::Postgres(e)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e)
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// Opens (creating if needed) the database file with the pragmas every connection needs.
pub fn open(path: &Path) -> DbResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DbError::Other(format!(
            "could not switch {} to WAL mode (got {mode})",
            path.display()
        )));
    }
    // FULL: a claim the server answered survives a power cut, not just a crash.
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    Ok(conn)
}

/// Opens a database that must already exist (for `admin` and `report`).
pub fn open_existing(data_dir: &Path) -> DbResult<Connection> {
    let path = db_path(data_dir);
    if !path.is_file() {
        return Err(DbError::Other(format!(
            "no database at {} (start `maeum-server serve --data-dir {}` once first)",
            path.display(),
            data_dir.display()
        )));
    }
    let mut conn = open(&path)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Versioned schema changes, in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_business.sql"),
];

/// Brings the schema up to date; safe to run any number of times, from any process.
pub fn migrate(conn: &mut Connection) -> DbResult<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if version > MIGRATIONS.len() {
        return Err(DbError::Other(format!(
            "the database schema (version {version}) is newer than this server knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
    }
    tx.commit()?;
    Ok(())
}

pub(crate) fn kind_str(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Emoticon => "emoticon",
        ItemKind::Coupon => "coupon",
        ItemKind::Voucher => "voucher",
    }
}

pub(crate) fn parse_kind(s: &str) -> DbResult<ItemKind> {
    match s {
        "emoticon" => Ok(ItemKind::Emoticon),
        "coupon" => Ok(ItemKind::Coupon),
        "voucher" => Ok(ItemKind::Voucher),
        other => Err(DbError::Other(format!(
            "unknown item kind {other:?} in the database"
        ))),
    }
}

pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Writes the campaign on first start, and adds items that are new in the file.
/// Nothing already stored is changed. Returns notes for the operator.
pub fn seed(conn: &mut Connection, campaign: &Campaign, now: Timestamp) -> DbResult<Vec<String>> {
    let mut notes = Vec::new();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let stored: Option<(i64, Option<i64>)> = tx
        .query_row(
            "SELECT release_at, closes_at FROM campaign WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match stored {
        None => {
            tx.execute(
                "INSERT INTO campaign (id, release_at, closes_at, paused, updated_at) VALUES (1, ?1, ?2, 0, ?3)",
                params![campaign.release_at.0, campaign.closes_at.map(|t| t.0), now.0],
            )?;
        }
        Some((release, closes)) => {
            if release != campaign.release_at.0 || closes != campaign.closes_at.map(|t| t.0) {
                notes.push(format!(
                    "the database keeps release_at {} (the campaign file says {}); change it with `admin release-at`",
                    Timestamp(release),
                    campaign.release_at
                ));
            }
        }
    }
    let mut position: i64 = tx.query_row(
        "SELECT COALESCE(MAX(position), -1) + 1 FROM items",
        [],
        |r| r.get(0),
    )?;
    for item in &campaign.items {
        let validity =
            serde_json::to_string(&item.validity).map_err(|e| DbError::Other(e.to_string()))?;
        let added = tx.execute(
            "INSERT OR IGNORE INTO items (id, position, kind, title, price_won, validity, code_prefix, cap)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                item.id,
                position,
                kind_str(item.kind),
                item.title,
                to_i64(item.price_won),
                validity,
                item.code_prefix,
                item.cap.map(to_i64)
            ],
        )?;
        position += added as i64;
    }
    tx.commit()?;
    Ok(notes)
}

/// The campaign's runtime settings, as stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    pub release_at: Timestamp,
    pub closes_at: Option<Timestamp>,
    pub paused: bool,
}

impl Settings {
    pub fn status(&self, now: Timestamp) -> Status {
        let mut status = Status {
            server_time: now,
            release_at: self.release_at,
            open: false,
            paused: self.paused,
            closes_at: self.closes_at,
            spread_seconds: Some(gate::DEFAULT_SPREAD_SECONDS),
        };
        status.open = self.phase(now) == Phase::Open;
        status
    }

    /// The same rule the app applies (no baked-in instant on the server side).
    pub fn phase(&self, now: Timestamp) -> Phase {
        let status = Status {
            server_time: now,
            release_at: self.release_at,
            open: false,
            paused: self.paused,
            closes_at: self.closes_at,
            spread_seconds: Some(gate::DEFAULT_SPREAD_SECONDS),
        };
        gate::phase(None, &status, now)
    }
}

pub fn settings(conn: &Connection) -> DbResult<Settings> {
    let row = conn
        .prepare_cached("SELECT release_at, closes_at, paused FROM campaign WHERE id = 1")?
        .query_row([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()?;
    let (release, closes, paused) =
        row.ok_or_else(|| DbError::Other("the campaign has not been seeded".into()))?;
    Ok(Settings {
        release_at: Timestamp(release),
        closes_at: closes.map(Timestamp),
        paused: paused != 0,
    })
}

/// An item as stored.
#[derive(Clone, Debug)]
pub struct ItemRow {
    pub id: String,
    pub kind: ItemKind,
    pub title: String,
    pub price_won: u64,
    pub validity: Validity,
    pub code_prefix: Option<String>,
    pub cap: Option<u64>,
    pub granted: u64,
}

impl ItemRow {
    pub fn to_item(&self, as_of: Timestamp) -> Item {
        Item {
            id: self.id.clone(),
            kind: self.kind,
            title: self.title.clone(),
            price_won: self.price_won,
            validity: self.validity,
            cap: self.cap,
            remaining: self.cap.map(|c| c.saturating_sub(self.granted)),
            as_of,
        }
    }
}

const ITEM_COLUMNS: &str = "id, kind, title, price_won, validity, code_prefix, cap, granted";

/// An `items` row as read, before its text columns are parsed.
pub(crate) type RawItem = (
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<i64>,
    i64,
);

pub(crate) fn build_item(raw: RawItem) -> DbResult<ItemRow> {
    let (id, kind, title, price, validity, code_prefix, cap, granted) = raw;
    let validity: Validity = serde_json::from_str(&validity)
        .map_err(|e| DbError::Other(format!("item {id}: bad validity in the database: {e}")))?;
    Ok(ItemRow {
        kind: parse_kind(&kind)?,
        id,
        title,
        price_won: to_u64(price),
        validity,
        code_prefix,
        cap: cap.map(to_u64),
        granted: to_u64(granted),
    })
}

pub fn items(conn: &Connection) -> DbResult<Vec<ItemRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ITEM_COLUMNS} FROM items ORDER BY position"
    ))?;
    let raws = stmt
        .query_map([], |r| RawItem::try_from(r))?
        .collect::<Result<Vec<_>, _>>()?;
    raws.into_iter().map(build_item).collect()
}

fn item(conn: &Connection, id: &str) -> DbResult<Option<ItemRow>> {
    let raw = conn
        .prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = ?1"))?
        .query_row([id], |r| RawItem::try_from(r))
        .optional()?;
    raw.map(build_item).transpose()
}

pub fn package(conn: &Connection, now: Timestamp) -> DbResult<Package> {
    Ok(Package {
        items: items(conn)?.iter().map(|i| i.to_item(now)).collect(),
    })
}

fn claim_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Claim> {
    Ok(Claim {
        item_id: r.get(0)?,
        claimed_at: Timestamp(r.get(1)?),
        expires_at: r.get::<_, Option<i64>>(2)?.map(Timestamp),
        code: r.get(3)?,
    })
}

fn existing_claim(conn: &Connection, user: &str, item_id: &str) -> DbResult<Option<Claim>> {
    Ok(conn
        .prepare_cached("SELECT item_id, claimed_at, expires_at, code FROM claims WHERE user_id = ?1 AND item_id = ?2")?
        .query_row([user, item_id], claim_from_row)
        .optional()?)
}

pub fn ineligible_reason(conn: &Connection, user: &str) -> DbResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT reason FROM ineligible WHERE user_id = ?1")?
        .query_row([user], |r| r.get(0))
        .optional()?)
}

pub fn my_claims(conn: &Connection, user: &str) -> DbResult<MyClaims> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.item_id, c.claimed_at, c.expires_at, c.code FROM claims c JOIN items i ON i.id = c.item_id
         WHERE c.user_id = ?1 ORDER BY i.position",
    )?;
    let claims = stmt
        .query_map([user], claim_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MyClaims {
        claims,
        ineligible_reason: ineligible_reason(conn, user)?,
    })
}

/// Records a request refused because the campaign was not open yet.
pub fn record_early_attempt(
    conn: &Connection,
    at: Timestamp,
    user: Option<&str>,
    endpoint: &str,
) -> DbResult<()> {
    conn.prepare_cached("INSERT INTO early_attempts (at, user_id, endpoint) VALUES (?1, ?2, ?3)")?
        .execute(params![at.0, user, endpoint])?;
    Ok(())
}

/// What one claim request came to.
#[derive(Clone, Debug, PartialEq)]
pub enum ClaimOutcome {
    /// A fresh answer (JSON of `ClaimResponse`), committed with its idempotency record.
    Done(String),
    /// The stored answer to an earlier request with the same key and body.
    Replay(String),
    KeyReused,
    UnknownItems(Vec<String>),
    NotOpen {
        release_at: Timestamp,
    },
    Closed,
    Paused,
}

pub struct ClaimInput {
    pub user: String,
    pub key: String,
    pub request_hash: String,
    pub item_ids: Vec<String>,
    pub now: Timestamp,
}

pub const CLAIMS_ENDPOINT: &str = "POST /v1/claims";

pub(crate) fn new_code(prefix: &str) -> String {
    let mut rng = rand::thread_rng();
    let mut part = || -> String {
        (0..4)
            .map(|_| CODE_CHARSET[rng.gen_range(0..CODE_CHARSET.len())] as char)
            .collect()
    };
    format!("{prefix}-{}-{}", part(), part())
}

/// Decides one claim request. The caller runs it inside a write transaction and
/// answers only after that transaction commits.
pub fn claim(conn: &Connection, input: &ClaimInput) -> DbResult<ClaimOutcome> {
    let settings = settings(conn)?;
    match settings.phase(input.now) {
        Phase::BeforeOpen { .. } => {
            record_early_attempt(conn, input.now, Some(&input.user), CLAIMS_ENDPOINT)?;
            return Ok(ClaimOutcome::NotOpen {
                release_at: settings.release_at,
            });
        }
        Phase::Closed => return Ok(ClaimOutcome::Closed),
        Phase::Paused => return Ok(ClaimOutcome::Paused),
        Phase::Open => {}
    }

    let previous: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT request_hash, response FROM idempotency WHERE user_id = ?1 AND key = ?2",
        )?
        .query_row([&input.user, &input.key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((hash, response)) = previous {
        return Ok(if hash == input.request_hash {
            ClaimOutcome::Replay(response)
        } else {
            ClaimOutcome::KeyReused
        });
    }

    let mut rows = Vec::with_capacity(input.item_ids.len());
    let mut unknown = Vec::new();
    for id in &input.item_ids {
        match item(conn, id)? {
            Some(row) => rows.push(row),
            None => unknown.push(id.clone()),
        }
    }
    if !unknown.is_empty() {
        return Ok(ClaimOutcome::UnknownItems(unknown));
    }

    let reason = ineligible_reason(conn, &input.user)?;
    let mut results = Vec::with_capacity(rows.len());
    for row in &rows {
        let result = |status, claim, reason| ClaimResult {
            item_id: row.id.clone(),
            status,
            claim,
            reason,
        };
        if let Some(existing) = existing_claim(conn, &input.user, &row.id)? {
            results.push(result(ClaimStatus::AlreadyClaimed, Some(existing), None));
            continue;
        }
        if let Some(reason) = &reason {
            results.push(result(ClaimStatus::Ineligible, None, Some(reason.clone())));
            continue;
        }
        let taken = conn
            .prepare_cached("UPDATE items SET granted = granted + 1 WHERE id = ?1 AND (cap IS NULL OR granted < cap)")?
            .execute([&row.id])?;
        if taken == 0 {
            results.push(result(ClaimStatus::SoldOut, None, None));
            continue;
        }
        let expires_at = row.validity.expires_at(input.now);
        let mut attempt = 0;
        let code = loop {
            let code = row.code_prefix.as_deref().map(new_code);
            let inserted = conn
                .prepare_cached(
                    "INSERT INTO claims (user_id, item_id, claimed_at, expires_at, code, idempotency_key)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![input.user, row.id, input.now.0, expires_at.map(|t| t.0), code, input.key]);
            match inserted {
                Ok(_) => break code,
                // A generated code collided with an existing one (1 in 10^12): draw again.
                Err(e)
                    if code.is_some()
                        && attempt < 5
                        && e.sqlite_error_code()
                            == Some(rusqlite::ErrorCode::ConstraintViolation) =>
                {
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let claim = Claim {
            item_id: row.id.clone(),
            claimed_at: input.now,
            expires_at,
            code,
        };
        results.push(result(ClaimStatus::Granted, Some(claim), None));
    }

    let body = serde_json::to_string(&ClaimResponse { results })
        .map_err(|e| DbError::Other(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO idempotency (user_id, key, request_hash, response, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![input.user, input.key, input.request_hash, body, input.now.0])?;
    Ok(ClaimOutcome::Done(body))
}

// ---- operator changes (`maeum-server admin ...`) ----

pub(crate) fn immediate(conn: &mut Connection) -> DbResult<Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

/// Sets an item's cap (`None`: unlimited). Returns (old cap, granted so far).
pub fn set_cap(
    conn: &mut Connection,
    item_id: &str,
    cap: Option<u64>,
) -> DbResult<(Option<u64>, u64)> {
    let tx = immediate(conn)?;
    let old: Option<(Option<i64>, i64)> = tx
        .query_row(
            "SELECT cap, granted FROM items WHERE id = ?1",
            [item_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((old_cap, granted)) = old else {
        let known: Vec<String> = tx
            .prepare("SELECT id FROM items ORDER BY position")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        return Err(DbError::Other(format!(
            "no item {item_id:?}; items: {}",
            known.join(", ")
        )));
    };
    tx.execute(
        "UPDATE items SET cap = ?2 WHERE id = ?1",
        params![item_id, cap.map(to_i64)],
    )?;
    tx.commit()?;
    Ok((old_cap.map(to_u64), to_u64(granted)))
}

pub fn set_ineligible(
    conn: &mut Connection,
    user: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> DbResult<()> {
    let tx = immediate(conn)?;
    match reason {
        Some(reason) => tx.execute(
            "INSERT INTO ineligible (user_id, reason, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (user_id) DO UPDATE SET reason = excluded.reason, updated_at = excluded.updated_at",
            params![user, reason, now.0],
        )?,
        None => tx.execute("DELETE FROM ineligible WHERE user_id = ?1", [user])?,
    };
    tx.commit()?;
    Ok(())
}

pub fn set_paused(conn: &mut Connection, paused: bool, now: Timestamp) -> DbResult<()> {
    let tx = immediate(conn)?;
    tx.execute(
        "UPDATE campaign SET paused = ?1, updated_at = ?2 WHERE id = 1",
        params![paused as i64, now.0],
    )?;
    tx.commit()?;
    Ok(())
}

/// Returns the previous release instant.
pub fn set_release_at(conn: &mut Connection, at: Timestamp, now: Timestamp) -> DbResult<Timestamp> {
    let tx = immediate(conn)?;
    let old: i64 = tx.query_row("SELECT release_at FROM campaign WHERE id = 1", [], |r| {
        r.get(0)
    })?;
    tx.execute(
        "UPDATE campaign SET release_at = ?1, updated_at = ?2 WHERE id = 1",
        params![at.0, now.0],
    )?;
    tx.commit()?;
    Ok(Timestamp(old))
}

pub fn set_closes_at(conn: &mut Connection, at: Option<Timestamp>, now: Timestamp) -> DbResult<()> {
    let tx = immediate(conn)?;
    tx.execute(
        "UPDATE campaign SET closes_at = ?1, updated_at = ?2 WHERE id = 1",
        params![at.map(|t| t.0), now.0],
    )?;
    tx.commit()?;
    Ok(())
}

// ---- report ----

#[derive(Clone, Debug, PartialEq)]
pub struct MinuteCount {
    /// Start of the minute.
    pub minute: Timestamp,
    pub key: String,
    pub count: u64,
    pub users: u64,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub settings: Settings,
    pub items: Vec<ItemRow>,
    /// Claims granted, per minute and item.
    pub granted_per_minute: Vec<MinuteCount>,
    /// Claims whose time is before the (current) release instant, per item.
    pub granted_before_release: Vec<(String, u64)>,
    /// Refused early attempts, per minute and endpoint.
    pub early_per_minute: Vec<MinuteCount>,
    pub early_total: u64,
    pub early_users: u64,
    pub early_first: Option<Timestamp>,
    pub early_last: Option<Timestamp>,
}

pub fn report(conn: &Connection) -> DbResult<Report> {
    let settings = settings(conn)?;
    let per_minute = |sql: &str| -> DbResult<Vec<MinuteCount>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| {
            Ok(MinuteCount {
                minute: Timestamp(r.get(0)?),
                key: r.get(1)?,
                count: to_u64(r.get(2)?),
                users: to_u64(r.get(3)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let granted_per_minute = per_minute(
        "SELECT (claimed_at / 60000) * 60000 AS m, item_id, COUNT(*), COUNT(DISTINCT user_id)
         FROM claims GROUP BY m, item_id ORDER BY m, item_id",
    )?;
    let early_per_minute = per_minute(
        "SELECT (at / 60000) * 60000 AS m, endpoint, COUNT(*), COUNT(DISTINCT user_id)
         FROM early_attempts GROUP BY m, endpoint ORDER BY m, endpoint",
    )?;
    let mut stmt = conn.prepare("SELECT item_id, COUNT(*) FROM claims WHERE claimed_at < ?1 GROUP BY item_id ORDER BY item_id")?;
    let granted_before_release = stmt
        .query_map([settings.release_at.0], |r| {
            Ok((r.get::<_, String>(0)?, to_u64(r.get(1)?)))
        })?
        .collect::<Result<_, _>>()?;
    let (early_total, early_users, early_first, early_last) = conn.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT user_id), MIN(at), MAX(at) FROM early_attempts",
        [],
        |r| {
            Ok((
                to_u64(r.get(0)?),
                to_u64(r.get(1)?),
                r.get::<_, Option<i64>>(2)?.map(Timestamp),
                r.get::<_, Option<i64>>(3)?.map(Timestamp),
            ))
        },
    )?;
    Ok(Report {
        settings,
        items: items(conn)?,
        granted_per_minute,
        granted_before_release,
        early_per_minute,
        early_total,
        early_users,
        early_first,
        early_last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&db_path(dir.path())).unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap(); // idempotent
        seed(&mut conn, &Campaign::shipped(), Timestamp(0)).unwrap();
        (dir, conn)
    }

    fn input(user: &str, key: &str, ids: &[&str], now: Timestamp) -> ClaimInput {
        ClaimInput {
            user: user.into(),
            key: key.into(),
            request_hash: ids.join(","),
            item_ids: ids.iter().map(|s| s.to_string()).collect(),
            now,
        }
    }

    #[test]
    fn seeding_twice_keeps_caps_changed_by_operators() {
        let (_dir, mut conn) = fresh();
        set_cap(&mut conn, "drawer-plus-1m", Some(5)).unwrap();
        seed(&mut conn, &Campaign::shipped(), Timestamp(1)).unwrap();
        let drawer = items(&conn)
            .unwrap()
            .into_iter()
            .find(|i| i.id == "drawer-plus-1m")
            .unwrap();
        assert_eq!(drawer.cap, Some(5));
        assert_eq!(items(&conn).unwrap().len(), 6);
    }

    #[test]
    fn every_connection_is_wal_with_full_sync_and_a_busy_timeout() {
        let (dir, _conn) = fresh();
        let conn = open(&db_path(dir.path())).unwrap();
        let (mode, sync, timeout): (String, i64, i64) = conn
            .query_row(
                "SELECT (SELECT journal_mode FROM pragma_journal_mode), (SELECT synchronous FROM pragma_synchronous), (SELECT timeout FROM pragma_busy_timeout)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "FULL");
        assert_eq!(timeout, BUSY_TIMEOUT.as_millis() as i64);
    }

    #[test]
    fn codes_use_the_unambiguous_charset() {
        for _ in 0..200 {
            let code = new_code("MKR");
            assert_eq!(code.len(), "MKR-XXXX-XXXX".len());
            assert!(code.starts_with("MKR-") && code.as_bytes()[8] == b'-');
            assert!(
                code[4..]
                    .bytes()
                    .filter(|&b| b != b'-')
                    .all(|b| CODE_CHARSET.contains(&b)),
                "{code}"
            );
            assert!(!code[4..].contains(['0', 'O', '1', 'I']));
        }
    }

    #[test]
    fn a_claim_counts_against_the_cap_and_is_reported_per_minute() {
        let (_dir, mut conn) = fresh();
        set_cap(&mut conn, "drawer-plus-1m", Some(1)).unwrap();
        let now = Timestamp::parse_rfc3339("2023-01-05T09:41:30+09:00").unwrap();
        let first = claim(&conn, &input("a", "k1", &["drawer-plus-1m"], now)).unwrap();
        assert!(
            matches!(&first, ClaimOutcome::Done(b) if b.contains("\"granted\"") && b.contains("DRW-"))
        );
        let second = claim(&conn, &input("b", "k1", &["drawer-plus-1m"], now)).unwrap();
        assert!(matches!(&second, ClaimOutcome::Done(b) if b.contains("\"sold_out\"")));
        let r = report(&conn).unwrap();
        assert_eq!(r.granted_per_minute.len(), 1);
        assert_eq!(r.granted_per_minute[0].count, 1);
        assert_eq!(
            r.granted_per_minute[0].minute,
            Timestamp::parse_rfc3339("2023-01-05T09:41:00+09:00").unwrap()
        );
        assert!(r.granted_before_release.is_empty());
    }
}
