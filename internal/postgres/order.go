package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/souq"
)

// The multi-row statements of a batch of orders (commit.go). Each takes
// one array per column and inserts a row per element.
const (
	sqlTakeStock = `UPDATE products p SET stock = p.stock - d.n, updated_at = GREATEST(p.updated_at, d.at)
		FROM unnest($1::text[], $2::int[], $3::timestamptz[]) AS d(id, n, at) WHERE p.id = d.id`
	sqlInsertOrders = `INSERT INTO orders (id, status, market, currency, total, vat,
		customer_name, customer_email, customer_phone,
		ship_line1, ship_line2, ship_area, ship_city, ship_country,
		payment_method, payment_provider, payment_reference,
		cart_id, access_token_hash, created_at, updated_at,
		payment_status, payment_capture, payment_failure, payment_due_at, completed_at, number, language,
		delivery_fee, cod_fee, visitor_anonymous_id, visitor_user_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
			$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
			$15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::timestamptz[], $21::timestamptz[],
			$22::text[], $23::text[], $24::text[], $25::timestamptz[], $26::timestamptz[], $27::text[], $28::text[],
			$29::bigint[], $30::bigint[], $31::text[], $32::text[])`
	sqlInsertOrderLines = `INSERT INTO order_lines (order_id, line_no, product_id, sku, name_en, name_ar,
		brand, category, quantity, unit_price, on_sale, line_total, vat, vat_basis_points)
		SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::text[], $8::text[], $9::int[], $10::bigint[], $11::bool[], $12::bigint[], $13::bigint[], $14::int[])`
	sqlInsertOutbox = `INSERT INTO outbox (id, name, payload, created_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::timestamptz[])`
	sqlEmptyCarts   = `DELETE FROM cart_items WHERE cart_id = ANY($1)`
	sqlCompleteKeys = `UPDATE idempotency_keys k SET in_flight = false, status = d.status, body = d.body, updated_at = d.at
		FROM unnest($1::text[], $2::int[], $3::bytea[], $4::timestamptz[]) AS d(key, status, body, at)
		WHERE k.key = d.key AND k.in_flight`
)

// queueOrders queues the writes of a batch's accepted orders: the stock
// each product gives (take), the orders with their lines and events, their
// carts emptied and their keys completed. The caller holds the locks that
// make every statement succeed: the keys' rows are locked and in flight
// under the orders' claims, so completing them changes exactly those rows.
func queueOrders(b *pgx.Batch, orders []*orderJob, take map[souq.ID]int) {
	b.Queue(sqlTakeStock, takeArgs(orders, take)...)
	b.Queue(sqlInsertOrders, orderArgs(orders)...)
	b.Queue(sqlInsertOrderLines, lineArgs(orders)...)
	events := make([]souq.OutboxEvent, 0, len(orders))
	for _, j := range orders {
		if j.event.ID != "" {
			events = append(events, j.event)
		}
	}
	if len(events) > 0 {
		b.Queue(sqlInsertOutbox, outboxArgs(events)...)
	}
	var carts []string
	for _, j := range orders {
		if j.order.CartID != "" {
			carts = append(carts, string(j.order.CartID))
		}
	}
	if len(carts) > 0 {
		b.Queue(sqlEmptyCarts, carts)
	}
	var (
		key      []string
		status   []int32
		body     [][]byte
		keyTimes []time.Time
	)
	for _, j := range orders {
		if j.done != nil {
			key, status = append(key, j.done.Key), append(status, int32(j.done.Status))
			body, keyTimes = append(body, nonNil(j.done.Body)), append(keyTimes, j.order.CreatedAt)
		}
	}
	if len(key) > 0 {
		b.Queue(sqlCompleteKeys, key, status, body, keyTimes)
	}
}

