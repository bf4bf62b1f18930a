//! The small-business damage claim as the user fills it in: the answers of
//! every step, which step they are on, the evidence already uploaded, and the
//! submit that may be queued until the network returns. Autosaved to
//! `localStorage` on every change, except the account number, which stays in
//! this tab (`sessionStorage`) and in memory.
//!
//! The rules are the contract's (`maeum_contract::business`); this module only
//! decides which of them belong to which step and builds the request body.

use std::cell::RefCell;

use maeum_contract::business::{
    check_business, check_consents, check_damage, check_evidence, check_payout, parse_account_no,
    parse_loss_won, parse_phone, Brn, ChannelCash, Consents, DamageClaimReceipt,
    DamageClaimRequest, Date, EvidenceCategory, EvidenceRef, FieldError, Payout, Service, Support,
};
use maeum_contract::Timestamp;
use serde::{Deserialize, Serialize};

use crate::api::codec;

/// Bumped when the stored shape changes incompatibly (an old draft is dropped).
pub const DRAFT_VERSION: u32 = 1;

const DRAFT_KEY: &str = "maeum.biz.draft";
const ACCOUNT_KEY: &str = "maeum.biz.account";
const RECEIPTS_KEY: &str = "maeum.biz.receipts";
const CASH_KEY: &str = "maeum.biz.cash";

/// The steps of the form, in order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    #[default]
    Info,
    Damage,
    Evidence,
    Payout,
    Consent,
    Check,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Info,
        Step::Damage,
        Step::Evidence,
        Step::Payout,
        Step::Consent,
        Step::Check,
    ];

    /// 1-based position.
    pub fn number(self) -> usize {
        self as usize + 1
    }

    pub fn slug(self) -> &'static str {
        match self {
            Step::Info => "info",
            Step::Damage => "damage",
            Step::Evidence => "evidence",
            Step::Payout => "payout",
            Step::Consent => "consent",
            Step::Check => "check",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.slug() == slug)
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Info => "사업자 정보",
            Step::Damage => "피해 내용",
            Step::Evidence => "증빙 서류",
            Step::Payout => "지급 계좌",
            Step::Consent => "개인정보 수집·이용 동의",
            Step::Check => "입력한 내용 확인",
        }
    }

    /// `/business/damage`.
    pub fn path(self) -> String {
        format!("/business/{}", self.slug())
    }

    pub fn next(self) -> Step {
        Step::ALL.get(self.number()).copied().unwrap_or(Step::Check)
    }

    pub fn prev(self) -> Option<Step> {
        (self as usize).checked_sub(1).map(|i| Step::ALL[i])
    }
}

/// Where one evidence file is. Not stored: a restored file is either
/// uploaded (`upload_id` set) or was cut off by the reload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FileState {
    /// Restored without an upload id: the file has to be chosen again.
    #[default]
    Interrupted,
    /// Waiting for one of the two upload slots.
    Queued,
    /// Sending; percent of the bytes sent.
    Uploading(u8),
    /// The network failed; retry number `n` starts soon (or when back online).
    Waiting(u8),
    Done,
    /// Refused or given up on; `retry` when sending it again may work.
    Failed {
        message: String,
        retry: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFile {
    /// Local id, unique within the draft.
    pub key: u32,
    pub name: String,
    pub size: u64,
    pub category: EvidenceCategory,
    pub upload_id: Option<String>,
    #[serde(skip)]
    pub state: FileState,
}

impl EvidenceFile {
    pub fn is_done(&self) -> bool {
        self.upload_id.is_some() && self.state == FileState::Done
    }

    pub fn is_busy(&self) -> bool {
        matches!(
            self.state,
            FileState::Queued | FileState::Uploading(_) | FileState::Waiting(_)
        )
    }
}

/// Every answer of the form.
///
/// Stored with serde (missing fields read as their default).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Draft {
    pub v: u32,
    /// The step the user is on.
    pub step: Step,
    /// The furthest step reached (later ones are not reachable by address).
    pub reached: Step,
    pub brn: String,
    pub business_name: String,
    pub representative: String,
    pub phone: String,
    pub email: String,
    pub services: Vec<Service>,
    pub services_other: String,
    /// Paid service (`true`) or free (`false`); `None` until chosen.
    pub paid: Option<bool>,
    pub period_from: String,
    pub period_to: String,
    /// As typed (`1,200,000`).
    pub loss: String,
    pub description: String,
    pub evidence: Vec<EvidenceFile>,
    pub next_file: u32,
    pub bank_code: String,
    /// Never written to localStorage (see [`save_account`]).
    #[serde(skip)]
    pub account_no: String,
    pub holder: String,
    pub privacy: bool,
    pub marketing: bool,
    /// The submit's Idempotency-Key, made once and kept until the claim is filed.
    pub key: String,
    /// The submit failed on the network: send again when it returns.
    pub queued: bool,
}

