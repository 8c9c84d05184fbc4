-- Answers recorded under an `Idempotency-Key` (src/session/idempotency.rs). Written in the same
-- storage event as the cell's journal entry; keys older than the retention are pruned on write.
CREATE TABLE idempotency (
  key TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);

-- The answer's JSON text, in parts of at most 1 MiB (an answer can hold 4 MiB of value and
-- 4 MiB of output; a row is at most 2 MB).
CREATE TABLE idempotency_parts (
  key TEXT NOT NULL,
  part INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (key, part)
);
