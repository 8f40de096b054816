-- Who placed an order, as analytics knows them (souq.Visitor): every event
-- of the order (a card payment confirmed later, a cancellation) carries
-- them, so that it joins the visit that made it.
ALTER TABLE orders ADD COLUMN visitor_anonymous_id TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN visitor_user_id TEXT NOT NULL DEFAULT '';
