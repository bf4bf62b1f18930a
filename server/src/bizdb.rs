//! Storage for the small-business side: evidence uploads, damage claims and
//! channel cash. Same database and write path as the gift claims (see `db`):
//! every function that changes something runs inside the caller's write
//! transaction, so a decision and its idempotency record commit together.

use maeum_contract::business::{
    Brn, ChannelCash, DamageClaimReceipt, DamageClaimStatus, EvidenceCategory, Support,
    ValidDamageClaim, CHANNEL_CASH_WON,
};
use maeum_contract::gate::Phase;
use maeum_contract::Timestamp;
use rand::Rng;
use rusqlite::{params, Connection, OptionalExtension};

use crate::db::{self, to_i64, to_u64, DbError, DbResult, CODE_CHARSET};

pub const UPLOADS_ENDPOINT: &str = "POST /v1/uploads";
pub const DAMAGE_CLAIMS_ENDPOINT: &str = "POST /v1/damage-claims";
pub const DAMAGE_CLAIM_STATUS_ENDPOINT: &str = "GET /v1/damage-claims/{receipt_no}";
pub const CHANNEL_CASH_ENDPOINT: &str = "POST /v1/channel-cash";

pub(crate) fn json_err(e: serde_json::Error) -> DbError {
    DbError::Other(e.to_string())
}

/// Why a write was refused by the campaign's gate, decided inside the transaction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Refused {
    NotOpen { release_at: Timestamp },
    Closed,
    Paused,
}

/// The gate, checked atomically with the write (early attempts are recorded).
fn gate(
    conn: &Connection,
    user: &str,
    now: Timestamp,
    endpoint: &str,
) -> DbResult<Option<Refused>> {
    let settings = db::settings(conn)?;
    Ok(match settings.phase(now) {
        Phase::BeforeOpen { .. } => {
            db::record_early_attempt(conn, now, Some(user), endpoint)?;
            Some(Refused::NotOpen {
                release_at: settings.release_at,
            })
        }
        Phase::Closed => Some(Refused::Closed),
        Phase::Paused => Some(Refused::Paused),
        Phase::Open => None,
    })
}

/// The stored answer for this user's key: `Some(Ok(body))` to replay,
/// `Some(Err(()))` when the key was used for another request.
fn earlier_answer(
    conn: &Connection,
    user: &str,
    key: &str,
    request_hash: &str,
) -> DbResult<Option<Result<String, ()>>> {
    let previous: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT request_hash, response FROM idempotency WHERE user_id = ?1 AND key = ?2",
        )?
        .query_row([user, key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(previous.map(|(hash, response)| {
        if hash == request_hash {
            Ok(response)
        } else {
            Err(())
        }
    }))
}

fn remember_answer(
    conn: &Connection,
    user: &str,
    key: &str,
    request_hash: &str,
    response: &str,
    now: Timestamp,
) -> DbResult<()> {
    conn.prepare_cached(
        "INSERT INTO idempotency (user_id, key, request_hash, response, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![user, key, request_hash, response, now.0])?;
    Ok(())
}

/// What an idempotent write came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A fresh answer (JSON), committed with its idempotency record.
    Done(String),
    /// The stored answer to an earlier request with the same key and body.
    Replay(String),
    KeyReused,
    /// A damage claim for this business exists already: its receipt number.
    Conflict(String),
    Refused(Refused),
}

// ---- uploads ----

pub fn category_str(c: EvidenceCategory) -> &'static str {
    match c {
        EvidenceCategory::SmallBusinessCert => "small_business_cert",
        EvidenceCategory::SalesLoss => "sales_loss",
        EvidenceCategory::ServiceUse => "service_use",
        EvidenceCategory::Bankbook => "bankbook",
    }
}

pub fn parse_category(s: &str) -> Option<EvidenceCategory> {
    EvidenceCategory::ALL
        .into_iter()
        .find(|c| category_str(*c) == s)
}