impl Draft {
    pub fn fresh() -> Draft {
        Draft {
            v: DRAFT_VERSION,
            ..Draft::default()
        }
    }

    /// Whether anything was entered (the package page then offers to continue).
    pub fn started(&self) -> bool {
        has_answers(self.reached, &self.brn, &self.business_name)
    }

    pub fn loss_won(&self) -> Option<u64> {
        parse_loss_won(&self.loss).ok()
    }

    pub fn evidence_refs(&self) -> Vec<EvidenceRef> {
        self.evidence
            .iter()
            .filter(|f| f.is_done())
            .filter_map(|f| {
                Some(EvidenceRef {
                    upload_id: f.upload_id.clone()?,
                    category: f.category,
                })
            })
            .collect()
    }

    pub fn file_mut(&mut self, key: u32) -> Option<&mut EvidenceFile> {
        self.evidence.iter_mut().find(|f| f.key == key)
    }

    /// The files that count towards the limit (not the refused ones).
    pub fn counted_files(&self) -> usize {
        self.evidence
            .iter()
            .filter(|f| !matches!(f.state, FileState::Failed { retry: false, .. }))
            .count()
    }

    /// The body of `POST /v1/damage-claims`, normalised the way the server
    /// normalises it (so a resend is byte-for-byte the same request).
    pub fn request(&self) -> DamageClaimRequest {
        let services: Vec<Service> = Service::ALL
            .into_iter()
            .filter(|s| self.services.contains(s))
            .collect();
        let other = services
            .contains(&Service::Other)
            .then(|| self.services_other.trim().to_string());
        DamageClaimRequest {
            brn: Brn::parse(&self.brn)
                .map_or_else(|_| self.brn.clone(), |b| b.digits().to_string()),
            business_name: self.business_name.trim().to_string(),
            representative: self.representative.trim().to_string(),
            phone: parse_phone(&self.phone).unwrap_or_else(|_| self.phone.clone()),
            email: Some(self.email.trim().to_string()).filter(|e| !e.is_empty()),
            services,
            services_other: other,
            paid_service: self.paid.unwrap_or(false),
            period_from: self.period_from.clone(),
            period_to: self.period_to.clone(),
            loss_won: self.loss_won().unwrap_or(0),
            description: self.description.trim().to_string(),
            evidence: self.evidence_refs(),
            payout: Payout {
                bank_code: self.bank_code.clone(),
                account_no: parse_account_no(&self.account_no)
                    .unwrap_or_else(|_| self.account_no.clone()),
                holder: self.holder.trim().to_string(),
            },
            consents: Consents {
                privacy_required: self.privacy,
                marketing: Some(self.marketing),
            },
        }
    }
}

fn local_error(field: &str, code: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }
}

/// The order fields appear on the page, for the error summary.
const FIELD_ORDER: &[&str] = &[
    "brn",
    "business_name",
    "representative",
    "phone",
    "email",
    "services",
    "services_other",
    "paid_service",
    "period_from",
    "period_to",
    "loss_won",
    "description",
    "evidence",
    "payout.bank_code",
    "payout.account_no",
    "payout.holder",
    "consents.privacy_required",
];

fn field_rank(field: &str) -> usize {
    FIELD_ORDER
        .iter()
        .position(|f| {
            *f == field
                || field.starts_with(&format!("{f}."))
                || field.starts_with(&format!("{f}["))
        })
        .unwrap_or(FIELD_ORDER.len())
}

