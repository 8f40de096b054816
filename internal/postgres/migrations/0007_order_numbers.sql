-- Short order numbers shoppers read out ("SQ-7K4M2Q"), drawn by checkout
-- and unique; and the shopper's language, for the order's e-mails.
-- Orders placed before keep no number (NULL: the constraint ignores them):
-- a number is a random draw that checkout retries on a clash, which a
-- migration cannot do row by row; they are found by id as before.
ALTER TABLE orders ADD COLUMN number text CONSTRAINT orders_number_unique UNIQUE;
ALTER TABLE orders ADD COLUMN language text NOT NULL DEFAULT 'en';
