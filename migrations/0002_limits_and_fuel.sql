-- Per-session execution limits (JSON of engine::Limits), fixed at creation.
ALTER TABLE session ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';

-- Fuel each journaled cell used: the cost of replaying the journal.
ALTER TABLE journal ADD COLUMN fuel INTEGER NOT NULL DEFAULT 0;
