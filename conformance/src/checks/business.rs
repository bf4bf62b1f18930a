//! Small businesses: evidence uploads, damage claims, their status, channel cash.

use super::{Check, Needs};
use crate::client::{ensure, Exchange, Failure};
use crate::people::User;
use crate::report::Outcome;
use crate::Kit;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const BOUNDARY: &str = "maeum-conformance-7Q4K93";

/// `POST /v1/uploads` of one file (its name and declared type are the client's claim only).
fn upload(
    kit: &Kit,
    user: &User,
    name: &str,
    declared: &str,
    bytes: &[u8],
) -> Result<Exchange, Failure> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {declared}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    kit.http
        .post("/v1/uploads")
        .bearer(&user.token)
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .raw_body(
            body,
            format!("(multipart: {name}, {declared}, {} bytes)", bytes.len()),
        )
        .send()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A 1×1 PNG, as an image editor writes it.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// A one-page PDF with a correct cross-reference table; `note` makes it this run's own.
fn pdf(note: &str) -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Note ({note}) >>"),
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{o}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for off in offsets {
        out.push_str(&format!("{off:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}

/// The head of a Windows executable, as someone might rename it to `.jpg`.
fn executable() -> Vec<u8> {
    let mut b = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    b.resize(512, 0);
    b
}

/// A valid 사업자등록번호 no one has used: random office and serial, with its check digit.
pub(super) fn fresh_brn() -> String {
    loop {
        let mut d: Vec<u32> = vec![
            fastrand::u32(1..10),
            fastrand::u32(0..10),
            fastrand::u32(1..10),
        ];
        d.extend((0..6).map(|_| fastrand::u32(0..10)));
        const W: [u32; 9] = [1, 3, 7, 1, 3, 7, 1, 3, 5];
        let sum: u32 = d.iter().zip(W).map(|(x, w)| x * w).sum::<u32>() + d[8] * 5 / 10;
        d.push((10 - sum % 10) % 10);
        let digits: String = d.iter().map(|x| char::from(b'0' + *x as u8)).collect();
        // The contract's own rule decides (it also refuses impossible offices and serials).
        if let Ok(brn) = maeum_contract::business::Brn::parse(&digits) {
            return brn.display();
        }
    }
}

/// A complete, valid damage claim for a new business (a 420,000원 loss).
fn claim_body(brn: &str, loss_won: u64, evidence: Value) -> Value {
    json!({
        "brn": brn,
        "business_name": "카카오 분식",
        "representative": "김카카오",
        "phone": "010-1234-5678",
        "email": null,
        "services": ["kakaotalk_channel", "kakao_pay"],
        "paid_service": true,
        "period_from": "2022-10-15",
        "period_to": "2022-10-17",
        "loss_won": loss_won,
        "description": "주문 알림이 오지 않아 손님을 놓쳤어요.",
        "evidence": evidence,
        "payout": {"bank_code": "090", "account_no": "3333011234567", "holder": "김카카오"},
        "consents": {"privacy_required": true, "marketing": false}
    })
}

fn file_claim(kit: &Kit, user: &User, key: &str, body: &Value) -> Result<Exchange, Failure> {
    kit.http
        .post("/v1/damage-claims")
        .bearer(&user.token)
        .key(key)
        .json(body)
        .send()
}

fn channel_cash(kit: &Kit, user: &User, key: &str, brn: &str) -> Result<Exchange, Failure> {
    kit.http
        .post("/v1/channel-cash")
        .bearer(&user.token)
        .key(key)
        .json(&json!({ "brn": brn }))
        .send()
}

pub const SNIFF_EXECUTABLE: Check = Check {
    id: "business.sniff-executable",
    group: "business",
    title: "an executable renamed to .jpg → 415 unsupported_media_type (the bytes decide, not the name)",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let user = kit.user()?;
        upload(kit, &user, "receipt.jpg", "image/jpeg", &executable())?
            .problem(415, "unsupported_media_type")?;
        Ok(Outcome::Pass)
    },
};

pub const TOO_LARGE: Check = Check {
    id: "business.too-large",
    group: "business",
    title: "a file over 10 MiB → 413 payload_too_large",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let user = kit.user()?;
        let mut big = pdf(&kit.unique("big"));
        big.resize(
            maeum_contract::business::MAX_EVIDENCE_BYTES as usize + 1,
            b' ',
        );
        let x = upload(kit, &user, "big.pdf", "application/pdf", &big)?;
        x.problem(413, "payload_too_large")?;
        Ok(Outcome::Pass)
    },
};

pub const PNG_AND_PDF: Check = Check {
    id: "business.upload",
    group: "business",
    title: "a real PNG and PDF → 201 with their sha256, size and sniffed content type",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let user = kit.user()?;
        let doc = pdf(&kit.unique("upload"));
        // Declared types are wrong on purpose: the bytes decide.
        for (name, declared, bytes, sniffed) in [
            ("photo.png", "application/octet-stream", PNG, "image/png"),
            ("sales.pdf", "image/jpeg", doc.as_slice(), "application/pdf"),
        ] {
            let x = upload(kit, &user, name, declared, bytes)?;
            let up = x.expect(201)?;
            ensure(
                up["sha256"] == sha256_hex(bytes).as_str()
                    && up["size"] == bytes.len() as u64
                    && up["content_type"] == sniffed,
                || {
                    format!(
                        "expected sha256 {}, size {}, {sniffed}",
                        sha256_hex(bytes),
                        bytes.len()
                    )
                },
                &x,
            )?;
        }
        Ok(Outcome::Pass)
    },
};

