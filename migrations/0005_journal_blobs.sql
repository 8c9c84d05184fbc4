-- File contents read by journaled cells, stored once per content (R2 etag and size), so a session
-- that reads the same file in many cells journals its bytes once. `journal_io.blob` names the
-- content a reply's payload is; such a row holds only the reply's head.
CREATE TABLE journal_blobs (
  key TEXT NOT NULL,
  part INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (key, part)
);
ALTER TABLE journal_io ADD COLUMN blob TEXT;
