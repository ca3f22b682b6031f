-- newsjournal's schema.
--
-- The file is a list of forward-only migrations. Each one starts with a line
-- `-- migration: N`; those a journal lacks run in one transaction, with
-- foreign keys off and checked at the end (Journal::migrate), and
-- `PRAGMA user_version` records the last one applied. Never edit or remove
-- a migration that has shipped: add a new one at the end.
--
-- Conventions, chosen so sync can merge rows from any device:
--   * every entity has a UUID id stored as TEXT, which sync and references
--     use; the URL and tag links, which sync names by article and value,
--     name their article by its row number (`articles.seq`, migration 7);
--   * time is INTEGER milliseconds since the Unix epoch, UTC;
--   * nothing a user wrote is deleted: removal sets `deleted_at`.

-- migration: 1

-- Journal-wide settings (device id, sync cursors, ...).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Article text, stored once per distinct normalised text and addressed by
-- its hash (`sha256:` + 64 hex digits), so syndicated copies and repeated
-- versions cost nothing and sync can move each text once. `body` is the
-- text zstd-compressed (a BLOB), or plain TEXT when short; `nj_text(body)`
-- (a function nj registers) reads either.
-- The body comes last: reading a column after a long body would mean
-- reading through the body.
CREATE TABLE texts (
    hash       TEXT NOT NULL UNIQUE,
    word_count INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    body       BLOB NOT NULL
);

CREATE TABLE articles (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    url          TEXT,             -- the preferred (canonical) source URL
    site         TEXT,
    author       TEXT,
    lang         TEXT,
    published_at INTEGER,
    content_hash TEXT NOT NULL REFERENCES texts(hash),
    clipped_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER
);
CREATE INDEX articles_by_clipped ON articles(clipped_at);

-- Every URL an article was clipped from: a syndicated copy adds a row here
-- instead of a second article. Link tables are keyed by what they link
-- (WITHOUT ROWID), which keeps them small; `id` names the link for sync.
CREATE TABLE article_urls (
    article_id TEXT NOT NULL REFERENCES articles(id),
    url        TEXT NOT NULL,
    id         TEXT NOT NULL,
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (article_id, url)
) WITHOUT ROWID;
CREATE INDEX article_urls_by_url ON article_urls(url);

-- Each text an article has had, oldest first. The article's current text is
-- `articles.content_hash`; this table is its history.
CREATE TABLE versions (
    id           TEXT PRIMARY KEY,
    article_id   TEXT NOT NULL REFERENCES articles(id),
    content_hash TEXT NOT NULL REFERENCES texts(hash),
    created_at   INTEGER NOT NULL
);
CREATE INDEX versions_by_article ON versions(article_id, created_at);
CREATE INDEX versions_by_hash ON versions(content_hash);

-- Notes on an article, or free-standing journal notes (article_id NULL).
CREATE TABLE notes (
    id         TEXT PRIMARY KEY,
    article_id TEXT REFERENCES articles(id),
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
CREATE INDEX notes_by_article ON notes(article_id, created_at);

-- Tags are lower-case; each link has its own id so sync can link and unlink.
CREATE TABLE article_tags (
    article_id TEXT NOT NULL REFERENCES articles(id),
    tag        TEXT NOT NULL,
    id         TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (article_id, tag)
) WITHOUT ROWID;
CREATE INDEX article_tags_by_tag ON article_tags(tag);

-- What the full-text index sees for each article: one row per article,
-- keyed by the article's rowid. The index stores no copy of the text (it
-- is an external-content table over this view), which keeps the journal
-- small; the library re-indexes an article whenever one of these values
-- changes. The ordered subqueries make the values deterministic, which the
-- index needs to remove an old entry. (`group_concat(x ORDER BY y)` would
-- say it more directly, but SQLite before 3.44 cannot read that schema,
-- and people open their journal with whatever sqlite3 they have.)
CREATE VIEW article_search_src AS
SELECT a.rowid AS article_rowid,
       a.title AS title,
       nj_text(t.body) AS body,
       (SELECT group_concat(body, char(10))
          FROM (SELECT n.body AS body FROM notes n
                 WHERE n.article_id = a.id AND n.deleted_at IS NULL
                 ORDER BY n.created_at, n.id)) AS notes,
       (SELECT group_concat(tag, ' ')
          FROM (SELECT g.tag AS tag FROM article_tags g
                 WHERE g.article_id = a.id ORDER BY g.tag)) AS tags
  FROM articles a
  JOIN texts t ON t.hash = a.content_hash;

