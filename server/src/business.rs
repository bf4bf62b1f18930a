//! The small-business endpoints: evidence uploads, damage claims and their
//! receipts, and channel message cash.
//!
//! Uploads stream to a temporary file under `DIR/uploads/tmp` while they are
//! hashed and measured; the size limit holds while streaming, the type comes
//! from the first bytes, and only a complete, allowed file is renamed to its
//! content address `DIR/uploads/<2 hex>/<64 hex>`. The client's file name is
//! metadata only, never a path.

use axum::body::Bytes;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maeum_contract::business::{
    sniff, Brn, ChannelCashRequest, DamageClaimRequest, FieldError, MAX_EVIDENCE_BYTES, SNIFF_BYTES,
};
use maeum_contract::problem::code;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::{Path as FsPath, PathBuf};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

use crate::auth::User;
use crate::bizdb::{self, Outcome, Refused, UploadOutcome};
use crate::extract::{
    body_rejection, idempotency_key, json_answer, parse_json, rate_limit, request_hash,
};
use crate::gate::{load_settings, refuse_if_early, write_gate};
use crate::problem::{bad_request, closed, internal, key_reused, not_open, paused, ApiError};
use crate::state::{AppState, Shared};

/// Evidence files live under `DIR/uploads`.
pub const UPLOADS_DIR: &str = "uploads";
/// Largest multipart body for `POST /v1/uploads`: one file at the limit plus
/// room for the other parts and the multipart framing.
pub const UPLOAD_BODY_LIMIT_BYTES: usize = MAX_EVIDENCE_BYTES as usize + 2 * 1024 * 1024;
/// Longest kept file name, in characters.
pub const MAX_FILENAME_CHARS: usize = 120;
/// Longest `category` part read.
const MAX_CATEGORY_BYTES: usize = 64;
/// How long a refused upload's remaining body is read and thrown away, so the
/// client gets to read the answer instead of a reset connection.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

fn refused(state: &AppState, r: Refused) -> ApiError {
    match r {
        Refused::NotOpen { release_at } => not_open(release_at, state.clock.now()),
        Refused::Closed => closed(),
        Refused::Paused => paused(state.pause_retry_after_seconds),
    }
}

fn field_error(field: &str, code: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---- uploads ----

/// The name a client gave its file, made safe to keep as metadata: the last
/// path component, without control characters, trimmed, at most
/// [`MAX_FILENAME_CHARS`] characters. `None` when nothing is left.
pub fn sanitize_filename(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'))
        .collect();
    let clean = clean.trim();
    let clean: String = clean.chars().take(MAX_FILENAME_CHARS).collect();
    let clean = clean.trim_end().to_string();
    (!clean.is_empty() && clean != "." && clean != "..").then_some(clean)
}

/// A temporary file that removes itself unless it was kept.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A fully received, allowed file, still in its temporary place.
struct Staged {
    temp: TempFile,
    sha256: String,
    size: u64,
    content_type: &'static str,
    filename: Option<String>,
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::PAYLOAD_TOO_LARGE,
        "파일이 너무 커요",
    )
    .detail(format!(
        "파일 하나는 {}MB까지 올릴 수 있어요.",
        MAX_EVIDENCE_BYTES / (1024 * 1024)
    ))
}

fn not_allowed_type() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code::UNSUPPORTED_MEDIA_TYPE,
        "올릴 수 없는 파일 형식이에요",
    )
    .detail("사진(JPG, PNG, HEIC)이나 PDF 파일만 올릴 수 있어요.")
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        bad_request(
            code::BAD_REQUEST,
            "파일을 받지 못했어요",
            "업로드가 중간에 끊겼거나 형식이 맞지 않아요. 다시 올려 주세요.",
        )
    }
}

fn io_error(what: &str, e: std::io::Error) -> ApiError {
    tracing::error!("upload: {what}: {e}");
    internal()
}

