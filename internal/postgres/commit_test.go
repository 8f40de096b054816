package postgres

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// insertProduct adds a product with the given stock straight into the
// table (the commit tests need no catalogue).
func insertProduct(t *testing.T, db *DB, id string, stock int) {
	t.Helper()
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	_, err := db.pool.Exec(t.Context(), `INSERT INTO products (id, sku, slug, brand, category, name_en, name_ar, stock, created_at, updated_at)
		VALUES ($1, $1, $1, 'Cosrx', 'skincare', 'Hot product', 'منتج', $2, $3, $3)`, id, stock, at)
	if err != nil {
		t.Fatal(err)
	}
}

// testOrder is a one-line order of quantity units of product.
func testOrder(t *testing.T, n int, product string, quantity int) (souq.Order, souq.OutboxEvent) {
	t.Helper()
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Microsecond)
	o := souq.Order{ID: souq.ID(fmt.Sprintf("ord_%05d", n)), Status: souq.StatusPlaced, Market: souq.AE, Currency: souq.AED,
		Lines: []souq.OrderLine{{ProductID: souq.ID(product), SKU: product, Quantity: quantity, UnitPrice: 1000,
			LineTotal: 1000 * int64(quantity), VAT: 48 * int64(quantity), VATBasisPoints: 500}},
		Total: 1000 * int64(quantity), VAT: 48 * int64(quantity),
		Customer:        souq.Customer{Name: "Fatima", Phone: "+971501234567"},
		ShippingAddress: souq.Address{Line1: "Villa 1", Area: "Al Barsha", City: "Dubai", Country: souq.AE},
		Payment:         souq.Payment{Method: souq.PayCashOnDelivery}, CreatedAt: at, UpdatedAt: at}
	ev, err := souq.NewOrderEvent(souq.EventOrderCompleted, o, at)
	if err != nil {
		t.Fatal(err)
	}
	return o, ev
}

// TestHotProductAcrossReplicas: 600 buyers of one unit of a product with
// 200 in stock, spread over three DB handles on one database (three
// replicas), each with a key: exactly 200 orders commit, each with its
// event and its key done, the stock ends at 0, and the orders were
// written in fewer transactions than orders.
func TestHotProductAcrossReplicas(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	var replicas []*DB
	for range 3 {
		replicas = append(replicas, openTest(t, url, Options{MaxConns: 8}))
	}
	insertProduct(t, replicas[0], "prd_hot", 200)
	const buyers = 600
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		placed   int
		refused  int
		problems []error
	)
	for i := range buyers {
		wg.Go(func() {
			db := replicas[i%len(replicas)]
			o, ev := testOrder(t, i, "prd_hot", 1)
			key := fmt.Sprintf("key-%d", i)
			claimed := o.CreatedAt
			if _, err := db.ClaimKey(t.Context(), key, "hash", fmt.Sprintf("replica-%d", i%3), claimed, claimed.Add(-time.Minute)); err != nil {
				mu.Lock()
				problems = append(problems, err)
				mu.Unlock()
				return
			}
			err := db.CreateOrder(t.Context(), o, ev, &checkout.KeyResult{Key: key, ClaimedAt: claimed, Status: 201, Body: []byte(`{}`)})
			var oos *souq.OutOfStockError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				placed++
			case errors.As(err, &oos) && oos.Available == 0:
				refused++
			default:
				problems = append(problems, err)
			}
		})
	}
	wg.Wait()
	for _, err := range problems {
		t.Errorf("unexpected error: %v", err)
	}
	if placed != 200 || refused != buyers-200 {
		t.Errorf("got %d placed and %d refused, want 200 and %d", placed, refused, buyers-200)
	}
	db := replicas[0]
	var stock, orders, events, done int
	err := db.pool.QueryRow(t.Context(), `SELECT (SELECT stock FROM products WHERE id = 'prd_hot'),
		(SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM outbox),
		(SELECT COUNT(*) FROM idempotency_keys WHERE NOT in_flight)`).Scan(&stock, &orders, &events, &done)
	if err != nil {
		t.Fatal(err)
	}
	if stock != 0 || orders != 200 || events != 200 || done != 200 {
		t.Errorf("database: stock %d, %d orders, %d events, %d keys done; want 0, 200, 200, 200", stock, orders, events, done)
	}
	var batches int64
	for _, r := range replicas {
		batches += r.batch.batches.Load()
	}
	t.Logf("%d buyers over %d replicas: %d batch transactions", buyers, len(replicas), batches)
	if batches >= buyers {
		t.Errorf("got %d batch transactions for %d orders, want fewer (orders group-committed)", batches, buyers)
	}
}