/// An upload whose bytes are already in place under `DIR/uploads`.
#[derive(Clone, Debug)]
pub struct NewUpload {
    pub id: String,
    pub user: String,
    pub sha256: String,
    pub size: u64,
    pub content_type: String,
    pub category: Option<EvidenceCategory>,
    pub filename: Option<String>,
    pub now: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub enum UploadOutcome {
    /// Stored as a new upload.
    Stored(maeum_contract::business::Upload),
    /// This user had uploaded the same bytes before: that upload (a retry costs no quota).
    Existing(maeum_contract::business::Upload),
    QuotaExceeded,
    Refused(Refused),
}

pub fn upload_count(conn: &Connection, user: &str) -> DbResult<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM uploads WHERE user_id = ?1")?
        .query_row([user], |r| r.get(0))?;
    Ok(to_u64(n))
}

/// Whether `user` has stored these bytes already.
pub fn has_upload(conn: &Connection, user: &str, sha256: &str) -> DbResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM uploads WHERE user_id = ?1 AND sha256 = ?2")?
        .query_row([user, sha256], |_| Ok(()))
        .optional()?
        .is_some())
}

pub fn insert_upload(conn: &Connection, new: &NewUpload, quota: u64) -> DbResult<UploadOutcome> {
    if let Some(refused) = gate(conn, &new.user, new.now, UPLOADS_ENDPOINT)? {
        return Ok(UploadOutcome::Refused(refused));
    }
    let existing = conn
        .prepare_cached(
            "SELECT id, sha256, size, content_type FROM uploads WHERE user_id = ?1 AND sha256 = ?2",
        )?
        .query_row([&new.user, &new.sha256], |r| {
            Ok(maeum_contract::business::Upload {
                id: r.get(0)?,
                sha256: r.get(1)?,
                size: to_u64(r.get(2)?),
                content_type: r.get(3)?,
            })
        })
        .optional()?;
    if let Some(upload) = existing {
        return Ok(UploadOutcome::Existing(upload));
    }
    if upload_count(conn, &new.user)? >= quota {
        return Ok(UploadOutcome::QuotaExceeded);
    }
    conn.prepare_cached(
        "INSERT INTO uploads (id, user_id, sha256, size, content_type, category, filename, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        new.id,
        new.user,
        new.sha256,
        to_i64(new.size),
        new.content_type,
        new.category.map(category_str),
        new.filename,
        new.now.0
    ])?;
    Ok(UploadOutcome::Stored(maeum_contract::business::Upload {
        id: new.id.clone(),
        sha256: new.sha256.clone(),
        size: new.size,
        content_type: new.content_type.clone(),
    }))
}

/// The ids among `ids` that do not exist or belong to someone else.
pub fn foreign_uploads(conn: &Connection, user: &str, ids: &[String]) -> DbResult<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT user_id FROM uploads WHERE id = ?1")?;
    let mut foreign = Vec::new();
    for id in ids {
        let owner: Option<String> = stmt.query_row([id], |r| r.get(0)).optional()?;
        if owner.as_deref() != Some(user) && !foreign.contains(id) {
            foreign.push(id.clone());
        }
    }
    Ok(foreign)
}

// ---- damage claims ----

pub fn status_str(s: DamageClaimStatus) -> &'static str {
    match s {
        DamageClaimStatus::Received => "received",
        DamageClaimStatus::Reviewing => "reviewing",
        DamageClaimStatus::Approved => "approved",
        DamageClaimStatus::Paid => "paid",
        DamageClaimStatus::Rejected => "rejected",
    }
}

pub(crate) fn parse_status(s: &str) -> DbResult<DamageClaimStatus> {
    [
        DamageClaimStatus::Received,
        DamageClaimStatus::Reviewing,
        DamageClaimStatus::Approved,
        DamageClaimStatus::Paid,
        DamageClaimStatus::Rejected,
    ]
    .into_iter()
    .find(|st| status_str(*st) == s)
    .ok_or_else(|| DbError::Other(format!("unknown damage claim status {s:?} in the database")))
}

