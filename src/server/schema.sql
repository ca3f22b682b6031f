-- The sync server's database (one file under `nj serve --data DIR`).
-- Forward-only migrations, as in the journal's schema.sql.

-- migration: 1

CREATE TABLE journals (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
);

-- Only a token's SHA-256 is stored: a copy of this file grants nothing.
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    journal_id TEXT NOT NULL REFERENCES journals(id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) WITHOUT ROWID;

-- Operations as opaque payloads, in the order they arrived (`pos`, per
-- journal). The server reads only who sent one and its place.
CREATE TABLE ops (
    journal_id TEXT NOT NULL REFERENCES journals(id),
    pos        INTEGER NOT NULL,
    device     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    hlc_ms     INTEGER NOT NULL,
    payload    BLOB NOT NULL,
    UNIQUE (journal_id, pos),
    UNIQUE (journal_id, device, seq)
);

CREATE TABLE blobs (
    journal_id TEXT NOT NULL REFERENCES journals(id),
    id         TEXT NOT NULL,
    data       BLOB NOT NULL,
    PRIMARY KEY (journal_id, id)
);

-- migration: 2

-- The journal's key check (docs/encryption.md): an opaque string the first
-- device to sync stores, and every later device compares with its own
-- before pushing, so a device with another key is refused before it
-- uploads what nobody else can read. NULL until a device sets it; once set
-- it never changes. The server never interprets it.
ALTER TABLE journals ADD COLUMN key_check TEXT;
