-- The session's row: settings and counters. One row per object.
CREATE TABLE session (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  ttl_seconds INTEGER NOT NULL,
  metadata TEXT NOT NULL,
  seed INTEGER NOT NULL,
  execution_count INTEGER NOT NULL DEFAULT 0
);

-- Every acknowledged cell, in order: replaying it rebuilds the realm.
CREATE TABLE journal (
  seq INTEGER PRIMARY KEY,
  code TEXT NOT NULL,
  now_ms REAL NOT NULL
);
