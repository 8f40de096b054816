package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Audit is the correctness check after a run, through the shop's admin
// API: every order the shop answered 201 for exists, once; no Idempotency-
// Key got two orders; no product's stock is below zero; and no product
// sold more units in the run than it had at the start. It assumes the
// run's orders are the only ones placed meanwhile.
type Audit struct {
	Skipped string `json:"skipped,omitempty"` // why it did not run

	OrdersAnswered int `json:"orders_answered"` // distinct orders in 201 answers
	OrdersFound    int `json:"orders_found"`    // orders the shop lists as created during the run
	// Missing are orders answered 201 that the shop does not list; Extra
	// orders it lists that no answer named.
	Missing       []string `json:"missing,omitempty"`
	Extra         []string `json:"extra,omitempty"`
	DuplicateKeys []string `json:"duplicate_keys,omitempty"` // keys answered with two orders
	NegativeStock []string `json:"negative_stock,omitempty"`
	Oversold      []string `json:"oversold,omitempty"` // product: units ordered > stock at the start
	ProductsHeld  int      `json:"products_checked"`
	UnitsOrdered  int      `json:"units_ordered"`
	Passed        bool     `json:"passed"`
}

// orderLog remembers the orders named in 201 answers, by Idempotency-Key.
type orderLog struct {
	mu    sync.Mutex
	byKey map[string][]string
	ids   map[string]bool
}

func newOrderLog() *orderLog {
	return &orderLog{byKey: map[string][]string{}, ids: map[string]bool{}}
}

// capture reads a 201 checkout answer's order id and gives the body back.
func (l *orderLog) capture(key string, resp *http.Response) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var o struct {
		ID string `json:"id"`
	}
	if err != nil || json.Unmarshal(b, &o) != nil || o.ID == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids[o.ID] = true
	if key != "" && !slices.Contains(l.byKey[key], o.ID) {
		l.byKey[key] = append(l.byKey[key], o.ID)
	}
}

// admin calls the shop's API for the audit.
type admin struct {
	base, token string
	client      *http.Client
}

func (a admin) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return err
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %s", path, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v)
}

// maxStockPages bounds the listing pages read for the stock snapshot.
const maxStockPages = 500

// stock returns every product's stock, from the public listing of the
// AE market.
func (a admin) stock(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for page := 1; page <= maxStockPages; page++ {
		var p struct {
			Items []struct {
				ID    string `json:"id"`
				Stock int    `json:"stock"`
			} `json:"items"`
			Total int `json:"total"`
		}
		if err := a.get(ctx, fmt.Sprintf("/api/v1/products?market=AE&page_size=100&page=%d", page), &p); err != nil {
			return nil, err
		}
		for _, it := range p.Items {
			out[it.ID] = it.Stock
		}
		if len(p.Items) == 0 || len(out) >= p.Total {
			return out, nil
		}
	}
	return nil, fmt.Errorf("the catalogue has more than %d products: stock not checked", maxStockPages*100)
}

// adminOrder is what the audit reads of an order.
type adminOrder struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	Lines     []struct {
		ProductID string `json:"product_id"`
		Quantity  int    `json:"quantity"`
	} `json:"lines"`
}

// ordersSince lists the orders created at or after t, newest first.
func (a admin) ordersSince(ctx context.Context, t time.Time) ([]adminOrder, error) {
	var out []adminOrder
	for page := 1; ; page++ {
		var p struct {
			Items []adminOrder `json:"items"`
		}
		if err := a.get(ctx, fmt.Sprintf("/api/v1/admin/orders?page=%d&page_size=100", page), &p); err != nil {
			return nil, err
		}
		for _, o := range p.Items {
			if o.CreatedAt.Before(t) {
				return out, nil
			}
			out = append(out, o)
		}
		if len(p.Items) < 100 {
			return out, nil
		}
	}
}

// audit checks the run against the shop: before is the stock at the start
// (nil when it could not be read), start the run's start by the shop's
// clock, as near as the generator can tell.
func audit(ctx context.Context, a admin, log *orderLog, before map[string]int, start time.Time) *Audit {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out := &Audit{}
	orders, err := a.ordersSince(ctx, start)
	if err != nil {
		out.Skipped = "orders not read: " + err.Error()
		return out
	}
	log.mu.Lock()
	answered := make(map[string]bool, len(log.ids))
	for id := range log.ids {
		answered[id] = true
	}
	for key, ids := range log.byKey {
		if len(ids) > 1 {
			out.DuplicateKeys = append(out.DuplicateKeys, fmt.Sprintf("%s: %v", key, ids))
		}
	}
	log.mu.Unlock()
	out.OrdersAnswered, out.OrdersFound = len(answered), len(orders)
	found := map[string]bool{}
	ordered := map[string]int{}
	for _, o := range orders {
		found[o.ID] = true
		if !answered[o.ID] {
			out.Extra = append(out.Extra, o.ID)
		}
		if o.Status != "cancelled" {
			for _, l := range o.Lines {
				ordered[l.ProductID] += l.Quantity
				out.UnitsOrdered += l.Quantity
			}
		}
	}
	for id := range answered {
		if !found[id] {
			out.Missing = append(out.Missing, id)
		}
	}
	after, err := a.stock(ctx)
	switch {
	case err != nil:
		out.Skipped = "stock not read: " + err.Error()
	case before == nil:
		out.Skipped = "stock at the start not read: units sold not checked"
	}
	for id, n := range after {
		if n < 0 {
			out.NegativeStock = append(out.NegativeStock, fmt.Sprintf("%s: %d", id, n))
		}
	}
	for id, n := range ordered {
		if had, ok := before[id]; ok && n > had {
			out.Oversold = append(out.Oversold, fmt.Sprintf("%s: %d ordered, %d in stock at the start", id, n, had))
		}
	}
	out.ProductsHeld = len(after)
	for _, l := range [][]string{out.Missing, out.Extra, out.DuplicateKeys, out.NegativeStock, out.Oversold} {
		slices.Sort(l)
	}
	out.Passed = out.Problems() == 0
	return out
}

// Problems counts the differences found.
func (a *Audit) Problems() int {
	return len(a.Missing) + len(a.Extra) + len(a.DuplicateKeys) + len(a.NegativeStock) + len(a.Oversold)
}

// adminFor returns the audit's client of the shop at base.
func adminFor(base, token string, client *http.Client) admin {
	u, _ := url.Parse(base)
	return admin{base: u.String(), token: token, client: client}
}