pub const VALIDATION: Check = Check {
    id: "business.validation",
    group: "business",
    title: "a damage claim breaking field rules → 422 validation with errors naming each field",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let user = kit.user()?;
        let mut body = claim_body(&fresh_brn(), 0, json!([]));
        body["brn"] = json!("124-81-00997");
        body["phone"] = json!("12");
        body["consents"] = json!({"privacy_required": false});
        let x = file_claim(kit, &user, &kit.key(), &body)?;
        let p = x.problem(422, "validation")?;
        let fields: Vec<&str> = p["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        let want = ["brn", "phone", "loss_won", "consents.privacy_required"];
        ensure(
            want.iter().all(|f| fields.contains(f)),
            || format!("errors must name {want:?}"),
            &x,
        )?;
        Ok(Outcome::Pass)
    },
};

pub const TIERS: Check = Check {
    id: "business.tiers",
    group: "business",
    title: "support tiers: 300,000원 → 30,000 · 300,001 and 500,000 → 50,000 · 500,001 → review",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let user = kit.user()?;
        let proof = upload(
            kit,
            &user,
            "sales.pdf",
            "application/pdf",
            &pdf(&kit.unique("tiers")),
        )?;
        let proof_id = proof.expect(201)?["id"].clone();
        for (loss, evidence, support) in [
            (300_000, json!([]), json!({"won": 30000})),
            (300_001, json!([]), json!({"won": 50000})),
            (500_000, json!([]), json!({"won": 50000})),
            (
                500_001,
                json!([{"upload_id": proof_id, "category": "sales_loss"}]),
                json!({"requires_review": true}),
            ),
        ] {
            let x = file_claim(
                kit,
                &user,
                &kit.key(),
                &claim_body(&fresh_brn(), loss, evidence),
            )?;
            let receipt = x.expect(201)?;
            ensure(
                receipt["support"] == support && receipt["status"] == "received",
                || format!("a {loss}원 loss must be received with support {support}"),
                &x,
            )?;
        }
        Ok(Outcome::Pass)
    },
};

