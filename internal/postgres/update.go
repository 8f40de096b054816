package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// Order updates: many per transaction
//
// A card order is written twice: placed (pending payment), then paid when
// the provider confirms it. In a sale the second write comes as often as
// the first, so updates are batched like orders (commit.go): UpdateOrder
// hands its change to the updater goroutine and waits; the updater takes
// every update waiting (up to maxBatch) and, in one transaction of two
// round trips, locks the orders' rows in id order and reads them with
// their lines, applies each change in Go in arrival order (a second
// change of one order sees the first's result), then writes the changed
// orders, the stock given back (products in id order, as order batches
// lock them) and the events, and commits. A change that fails is left out;
// if the transaction fails, each update is tried alone, so a change may be
// called more than once: it must only compute.

// updateJob is one order update waiting for the updater.
type updateJob struct {
	ctx    context.Context
	id     souq.ID
	at     time.Time
	change func(*souq.Order) (checkout.OrderUpdate, error)
	order  souq.Order // the order as updated, once err says nil
	err    chan error
}

// UpdateOrder locks order id's row, calls change with it, and unless
// change fails writes in the same transaction the order's status, payment
// and timestamps as change left them, updated_at set to at, its lines'
// stock restored when the update says so, and the update's events; an
// update that says the order is unchanged writes nothing and returns the
// order as read. An error from change is returned and nothing of it is
// written; ErrNotFound if there is no such order. Updates are batched (above): change may be
// called more than once and must have no other effect than its result.
func (db *DB) UpdateOrder(ctx context.Context, id souq.ID, at time.Time,
	change func(*souq.Order) (checkout.OrderUpdate, error)) (souq.Order, error) {
	job := &updateJob{ctx: ctx, id: id, at: at, change: change, err: make(chan error, 1)}
	select {
	case db.batch.updates <- job:
	case <-db.batch.closing:
		return souq.Order{}, errClosed
	case <-ctx.Done():
		return souq.Order{}, ctx.Err()
	}
	// Once taken, the outcome is waited for even if ctx ends: the update
	// may already be committed, and the caller must know.
	if err := <-job.err; err != nil {
		return souq.Order{}, err
	}
	return job.order, nil
}

// updateLoop is the updater goroutine: it writes each gathered batch of
// updates, until Close.
func (db *DB) updateLoop() {
	for {
		batch, ok := gather(db.batch.updates, db.batch.closing)
		if !ok {
			return
		}
		db.commitUpdates(batch)
	}
}

// commitUpdates writes batch and reports each update's outcome.
func (db *DB) commitUpdates(batch []*updateJob) {
	commitJobs(db, batch, db.writeUpdates)
}

func (j *updateJob) context() context.Context { return j.ctx }
func (j *updateJob) report(err error)         { j.err <- err }
func (j *updateJob) what() string             { return "update order " + string(j.id) }

// The statements of an update batch.
const (
	sqlLockOrders = `SELECT ` + orderColumns + ` FROM orders WHERE id = ANY($1) ORDER BY id FOR UPDATE`
	sqlOrderLines = `SELECT order_id, product_id, sku, name_en, name_ar, brand, category,
		quantity, unit_price, on_sale, line_total, vat, vat_basis_points
		FROM order_lines WHERE order_id = ANY($1) ORDER BY order_id, line_no`
	sqlUpdateOrders = `UPDATE orders o SET status = d.status, updated_at = d.at,
		payment_provider = d.provider, payment_reference = d.reference, payment_status = d.pstatus,
		payment_capture = d.capture, payment_failure = d.failure, payment_refund = d.refund,
		payment_due_at = d.due, refunded_at = d.refunded, completed_at = d.completed, cancelled_at = d.cancelled
		FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[])
			AS d(id, status, at, provider, reference, pstatus, capture, failure, refund, due, refunded, completed, cancelled)
		WHERE o.id = d.id`
	sqlRestock = `UPDATE products p SET stock = p.stock + d.n, updated_at = GREATEST(p.updated_at, d.at)
		FROM unnest($1::text[], $2::int[], $3::timestamptz[]) AS d(id, n, at) WHERE p.id = d.id`
)