/// Sorts errors into page order. A handful of items: an insertion sort keeps
/// the standard library's general-purpose sort (about 5 KB of wasm) out.
fn in_page_order(errors: &mut [FieldError]) {
    for i in 1..errors.len() {
        let mut j = i;
        while j > 0 && field_rank(&errors[j - 1].field) > field_rank(&errors[j].field) {
            errors.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// The step that asks for `field` (a body field name such as `payout.account_no`).
pub fn step_of_field(field: &str) -> Step {
    match field_rank(field) {
        0..=4 => Step::Info,
        5..=11 => Step::Damage,
        12 => Step::Evidence,
        13..=15 => Step::Payout,
        16 => Step::Consent,
        _ => Step::Check,
    }
}

/// The contract's rules for one step, in page order.
pub fn step_errors(d: &Draft, step: Step) -> Vec<FieldError> {
    let mut e = match step {
        Step::Info => check_business(
            &d.brn,
            &d.business_name,
            &d.representative,
            &d.phone,
            &d.email,
        ),
        Step::Damage => {
            let mut e = check_damage(
                &d.services,
                Some(&d.services_other),
                Date::parse(&d.period_from),
                Date::parse(&d.period_to),
                &d.description,
            );
            if d.paid.is_none() {
                e.push(local_error(
                    "paid_service",
                    "required",
                    "유료 서비스인지 무료 서비스인지 골라 주세요.",
                ));
            }
            e.extend(parse_loss_won(&d.loss).err());
            e
        }
        Step::Evidence => {
            let mut e = Vec::new();
            if d.evidence.iter().any(EvidenceFile::is_busy) {
                e.push(local_error(
                    "evidence",
                    "uploading",
                    "파일을 올리고 있어요. 업로드가 끝나면 다음으로 넘어갈 수 있어요.",
                ));
            } else if d.evidence.iter().any(|f| !f.is_done()) {
                e.push(local_error(
                    "evidence",
                    "not_uploaded",
                    "올리지 못한 파일이 있어요. 다시 올리거나 삭제해 주세요.",
                ));
            }
            e.extend(check_evidence(
                &d.evidence_refs(),
                d.loss_won().unwrap_or(0),
            ));
            e
        }
        Step::Payout => check_payout(&Payout {
            bank_code: d.bank_code.clone(),
            account_no: d.account_no.clone(),
            holder: d.holder.clone(),
        }),
        Step::Consent => check_consents(&Consents {
            privacy_required: d.privacy,
            marketing: Some(d.marketing),
        }),
        Step::Check => Vec::new(),
    };
    in_page_order(&mut e);
    e
}

/// The first step (before the check page) whose answers break a rule.
pub fn first_invalid_step(d: &Draft) -> Option<(Step, Vec<FieldError>)> {
    Step::ALL[..5].iter().find_map(|s| {
        let e = step_errors(d, *s);
        (!e.is_empty()).then_some((*s, e))
    })
}

/// Server field errors grouped onto the first step they belong to.
pub fn server_errors(errors: &[FieldError]) -> (Step, Vec<FieldError>) {
    let step = errors
        .iter()
        .map(|e| step_of_field(&e.field))
        .min()
        .unwrap_or(Step::Check);
    let mut mine: Vec<FieldError> = errors
        .iter()
        .filter(|e| step_of_field(&e.field) == step)
        .cloned()
        .collect();
    in_page_order(&mut mine);
    (step, mine)
}

/// `*********4567`: an account number in the check page.
pub fn mask_account(account: &str) -> String {
    let digits = parse_account_no(account).unwrap_or_else(|_| account.to_string());
    let n = digits.chars().count();
    digits
        .chars()
        .enumerate()
        .map(|(i, c)| if i + 4 < n { '*' } else { c })
        .collect()
}

/// The support a typed loss leads to, as shown live under the amount.
pub fn support_label(loss: &str) -> Option<String> {
    let won = parse_loss_won(loss).ok()?;
    Some(match maeum_contract::business::support_for(won) {
        Support::Won { won } => format!("예상 지원금: {}", maeum_contract::money::format_won(won)),
        Support::Review { .. } => "피해 입증 후 추가 지원".to_string(),
    })
}

/// `2022년 10월 15일`.
pub fn date_label(iso: &str) -> String {
    match Date::parse(iso) {
        Some(d) => format!("{}년 {}월 {}일", d.year, d.month, d.day),
        None => iso.to_string(),
    }
}

/// `snake_case` wire name of a category (upload form field, test ids).
pub fn category_slug(c: EvidenceCategory) -> &'static str {
    match c {
        EvidenceCategory::SmallBusinessCert => "small_business_cert",
        EvidenceCategory::SalesLoss => "sales_loss",
        EvidenceCategory::ServiceUse => "service_use",
        EvidenceCategory::Bankbook => "bankbook",
    }
}

pub fn service_slug(s: Service) -> &'static str {
    match s {
        Service::KakaotalkChannel => "kakaotalk_channel",
        Service::KakaotalkGift => "kakaotalk_gift",
        Service::KakaoT => "kakao_t",
        Service::KakaoPay => "kakao_pay",
        Service::KakaoMap => "kakao_map",
        Service::Other => "other",
    }
}

/// `1.2MB`, `340KB`.
pub fn size_label(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        let tenths = bytes * 10 / (1024 * 1024);
        format!("{}.{}MB", tenths / 10, tenths % 10)
    } else {
        format!("{}KB", bytes.div_ceil(1024).max(1))
    }
}

