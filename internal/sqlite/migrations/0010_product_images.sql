-- Uploaded product photos (souq.Image, as a JSON array), first shown first.
ALTER TABLE products ADD COLUMN images TEXT NOT NULL DEFAULT '[]';