/// `D-2301-7Q4K93`: `D`, the year and month of submission (Korea time), six
/// characters of the unambiguous code alphabet.
pub fn new_receipt_no(now: Timestamp) -> String {
    let c = now.kst();
    let mut rng = rand::thread_rng();
    let tail: String = (0..6)
        .map(|_| CODE_CHARSET[rng.gen_range(0..CODE_CHARSET.len())] as char)
        .collect();
    format!("D-{:02}{:02}-{tail}", c.year.rem_euclid(100), c.month)
}

/// Receipt numbers as people type them: trimmed, upper-case.
pub fn normalize_receipt_no(input: &str) -> String {
    input.trim().to_ascii_uppercase()
}

pub struct DamageClaimInput {
    pub user: String,
    pub key: String,
    pub request_hash: String,
    pub claim: ValidDamageClaim,
    pub now: Timestamp,
}

/// Files a damage claim: one per business registration number.
pub fn submit_damage_claim(conn: &Connection, input: &DamageClaimInput) -> DbResult<Outcome> {
    if let Some(refused) = gate(conn, &input.user, input.now, DAMAGE_CLAIMS_ENDPOINT)? {
        return Ok(Outcome::Refused(refused));
    }
    match earlier_answer(conn, &input.user, &input.key, &input.request_hash)? {
        Some(Ok(body)) => return Ok(Outcome::Replay(body)),
        Some(Err(())) => return Ok(Outcome::KeyReused),
        None => {}
    }
    let brn = input.claim.brn.digits();
    let existing: Option<String> = conn
        .prepare_cached("SELECT receipt_no FROM damage_claims WHERE brn = ?1")?
        .query_row([brn], |r| r.get(0))
        .optional()?;
    if let Some(receipt_no) = existing {
        return Ok(Outcome::Conflict(receipt_no));
    }

    let request = &input.claim.request;
    let support = serde_json::to_string(&input.claim.support).map_err(json_err)?;
    let stored_request = serde_json::to_string(request).map_err(json_err)?;
    let mut attempt = 0;
    let receipt_no = loop {
        let receipt_no = new_receipt_no(input.now);
        let inserted = conn
            .prepare_cached(
                "INSERT INTO damage_claims (receipt_no, user_id, brn, business_name, loss_won, support, request,
                                            status, submitted_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'received', ?8, ?8)",
            )?
            .execute(params![
                receipt_no,
                input.user,
                brn,
                request.business_name,
                to_i64(request.loss_won),
                support,
                stored_request,
                input.now.0
            ]);
        match inserted {
            Ok(_) => break receipt_no,
            // The receipt number collided (1 in 10^9 per existing claim): draw again.
            Err(e)
                if attempt < 5
                    && e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) =>
            {
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut evidence = conn.prepare_cached(
        "INSERT OR IGNORE INTO damage_claim_evidence (receipt_no, upload_id, category) VALUES (?1, ?2, ?3)",
    )?;
    for e in &request.evidence {
        evidence.execute(params![receipt_no, e.upload_id, category_str(e.category)])?;
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
        conn,
        &input.user,
        &input.key,
        &input.request_hash,
        &body,
        input.now,
    )?;
    Ok(Outcome::Done(body))
}

/// One damage claim as an operator sees it (no account number).
#[derive(Clone, Debug, PartialEq)]
pub struct DamageClaimRow {
    pub receipt_no: String,
    pub user_id: String,
    pub status: DamageClaimStatus,
    pub brn: String,
    pub business_name: String,
    pub loss_won: u64,
    pub support: Support,
    pub submitted_at: Timestamp,
    pub reason: Option<String>,
}

impl DamageClaimRow {
    pub fn receipt(&self) -> DamageClaimReceipt {
        DamageClaimReceipt {
            receipt_no: self.receipt_no.clone(),
            status: self.status,
            support: self.support,
            submitted_at: self.submitted_at,
            reason: if self.status == DamageClaimStatus::Rejected {
                self.reason.clone()
            } else {
                None
            },
        }
    }
}

const CLAIM_COLUMNS: &str =
    "receipt_no, user_id, status, brn, business_name, loss_won, support, submitted_at, reason";

pub(crate) type RawClaim = (
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    Option<String>,
);

pub(crate) fn build_claim(raw: RawClaim) -> DbResult<DamageClaimRow> {
    let (receipt_no, user_id, status, brn, business_name, loss, support, at, reason) = raw;
    let support: Support = serde_json::from_str(&support).map_err(|e| {
        DbError::Other(format!(
            "damage claim {receipt_no}: bad support in the database: {e}"
        ))
    })?;
    Ok(DamageClaimRow {
        status: parse_status(&status)?,
        receipt_no,
        user_id,
        brn,
        business_name,
        loss_won: to_u64(loss),
        support,
        submitted_at: Timestamp(at),
        reason,
    })
}

pub fn damage_claim(conn: &Connection, receipt_no: &str) -> DbResult<Option<DamageClaimRow>> {
    let raw = conn
        .prepare_cached(&format!(
            "SELECT {CLAIM_COLUMNS} FROM damage_claims WHERE receipt_no = ?1"
        ))?
        .query_row([receipt_no], |r| RawClaim::try_from(r))
        .optional()?;
    raw.map(build_claim).transpose()
}

/// The receipt, for its owner only.
pub fn receipt_for(
    conn: &Connection,
    user: &str,
    receipt_no: &str,
) -> DbResult<Option<DamageClaimReceipt>> {
    Ok(damage_claim(conn, receipt_no)?
        .filter(|row| row.user_id == user)
        .map(|row| row.receipt()))
}

pub fn list_damage_claims(conn: &Connection) -> DbResult<Vec<DamageClaimRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {CLAIM_COLUMNS} FROM damage_claims ORDER BY submitted_at, receipt_no"
    ))?;
    let raws = stmt
        .query_map([], |r| RawClaim::try_from(r))?
        .collect::<Result<Vec<_>, _>>()?;
    raws.into_iter().map(build_claim).collect()
}

