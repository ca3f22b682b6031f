-- The sync server's database on PostgreSQL (`nj serve --database URL`):
-- the same tables as schema.sql, in PostgreSQL's types. Forward-only
-- migrations, applied at start under an advisory lock; the version is
-- kept in nj_schema.

-- migration: 1

CREATE TABLE journals (
    id         text PRIMARY KEY,
    created_at bigint NOT NULL,
    key_check  text
);

-- Only a token's SHA-256 is stored: a copy of the database grants nothing.
CREATE TABLE tokens (
    hash         text PRIMARY KEY,
    journal_id   text NOT NULL REFERENCES journals(id),
    created_at   bigint NOT NULL,
    revoked_at   bigint,
    last_used_at bigint,
    last_device  text
);
CREATE INDEX tokens_journal ON tokens(journal_id);

-- Operations as opaque payloads, in the order they arrived (`pos`, per
-- journal, gapless: pushes to a journal lock its row first).
CREATE TABLE ops (
    journal_id text NOT NULL REFERENCES journals(id),
    pos        bigint NOT NULL,
    device     text NOT NULL,
    seq        bigint NOT NULL,
    hlc_ms     bigint NOT NULL,
    payload    bytea NOT NULL,
    PRIMARY KEY (journal_id, pos),
    UNIQUE (journal_id, device, seq)
);

CREATE TABLE blobs (
    journal_id text NOT NULL REFERENCES journals(id),
    id         text NOT NULL,
    data       bytea NOT NULL,
    PRIMARY KEY (journal_id, id)
);

-- Payloads and blobs are sealed (and blobs packed before that): they do
-- not compress, so PostgreSQL is told not to try.
ALTER TABLE ops ALTER COLUMN payload SET STORAGE EXTERNAL;
ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL;

-- The highest sequence number stored for each device.
CREATE TABLE device_heads (
    journal_id text NOT NULL REFERENCES journals(id),
    device     text NOT NULL,
    seq        bigint NOT NULL,
    PRIMARY KEY (journal_id, device)
);

-- migration: 2

-- The highest position the journal has given out (schema.sql, migration
-- 5): a removed last operation's position is never given again.
ALTER TABLE journals ADD COLUMN last_pos bigint NOT NULL DEFAULT 0;
UPDATE journals SET last_pos = (SELECT coalesce(max(pos), 0) FROM ops WHERE ops.journal_id = journals.id);