/// Streams the `file` part to a temporary file under `tmp_dir`.
async fn stage(mut field: Field<'_>, tmp_dir: &FsPath) -> Result<Staged, ApiError> {
    let filename = field.file_name().and_then(sanitize_filename);
    let temp = TempFile {
        path: tmp_dir.join(format!("{}.part", random_id())),
        keep: false,
    };
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp.path)
        .await
        .map_err(|e| io_error("creating the temporary file", e))?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        size += chunk.len() as u64;
        if size > MAX_EVIDENCE_BYTES {
            return Err(too_large());
        }
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == SNIFF_BYTES && sniff(&head).is_none() {
                return Err(not_allowed_type());
            }
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| io_error("writing the temporary file", e))?;
    }
    if size == 0 {
        return Err(bad_request(
            code::BAD_REQUEST,
            "빈 파일이에요",
            "내용이 없는 파일은 올릴 수 없어요. 다른 파일을 골라 주세요.",
        ));
    }
    let kind = sniff(&head).ok_or_else(not_allowed_type)?;
    file.sync_all()
        .await
        .map_err(|e| io_error("syncing the temporary file", e))?;
    drop(file);
    Ok(Staged {
        temp,
        sha256: hex(&hasher.finalize()),
        size,
        content_type: kind.content_type(),
        filename,
    })
}

/// Reads a short text part.
async fn small_text(mut field: Field<'_>) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_CATEGORY_BYTES {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&bytes).trim().to_string())
}

fn bad_category() -> ApiError {
    ApiError::validation(vec![field_error(
        "category",
        "invalid",
        "증빙 종류는 small_business_cert, sales_loss, service_use, bankbook 중 하나여야 해요.",
    )])
}

/// The evidence store failed or was slow: nothing names the object yet, so the
/// uploader may simply send the file again.
fn store_unavailable(e: crate::blobs::BlobError) -> ApiError {
    eprintln!("maeum-server: upload: {e}");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        code::BUSY,
        "증빙 파일을 지금 저장하지 못했어요",
    )
    .detail("저장소가 잠시 응답하지 않아요. 잠시 후 같은 파일을 다시 올려 주세요.")
    .retry_after(5)
}

/// Removes temporary files left by a crash mid-upload. Only old ones: another
/// server sharing the data directory may be writing a fresh one right now.
pub fn sweep_stale_temp_files(uploads_dir: &FsPath) -> usize {
    const STALE: Duration = Duration::from_secs(3600);
    let Ok(entries) = std::fs::read_dir(uploads_dir.join("tmp")) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE);
        if old
            && path.extension().is_some_and(|e| e == "part")
            && std::fs::remove_file(&path).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// Reads and discards what is left of a refused upload (bounded by the body
/// limit and [`DRAIN_TIMEOUT`]), so the client can read the answer.
async fn drain(multipart: &mut Multipart) {
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while let Ok(Some(mut field)) = multipart.next_field().await {
            while let Ok(Some(_)) = field.chunk().await {}
        }
    })
    .await;
}

pub async fn post_upload(
    State(state): State<Shared>,
    User(user): User,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    rate_limit(&state, &user, &headers)?;
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(rejection) => {
            write_gate(&state, &user, bizdb::UPLOADS_ENDPOINT).await?;
            let is_multipart = headers
                .get(axum::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
            return Err(if is_multipart {
                bad_request(
                    code::BAD_REQUEST,
                    "파일을 받지 못했어요",
                    rejection.body_text(),
                )
            } else {
                ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    code::UNSUPPORTED_MEDIA_TYPE,
                    "multipart/form-data 형식으로 보내 주세요",
                )
                .detail("file 파트에 파일을 담아 보내 주세요.")
            });
        }
    };
    match receive_upload(&state, &user, &mut multipart).await {
        Ok(res) => Ok(res),
        Err(e) => {
            drain(&mut multipart).await;
            Err(e)
        }
    }
}