CREATE VIRTUAL TABLE article_fts USING fts5(
    title, body, notes, tags,
    content = 'article_search_src',
    content_rowid = 'article_rowid',
    tokenize = 'porter unicode61 remove_diacritics 2',
    detail = column
);
-- Ranked by nj_rank (BM25 over fields; nj registers it): a title hit
-- counts most, then tags and notes, then the body.
INSERT INTO article_fts(article_fts, rank) VALUES ('rank', 'nj_rank(8.0, 1.0, 3.0, 4.0)');

-- Free-standing journal notes get their own index.
CREATE VIEW note_search_src AS
SELECT n.rowid AS note_rowid, n.body AS body
  FROM notes n
 WHERE n.article_id IS NULL AND n.deleted_at IS NULL;

CREATE VIRTUAL TABLE note_fts USING fts5(
    body,
    content = 'note_search_src',
    content_rowid = 'note_rowid',
    tokenize = 'porter unicode61 remove_diacritics 2',
    detail = column
);
INSERT INTO note_fts(note_fts, rank) VALUES ('rank', 'nj_rank(1.0)');

-- migration: 2

-- Follow-ups: reminders to come back to a story, on an article or on none.
-- A repeating one (`every`) is never done for good: marking it done moves
-- `due_at` on by the interval and records `done_at`.
CREATE TABLE followups (
    id         TEXT PRIMARY KEY,
    article_id TEXT REFERENCES articles(id),
    text       TEXT NOT NULL,
    due_at     INTEGER NOT NULL,
    every      TEXT,
    status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    done_at    INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);
-- `nj due` and `nj due --count` read only this: open follow-ups by due time.
CREATE INDEX followups_open_by_due ON followups(due_at)
    WHERE status = 'open' AND deleted_at IS NULL;
CREATE INDEX followups_by_article ON followups(article_id);

-- migration: 3

-- Sync. Once sync is set up (`nj remote set`), every change is also
-- recorded as an operation; see docs/sync-protocol.md. A journal that
-- never syncs keeps nothing here.

-- This device's operations that the server has not confirmed yet.
CREATE TABLE sync_ops (
    seq INTEGER PRIMARY KEY,
    op  TEXT NOT NULL
);

-- The stamp (hybrid logical clock, device) of each field's current value:
-- what a remote change must beat.
CREATE TABLE sync_stamps (
    entity  TEXT NOT NULL,
    id      TEXT NOT NULL,
    field   TEXT NOT NULL,
    ms      INTEGER NOT NULL,
    counter INTEGER NOT NULL,
    device  TEXT NOT NULL,
    PRIMARY KEY (entity, id, field)
) WITHOUT ROWID;

-- Note texts that lost to a concurrent edit on another device, kept so
-- nothing anyone wrote is lost.
CREATE TABLE note_conflicts (
    note_id TEXT NOT NULL,
    ms      INTEGER NOT NULL,
    counter INTEGER NOT NULL,
    device  TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (note_id, ms, counter, device)
) WITHOUT ROWID;

-- migration: 4

-- Random bytes recorded with each operation; its nonce is made from them
-- when it is sealed for the server (docs/sync-protocol.md), so a retried push
-- sends the same bytes. Operations queued before this have none and get
-- theirs when first pushed.
ALTER TABLE sync_ops ADD COLUMN nonce_seed BLOB;

-- migration: 5

-- Read state: when the article was read (marked with `nj read`, or brought
-- in by an import from a read-later tool), or NULL while it is unread.
ALTER TABLE articles ADD COLUMN read_at INTEGER;