/// An operator's decision on a damage claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    Review,
    /// With the amount decided by a proof review, for claims that needed one.
    Approve {
        won: Option<u64>,
    },
    Reject {
        reason: String,
    },
    Pay,
}

impl Decision {
    pub(crate) fn target(&self) -> DamageClaimStatus {
        match self {
            Decision::Review => DamageClaimStatus::Reviewing,
            Decision::Approve { .. } => DamageClaimStatus::Approved,
            Decision::Reject { .. } => DamageClaimStatus::Rejected,
            Decision::Pay => DamageClaimStatus::Paid,
        }
    }

    /// Statuses this decision may follow.
    pub(crate) fn allowed_from(&self) -> &'static [DamageClaimStatus] {
        use DamageClaimStatus::*;
        match self {
            Decision::Review => &[Received],
            Decision::Approve { .. } => &[Received, Reviewing],
            Decision::Reject { .. } => &[Received, Reviewing, Approved],
            Decision::Pay => &[Approved],
        }
    }
}

impl Decision {
    /// Whether this decision may follow `before`'s status; the new (reason, support JSON).
    pub(crate) fn check(&self, before: &DamageClaimRow) -> DbResult<(Option<&str>, String)> {
        let receipt_no = &before.receipt_no;
        if !self.allowed_from().contains(&before.status) {
            return Err(DbError::Other(format!(
                "{receipt_no} is {}; it cannot become {} from there",
                status_str(before.status),
                status_str(self.target())
            )));
        }
        let mut support = before.support;
        if let Decision::Approve { won: Some(won) } = self {
            if !matches!(before.support, Support::Review { .. }) {
                return Err(DbError::Other(format!(
                    "{receipt_no} has a fixed support by its loss; --won is only for claims that needed a proof review"
                )));
            }
            support = Support::Won { won: *won };
        }
        let reason = match self {
            Decision::Reject { reason } => Some(reason.as_str()),
            _ => None,
        };
        Ok((reason, serde_json::to_string(&support).map_err(json_err)?))
    }
}

