-- The tenant's reference registry (`FileRefs`, src/storage/file_refs.rs): how many sessions and
-- checkpoints point at each shared R2 object. An object is deleted when its count reaches 0.
CREATE TABLE refs (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL
);