pub const REPLAY: Check = Check {
    id: "business.replay",
    group: "business",
    title: "a damage claim sent twice with one key → the same receipt, byte for byte",
    needs: Needs::Open,
    users: 1,
    run: |kit| {
        let user = kit.user()?;
        let (key, body) = (kit.key(), claim_body(&fresh_brn(), 420_000, json!([])));
        let first = file_claim(kit, &user, &key, &body)?;
        first.expect(201)?;
        let again = file_claim(kit, &user, &key, &body)?;
        again.expect(201)?;
        ensure(
            again.body == first.body && again.header("idempotent-replayed") == Some("true"),
            || {
                format!(
                    "expected the first answer again with Idempotent-Replayed: true; it was:\n{}",
                    first.body
                )
            },
            &again,
        )?;
        Ok(Outcome::Pass)
    },
};

pub const DUPLICATE: Check = Check {
    id: "business.duplicate",
    group: "business",
    title: "a second damage claim for the same business → 409 conflict naming the first receipt",
    needs: Needs::Open,
    users: 2,
    run: |kit| {
        let (first_user, second_user) = (kit.user()?, kit.user()?);
        let brn = fresh_brn();
        let first = file_claim(
            kit,
            &first_user,
            &kit.key(),
            &claim_body(&brn, 420_000, json!([])),
        )?;
        let receipt = first.expect(201)?;
        let x = file_claim(
            kit,
            &second_user,
            &kit.key(),
            &claim_body(&brn, 100_000, json!([])),
        )?;
        let p = x.problem(409, "conflict")?;
        ensure(
            p["receipt_no"] == receipt["receipt_no"],
            || {
                format!(
                    "receipt_no must be the first claim's {}",
                    receipt["receipt_no"]
                )
            },
            &x,
        )?;
        Ok(Outcome::Pass)
    },
};

pub const OWNER_ONLY: Check = Check {
    id: "business.owner-only",
    group: "business",
    title: "a damage claim's status page answers its owner, and 404 not_found to anyone else",
    needs: Needs::Open,
    users: 2,
    run: |kit| {
        let (owner, stranger) = (kit.user()?, kit.user()?);
        let filed = file_claim(
            kit,
            &owner,
            &kit.key(),
            &claim_body(&fresh_brn(), 420_000, json!([])),
        )?;
        let receipt = filed.expect(201)?;
        let no = receipt["receipt_no"].as_str().unwrap_or_default();
        let path = format!("/v1/damage-claims/{no}");
        let mine = kit.http.get(&path).bearer(&owner.token).send()?;
        ensure(
            mine.expect(200)? == receipt,
            || "the owner must see the receipt as filed".into(),
            &mine,
        )?;
        kit.http
            .get(&path)
            .bearer(&stranger.token)
            .send()?
            .problem(404, "not_found")?;
        Ok(Outcome::Pass)
    },
};

pub const CHANNEL_CASH_ONCE: Check = Check {
    id: "business.channel-cash-once",
    group: "business",
    title: "channel cash is granted once per business: a replay says so, another user gets the original grant",
    needs: Needs::Open,
    users: 2,
    run: |kit| {
        let (owner, partner) = (kit.user()?, kit.user()?);
        let brn = fresh_brn();
        let key = kit.key();
        let first = channel_cash(kit, &owner, &key, &brn)?;
        let grant = first.expect(200)?;
        let digits: String = brn.chars().filter(char::is_ascii_digit).collect();
        ensure(
            grant["newly_granted"] == true && grant["won"] == 50000 && grant["brn"] == digits.as_str(),
            || format!("expected a new 50,000원 grant for {digits}"),
            &first,
        )?;
        let again = channel_cash(kit, &owner, &key, &brn)?;
        ensure(
            again.status == 200 && again.body == first.body && again.header("idempotent-replayed") == Some("true"),
            || format!("the same key must replay the first answer with Idempotent-Replayed: true; it was:\n{}", first.body),
            &again,
        )?;
        let later = channel_cash(kit, &partner, &kit.key(), &brn)?;
        let body = later.expect(200)?;
        ensure(
            body["newly_granted"] == false && body["granted_at"] == grant["granted_at"],
            || "another user for the same business must get the original grant, newly_granted false".into(),
            &later,
        )?;
        Ok(Outcome::Pass)
    },
};
