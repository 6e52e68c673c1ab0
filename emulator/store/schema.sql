-- podiam state schema. Sections apply in order; a database records the last one applied in
-- PRAGMA user_version. Never edit a released section: add a new one. Times are epoch ms.

-- version 1
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