impl Draft {
    /// A stored draft as JSON text (`None` when unreadable or of another
    /// version). Restored files are uploaded (an upload id) or were cut off
    /// by the reload; a malformed submit key is dropped.
    pub fn from_text(raw: &str) -> Option<Draft> {
        let mut d: Draft = codec::from_text(raw).filter(|d: &Draft| d.v == DRAFT_VERSION)?;
        for f in &mut d.evidence {
            f.upload_id = f.upload_id.take().filter(|u| !u.is_empty());
            f.state = if f.upload_id.is_some() {
                FileState::Done
            } else {
                FileState::Interrupted
            };
        }
        if !maeum_contract::valid_idempotency_key(&d.key) {
            d.key.clear();
        }
        d.account_no.clear();
        Some(d)
    }
}

// ---- storage ----

thread_local! {
    // Fallbacks when the browser refuses storage (private modes, quota).
    static MEMORY: RefCell<Vec<(&'static str, String)>> = const { RefCell::new(Vec::new()) };
}

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn memory_get(key: &'static str) -> Option<String> {
    MEMORY.with(|m| {
        m.borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    })
}

fn memory_set(key: &'static str, value: Option<String>) {
    MEMORY.with(|m| {
        let mut m = m.borrow_mut();
        m.retain(|(k, _)| *k != key);
        if let Some(v) = value {
            m.push((key, v));
        }
    });
}

fn read(store: Option<web_sys::Storage>, key: &'static str) -> Option<String> {
    memory_get(key).or_else(|| store?.get_item(key).ok().flatten())
}

fn write(store: Option<web_sys::Storage>, key: &'static str, value: Option<&str>) {
    let stored = store.is_some_and(|s| match value {
        Some(v) => s.set_item(key, v).is_ok(),
        None => s.remove_item(key).is_ok(),
    });
    memory_set(
        key,
        if stored {
            None
        } else {
            value.map(str::to_string)
        },
    );
}

fn has_answers(reached: Step, brn: &str, business_name: &str) -> bool {
    reached > Step::Info || !brn.is_empty() || !business_name.is_empty()
}

/// What the package page says about the saved draft.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SavedDraft {
    /// Nothing typed yet (or nothing readable).
    None,
    /// Answers typed, not submitted ([`Draft::started`]).
    Started,
    /// Submitted while offline and not sent yet: it goes when `/business` opens.
    Queued,
}

/// The few fields of a saved draft the package page needs (read without
/// building the whole draft).
#[derive(Default, Deserialize)]
#[serde(default)]
struct DraftHead {
    v: u32,
    reached: Step,
    brn: String,
    business_name: String,
    key: String,
    queued: bool,
}

/// The saved draft's [`SavedDraft`].
pub fn saved_draft() -> SavedDraft {
    let Some(head) = read(local(), DRAFT_KEY).and_then(|raw| codec::from_text::<DraftHead>(&raw))
    else {
        return SavedDraft::None;
    };
    if head.v != DRAFT_VERSION {
        return SavedDraft::None;
    }
    if head.queued && !head.key.is_empty() {
        return SavedDraft::Queued;
    }
    if has_answers(head.reached, &head.brn, &head.business_name) {
        SavedDraft::Started
    } else {
        SavedDraft::None
    }
}

