package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// maxBatch bounds how many writes one group commit holds.
const maxBatch = 128

// errClosed is returned to writes sent after Close.
var errClosed = errors.New("sqlite: database is closed")

// writeJob is one small write waiting for the committer: an order, or the
// claim or release of an idempotency key.
type writeJob struct {
	ctx   context.Context
	write func(ctx context.Context, tx execer) error
	err   chan error // receives the outcome once the batch has committed
	// single marks a write of at most one changing statement, which
	// needs no savepoint: a statement that fails changes nothing.
	single bool
}

// CreateOrder commits, in one write transaction: for every line a
// conditional stock decrement, the order and its lines, the outbox event,
// the removal of the cart's items when o.CartID is set, and the completion
// of the idempotency key when done is not nil. When a line cannot be filled
// nothing of this order is written and the error is a *souq.OutOfStockError
// naming the first such product (Available 0 for an unknown product). When
// done names a key that is no longer in flight nothing is written and the
// error is an ErrConflict.
//
// Orders placed concurrently are group-committed: the committer goroutine
// writes every waiting order in one transaction, each inside its own
// savepoint, so one order's failure rolls back only that order, and the
// transaction's single commit (one WAL sync in synchronous=full) serves them
// all. CreateOrder returns only after the commit, so a nil error means the
// order is durable to the configured synchronous mode.
func (db *DB) CreateOrder(ctx context.Context, o souq.Order, event souq.OutboxEvent, done *checkout.KeyResult) error {
	err := db.groupWrite(ctx, false, func(ctx context.Context, tx execer) error {
		return db.createOrderTx(ctx, tx, o, event, done)
	})
	if err == nil && done != nil {
		db.claims.drop(done.Key, done.ClaimedAt) // done now: its row answers from here on
	}
	return err
}

// groupWrite has the committer run write in its next group commit, inside
// a savepoint of its own (a failing write rolls back only itself) unless
// single says it makes at most one change, and returns write's error once
// that transaction has committed; a nil error means the write is durable to
// the configured synchronous mode.
func (db *DB) groupWrite(ctx context.Context, single bool, write func(ctx context.Context, tx execer) error) error {
	job := &writeJob{ctx: ctx, write: write, err: make(chan error, 1), single: single}
	db.pending.Add(1)
	defer db.pending.Add(-1)
	select {
	case db.jobs <- job:
	case <-db.closing:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the job's outcome is waited for even if ctx ends: the
	// write may already be committed, and the caller must know.
	return <-job.err
}

// commit is the committer goroutine. It starts in Open and returns when
// Close closes db.closing; db.committed is closed when it has returned. jobs
// is unbuffered, so a job is either taken here or its sender sees closing.
func (db *DB) commit() {
	defer close(db.committed)
	for {
		var first *writeJob
		select {
		case first = <-db.jobs:
		case <-db.closing:
			return
		}
		batch := []*writeJob{first}
	fill:
		for len(batch) < maxBatch {
			select {
			case j := <-db.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		db.commitBatch(batch)
	}
}

// commitBatch writes the batch in one transaction and reports each job's
// outcome.
func (db *DB) commitBatch(batch []*writeJob) {
	ctx := context.Background() // the batch outlives any one request
	errs := make([]error, len(batch))
	err := db.writeTx(ctx, func(sqlTx *sql.Tx) error {
		tx := preparedTx{Tx: sqlTx, db: db}
		for i, j := range batch {
			if err := j.ctx.Err(); err != nil {
				errs[i] = err
				continue
			}
			if j.single {
				errs[i] = j.write(ctx, tx)
				continue
			}
			if _, err := tx.ExecContext(ctx, sqlSavepoint); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			if errs[i] = j.write(ctx, tx); errs[i] != nil {
				if _, err := tx.ExecContext(ctx, sqlRollbackToSavepoint); err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
			}
			if _, err := tx.ExecContext(ctx, sqlReleaseSavepoint); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		return nil
	})
	db.commits.Add(1)
	for i, j := range batch {
		if err != nil && errs[i] == nil {
			errs[i] = fmt.Errorf("group commit: %w", err)
		}
		j.err <- errs[i]
	}
}

// The statements of the order path, prepared once at Open on the writer
// connection.
const (
	sqlUpdateOrder = `UPDATE orders SET status = ?, updated_at = ?,
		payment_provider = ?, payment_reference = ?, payment_status = ?, payment_capture = ?,
		payment_failure = ?, payment_refund = ?, payment_due_at = ?, refunded_at = ?,
		completed_at = ?, cancelled_at = ? WHERE id = ?`
	sqlRestock     = `UPDATE products SET stock = stock + ?, updated_at = ? WHERE id = ?`
	sqlEmptyCart   = `DELETE FROM cart_items WHERE cart_id = ?`
	sqlTakeStock   = `UPDATE products SET stock = stock - ?, updated_at = ? WHERE id = ? AND stock >= ?`
	sqlInsertOrder = `INSERT INTO orders (id, status, market, currency, total, vat,
		customer_name, customer_email, customer_phone,
		ship_line1, ship_line2, ship_area, ship_city, ship_country,
		payment_method, payment_provider, payment_reference,
		cart_id, access_token_hash, created_at, updated_at,
		payment_status, payment_capture, payment_failure, payment_due_at, completed_at, number, language,
		delivery_fee, cod_fee, visitor_anonymous_id, visitor_user_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (number) DO NOTHING`
	sqlInsertOrderLine = `INSERT INTO order_lines (order_id, line_no, product_id, sku, name_en, name_ar,
			brand, category, quantity, unit_price, on_sale, line_total, vat, vat_basis_points)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertOutbox        = `INSERT INTO outbox (id, name, payload, created_at) VALUES (?, ?, ?, ?)`
	sqlSavepoint           = `SAVEPOINT create_order`
	sqlRollbackToSavepoint = `ROLLBACK TO create_order`
	sqlReleaseSavepoint    = `RELEASE create_order`
)

// hotStatements lists them, the completion of idempotency keys and the
// creation of products, for preparing.
var hotStatements = []string{sqlUpdateOrder, sqlRestock, sqlSelectOrder, sqlEmptyCart, sqlTakeStock, sqlInsertOrder, sqlInsertOrderLine, sqlInsertOutbox,
	sqlCompleteKey, sqlSavepoint, sqlRollbackToSavepoint, sqlReleaseSavepoint,
	sqlProductClash, sqlInsertProduct, sqlInsertPrice}

// execer is what the order-writing functions need from a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// preparedTx runs ExecContext, QueryContext and QueryRowContext through statements
// prepared once on the writer connection, so the group committer does not
// parse the same SQL for every order.
type preparedTx struct {
	*sql.Tx
	db *DB
}

// ExecContext executes query as a prepared statement inside the transaction.
func (t preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := t.db.stmts[query]; ok {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs query as a prepared statement inside the transaction.
func (t preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := t.db.stmts[query]; ok {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs query as a prepared statement inside the transaction.
func (t preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := t.db.stmts[query]; ok {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// prepareHot prepares hotStatements on the writer pool. It runs in Open
// before any transaction holds the pool's single connection; a statement
// prepared on the pool is then reused by transactions on that connection.
func (db *DB) prepareHot(ctx context.Context) error {
	for _, q := range hotStatements {
		st, err := db.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		db.stmts[q] = st
	}
	return nil
}