// nonNil returns b, or an empty slice for nil (bytea columns here are NOT
// NULL where it matters, and an empty payload is not a missing one).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// takeArgs are sqlTakeStock's arguments: per product, the units taken and
// the time of the latest order taking them.
func takeArgs(orders []*orderJob, take map[souq.ID]int) []any {
	latest := make(map[souq.ID]time.Time, len(take))
	for _, j := range orders {
		for _, l := range j.order.Lines {
			if t := j.order.CreatedAt; t.After(latest[l.ProductID]) {
				latest[l.ProductID] = t
			}
		}
	}
	ids := make([]string, 0, len(take))
	for id := range take {
		ids = append(ids, string(id))
	}
	slices.Sort(ids)
	n, at := make([]int32, len(ids)), make([]time.Time, len(ids))
	for i, id := range ids {
		n[i], at[i] = int32(take[souq.ID(id)]), latest[souq.ID(id)]
	}
	return []any{ids, n, at}
}

// orderArgs are sqlInsertOrders' arguments, a column per array.
func orderArgs(orders []*orderJob) []any {
	n := len(orders)
	cols := make([][]string, 20)
	for c := range cols {
		cols[c] = make([]string, n)
	}
	total, vat := make([]int64, n), make([]int64, n)
	deliveryFee, codFee := make([]int64, n), make([]int64, n)
	anonymous, user := make([]string, n), make([]string, n)
	created, updated := make([]time.Time, n), make([]time.Time, n)
	due, completed := make([]*time.Time, n), make([]*time.Time, n)
	number, language := make([]*string, n), make([]string, n)
	for i, j := range orders {
		o := j.order
		for c, v := range []string{string(o.ID), string(o.Status), string(o.Market), string(o.Currency),
			o.Customer.Name, o.Customer.Email, o.Customer.Phone,
			o.ShippingAddress.Line1, o.ShippingAddress.Line2, o.ShippingAddress.Area, o.ShippingAddress.City,
			string(o.ShippingAddress.Country),
			string(o.Payment.Method), o.Payment.Provider, o.Payment.Reference,
			string(o.CartID), o.AccessTokenHash,
			string(o.Payment.Status), o.Payment.Capture, o.Payment.Failure} {
			cols[c][i] = v
		}
		total[i], vat[i], created[i], updated[i] = o.Total, o.VAT, o.CreatedAt, o.UpdatedAt
		deliveryFee[i], codFee[i] = o.DeliveryFee, o.CODFee
		anonymous[i], user[i] = o.Visitor.AnonymousID, o.Visitor.UserID
		due[i], completed[i] = o.Payment.DueAt, o.CompletedAt
		if o.Number != "" {
			number[i] = &o.Number
		}
		language[i] = string(o.Language)
	}
	return []any{cols[0], cols[1], cols[2], cols[3], total, vat,
		cols[4], cols[5], cols[6], cols[7], cols[8], cols[9], cols[10], cols[11],
		cols[12], cols[13], cols[14], cols[15], cols[16], created, updated,
		cols[17], cols[18], cols[19], due, completed, number, language,
		deliveryFee, codFee, anonymous, user}
}

// lineArgs are sqlInsertOrderLines' arguments, a column per array.
func lineArgs(orders []*orderJob) []any {
	var (
		orderID, product, sku, nameEN, nameAR, brand, category []string
		lineNo, quantity, bps                                  []int32
		unit, total, vat                                       []int64
		onSale                                                 []bool
	)
	for _, j := range orders {
		for i, l := range j.order.Lines {
			orderID, lineNo = append(orderID, string(j.order.ID)), append(lineNo, int32(i+1))
			product, sku = append(product, string(l.ProductID)), append(sku, l.SKU)
			nameEN, nameAR = append(nameEN, l.Name.EN), append(nameAR, l.Name.AR)
			brand, category = append(brand, l.Brand), append(category, l.Category)
			quantity, unit, onSale = append(quantity, int32(l.Quantity)), append(unit, l.UnitPrice), append(onSale, l.OnSale)
			total, vat, bps = append(total, l.LineTotal), append(vat, l.VAT), append(bps, int32(l.VATBasisPoints))
		}
	}
	return []any{orderID, lineNo, product, sku, nameEN, nameAR, brand, category, quantity, unit, onSale, total, vat, bps}
}

