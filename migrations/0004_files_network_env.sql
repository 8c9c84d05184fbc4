-- The session's files: the index of what is stored in R2 under `{tenant}/{id}/files/`. Quotas
-- and listings read it; the bytes live in R2.
CREATE TABLE files (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  etag TEXT NOT NULL,
  modified_ms INTEGER NOT NULL
);

-- What each journaled cell's I/O answered (file reads, fetch responses), so replay gets the same
-- answers without repeating a request. A reply larger than one part is split over several rows.
CREATE TABLE journal_io (
  seq INTEGER NOT NULL,
  n INTEGER NOT NULL,
  part INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (seq, n, part)
);

-- The session's network rules (JSON array of allow patterns) and secrets (JSON object; never
-- returned by the API, never copied to KV).
ALTER TABLE session ADD COLUMN network TEXT NOT NULL DEFAULT '[]';
ALTER TABLE session ADD COLUMN env TEXT NOT NULL DEFAULT '{}';
