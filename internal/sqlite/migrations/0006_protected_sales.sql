-- A protected sale puts checkout behind the waiting room while it runs
-- (package waitroom).
ALTER TABLE sales ADD COLUMN protected INTEGER NOT NULL DEFAULT 0;
