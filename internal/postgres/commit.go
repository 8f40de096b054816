package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// Orders: many per transaction
//
// In a flash sale most buyers want the same few products. Were each order
// its own transaction (a conditional UPDATE … SET stock = stock - q WHERE
// stock >= q, then the order's rows, then COMMIT), every buyer of a
// product would queue on that product's row lock for a whole commit, a
// disk flush included: a few hundred orders a second at best, falling as
// buyers pile up (docs/storage.md has the figures).
//
// So each process batches the orders it has in hand. CreateOrder hands its
// order to a committer goroutine and waits; a committer takes every order
// waiting (up to maxBatch) and writes them in one transaction:
//
//  1. In one round trip, it begins the transaction, locks the
//     idempotency keys the batch completes, in key order, and the rows of
//     every product the batch buys, in id order (SELECT … ORDER BY … FOR
//     UPDATE), reading their stock.
//  2. It refuses the orders whose key is no longer held by their claim
//     (checkout.ErrKeyNotHeld).
//  3. In Go, it gives each order its units in arrival order while they
//     last: an order one of whose lines cannot be filled is refused whole
//     (*souq.OutOfStockError, Available being what the orders before it
//     left), and takes nothing.
//  4. In a second round trip it writes one stock decrement per product,
//     by the total of the orders accepted; their orders, lines and outbox
//     events (multi-row inserts); their carts emptied; their keys done;
//     and commits: one disk flush for the whole batch. Only then does each
//     CreateOrder return, so a nil error means the order is durable.
//
// The product rows are locked once per batch instead of once per order,
// for about one round trip and the commit. Several processes (replicas) each run
// their batches; their transactions take the locks in the same order
// (keys by key, then products by id), so they queue on a hot row but
// never deadlock, and the CHECK (stock >= 0) constraint stands behind the
// arithmetic. Because the decisions of steps 2–3 are made on locked rows,
// the writes of step 4 cannot fail for one order's reasons; if the batch
// transaction fails anyway (a lost connection, a timeout), each of its
// orders is tried again alone, so that one order cannot fail others, and
// an order that fails alone reports its own error.
//
// A commit whose outcome is unknown (the connection lost during COMMIT)
// is reported as an error although the orders may have committed; a
// client retrying with its Idempotency-Key gets the stored response
// instead of a second order.

// Batching limits and the committers each DB runs. One committer per
// process: replicas' batches contend for a hot product's row lock, and
// more transactions per process would only make each batch smaller and
// the queue for the lock longer (3 replicas on one hot row: 907 orders/s
// with two committers each, 1,154 with one; bench/checkout).
const (
	maxBatch   = 256
	committers = 1
)

// errClosed is returned to orders placed after Close.
var errClosed = errors.New("postgres: database is closed")

// orderJob is one order waiting for a committer.
type orderJob struct {
	ctx   context.Context
	order souq.Order
	event souq.OutboxEvent
	done  *checkout.KeyResult
	err   chan error // receives the outcome once the batch has committed or failed
}

// batcher is the order and claim queues and their goroutines.
type batcher struct {
	jobs      chan *orderJob  // unbuffered: a job is taken by a committer or refused
	claims    chan *claimJob  // unbuffered: idempotency claims for the claimer (idempotency.go)
	updates   chan *updateJob // unbuffered: order updates for the updater (update.go)
	closing   chan struct{}   // closed by Close
	stopped   sync.WaitGroup  // committers running
	closeOnce sync.Once

	batches atomic.Int64 // batch transactions tried (the tests read it)
}

// startCommitters starts the committer goroutines, the claimer and the
// updater;
// stopCommitters (in Close) stops them after the batches they hold are
// written.
func (db *DB) startCommitters() {
	db.batch.jobs, db.batch.claims, db.batch.closing = make(chan *orderJob), make(chan *claimJob), make(chan struct{})
	db.batch.updates = make(chan *updateJob)
	for range committers {
		db.batch.stopped.Go(db.commitLoop)
	}
	db.batch.stopped.Go(db.claimLoop)
	db.batch.stopped.Go(db.updateLoop)
}

// stopCommitters stops the committers, the claimer and the updater and
// waits for them.
func (db *DB) stopCommitters() {
	db.batch.closeOnce.Do(func() { close(db.batch.closing) })
	db.batch.stopped.Wait()
}

