-- Forks and named checkpoints (src/session/object/branches.rs, src/storage/branches.rs).

-- A file's R2 object. NULL: the object under the session's own prefix
-- (`{tenant}/{id}/files/{path}`, written before forks existed). Every write now makes a new
-- object (`{tenant}/objects/{random}`), so objects are never changed once written and can be
-- shared. `shared` = 1 once a fork or a checkpoint also points at the object: from then on the
-- tenant's reference registry (`FileRefs`) decides when it is deleted.
ALTER TABLE files ADD COLUMN object_key TEXT;
ALTER TABLE files ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;

-- Checkpoints a client named: the session's state (memory image, or none for a session that
-- never ran a cell) and its files (index rows; the objects are shared).
CREATE TABLE named_checkpoints (
  name TEXT PRIMARY KEY,
  format INTEGER NOT NULL,
  build_id TEXT NOT NULL,
  through_seq INTEGER NOT NULL,
  execution_count INTEGER NOT NULL,
  memory_bytes INTEGER NOT NULL,
  image_bytes INTEGER NOT NULL,
  journal_pruned INTEGER NOT NULL,
  files_count INTEGER NOT NULL,
  files_bytes INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);

CREATE TABLE named_checkpoint_chunks (
  name TEXT NOT NULL,
  part INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (name, part)
);

CREATE TABLE named_checkpoint_files (
  name TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  etag TEXT NOT NULL,
  modified_ms INTEGER NOT NULL,
  object_key TEXT NOT NULL,
  PRIMARY KEY (name, path)
);