// outboxArgs are sqlInsertOutbox's arguments, a column per array.
func outboxArgs(events []souq.OutboxEvent) []any {
	n := len(events)
	id, name, payload, created := make([]string, n), make([]string, n), make([][]byte, n), make([]time.Time, n)
	for i, ev := range events {
		id[i], name[i], payload[i], created[i] = string(ev.ID), ev.Name, nonNil(ev.Payload), ev.CreatedAt
	}
	return []any{id, name, payload, created}
}

// orderColumns are the columns scanOrder reads.
const orderColumns = `id, status, market, currency, total, vat,
	customer_name, customer_email, customer_phone,
	ship_line1, ship_line2, ship_area, ship_city, ship_country,
	payment_method, payment_provider, payment_reference,
	cart_id, access_token_hash, created_at, updated_at,
	payment_status, payment_capture, payment_failure, payment_refund,
	payment_due_at, refunded_at, completed_at, cancelled_at, number, language,
	delivery_fee, cod_fee, visitor_anonymous_id, visitor_user_id`

// scanOrder reads a row of orderColumns; lines are loaded separately.
func scanOrder(row pgx.Row) (souq.Order, error) {
	var (
		o      souq.Order
		number *string
	)
	err := row.Scan(&o.ID, &o.Status, &o.Market, &o.Currency, &o.Total, &o.VAT,
		&o.Customer.Name, &o.Customer.Email, &o.Customer.Phone,
		&o.ShippingAddress.Line1, &o.ShippingAddress.Line2, &o.ShippingAddress.Area, &o.ShippingAddress.City,
		&o.ShippingAddress.Country,
		&o.Payment.Method, &o.Payment.Provider, &o.Payment.Reference,
		&o.CartID, &o.AccessTokenHash, &o.CreatedAt, &o.UpdatedAt,
		&o.Payment.Status, &o.Payment.Capture, &o.Payment.Failure, &o.Payment.RefundReference,
		&o.Payment.DueAt, &o.Payment.RefundedAt, &o.CompletedAt, &o.CancelledAt, &number, &o.Language,
		&o.DeliveryFee, &o.CODFee, &o.Visitor.AnonymousID, &o.Visitor.UserID)
	if number != nil {
		o.Number = *number
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	for _, t := range []*time.Time{o.Payment.DueAt, o.Payment.RefundedAt, o.CompletedAt, o.CancelledAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
	o.Lines = []souq.OrderLine{}
	return o, err
}

// Order returns an order with its lines; ErrNotFound if there is none.
func (db *DB) Order(ctx context.Context, id souq.ID) (souq.Order, error) {
	var o souq.Order
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		o, err = orderTx(ctx, tx, id, false)
		return err
	})
	return o, err
}

// OrderByNumber returns the order numbered number with its lines;
// ErrNotFound if there is none.
func (db *DB) OrderByNumber(ctx context.Context, number string) (souq.Order, error) {
	var o souq.Order
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var id souq.ID
		err := tx.QueryRow(ctx, `SELECT id FROM orders WHERE number = $1`, number).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("order %s: %w", number, souq.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("get order %s: %w", number, err)
		}
		o, err = orderTx(ctx, tx, id, false)
		return err
	})
	return o, err
}