async fn receive_upload(
    state: &AppState,
    user: &str,
    multipart: &mut Multipart,
) -> Result<Response, ApiError> {
    write_gate(state, user, bizdb::UPLOADS_ENDPOINT).await?;

    let tmp_dir = state.staging_dir.clone();
    tokio::fs::create_dir_all(&tmp_dir)
        .await
        .map_err(|e| io_error("creating the upload directory", e))?;
    let mut staged: Option<Staged> = None;
    let mut category = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") if staged.is_none() => staged = Some(stage(field, &tmp_dir).await?),
            Some("file") => {
                return Err(bad_request(
                    code::BAD_REQUEST,
                    "파일은 한 번에 하나씩 올려 주세요",
                    "file 파트가 둘 이상이에요.",
                ))
            }
            Some("category") => {
                let text = small_text(field).await?;
                category = Some(bizdb::parse_category(&text).ok_or_else(bad_category)?);
            }
            other => {
                return Err(bad_request(
                    code::BAD_REQUEST,
                    "알 수 없는 파트가 있어요",
                    format!(
                        "file과 category 파트만 보낼 수 있어요 (받은 파트: {}).",
                        other
                            .unwrap_or("이름 없음")
                            .chars()
                            .take(40)
                            .collect::<String>()
                    ),
                ))
            }
        }
    }
    let Some(staged) = staged else {
        return Err(bad_request(
            code::BAD_REQUEST,
            "파일이 없어요",
            "file 파트에 파일을 담아 보내 주세요.",
        ));
    };

    // Over the quota, and not a retry of a stored file: refuse before keeping
    // the bytes (the write below checks again, exactly).
    let (owner, sha) = (user.to_string(), staged.sha256.clone());
    let (count, known) = state.store.upload_stats(owner, sha).await?;
    if count >= state.upload_quota && !known {
        return Err(quota_exceeded(state.upload_quota));
    }

    // The object first, whole; only then the row that names it.
    state
        .blobs
        .put_file(&staged.sha256, &staged.temp.path, staged.size)
        .await
        .map_err(store_unavailable)?;
    let new = bizdb::NewUpload {
        id: random_id(),
        user: user.to_string(),
        sha256: staged.sha256.clone(),
        size: staged.size,
        content_type: staged.content_type.to_string(),
        category,
        filename: staged.filename.clone(),
        now: state.clock.now(),
    };
    let quota = state.upload_quota;
    let outcome = state.store.insert_upload(new, quota).await?;
    drop(staged);
    let upload = match outcome {
        UploadOutcome::Stored(u) => {
            state.metrics.upload_bytes(u.size);
            u
        }
        UploadOutcome::Existing(u) => u,
        UploadOutcome::QuotaExceeded => return Err(quota_exceeded(quota)),
        UploadOutcome::Refused(r) => return Err(refused(state, r)),
    };
    let body = serde_json::to_string(&upload).map_err(|_| internal())?;
    Ok(json_answer(StatusCode::CREATED, body, false))
}

fn quota_exceeded(quota: u64) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code::QUOTA_EXCEEDED,
        "더 올릴 수 없어요",
    )
    .detail(format!(
        "증빙 파일은 한 사람이 {quota}개까지 올릴 수 있어요. 이미 올린 파일을 다시 써 주세요."
    ))
}

// ---- damage claims ----

pub async fn post_damage_claim(
    State(state): State<Shared>,
    User(user): User,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    rate_limit(&state, &user, &headers)?;
    write_gate(&state, &user, bizdb::DAMAGE_CLAIMS_ENDPOINT).await?;
    let key = idempotency_key(&headers)?;
    let body = body.map_err(body_rejection)?;
    let request: DamageClaimRequest = parse_json(&headers, &body, "DamageClaimRequest")?;

    // Every rule of the form, and every evidence file must be the caller's own.
    let ids: Vec<String> = request
        .evidence
        .iter()
        .map(|e| e.upload_id.clone())
        .collect();
    let owner = user.clone();
    let foreign = state.store.foreign_uploads(owner, ids).await?;
    let validated = request.validate();
    let mut errors = match &validated {
        Ok(_) => Vec::new(),
        Err(errors) => errors.clone(),
    };
    if !foreign.is_empty() {
        errors.push(field_error(
            "evidence",
            "unknown_upload",
            "올리지 않았거나 찾을 수 없는 증빙 파일이 있어요. 파일을 다시 올려 주세요.",
        ));
    }
    let claim = match validated {
        Ok(claim) if errors.is_empty() => claim,
        _ => return Err(ApiError::validation(errors)),
    };

    let canonical = serde_json::to_vec(&request).map_err(|_| internal())?;
    let request_hash = request_hash(Some(bizdb::DAMAGE_CLAIMS_ENDPOINT), &canonical);
    let support = match claim.support {
        maeum_contract::business::Support::Won { .. } => "won",
        maeum_contract::business::Support::Review { .. } => "review",
    };
    let input = bizdb::DamageClaimInput {
        user,
        key,
        request_hash,
        claim,
        now: state.clock.now(),
    };
    let outcome = state.store.submit_damage_claim(input).await?;
    match outcome {
        Outcome::Done(body) => {
            state.metrics.damage_claim(support);
            Ok(json_answer(StatusCode::CREATED, body, false))
        }
        Outcome::Replay(body) => Ok(json_answer(StatusCode::CREATED, body, true)),
        Outcome::KeyReused => Err(key_reused()),
        Outcome::Conflict(receipt_no) => Err(ApiError::conflict(receipt_no)),
        Outcome::Refused(r) => Err(refused(&state, r)),
    }
}

