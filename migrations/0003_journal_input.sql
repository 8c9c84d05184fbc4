-- The `input` each journaled cell saw (JSON text; NULL when it had none), replayed with it.
ALTER TABLE journal ADD COLUMN input TEXT;