// CreateOrder commits, in one transaction with other orders placed at the
// same time (see above): for every line a stock decrement if enough is
// left, the order and its lines, the outbox event, the removal of the
// cart's items when o.CartID is set, and the completion of the idempotency
// key when done is not nil. When a line cannot be filled nothing of this
// order is written and the error is a *souq.OutOfStockError naming the
// first such product (Available 0 for an unknown product). When done names
// a key no longer in flight under its claim nothing is written and the
// error is checkout.ErrKeyNotHeld. A nil error means the order committed.
func (db *DB) CreateOrder(ctx context.Context, o souq.Order, event souq.OutboxEvent, done *checkout.KeyResult) error {
	job := &orderJob{ctx: ctx, order: o, event: event, done: done, err: make(chan error, 1)}
	select {
	case db.batch.jobs <- job:
	case <-db.batch.closing:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the outcome is waited for even if ctx ends: the order
	// may already be committed, and the caller must know.
	return <-job.err
}

// commitLoop is a committer goroutine: it writes each gathered batch of
// orders, until Close.
func (db *DB) commitLoop() {
	for {
		batch, ok := gather(db.batch.jobs, db.batch.closing)
		if !ok {
			return
		}
		db.commitOrders(batch)
	}
}

// gather waits for the first job on jobs, then takes every other job
// already waiting, up to maxBatch. ok is false once closing is closed.
func gather[J any](jobs <-chan J, closing <-chan struct{}) (batch []J, ok bool) {
	select {
	case first := <-jobs:
		batch = append(batch, first)
	case <-closing:
		return nil, false
	}
	for len(batch) < maxBatch {
		select {
		case j := <-jobs:
			batch = append(batch, j)
		default:
			return batch, true
		}
	}
	return batch, true
}

// commitOrders writes batch and reports each order's outcome.
func (db *DB) commitOrders(batch []*orderJob) {
	commitJobs(db, batch, db.writeBatch)
}

// job is a write waiting in a batch: an order (orderJob) or an update
// (updateJob).
type job interface {
	context() context.Context
	report(error)
	what() string // for errors: "create order …", "update order …"
}

func (j *orderJob) context() context.Context { return j.ctx }
func (j *orderJob) report(err error)         { j.err <- err }
func (j *orderJob) what() string             { return "create order " + string(j.order.ID) }

// commitJobs writes a batch with write and reports each job's outcome.
// Jobs whose request has ended are refused before anything is written.
// When the batch transaction fails, each job is written alone, so that one
// job cannot fail the others and a job that fails alone reports its own
// error.
func commitJobs[J job](db *DB, batch []J, write func(context.Context, []J) ([]error, error)) {
	live := batch[:0:0]
	for _, j := range batch {
		if err := j.context().Err(); err != nil {
			j.report(err)
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	ctx := context.Background() // the batch outlives any one request; statements are bounded by statement_timeout
	errs, err := write(ctx, live)
	if err != nil && len(live) > 1 {
		db.log.Warn("batch failed; writing its jobs one by one", "jobs", len(live), "first", live[0].what(), "err", err)
		for _, j := range live {
			one, err := write(ctx, []J{j})
			if err == nil {
				err = one[0]
			}
			j.report(err)
		}
		return
	}
	for i, j := range live {
		if err != nil { // a batch of one, whose transaction failed
			j.report(fmt.Errorf("%s: %w", j.what(), err))
			continue
		}
		j.report(errs[i])
	}
}

// The statements that lock a batch's rows: its idempotency keys in flight
// and its products, each in a fixed order.
const (
	sqlLockKeys  = `SELECT key, created_at FROM idempotency_keys WHERE key = ANY($1) AND in_flight ORDER BY key FOR UPDATE`
	sqlLockStock = `SELECT id, sku, stock FROM products WHERE id = ANY($1) ORDER BY id FOR UPDATE`
)

// writeBatch writes the orders in one transaction, in two round trips: the
// first begins it and locks the keys and the products, the second writes
// the accepted orders and commits, so a hot product's row stays locked for
// about one round trip and the commit. It returns each order's own outcome
// (nil, out of stock or key not held), valid only when the returned error,
// the transaction's, is nil.
func (db *DB) writeBatch(ctx context.Context, batch []*orderJob) ([]error, error) {
	db.batch.batches.Add(1)
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, unavailable(fmt.Errorf("write orders: %w", err))
	}
	defer conn.Release()

	var (
		errs  = make([]error, len(batch))
		held  = map[string]time.Time{}
		stock = map[souq.ID]*stockLevel{}
		keys  = batchKeys(batch)
		lock  = &pgx.Batch{}
	)
	lock.Queue(`BEGIN`)
	if len(keys) > 0 {
		lock.Queue(sqlLockKeys, keys).Query(func(rows pgx.Rows) error {
			var (
				key string
				at  time.Time
			)
			_, err := pgx.ForEachRow(rows, []any{&key, &at}, func() error {
				held[key] = at
				return nil
			})
			return err
		})
	}
	lock.Queue(sqlLockStock, batchProducts(batch)).Query(func(rows pgx.Rows) error {
		var (
			id string
			s  stockLevel
		)
		_, err := pgx.ForEachRow(rows, []any{&id, &s.sku, &s.left}, func() error {
			level := s
			stock[souq.ID(id)] = &level
			return nil
		})
		return err
	})
	if err := conn.SendBatch(ctx, lock).Close(); err != nil {
		rollback(ctx, conn)
		return nil, unavailable(fmt.Errorf("write orders: lock rows: %w", err))
	}

	refuseUnheld(batch, held, errs)
	take := allocate(batch, stock, errs)
	var accepted []*orderJob
	for i, j := range batch {
		if errs[i] == nil {
			accepted = append(accepted, j)
		}
	}
	write := &pgx.Batch{}
	if len(accepted) > 0 {
		queueOrders(write, accepted, take)
	}
	write.Queue(`COMMIT`)
	if err := conn.SendBatch(ctx, write).Close(); err != nil {
		rollback(ctx, conn)
		if sqlState(err) == codeUniqueViolation && constraintOf(err) == constraintOrderNumber {
			// commitJobs writes the orders again one by one: only the one
			// whose number was given already fails, with this error.
			return nil, fmt.Errorf("write %d orders: %w: %w", len(accepted), checkout.ErrNumberTaken, err)
		}
		return nil, unavailable(fmt.Errorf("write %d orders: %w", len(accepted), err))
	}
	return errs, nil
}

// rollback ends the transaction a failed batch left open, if any; a
// connection that cannot is closed, so that it does not go back to the
// pool inside a transaction.
func rollback(ctx context.Context, conn *pgxpool.Conn) {
	if _, err := conn.Exec(context.WithoutCancel(ctx), `ROLLBACK`); err != nil {
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
	}
}

// batchProducts returns the ids of the products the batch buys, sorted.
func batchProducts(batch []*orderJob) []string {
	var ids []string
	for _, j := range batch {
		for _, l := range j.order.Lines {
			ids = append(ids, string(l.ProductID))
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// batchKeys returns the idempotency keys the batch completes, sorted.
func batchKeys(batch []*orderJob) []string {
	var keys []string
	for _, j := range batch {
		if j.done != nil {
			keys = append(keys, j.done.Key)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// stockLevel is a locked product's SKU, the units left for the orders of
// the batch not yet given theirs, and the units the batch takes.
type stockLevel struct {
	sku   string
	left  int
	taken int
}

// refuseUnheld sets errs[i] to ErrKeyNotHeld for each order whose key is
// not in flight under its claim: held maps the keys in flight, locked, to
// their claim's time.
func refuseUnheld(batch []*orderJob, held map[string]time.Time, errs []error) {
	seen := make(map[string]bool, len(held))
	for i, j := range batch {
		if j.done == nil {
			continue
		}
		at, ok := held[j.done.Key]
		// The column keeps microseconds (pgx truncates). Two orders of one
		// batch under one key: only the first may complete it.
		if !ok || !at.Equal(j.done.ClaimedAt.Truncate(time.Microsecond)) || seen[j.done.Key] {
			errs[i] = errNotHeld
		}
		seen[j.done.Key] = true
	}
}

// constraintOrderNumber keeps order numbers unique (migration 0007).
const constraintOrderNumber = "orders_number_unique"

// errNotHeld refuses an order completing a key its request no longer holds.
var errNotHeld = fmt.Errorf("idempotency key: %w", checkout.ErrKeyNotHeld)

// allocate gives the orders not yet refused their units in batch order,
// refusing (errs[i]) each order one of whose lines cannot be filled from
// what the orders before it left, and returns the units taken per
// product.
func allocate(batch []*orderJob, stock map[souq.ID]*stockLevel, errs []error) map[souq.ID]int {
	for i, j := range batch {
		if errs[i] != nil {
			continue
		}
		need := make(map[souq.ID]int, len(j.order.Lines))
		for _, l := range j.order.Lines {
			need[l.ProductID] += l.Quantity
			s := stock[l.ProductID]
			if s == nil || s.left < need[l.ProductID] {
				oos := &souq.OutOfStockError{ProductID: l.ProductID, SKU: l.SKU, Requested: l.Quantity}
				if s != nil {
					oos.SKU, oos.Available = s.sku, s.left-(need[l.ProductID]-l.Quantity)
				}
				errs[i] = oos
				break
			}
		}
		if errs[i] != nil {
			continue
		}
		for id, n := range need {
			stock[id].left -= n
			stock[id].taken += n
		}
	}
	take := make(map[souq.ID]int)
	for id, s := range stock {
		if s.taken > 0 {
			take[id] = s.taken
		}
	}
	return take
}