-- The empty text. An imported bookmark whose text is not fetched yet is an
-- article whose current text is this one, with no versions: it is
-- "pending" until `nj fetch --pending` records its first real version.
-- Every journal holds it, so a pending article pulled from another device
-- always has its text row.
INSERT OR IGNORE INTO texts(hash, word_count, created_at, body)
VALUES ('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 0, 0, '');

-- (No index finds pending articles: `nj fetch --pending` scans the table,
-- some milliseconds at 100,000 articles. A partial index on them would make
-- SQLite prepare again, on every run, each statement that binds a value
-- where the index's condition could apply, which costs imports far more.)

-- Pending articles whose text could not be fetched, so that a fetch run
-- again goes on with the others and `--retry` takes these up. Local to this
-- device (another device may well reach the page), so never synced.
CREATE TABLE fetch_failures (
    article_id TEXT PRIMARY KEY,
    attempts   INTEGER NOT NULL,
    error      TEXT NOT NULL,
    tried_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- migration: 6

-- Tag links without a stored id. A link's sync id is made from its article
-- and tag (docs/sync-protocol.md) whenever an operation needs it; stored,
-- it was 36 bytes of every link that nothing read, a third of the largest
-- table. The links are copied out and back (through a main-database table)
-- rather than renamed or kept in a TEMP table: either opens SQLite's
-- temporary database, after which the process can no longer choose where
-- index builds spill (Journal::rebuild_index).
CREATE TABLE article_tags_copy AS
    SELECT article_id, tag, created_at FROM article_tags;
DROP TABLE article_tags;
CREATE TABLE article_tags (
    article_id TEXT NOT NULL REFERENCES articles(id),
    tag        TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (article_id, tag)
) WITHOUT ROWID;
INSERT INTO article_tags(article_id, tag, created_at)
    SELECT article_id, tag, created_at FROM article_tags_copy ORDER BY article_id, tag;
DROP TABLE article_tags_copy;
CREATE INDEX article_tags_by_tag ON article_tags(tag);

-- migration: 7

-- Link tables keyed by the article's rowid instead of its 36-character id,
-- and URL links without a stored id (made from the article and the URL
-- when sync needs it, as tag links have been since migration 6). The links
-- were two thirds of a bookmark journal's size, and comparing ids was a
-- large part of an import's time.
--
-- The rowid is made explicit (`seq`, an INTEGER PRIMARY KEY): SQLite may
-- renumber an implicit rowid in a VACUUM, and the links and the search
-- index both name articles by it. The copies keep every rowid as it was.
-- Tables are copied out and back, not renamed, for the reason migration 6
-- gives. Migrations run with foreign keys off, which are checked once at
-- the end (Journal::migrate), so dropping `articles` does not look up the
-- rows that reference each article. A URL or tag link whose article is
-- not there (only damage could leave one) is not copied: nothing showed
-- it before either, as every read joined it to its article.
DROP VIEW article_search_src;
CREATE TABLE article_urls_copy AS
    SELECT a.rowid AS article_seq, u.url AS url, u.added_at AS added_at
      FROM article_urls u JOIN articles a ON a.id = u.article_id;
CREATE TABLE article_tags_copy AS
    SELECT a.rowid AS article_seq, g.tag AS tag, g.created_at AS created_at
      FROM article_tags g JOIN articles a ON a.id = g.article_id;
DROP TABLE article_urls;
DROP TABLE article_tags;
CREATE TABLE articles_copy AS
    SELECT rowid AS seq, id, title, url, site, author, lang, published_at,
           content_hash, clipped_at, updated_at, deleted_at, read_at
      FROM articles;
DROP TABLE articles;

CREATE TABLE articles (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    url          TEXT,             -- the preferred (canonical) source URL
    site         TEXT,
    author       TEXT,
    lang         TEXT,
    published_at INTEGER,
    content_hash TEXT NOT NULL REFERENCES texts(hash),
    clipped_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER,
    read_at      INTEGER
);
INSERT INTO articles(seq, id, title, url, site, author, lang, published_at,
                     content_hash, clipped_at, updated_at, deleted_at, read_at)
    SELECT seq, id, title, url, site, author, lang, published_at,
           content_hash, clipped_at, updated_at, deleted_at, read_at
      FROM articles_copy ORDER BY seq;
DROP TABLE articles_copy;
CREATE INDEX articles_by_clipped ON articles(clipped_at);

-- Every URL an article was clipped from. A link's sync id is made from the
-- article's id and the URL (docs/sync-protocol.md).
CREATE TABLE article_urls (
    article_seq INTEGER NOT NULL REFERENCES articles(seq),
    url         TEXT NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (article_seq, url)
) WITHOUT ROWID;
INSERT INTO article_urls(article_seq, url, added_at)
    SELECT article_seq, url, added_at FROM article_urls_copy ORDER BY article_seq, url;
DROP TABLE article_urls_copy;
CREATE INDEX article_urls_by_url ON article_urls(url);

-- Tags are lower-case. A link's sync id is made from the article's id and
-- the tag.
CREATE TABLE article_tags (
    article_seq INTEGER NOT NULL REFERENCES articles(seq),
    tag         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (article_seq, tag)
) WITHOUT ROWID;
INSERT INTO article_tags(article_seq, tag, created_at)
    SELECT article_seq, tag, created_at FROM article_tags_copy ORDER BY article_seq, tag;
DROP TABLE article_tags_copy;
CREATE INDEX article_tags_by_tag ON article_tags(tag);

-- The search view of migration 1, over the new link tables. The index's
-- rowids are the articles' rowids, which the copy kept.
CREATE VIEW article_search_src AS
SELECT a.seq AS article_rowid,
       a.title AS title,
       nj_text(t.body) AS body,
       (SELECT group_concat(body, char(10))
          FROM (SELECT n.body AS body FROM notes n
                 WHERE n.article_id = a.id AND n.deleted_at IS NULL
                 ORDER BY n.created_at, n.id)) AS notes,
       (SELECT group_concat(tag, ' ')
          FROM (SELECT g.tag AS tag FROM article_tags g
                 WHERE g.article_seq = a.seq ORDER BY g.tag)) AS tags
  FROM articles a
  JOIN texts t ON t.hash = a.content_hash;

-- migration: 8

-- How many articles outside the bin carry each tag, kept by the triggers
-- below, so `nj tags` reads one row a tag instead of counting every link
-- (at 100,000 articles with 551,000 links, 420 ms). A large write that
-- leaves its indexes for later drops these triggers with them and counts
-- again when it builds them (Tx::defer_index). A migration that rebuilds
-- article_tags or articles must create the triggers again.
CREATE TABLE tag_counts (
    tag      TEXT PRIMARY KEY,
    articles INTEGER NOT NULL
) WITHOUT ROWID;

-- The binned articles, few, found without reading every article.
CREATE INDEX articles_binned ON articles(seq) WHERE deleted_at IS NOT NULL;

-- `nj list --sort title|published|words` reads the first rows in order
-- instead of sorting every article (at 100,000 articles, about 1 ms
-- against 230 ms): by title, by publication date, and from the longest
-- texts to the articles that have them.
CREATE INDEX articles_by_title ON articles(title COLLATE NOCASE);
CREATE INDEX articles_by_published ON articles(published_at);
CREATE INDEX articles_by_text ON articles(content_hash);
CREATE INDEX texts_by_words ON texts(word_count);

-- The counts from scratch, as `nj verify` checks them and a large write
-- refills them: every link counted by the tag index (a scan of it), less
-- the binned articles' (CROSS JOIN: from the few binned articles to their
-- links, not from every link to its article: 30 ms against 900 ms at
-- 551,000 links).
CREATE VIEW tag_counts_from_links AS
SELECT t.tag AS tag, t.n - coalesce(b.n, 0) AS articles
  FROM (SELECT tag, count(*) AS n FROM article_tags GROUP BY tag) t
  LEFT JOIN (SELECT g.tag AS tag, count(*) AS n
               FROM articles a CROSS JOIN article_tags g ON g.article_seq = a.seq
              WHERE a.deleted_at IS NOT NULL GROUP BY g.tag) b ON b.tag = t.tag
 WHERE t.n - coalesce(b.n, 0) > 0;

INSERT INTO tag_counts(tag, articles) SELECT tag, articles FROM tag_counts_from_links;

CREATE TRIGGER tag_counts_on_link AFTER INSERT ON article_tags
WHEN (SELECT deleted_at IS NULL FROM articles WHERE seq = NEW.article_seq)
BEGIN
    INSERT OR IGNORE INTO tag_counts(tag, articles) VALUES (NEW.tag, 0);
    UPDATE tag_counts SET articles = articles + 1 WHERE tag = NEW.tag;
END;

CREATE TRIGGER tag_counts_on_unlink AFTER DELETE ON article_tags
WHEN (SELECT deleted_at IS NULL FROM articles WHERE seq = OLD.article_seq)
BEGIN
    UPDATE tag_counts SET articles = articles - 1 WHERE tag = OLD.tag;
    DELETE FROM tag_counts WHERE tag = OLD.tag AND articles <= 0;
END;

-- Into the bin, or out of it: each of the article's tags counts one less,
-- or one more.
CREATE TRIGGER tag_counts_on_bin AFTER UPDATE OF deleted_at ON articles
WHEN (OLD.deleted_at IS NULL) != (NEW.deleted_at IS NULL)
BEGIN
    INSERT OR IGNORE INTO tag_counts(tag, articles)
        SELECT tag, 0 FROM article_tags WHERE article_seq = NEW.seq;
    UPDATE tag_counts
       SET articles = articles + (CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END)
     WHERE tag IN (SELECT tag FROM article_tags WHERE article_seq = NEW.seq);
    DELETE FROM tag_counts WHERE articles <= 0
       AND tag IN (SELECT tag FROM article_tags WHERE article_seq = NEW.seq);
END;

-- migration: 9

-- Syndicated copies folded into an article (`nj clip` of a near-copy of
-- its text): where each came from and its own exact text, which stays
-- verifiable by its hash.
CREATE TABLE copies (
    id           TEXT PRIMARY KEY,
    article_id   TEXT NOT NULL REFERENCES articles(id),
    url          TEXT,
    content_hash TEXT NOT NULL REFERENCES texts(hash),
    created_at   INTEGER NOT NULL
);
CREATE INDEX copies_by_article ON copies(article_id, created_at);
CREATE INDEX copies_by_text ON copies(content_hash);

-- The articles whose keys, when made, met another article's: the only
-- ones a sync's fold (Tx::fold_pulled_copies) compares, so a large pull
-- of articles that are no one's copies costs a look-up each, not a
-- reading of every text. The fold empties it.
CREATE TABLE copy_suspects (
    article_seq INTEGER PRIMARY KEY
);

-- Set for an article clipped with `--separate`: a copy kept apart, which
-- no device folds into the article it copies.
ALTER TABLE articles ADD COLUMN kept_apart INTEGER;

-- What recognising a syndicated copy needs (src/similar.rs): the LSH band
-- keys of each article's current text, so the articles whose text is
-- worth comparing with a new one are an index lookup per band away. A
-- text too short to be a copy has none. Removed articles keep theirs;
-- readers leave them out.
CREATE TABLE copy_keys (
    key         INTEGER NOT NULL,
    article_seq INTEGER NOT NULL REFERENCES articles(seq),
    PRIMARY KEY (key, article_seq)
) WITHOUT ROWID;

-- The articles whose keys are out of date: a new article, or one whose
-- current text changed (with the text its keys were made from, to take
-- those out). The triggers fill it whatever wrote the row (a clip, a
-- fetch, an import, a pulled change); each write transaction empties it
-- before it commits (Tx::write_copy_keys).
CREATE TABLE copy_queue (
    article_seq INTEGER PRIMARY KEY,
    old_hash    TEXT
);

-- (A bookmark without its text yet has nothing to compare.)
CREATE TRIGGER copy_queue_on_insert AFTER INSERT ON articles
WHEN NEW.content_hash != 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
BEGIN
    INSERT OR IGNORE INTO copy_queue(article_seq, old_hash) VALUES (NEW.seq, NULL);
END;

CREATE TRIGGER copy_queue_on_text AFTER UPDATE OF content_hash ON articles
WHEN OLD.content_hash IS NOT NEW.content_hash
BEGIN
    INSERT OR IGNORE INTO copy_queue(article_seq, old_hash) VALUES (NEW.seq, OLD.content_hash);
END;

-- Every article a journal already holds gets its keys at the first write
-- after the upgrade, or the first `nj copies`.
INSERT INTO copy_queue(article_seq, old_hash) SELECT seq, NULL FROM articles
 WHERE content_hash != 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

-- migration: 10

-- Operations pulled from a newer nj that name an entity or a field this
-- one does not know (a story, say). What this nj knows of one is applied
-- as usual, and the whole operation is held here, once (by its device and
-- number), with the schema it was held under, so the nj that knows it
-- applies it in full at the first sync after the upgrade
-- (Journal::replay_held_ops), instead of its values being lost for good.
-- (An nj before this one dropped such operations: a journal it pulled
-- into pulls again from the start once, see Journal::apply_migrations.)
CREATE TABLE held_ops (
    device TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    op     TEXT NOT NULL,
    schema INTEGER NOT NULL,
    PRIMARY KEY (device, seq)
);

-- migration: 11

-- Stories: what a user follows over weeks, the articles on it and its own
-- notes and follow-ups (`nj story`). A story's short name is made from
-- its title when asked for (journal/story.rs), so it is not kept.
CREATE TABLE stories (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    closed_at  INTEGER,
    deleted_at INTEGER,
    updated_at INTEGER NOT NULL
);

-- An article in a story while `dropped_at` is null. Its id is made from
-- the two (journal/story.rs), so two devices that add the same article
-- make one row, and dropping it and adding it again are edits of it.
CREATE TABLE story_articles (
    id         TEXT PRIMARY KEY,
    story_id   TEXT NOT NULL REFERENCES stories(id),
    article_id TEXT NOT NULL REFERENCES articles(id),
    added_at   INTEGER NOT NULL,
    dropped_at INTEGER
);
CREATE INDEX story_articles_by_story ON story_articles(story_id, added_at);
CREATE INDEX story_articles_by_article ON story_articles(article_id);

-- A story's own notes and follow-ups (an article's have article_id).
ALTER TABLE notes ADD COLUMN story_id TEXT REFERENCES stories(id);
ALTER TABLE followups ADD COLUMN story_id TEXT REFERENCES stories(id);
CREATE INDEX notes_by_story ON notes(story_id) WHERE story_id IS NOT NULL;
CREATE INDEX followups_by_story ON followups(story_id) WHERE story_id IS NOT NULL;

-- When `nj story show` last showed a story on this device (not synced):
-- `nj stories` marks a story with a new version of one of its articles
-- since.
CREATE TABLE story_seen (
    story_id TEXT PRIMARY KEY,
    shown_at INTEGER NOT NULL
) WITHOUT ROWID;

-- When `nj recheck` last fetched each article on this device (not
-- synced): `nj recheck --scheduled` fetches an article again only when its
-- age says it is time (Journal::due_for_recheck).
CREATE TABLE rechecked (
    article_seq INTEGER PRIMARY KEY,
    checked_at  INTEGER NOT NULL
);

-- Which articles `nj recheck --scheduled` looks at changes only with
-- these: each bumps a count, and while the count stays the same a run may
-- trust the earliest time it worked out that any of them is due
-- (`recheck_next`), and do nothing before it without looking.
INSERT OR IGNORE INTO meta(key, value) VALUES ('recheck_generation', '0');
CREATE TRIGGER recheck_on_followup_insert AFTER INSERT ON followups
BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'recheck_generation';
END;
CREATE TRIGGER recheck_on_followup_update AFTER UPDATE OF status, deleted_at, article_id ON followups
BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'recheck_generation';
END;
CREATE TRIGGER recheck_on_story_article_insert AFTER INSERT ON story_articles
BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'recheck_generation';
END;
CREATE TRIGGER recheck_on_story_article_update AFTER UPDATE OF dropped_at ON story_articles
BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'recheck_generation';
END;
CREATE TRIGGER recheck_on_story_update AFTER UPDATE OF closed_at, deleted_at ON stories
BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'recheck_generation';
END;
CREATE TRIGGER recheck_on_article_update AFTER UPDATE OF deleted_at, published_at ON articles
BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'recheck_generation';
END;

-- migration: 12

-- Each story's figures for `nj stories` (this device's, not synced): how
-- many articles it has, its last activity, its next follow-up, and whether
-- an article in it has a new version since it was last shown. Worked out
-- from its articles, notes and follow-ups, which for a thousand stories
-- means thousands of reads; kept here, `nj stories` reads one row a story.
-- A story without a row has its figures worked out and stored at the next
-- `nj stories` (Journal::stories); the triggers below remove the row of
-- each story that a change touches, so no row is ever stale.
CREATE TABLE story_figures (
    story_id      TEXT PRIMARY KEY,
    articles      INTEGER NOT NULL,
    last_activity INTEGER NOT NULL,
    next_followup INTEGER,
    changed       INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER story_figures_on_story_update AFTER UPDATE ON stories
BEGIN
    DELETE FROM story_figures WHERE story_id IN (OLD.id, NEW.id);
END;
CREATE TRIGGER story_figures_on_story_delete AFTER DELETE ON stories
BEGIN
    DELETE FROM story_figures WHERE story_id = OLD.id;
END;
CREATE TRIGGER story_figures_on_member_insert AFTER INSERT ON story_articles
BEGIN
    DELETE FROM story_figures WHERE story_id = NEW.story_id;
END;
CREATE TRIGGER story_figures_on_member_update AFTER UPDATE ON story_articles
BEGIN
    DELETE FROM story_figures WHERE story_id IN (OLD.story_id, NEW.story_id);
END;
CREATE TRIGGER story_figures_on_member_delete AFTER DELETE ON story_articles
BEGIN
    DELETE FROM story_figures WHERE story_id = OLD.story_id;
END;
-- An article that arrives (through sync) after the story that holds it.
CREATE TRIGGER story_figures_on_article_insert AFTER INSERT ON articles
BEGIN
    DELETE FROM story_figures WHERE story_id IN
        (SELECT story_id FROM story_articles WHERE article_id = NEW.id);
END;
CREATE TRIGGER story_figures_on_article_update
AFTER UPDATE OF id, clipped_at, updated_at, deleted_at ON articles
BEGIN
    DELETE FROM story_figures WHERE story_id IN
        (SELECT story_id FROM story_articles WHERE article_id IN (OLD.id, NEW.id));
END;
CREATE TRIGGER story_figures_on_article_delete AFTER DELETE ON articles
BEGIN
    DELETE FROM story_figures WHERE story_id IN
        (SELECT story_id FROM story_articles WHERE article_id = OLD.id);
END;
CREATE TRIGGER story_figures_on_version_insert AFTER INSERT ON versions
BEGIN
    DELETE FROM story_figures WHERE story_id IN
        (SELECT story_id FROM story_articles WHERE article_id = NEW.article_id);
END;
CREATE TRIGGER story_figures_on_version_change AFTER UPDATE ON versions
BEGIN
    DELETE FROM story_figures WHERE story_id IN
        (SELECT story_id FROM story_articles WHERE article_id IN (OLD.article_id, NEW.article_id));
END;
CREATE TRIGGER story_figures_on_version_delete AFTER DELETE ON versions
BEGIN
    DELETE FROM story_figures WHERE story_id IN
        (SELECT story_id FROM story_articles WHERE article_id = OLD.article_id);
END;
CREATE TRIGGER story_figures_on_note_insert AFTER INSERT ON notes
WHEN NEW.story_id IS NOT NULL
BEGIN
    DELETE FROM story_figures WHERE story_id = NEW.story_id;
END;
CREATE TRIGGER story_figures_on_note_update AFTER UPDATE ON notes
WHEN OLD.story_id IS NOT NULL OR NEW.story_id IS NOT NULL
BEGIN
    DELETE FROM story_figures WHERE story_id IN (OLD.story_id, NEW.story_id);
END;
CREATE TRIGGER story_figures_on_note_delete AFTER DELETE ON notes
WHEN OLD.story_id IS NOT NULL
BEGIN
    DELETE FROM story_figures WHERE story_id = OLD.story_id;
END;
CREATE TRIGGER story_figures_on_followup_insert AFTER INSERT ON followups
BEGIN
    DELETE FROM story_figures WHERE story_id = NEW.story_id OR story_id IN
        (SELECT story_id FROM story_articles WHERE article_id = NEW.article_id);
END;
CREATE TRIGGER story_figures_on_followup_update AFTER UPDATE ON followups
BEGIN
    DELETE FROM story_figures WHERE story_id IN (OLD.story_id, NEW.story_id) OR story_id IN
        (SELECT story_id FROM story_articles WHERE article_id IN (OLD.article_id, NEW.article_id));
END;
CREATE TRIGGER story_figures_on_followup_delete AFTER DELETE ON followups
BEGIN
    DELETE FROM story_figures WHERE story_id = OLD.story_id OR story_id IN
        (SELECT story_id FROM story_articles WHERE article_id = OLD.article_id);
END;
CREATE TRIGGER story_figures_on_seen AFTER INSERT ON story_seen
BEGIN
    DELETE FROM story_figures WHERE story_id = NEW.story_id;
END;
CREATE TRIGGER story_figures_on_seen_update AFTER UPDATE ON story_seen
BEGIN
    DELETE FROM story_figures WHERE story_id IN (OLD.story_id, NEW.story_id);
END;
