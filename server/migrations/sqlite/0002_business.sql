-- 2: small-business damage claims, their evidence uploads, channel cash.
CREATE TABLE uploads (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    sha256       TEXT NOT NULL,             -- the file is DIR/uploads/<2 hex>/<64 hex>
    size         INTEGER NOT NULL CHECK (size > 0),
    content_type TEXT NOT NULL,             -- from the file's first bytes
    category     TEXT,
    filename     TEXT,                      -- sanitised, metadata only
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX uploads_by_user ON uploads (user_id, sha256);
CREATE TABLE damage_claims (
    receipt_no   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    brn          TEXT NOT NULL UNIQUE,      -- 10 digits
    business_name TEXT NOT NULL,
    loss_won     INTEGER NOT NULL,
    support      TEXT NOT NULL,             -- JSON, as on the wire
    request      TEXT NOT NULL,             -- the normalised request, JSON
    status       TEXT NOT NULL DEFAULT 'received',
    reason       TEXT,
    submitted_at INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX damage_claims_by_user ON damage_claims (user_id);
CREATE TABLE damage_claim_evidence (
    receipt_no TEXT NOT NULL REFERENCES damage_claims(receipt_no),
    upload_id  TEXT NOT NULL REFERENCES uploads(id),
    category   TEXT NOT NULL,
    PRIMARY KEY (receipt_no, upload_id)
) WITHOUT ROWID;
CREATE TABLE channel_cash (
    brn        TEXT PRIMARY KEY,            -- 10 digits
    user_id    TEXT NOT NULL,
    won        INTEGER NOT NULL,
    granted_at INTEGER NOT NULL
) WITHOUT ROWID;
