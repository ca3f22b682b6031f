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

-- The journal's key check (docs/sync-protocol.md, Encryption): an opaque string the first
-- device to sync stores, and every later device compares with its own
-- before pushing, so a device with another key is refused before it
-- uploads what nobody else can read. NULL until a device sets it; once set
-- it never changes. The server never interprets it.
ALTER TABLE journals ADD COLUMN key_check TEXT;

-- migration: 3

-- The highest sequence number stored for each device, kept by every push,
-- so the status answer does not read every operation of the journal.
CREATE TABLE device_heads (
    journal_id TEXT NOT NULL REFERENCES journals(id),
    device     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (journal_id, device)
) WITHOUT ROWID;

INSERT INTO device_heads(journal_id, device, seq)
    SELECT journal_id, device, max(seq) FROM ops GROUP BY journal_id, device;

-- migration: 4

-- When each token was last used, and by which device (clients name
-- themselves in the `NJ-Device` header), so `nj server tokens` can show
-- which token a lost laptop had, and `nj server revoke` can take it by its
-- short id when the token string is lost with the laptop. Written at most
-- once a minute per token.
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE tokens ADD COLUMN last_device TEXT;

-- migration: 5

-- The highest position the journal has given out. A push numbers its
-- operations from here, not from the highest one stored: after `nj server
-- remove-op` removed the last operation, its position must not be given
-- to the next one, which devices whose cursor had passed it would never
-- pull.
ALTER TABLE journals ADD COLUMN last_pos INTEGER NOT NULL DEFAULT 0;
UPDATE journals SET last_pos = (SELECT coalesce(max(pos), 0) FROM ops WHERE ops.journal_id = journals.id);