/// The saved draft (with the account number of this tab), or a fresh one.
pub fn load() -> Draft {
    let mut d = read(local(), DRAFT_KEY)
        .and_then(|raw| Draft::from_text(&raw))
        .unwrap_or_else(Draft::fresh);
    d.account_no = read(session(), ACCOUNT_KEY).unwrap_or_default();
    d
}

/// Writes the draft: everything but the account number to localStorage, the
/// account number to this tab only. Files refused for their type or size are
/// not kept.
pub fn save(d: &Draft) {
    let mut stored = d.clone();
    stored.account_no.clear();
    stored
        .evidence
        .retain(|f| !matches!(f.state, FileState::Failed { retry: false, .. }));
    if let Some(json) = codec::to_text(&stored) {
        write(local(), DRAFT_KEY, Some(&json));
    }
    save_account(&d.account_no);
}

pub fn save_account(account_no: &str) {
    let value = Some(account_no).filter(|a| !a.is_empty());
    write(session(), ACCOUNT_KEY, value);
}

/// Forgets the draft (after the claim is filed).
pub fn clear() {
    write(local(), DRAFT_KEY, None);
    write(session(), ACCOUNT_KEY, None);
}

/// A filed claim, kept so the package page can link to its status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedReceipt {
    pub receipt_no: String,
    pub brn: String,
    pub business_name: String,
    pub support: Option<Support>,
    pub submitted_at: Option<Timestamp>,
}

impl SavedReceipt {
    pub fn from_receipt(r: &DamageClaimReceipt, d: &Draft) -> SavedReceipt {
        SavedReceipt {
            receipt_no: r.receipt_no.clone(),
            brn: d.request().brn,
            business_name: d.business_name.trim().to_string(),
            support: Some(r.support),
            submitted_at: Some(r.submitted_at),
        }
    }
}

/// Newest first.
pub fn receipts() -> Vec<SavedReceipt> {
    let mut list: Vec<SavedReceipt> = read(local(), RECEIPTS_KEY)
        .and_then(|raw| codec::from_text(&raw))
        .unwrap_or_default();
    list.retain(|r| !r.receipt_no.is_empty());
    list
}

pub fn add_receipt(r: SavedReceipt) {
    let mut list = receipts();
    list.retain(|x| x.receipt_no != r.receipt_no);
    list.insert(0, r);
    list.truncate(10);
    if let Some(json) = codec::to_text(&list) {
        write(local(), RECEIPTS_KEY, Some(&json));
    }
}

/// The channel message cash of one business: the key of its request and,
/// once answered, the grant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CashRecord {
    /// Ten digits.
    pub brn: String,
    pub key: String,
    pub granted: Option<ChannelCash>,
}

pub fn cash_records() -> Vec<CashRecord> {
    let mut list: Vec<CashRecord> = read(local(), CASH_KEY)
        .and_then(|raw| codec::from_text(&raw))
        .unwrap_or_default();
    list.retain(|r| maeum_contract::valid_idempotency_key(&r.key));
    list
}

pub fn cash_record(brn: &str) -> Option<CashRecord> {
    cash_records().into_iter().find(|r| r.brn == brn)
}

