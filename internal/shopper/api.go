package shopper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	json "github.com/segmentio/encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// The shop API's answers, as far as a shopper reads them (the full shapes
// are in internal/httpapi/openapi.json).
type (
	moneyJSON struct {
		Amount   int64         `json:"amount"`
		Currency souq.Currency `json:"currency"`
		Exponent int           `json:"exponent"`
	}
	productJSON struct {
		ID       souq.ID        `json:"id"`
		SKU      string         `json:"sku"`
		Slug     string         `json:"slug"`
		Brand    string         `json:"brand"`
		Category string         `json:"category"`
		Name     souq.Localized `json:"name"`
		Price    moneyJSON      `json:"price"`
		OnSale   bool           `json:"on_sale"`
		InStock  bool           `json:"in_stock"`
	}
	productPageJSON struct {
		Items []productJSON `json:"items"`
		Total int           `json:"total"`
	}
	cartLineJSON struct {
		ProductID souq.ID   `json:"product_id"`
		Quantity  int       `json:"quantity"`
		UnitPrice moneyJSON `json:"unit_price"`
	}
	cartJSON struct {
		ID    souq.ID        `json:"id"`
		Lines []cartLineJSON `json:"lines"`
		Total moneyJSON      `json:"total"`
		VAT   moneyJSON      `json:"vat"`
	}
	orderJSON struct {
		ID    souq.ID   `json:"id"`
		Total moneyJSON `json:"total"`
	}
	saleJSON struct {
		Active bool                                  `json:"active"`
		EndsAt time.Time                             `json:"ends_at"`
		Prices map[souq.ID]map[souq.MarketCode]int64 `json:"prices"`
	}
)

// major returns the amount in major units (dirhams, riyals, dinars), the
// form Segment events carry. Dividing two exact integers rounds once, so
// the JSON form is the decimal the shop shows ("89.5", "12.345").
func (m moneyJSON) major() float64 {
	d := 1.0
	for range m.Exponent {
		d *= 10
	}
	return float64(m.Amount) / d
}

// problemOutOfStock is the problem type of a 409 for missing stock.
const problemOutOfStock = "urn:souq:problem:out-of-stock"

// apiError is an answer outside 2xx.
type apiError struct {
	Route  string // the route pattern, e.g. "POST /api/v1/orders" (never a path: cart ids are capabilities)
	Status int
	Type   string // the problem document's type, when there is one
	Detail string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.Route, e.Status, e.Detail)
}

// outOfStock reports whether err is the shop saying there is not enough
// stock: a normal answer during a sale, not a failure.
func outOfStock(err error) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == http.StatusConflict && ae.Type == problemOutOfStock
}

// retryable reports whether a request may be sent again: the connection
// failed or the server answered 5xx (503 when it sheds load).
func retryable(err error) bool {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status >= 500
	}
	return err != nil
}

// maxAnswer bounds what the simulator reads of one answer.
const maxAnswer = 4 << 20

// call sends one request bounded by the request timeout and decodes a 2xx
// JSON answer into out (when out is not nil). route names the request in
// errors and logs. A non-2xx answer is an *apiError.
func (s *Simulator) call(ctx context.Context, route, method, path string, body any, header http.Header, out any) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s: %w", route, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, r)
	if err != nil {
		return fmt.Errorf("%s: %w", route, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", route, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", route, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &apiError{Route: route, Status: resp.StatusCode}
		var p struct {
			Type   string `json:"type"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal(data, &p) == nil {
			e.Type, e.Detail = p.Type, p.Detail
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decode answer: %w", route, err)
	}
	return nil
}

// userAgent marks the simulator's requests in access logs.
const userAgent = "souq-shopper/1 (simulated shopper)"

// saleTTL is how long, by the simulator's clock, it trusts what it last
// learned about the flash sale.
const saleTTL = 15 * time.Second

// saleCache is what the simulator knows about the current flash sale:
// fetched by whichever session finds it stale, shared by all.
type saleCache struct {
	mu         sync.Mutex
	fetched    time.Time // zero: never
	refreshing bool
	ids        map[souq.MarketCode][]souq.ID // the running sale's products by market; nil when none runs
}

// saleProducts returns the products of the running flash sale that are
// sold in market m, or nil when no sale runs. One caller refreshes a stale
// answer while the others use the old one.
func (s *Simulator) saleProducts(ctx context.Context, m souq.MarketCode) []souq.ID {
	c := &s.sale
	c.mu.Lock()
	now := s.now()
	if age := now.Sub(c.fetched); c.refreshing || (!c.fetched.IsZero() && age >= 0 && age < saleTTL) {
		ids := c.ids[m]
		c.mu.Unlock()
		return ids
	}
	c.refreshing = true
	c.mu.Unlock()

	ids, err := s.fetchSale(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshing = false
	if err != nil {
		if ctx.Err() == nil {
			s.failed(err)
		}
		return c.ids[m] // keep the last answer; try again next time
	}
	c.ids, c.fetched = ids, now
	return c.ids[m]
}

// fetchSale asks the shop for the running sale's products by market.
func (s *Simulator) fetchSale(ctx context.Context) (map[souq.MarketCode][]souq.ID, error) {
	var sale saleJSON
	err := s.call(ctx, "GET /api/v1/sales/current", http.MethodGet, "/api/v1/sales/current", nil, nil, &sale)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil, nil // no sale running or scheduled
	}
	if err != nil || !sale.Active {
		return nil, err
	}
	ids := map[souq.MarketCode][]souq.ID{}
	for id, prices := range sale.Prices {
		for m := range prices {
			ids[m] = append(ids[m], id)
		}
	}
	for _, list := range ids { // map order is random: sort so a seed gives the same choices
		slices.Sort(list)
	}
	return ids, nil
}