// TestBatchRefusesOnlyItsFailures: in one batch, orders that cannot be
// filled or whose key is no longer held are refused and the others
// commit; an order refused for stock takes nothing from the orders after
// it.
func TestBatchRefusesOnlyItsFailures(t *testing.T) {
	t.Parallel()
	db := openTest(t, testURL(t), Options{})
	insertProduct(t, db, "prd_a", 5)
	claimed := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	if _, err := db.ClaimKey(t.Context(), "held", "h", "me", claimed, claimed.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	type want struct {
		quantity int
		key      string
		err      error
	}
	cases := []want{
		{3, "", nil},
		{3, "", souq.ErrOutOfStock}, // 2 left
		{2, "gone", souq.ErrConflict},
		{2, "held", nil},
		{1, "", souq.ErrOutOfStock},
	}
	var batch []*orderJob
	for i, c := range cases {
		o, ev := testOrder(t, i, "prd_a", c.quantity)
		j := &orderJob{ctx: t.Context(), order: o, event: ev, err: make(chan error, 1)}
		if c.key != "" {
			j.done = &checkout.KeyResult{Key: c.key, ClaimedAt: claimed, Status: 201, Body: []byte(`{}`)}
		}
		batch = append(batch, j)
	}
	db.commitOrders(batch)
	for i, c := range cases {
		err := <-batch[i].err
		if c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("order %d (%d units, key %q): got %v, want %v", i, c.quantity, c.key, err, c.err)
		}
	}
	var stock, orders int
	if err := db.pool.QueryRow(t.Context(), `SELECT (SELECT stock FROM products), (SELECT COUNT(*) FROM orders)`).Scan(&stock, &orders); err != nil {
		t.Fatal(err)
	}
	if stock != 0 || orders != 2 {
		t.Errorf("got stock %d and %d orders, want 0 and 2", stock, orders)
	}
	if n := db.batch.batches.Load(); n != 1 {
		t.Errorf("got %d transactions, want 1 (no fallback: every refusal was decided on locked rows)", n)
	}
}

// TestBatchFailureFallsBackToOneByOne: an order whose write fails (here
// its outbox event's id is taken, which no lock foresees) fails the batch
// transaction; the batch's orders are then written one by one, so only
// that order fails.
func TestBatchFailureFallsBackToOneByOne(t *testing.T) {
	t.Parallel()
	db := openTest(t, testURL(t), Options{})
	insertProduct(t, db, "prd_a", 10)
	first, ev := testOrder(t, 0, "prd_a", 1)
	if err := db.CreateOrder(t.Context(), first, ev, nil); err != nil {
		t.Fatal(err)
	}
	var batch []*orderJob
	for i := 1; i <= 3; i++ {
		o, e := testOrder(t, i, "prd_a", 1)
		if i == 2 {
			e.ID = ev.ID // taken by the first order's event
		}
		batch = append(batch, &orderJob{ctx: t.Context(), order: o, event: e, err: make(chan error, 1)})
	}
	db.commitOrders(batch)
	for i, j := range batch {
		err := <-j.err
		if bad := i == 1; bad != (err != nil) {
			t.Errorf("order %d: got %v, want an error only for the order whose event id is taken", i+1, err)
		}
	}
	var stock, orders int
	if err := db.pool.QueryRow(t.Context(), `SELECT (SELECT stock FROM products), (SELECT COUNT(*) FROM orders)`).Scan(&stock, &orders); err != nil {
		t.Fatal(err)
	}
	if stock != 7 || orders != 3 {
		t.Errorf("got stock %d and %d orders, want 7 and 3 (the first and the two good ones of the batch)", stock, orders)
	}
	if n := db.pool.Stat().TotalConns(); n == 0 {
		t.Error("no connection left in the pool")
	}
}

// TestClaimBatch: claims made in one statement answer as if made one
// after the other: a key claimed twice in the batch is claimed by the
// first and in flight for the second; a done key replays; a fresh claim
// of another request is refused.
func TestClaimBatch(t *testing.T) {
	t.Parallel()
	db := openTest(t, testURL(t), Options{})
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	if st, err := db.ClaimKey(t.Context(), "held", "h-held", "other", at, at.Add(-time.Minute)); err != nil || st.Exists {
		t.Fatalf("claim: %+v, %v", st, err)
	}
	job := func(key, hash string) *claimJob {
		return &claimJob{key: key, hash: hash, owner: "me", now: at.Add(time.Second), staleBefore: at.Add(-time.Minute), res: make(chan claimResult, 1)}
	}
	batch := []*claimJob{job("k1", "a"), job("k1", "b"), job("held", "c"), job("k2", "d")}
	db.claimBatch(batch)
	want := []checkout.KeyState{
		{},
		{Exists: true, Hash: "a", InFlight: true},
		{Exists: true, Hash: "h-held", InFlight: true},
		{},
	}
	for i, j := range batch {
		r := <-j.res
		if r.err != nil || r.st.Exists != want[i].Exists || r.st.Hash != want[i].Hash || r.st.InFlight != want[i].InFlight {
			t.Errorf("claim %d (%s): got %+v, want %+v", i, j.key, r, want[i])
		}
	}
}

// TestLoneOrderFailure: a batch of one order whose write fails reports
// that order's error (and the committer goes on).
func TestLoneOrderFailure(t *testing.T) {
	t.Parallel()
	db := openTest(t, testURL(t), Options{})
	insertProduct(t, db, "prd_a", 10)
	first, ev := testOrder(t, 0, "prd_a", 1)
	if err := db.CreateOrder(t.Context(), first, ev, nil); err != nil {
		t.Fatal(err)
	}
	lone, _ := testOrder(t, 1, "prd_a", 1)
	if err := db.CreateOrder(t.Context(), lone, ev, nil); err == nil { // ev's id is taken
		t.Error("an order whose event id is taken: got nil error")
	}
	next, nev := testOrder(t, 2, "prd_a", 1)
	if err := db.CreateOrder(t.Context(), next, nev, nil); err != nil {
		t.Errorf("the order after: %v", err)
	}
}
