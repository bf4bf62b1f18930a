-- 1: the first schema.
CREATE TABLE campaign (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    release_at  INTEGER NOT NULL,          -- ms since epoch
    closes_at   INTEGER,
    paused      INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL
);
CREATE TABLE items (
    id          TEXT PRIMARY KEY,
    position    INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    price_won   INTEGER NOT NULL,
    validity    TEXT NOT NULL,             -- JSON, as on the wire
    code_prefix TEXT,
    cap         INTEGER CHECK (cap IS NULL OR cap >= 0),
    granted     INTEGER NOT NULL DEFAULT 0 CHECK (granted >= 0)
);
CREATE TABLE claims (
    user_id         TEXT NOT NULL,
    item_id         TEXT NOT NULL REFERENCES items(id),
    claimed_at      INTEGER NOT NULL,
    expires_at      INTEGER,
    code            TEXT UNIQUE,
    idempotency_key TEXT NOT NULL,
    PRIMARY KEY (user_id, item_id)
) WITHOUT ROWID;
CREATE INDEX claims_by_time ON claims (claimed_at, item_id);
CREATE TABLE idempotency (
    user_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE TABLE ineligible (
    user_id    TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE early_attempts (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    user_id  TEXT,
    endpoint TEXT NOT NULL
);