pub fn save_cash_record(record: &CashRecord) {
    let mut list = cash_records();
    list.retain(|r| r.brn != record.brn);
    list.push(record.clone());
    if let Some(json) = codec::to_text(&list) {
        write(local(), CASH_KEY, Some(&json));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> Draft {
        Draft {
            brn: "124-81-00998".into(),
            business_name: " 카카오 분식 ".into(),
            representative: "김카카오".into(),
            phone: "01012345678".into(),
            services: vec![Service::Other, Service::KakaotalkChannel],
            services_other: " 카카오 뱅크 ".into(),
            paid: Some(true),
            period_from: "2022-10-15".into(),
            period_to: "2022-10-16".into(),
            loss: "450,000".into(),
            description: "주문을 못 받았어요".into(),
            bank_code: "090".into(),
            account_no: "3333-01-1234567".into(),
            holder: "김카카오".into(),
            privacy: true,
            ..Draft::fresh()
        }
    }

    #[test]
    fn steps_have_paths_and_order() {
        assert_eq!(Step::Info.next(), Step::Damage);
        assert_eq!(Step::Check.next(), Step::Check);
        assert_eq!(Step::Info.prev(), None);
        assert_eq!(Step::Payout.prev(), Some(Step::Evidence));
        for s in Step::ALL {
            assert_eq!(Step::from_slug(s.slug()), Some(s));
        }
        assert_eq!(Step::Damage.path(), "/business/damage");
    }

    #[test]
    fn the_request_is_normalised_like_the_server_does() {
        let r = filled().request();
        assert_eq!(r.brn, "1248100998");
        assert_eq!(r.phone, "010-1234-5678");
        assert_eq!(r.services, vec![Service::KakaotalkChannel, Service::Other]);
        assert_eq!(r.services_other.as_deref(), Some("카카오 뱅크"));
        assert_eq!(r.loss_won, 450_000);
        assert_eq!(r.payout.account_no, "3333011234567");
        assert_eq!(r.email, None);
        assert!(r.validate().is_ok());
    }

    #[test]
    fn each_step_reports_its_own_fields_in_page_order() {
        let d = Draft::fresh();
        let fields = |s| {
            step_errors(&d, s)
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(Step::Info),
            ["brn", "business_name", "representative", "phone"]
        );
        assert_eq!(
            fields(Step::Damage),
            [
                "services",
                "paid_service",
                "period_from",
                "period_to",
                "loss_won",
                "description"
            ]
        );
        assert_eq!(
            fields(Step::Payout),
            ["payout.bank_code", "payout.account_no", "payout.holder"]
        );
        assert_eq!(fields(Step::Consent), ["consents.privacy_required"]);
        assert!(first_invalid_step(&filled()).is_none());
    }

    #[test]
    fn proof_of_lost_sales_is_asked_above_half_a_million() {
        let mut d = filled();
        d.loss = "500,001".into();
        assert_eq!(
            step_errors(&d, Step::Evidence)[0].code,
            "sales_loss_required"
        );
        d.evidence.push(EvidenceFile {
            key: 1,
            name: "매출.pdf".into(),
            size: 10,
            category: EvidenceCategory::SalesLoss,
            upload_id: Some("u1".into()),
            state: FileState::Done,
        });
        assert!(step_errors(&d, Step::Evidence).is_empty());
        d.evidence[0].state = FileState::Uploading(40);
        assert_eq!(step_errors(&d, Step::Evidence)[0].code, "uploading");
    }

    #[test]
    fn server_errors_land_on_the_first_step_they_name() {
        let e = |f: &str| local_error(f, "x", "y");
        let (step, list) = server_errors(&[e("payout.account_no"), e("phone"), e("brn")]);
        assert_eq!(step, Step::Info);
        assert_eq!(
            list.iter().map(|x| x.field.as_str()).collect::<Vec<_>>(),
            ["brn", "phone"]
        );
        assert_eq!(server_errors(&[e("payout.account_no")]).0, Step::Payout);
        assert_eq!(server_errors(&[e("evidence")]).0, Step::Evidence);
        assert_eq!(
            server_errors(&[e("evidence[0].upload_id")]).0,
            Step::Evidence
        );
        assert_eq!(
            server_errors(&[e("consents.privacy_required")]).0,
            Step::Consent
        );
        assert_eq!(server_errors(&[e("whatever")]).0, Step::Check);
    }

    #[test]
    fn support_is_labelled_from_the_contract_tiers() {
        assert_eq!(
            support_label("300,000").as_deref(),
            Some("예상 지원금: 30,000원")
        );
        assert_eq!(
            support_label("300001").as_deref(),
            Some("예상 지원금: 50,000원")
        );
        assert_eq!(
            support_label("500,001").as_deref(),
            Some("피해 입증 후 추가 지원")
        );
        assert_eq!(support_label("abc"), None);
        assert_eq!(support_label(""), None);
    }

    #[test]
    fn small_helpers() {
        assert_eq!(mask_account("3333-01-1234567"), "*********4567");
        assert_eq!(size_label(1536), "2KB");
        assert_eq!(size_label(3 * 1024 * 1024 + 200_000), "3.1MB");
        assert_eq!(date_label("2022-10-15"), "2022년 10월 15일");
    }
}