/// Applies `decision`; returns the claim as it was before and as it is now.
pub fn decide_damage_claim(
    conn: &mut Connection,
    receipt_no: &str,
    decision: &Decision,
    now: Timestamp,
) -> DbResult<(DamageClaimRow, DamageClaimRow)> {
    let receipt_no = normalize_receipt_no(receipt_no);
    let tx = db::immediate(conn)?;
    let Some(before) = damage_claim(&tx, &receipt_no)? else {
        return Err(DbError::Other(format!(
            "no damage claim with receipt number {receipt_no:?} (see `admin claims list`)"
        )));
    };
    let (reason, support_json) = decision.check(&before)?;
    tx.execute(
        "UPDATE damage_claims SET status = ?2, reason = ?3, support = ?4, updated_at = ?5 WHERE receipt_no = ?1",
        params![
            receipt_no,
            status_str(decision.target()),
            reason,
            support_json,
            now.0
        ],
    )?;
    let after = damage_claim(&tx, &receipt_no)?
        .ok_or_else(|| DbError::Other(format!("{receipt_no} vanished during the update")))?;
    tx.commit()?;
    Ok((before, after))
}

// ---- channel cash ----

pub struct ChannelCashInput {
    pub user: String,
    pub key: String,
    pub request_hash: String,
    pub brn: Brn,
    pub now: Timestamp,
}

/// Grants the channel message cash once per business; a later request for the
/// same business (any user, any key) gets the original grant back.
pub fn channel_cash(conn: &Connection, input: &ChannelCashInput) -> DbResult<Outcome> {
    if let Some(refused) = gate(conn, &input.user, input.now, CHANNEL_CASH_ENDPOINT)? {
        return Ok(Outcome::Refused(refused));
    }
    match earlier_answer(conn, &input.user, &input.key, &input.request_hash)? {
        Some(Ok(body)) => return Ok(Outcome::Replay(body)),
        Some(Err(())) => return Ok(Outcome::KeyReused),
        None => {}
    }
    let brn = input.brn.digits();
    let earlier: Option<(i64, i64)> = conn
        .prepare_cached("SELECT won, granted_at FROM channel_cash WHERE brn = ?1")?
        .query_row([brn], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let grant = match earlier {
        Some((won, at)) => ChannelCash {
            brn: brn.to_string(),
            won: to_u64(won),
            granted_at: Timestamp(at),
            newly_granted: false,
        },
        None => {
            conn.prepare_cached(
                "INSERT INTO channel_cash (brn, user_id, won, granted_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                brn,
                input.user,
                to_i64(CHANNEL_CASH_WON),
                input.now.0
            ])?;
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
        conn,
        &input.user,
        &input.key,
        &input.request_hash,
        &body,
        input.now,
    )?;
    Ok(Outcome::Done(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_numbers_are_short_unambiguous_and_dated_in_korea_time() {
        // 2023-01-31 23:30 UTC is already February in Korea.
        let t = Timestamp::parse_rfc3339("2023-01-31T23:30:00Z").unwrap();
        for _ in 0..200 {
            let r = new_receipt_no(t);
            assert_eq!(r.len(), "D-2302-7Q4K93".len(), "{r}");
            assert!(r.starts_with("D-2302-"), "{r}");
            assert!(r[7..].bytes().all(|b| CODE_CHARSET.contains(&b)), "{r}");
        }
        assert_eq!(normalize_receipt_no(" d-2302-abc234 "), "D-2302-ABC234");
    }

    #[test]
    fn categories_round_trip_through_their_wire_names() {
        for c in EvidenceCategory::ALL {
            let wire = serde_json::to_value(c).unwrap();
            assert_eq!(wire, category_str(c));
            assert_eq!(parse_category(category_str(c)), Some(c));
        }
        assert_eq!(parse_category("selfie"), None);
    }
}
