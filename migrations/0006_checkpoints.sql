-- Checkpoints: an engine instance's memory image and what it holds (src/session/checkpoint.rs).
-- `name` is 'latest' for the session's own checkpoint. The journal keeps the cells after it
-- (and older ones while the whole history is replayable by another engine build).
CREATE TABLE checkpoints (
  name TEXT PRIMARY KEY,
  format INTEGER NOT NULL,
  build_id TEXT NOT NULL,
  through_seq INTEGER NOT NULL,
  execution_count INTEGER NOT NULL,
  memory_bytes INTEGER NOT NULL,
  image_bytes INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  journal_pruned INTEGER NOT NULL
);

-- The image, in parts of at most 1 MiB (a row is at most 2 MB).
CREATE TABLE checkpoint_chunks (
  name TEXT NOT NULL,
  part INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (name, part)
);