fn no_such_receipt() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        code::NOT_FOUND,
        "접수번호를 찾을 수 없어요",
    )
    .detail("접수번호를 다시 확인해 주세요. 신청한 계정으로 로그인해야 볼 수 있어요.")
}

pub async fn get_damage_claim(
    State(state): State<Shared>,
    User(user): User,
    receipt_no: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let settings = load_settings(&state).await?;
    refuse_if_early(
        &state,
        &settings,
        &user,
        bizdb::DAMAGE_CLAIM_STATUS_ENDPOINT,
    )
    .await?;
    let Ok(Path(receipt_no)) = receipt_no else {
        return Err(no_such_receipt());
    };
    let receipt_no = bizdb::normalize_receipt_no(&receipt_no);
    if receipt_no.len() > 32 {
        return Err(no_such_receipt());
    }
    let receipt = state
        .store
        .receipt_for(user, receipt_no)
        .await?
        .ok_or_else(no_such_receipt)?;
    let body = serde_json::to_string(&receipt).map_err(|_| internal())?;
    Ok(json_answer(StatusCode::OK, body, false))
}

// ---- channel cash ----

pub async fn post_channel_cash(
    State(state): State<Shared>,
    User(user): User,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    rate_limit(&state, &user, &headers)?;
    write_gate(&state, &user, bizdb::CHANNEL_CASH_ENDPOINT).await?;
    let key = idempotency_key(&headers)?;
    let body = body.map_err(body_rejection)?;
    let request: ChannelCashRequest = parse_json(&headers, &body, "{\"brn\": \"124-81-00998\"}")?;
    let brn = Brn::parse(&request.brn).map_err(|e| ApiError::validation(vec![e]))?;
    // The business, not how its number was typed, is what the key stands for.
    let request_hash = request_hash(Some(bizdb::CHANNEL_CASH_ENDPOINT), brn.digits().as_bytes());
    let input = bizdb::ChannelCashInput {
        user,
        key,
        request_hash,
        brn,
        now: state.clock.now(),
    };
    let outcome = state.store.channel_cash(input).await?;
    match outcome {
        Outcome::Done(body) => Ok(json_answer(StatusCode::OK, body, false)),
        Outcome::Replay(body) => Ok(json_answer(StatusCode::OK, body, true)),
        Outcome::KeyReused => Err(key_reused()),
        Outcome::Conflict(_) => Err(internal()),
        Outcome::Refused(r) => Err(refused(&state, r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_old_unfinished_uploads_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let (old, fresh, other) = (tmp.join("a.part"), tmp.join("b.part"), tmp.join("c.txt"));
        for p in [&old, &fresh, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
        for p in [&old, &other] {
            std::fs::File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(two_hours_ago)
                .unwrap();
        }
        assert_eq!(sweep_stale_temp_files(dir.path()), 1);
        assert!(!old.exists() && fresh.exists() && other.exists());
        assert_eq!(sweep_stale_temp_files(&dir.path().join("none")), 0);
    }

    #[test]
    fn file_names_are_reduced_to_a_safe_basename() {
        assert_eq!(
            sanitize_filename("영수증.jpg").as_deref(),
            Some("영수증.jpg")
        );
        assert_eq!(
            sanitize_filename("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            sanitize_filename("C:\\Users\\kim\\통장 사본.pdf").as_deref(),
            Some("통장 사본.pdf")
        );
        assert_eq!(
            sanitize_filename("a\u{0}b\r\nc\u{202e}gpj.exe").as_deref(),
            Some("abcgpj.exe")
        );
        assert_eq!(sanitize_filename("dir/"), None);
        assert_eq!(sanitize_filename(".."), None);
        assert_eq!(sanitize_filename(" \t "), None);
        assert_eq!(
            sanitize_filename(&"가".repeat(500))
                .unwrap()
                .chars()
                .count(),
            MAX_FILENAME_CHARS
        );
    }
}