// orderTx reads an order with its lines inside a transaction, locking the
// order's row when lock is set.
func orderTx(ctx context.Context, tx pgx.Tx, id souq.ID, lock bool) (souq.Order, error) {
	query := `SELECT ` + orderColumns + ` FROM orders WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	o, err := scanOrder(tx.QueryRow(ctx, query, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return souq.Order{}, fmt.Errorf("order %s: %w", id, souq.ErrNotFound)
	}
	if err != nil {
		return souq.Order{}, fmt.Errorf("get order %s: %w", id, err)
	}
	orders := []souq.Order{o}
	if err := loadLines(ctx, tx, orders); err != nil {
		return souq.Order{}, err
	}
	return orders[0], nil
}

// loadLines fills in the lines of the given orders.
func loadLines(ctx context.Context, tx pgx.Tx, orders []souq.Order) error {
	if len(orders) == 0 {
		return nil
	}
	index := make(map[souq.ID]int, len(orders))
	ids := make([]string, len(orders))
	for i, o := range orders {
		index[o.ID], ids[i] = i, string(o.ID)
	}
	rows, err := tx.Query(ctx, `SELECT order_id, product_id, sku, name_en, name_ar, brand, category,
		quantity, unit_price, on_sale, line_total, vat, vat_basis_points
		FROM order_lines WHERE order_id = ANY($1) ORDER BY order_id, line_no`, ids)
	if err != nil {
		return fmt.Errorf("load order lines: %w", err)
	}
	var (
		orderID souq.ID
		l       souq.OrderLine
	)
	_, err = pgx.ForEachRow(rows, []any{&orderID, &l.ProductID, &l.SKU, &l.Name.EN, &l.Name.AR, &l.Brand, &l.Category,
		&l.Quantity, &l.UnitPrice, &l.OnSale, &l.LineTotal, &l.VAT, &l.VATBasisPoints}, func() error {
		o := &orders[index[orderID]]
		o.Lines = append(o.Lines, l)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load order lines: %w", err)
	}
	return nil
}

// ListOrders returns orders with their lines, newest first (ties by id,
// descending), and how many orders there are. A limit of 0 or less returns
// every order from offset on.
func (db *DB) ListOrders(ctx context.Context, offset, limit int) ([]souq.Order, int, error) {
	orders := []souq.Order{}
	var total int
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM orders`).Scan(&total); err != nil {
			return fmt.Errorf("count orders: %w", err)
		}
		var lim any // NULL: no limit
		if limit > 0 {
			lim = limit
		}
		rows, err := tx.Query(ctx, `SELECT `+orderColumns+` FROM orders
			ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2`, lim, max(offset, 0))
		if err != nil {
			return fmt.Errorf("list orders: %w", err)
		}
		orders, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (souq.Order, error) { return scanOrder(row) })
		if err != nil {
			return fmt.Errorf("list orders: %w", err)
		}
		return loadLines(ctx, tx, orders)
	})
	if err != nil {
		return nil, 0, err
	}
	return orders, total, nil
}

// DuePayments returns up to limit orders whose payment is due for a look
// at or before t (Payment.DueAt), soonest first.
func (db *DB) DuePayments(ctx context.Context, t time.Time, limit int) ([]souq.ID, error) {
	var ids []souq.ID
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM orders WHERE payment_due_at <= $1
			ORDER BY payment_due_at, id LIMIT $2`, t, limit)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[souq.ID])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("due payments: %w", err)
	}
	if ids == nil {
		ids = []souq.ID{}
	}
	return ids, nil
}

// PaymentEventSeen reports whether a provider's webhook event was recorded.
func (db *DB) PaymentEventSeen(ctx context.Context, provider, id string) (bool, error) {
	var seen bool
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM payment_events WHERE provider = $1 AND id = $2)`,
			provider, id).Scan(&seen)
	})
	if err != nil {
		return false, fmt.Errorf("payment event %s: %w", id, err)
	}
	return seen, nil
}

// RecordPaymentEvent records a provider's webhook event as handled; a
// recorded one is left as it is.
func (db *DB) RecordPaymentEvent(ctx context.Context, provider, id string, at time.Time) error {
	err := db.writeTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO payment_events (provider, id, received_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, provider, id, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("record payment event %s: %w", id, err)
	}
	return nil
}

// DeletePaymentEventsBefore forgets the webhook events received before t
// and returns how many.
func (db *DB) DeletePaymentEventsBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := db.writeTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM payment_events WHERE received_at < $1`, t)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete payment events: %w", err)
	}
	return int(n), nil
}
