package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/souq-commerce/souq/bench/internal/load"
)

// naiveSchema is the baseline's database: the tables an order touches,
// cut down from Souq's own, and one hot product whose stock never runs
// out.
const naiveSchema = `
CREATE TABLE products (
    id    text    PRIMARY KEY,
    stock integer NOT NULL CHECK (stock >= 0)
);
CREATE TABLE orders (
    id             text        PRIMARY KEY,
    status         text        NOT NULL,
    market         text        NOT NULL,
    currency       text        NOT NULL,
    total          bigint      NOT NULL,
    customer_email text        NOT NULL,
    created_at     timestamptz NOT NULL
);
CREATE TABLE order_lines (
    order_id   text    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no    integer NOT NULL,
    product_id text    NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity > 0),
    unit_price bigint  NOT NULL,
    line_total bigint  NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE TABLE outbox (
    seq          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           text        NOT NULL UNIQUE,
    name         text        NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL,
    published_at timestamptz
);
CREATE INDEX outbox_pending ON outbox (created_at, seq) WHERE published_at IS NULL;
INSERT INTO products (id, stock) VALUES ('hot', 1000000000);
`

// errNoStock is a decrement that found no stock: it must not happen
// (the stock is 10⁹), and fails the cell if it does.
var errNoStock = errors.New("naive order: no stock left")

// naive measures the baseline on a fresh schema: for each number of
// buyers, that many workers on a pool of as many connections, each order
// one transaction holding the hot row's lock from its UPDATE to its
// commit.
func (b *bench) naive(ctx context.Context) *row {
	r := &row{name: "naive PG (row lock per order), hot", kind: naivePG, hot: true, planned: b.c.buyers}
	schema, err := b.pg.Fresh(ctx)
	if err != nil {
		r.err = b.fail(r.name, err)
		return r
	}
	defer func() {
		if err := b.pg.Drop(ctx, schema); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
	}()
	setup, err := pgx.Connect(ctx, schema.URL)
	if err != nil {
		r.err = b.fail(r.name, err)
		return r
	}
	_, err = setup.Exec(ctx, naiveSchema)
	setup.Close(context.WithoutCancel(ctx))
	if err != nil {
		r.err = b.fail(r.name, fmt.Errorf("create tables: %w", err))
		return r
	}
	fmt.Fprintf(b.out, "%s: schema %s ready\n", r.name, schema.Name)

	// measure runs buyers workers for d on a pool sized to buyers, or to
	// what the server has free, and returns the cell.
	measure := func(buyers int, d time.Duration) cell {
		size, err := b.freeConnections(ctx)
		if err != nil {
			return cell{buyers: buyers, err: err}
		}
		capped := 0
		if size < buyers {
			capped = size
		}
		size = min(size, buyers)
		pool, err := naivePool(ctx, schema.URL, size)
		if err != nil {
			return cell{buyers: buyers, err: err}
		}
		defer pool.Close()
		lat, err := load.ClosedContext(ctx, buyers, d, func(int) error { return naiveOrder(ctx, pool) })
		c := closedCell(buyers, d, lat, err)
		c.pool = capped
		return c
	}
	if c := measure(b.c.ref, b.c.warmup); c.err != nil {
		r.err = b.fail(r.name+", warm-up", c.err)
		return r
	}
	for _, buyers := range b.c.buyers {
		if ctx.Err() != nil {
			break
		}
		c := measure(buyers, b.c.duration)
		r.cells = append(r.cells, c)
		b.report(r.name, c)
	}
	return r
}

// freeConnections returns how many connections the baseline may open
// now: the server's max_connections less those reserved for superusers,
// those open (other users' included) and a few to spare.
func (b *bench) freeConnections(ctx context.Context) (int, error) {
	maxConns, err := strconv.Atoi(b.sum.pgMaxConns)
	if err != nil {
		return 0, fmt.Errorf("max_connections %q: %w", b.sum.pgMaxConns, err)
	}
	reserved, err := b.pg.Show(ctx, "superuser_reserved_connections")
	if err != nil {
		return 0, err
	}
	res, _ := strconv.Atoi(reserved)
	// The previous cell's connections may still be closing: wait until
	// the count stops falling.
	open, err := b.pg.Connections(ctx)
	for range 20 {
		if err != nil {
			return 0, err
		}
		time.Sleep(100 * time.Millisecond)
		var now int
		if now, err = b.pg.Connections(ctx); err == nil && now >= open {
			break
		}
		open = now
	}
	if err != nil {
		return 0, err
	}
	const spare = 5
	free := maxConns - res - open - spare
	if free < 1 {
		return 0, fmt.Errorf("no connections free on the server (max_connections %d, %d open)", maxConns, open)
	}
	return free, nil
}

// naivePool opens a pool of size connections to url and opens them all,
// so that no cell pays for connecting.
func naivePool(ctx context.Context, url string, size int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(size)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	conns := make([]*pgxpool.Conn, 0, size)
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	for range size {
		c, err := pool.Acquire(ctx)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("open %d connections: %w", size, err)
		}
		conns = append(conns, c)
	}
	return pool, nil
}

// naiveOrder places one order the plain way: one transaction that takes
// the hot row's lock with a conditional decrement, inserts the order, its
// line and its outbox event, and commits.
func naiveOrder(ctx context.Context, pool *pgxpool.Pool) error {
	id := rand.Text()
	now := time.Now().UTC()
	payload, err := json.Marshal(naiveEvent{
		OrderID: id, Market: "AE", Currency: "AED", Total: 8900, VAT: 424, PlacedAt: now,
		Customer: map[string]string{"name": "Bench Shopper", "email": "bench@example.ae", "phone": "+971501234567"},
		Address:  map[string]string{"line1": "Tower 1", "area": "Business Bay", "city": "Dubai", "country": "AE"},
		Lines:    []naiveLine{{ProductID: "hot", SKU: "BENCH-HOT", Name: "Bench Serum", Quantity: 1, UnitPrice: 8900}},
	})
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE products SET stock = stock - 1 WHERE id = $1 AND stock >= 1`, "hot")
		if err != nil {
			return fmt.Errorf("naive order: decrement: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return errNoStock
		}
		if _, err := tx.Exec(ctx, `INSERT INTO orders (id, status, market, currency, total, customer_email, created_at)
			VALUES ($1, 'placed', 'AE', 'AED', 8900, 'bench@example.ae', $2)`, id, now); err != nil {
			return fmt.Errorf("naive order: insert order: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, line_total)
			VALUES ($1, 1, 'hot', 1, 8900, 8900)`, id); err != nil {
			return fmt.Errorf("naive order: insert line: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO outbox (id, name, payload, created_at) VALUES ($1, 'Order Placed', $2, $3)`,
			id, payload, now); err != nil {
			return fmt.Errorf("naive order: insert outbox: %w", err)
		}
		return nil
	})
}

// naiveEvent is the baseline's outbox payload, about the size of Souq's
// order event.
type naiveEvent struct {
	OrderID  string            `json:"order_id"`
	Market   string            `json:"market"`
	Currency string            `json:"currency"`
	Total    int64             `json:"total"`
	VAT      int64             `json:"vat"`
	Customer map[string]string `json:"customer"`
	Address  map[string]string `json:"shipping_address"`
	Lines    []naiveLine       `json:"lines"`
	PlacedAt time.Time         `json:"placed_at"`
}

type naiveLine struct {
	ProductID string `json:"product_id"`
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}