// writeUpdates applies the batch in one transaction of two round trips
// (lock and read; write and commit). It returns each update's own outcome
// (nil, or its change's error), valid only when the returned error, the
// transaction's, is nil.
func (db *DB) writeUpdates(ctx context.Context, batch []*updateJob) ([]error, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, unavailable(fmt.Errorf("update orders: %w", err))
	}
	defer conn.Release()

	ids := make([]string, 0, len(batch))
	for _, j := range batch {
		ids = append(ids, string(j.id))
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	orders := make(map[souq.ID]*souq.Order, len(ids))
	read := &pgx.Batch{}
	read.Queue(`BEGIN`)
	read.Queue(sqlLockOrders, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			o, err := scanOrder(rows)
			if err != nil {
				return err
			}
			orders[o.ID] = &o
		}
		return rows.Err()
	})
	read.Queue(sqlOrderLines, ids).Query(func(rows pgx.Rows) error {
		var (
			orderID souq.ID
			l       souq.OrderLine
		)
		_, err := pgx.ForEachRow(rows, []any{&orderID, &l.ProductID, &l.SKU, &l.Name.EN, &l.Name.AR, &l.Brand, &l.Category,
			&l.Quantity, &l.UnitPrice, &l.OnSale, &l.LineTotal, &l.VAT, &l.VATBasisPoints}, func() error {
			if o := orders[orderID]; o != nil {
				o.Lines = append(o.Lines, l)
			}
			return nil
		})
		return err
	})
	if err := conn.SendBatch(ctx, read).Close(); err != nil {
		rollback(ctx, conn)
		return nil, unavailable(fmt.Errorf("update orders: lock rows: %w", err))
	}

	errs := make([]error, len(batch))
	changed := map[souq.ID]bool{}
	restock := map[souq.ID]int{}
	restockAt := map[souq.ID]time.Time{}
	var events []souq.OutboxEvent
	for i, j := range batch {
		cur := orders[j.id]
		if cur == nil {
			errs[i] = fmt.Errorf("order %s: %w", j.id, souq.ErrNotFound)
			continue
		}
		o := *cur
		o.Lines = slices.Clone(cur.Lines)
		up, err := j.change(&o)
		if err != nil {
			errs[i] = err
			continue
		}
		if up.Unchanged {
			j.order = *cur
			continue
		}
		o.UpdatedAt = j.at.UTC().Truncate(time.Microsecond)
		*cur, changed[j.id], j.order = o, true, o
		if up.Restock {
			for _, l := range o.Lines {
				restock[l.ProductID] += l.Quantity
				if j.at.After(restockAt[l.ProductID]) {
					restockAt[l.ProductID] = j.at
				}
			}
		}
		events = append(events, up.Events...)
	}
	write := &pgx.Batch{}
	if len(changed) > 0 {
		write.Queue(sqlUpdateOrders, updateArgs(orders, changed)...)
	}
	if len(restock) > 0 {
		products := make([]string, 0, len(restock))
		for id := range restock {
			products = append(products, string(id))
		}
		slices.SortFunc(products, strings.Compare) // products in id order, as order batches lock them
		n, at := make([]int32, len(products)), make([]time.Time, len(products))
		for i, id := range products {
			n[i], at[i] = int32(restock[souq.ID(id)]), restockAt[souq.ID(id)]
		}
		write.Queue(sqlRestock, products, n, at)
	}
	if len(events) > 0 {
		write.Queue(sqlInsertOutbox, outboxArgs(events)...)
	}
	write.Queue(`COMMIT`)
	if err := conn.SendBatch(ctx, write).Close(); err != nil {
		rollback(ctx, conn)
		return nil, unavailable(fmt.Errorf("update %d orders: %w", len(changed), err))
	}
	return errs, nil
}

// updateArgs are sqlUpdateOrders' arguments for the changed orders, a
// column per array.
func updateArgs(orders map[souq.ID]*souq.Order, changed map[souq.ID]bool) []any {
	var (
		id, status, provider, reference, pstatus, capture, failure, refund []string
		at                                                                 []time.Time
		due, refunded, completed, cancelled                                []*time.Time
	)
	for oid := range changed {
		o := orders[oid]
		p := o.Payment
		id, status, at = append(id, string(o.ID)), append(status, string(o.Status)), append(at, o.UpdatedAt)
		provider, reference, pstatus = append(provider, p.Provider), append(reference, p.Reference), append(pstatus, string(p.Status))
		capture, failure, refund = append(capture, p.Capture), append(failure, p.Failure), append(refund, p.RefundReference)
		due, refunded = append(due, p.DueAt), append(refunded, p.RefundedAt)
		completed, cancelled = append(completed, o.CompletedAt), append(cancelled, o.CancelledAt)
	}
	return []any{id, status, at, provider, reference, pstatus, capture, failure, refund, due, refunded, completed, cancelled}
}
