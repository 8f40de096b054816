package storefront

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/payment"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
	"github.com/souq-commerce/souq/internal/waitroom"
)

const testWriteKey = "wk_storefront_test"

// fixture is the storefront on an httptest server over a fresh SQLite
// database holding a few products, with a browser-like client (cookie jar,
// redirects not followed so the tests see each 303).
type fixture struct {
	t        testing.TB
	url      string
	catalog  *catalog.Service
	carts    *cart.Service
	checkout *checkout.Service
	room     *waitroom.Room // with fixtureOptions.room
	client   *http.Client
	db       *sqlite.DB
	ids      map[string]souq.ID // slug → product id
	delivery *delivery.Service
}

type fixtureOptions struct {
	writeKey string
	consent  bool
	empty    bool // no test products (for the demo catalogue)
	// provider takes the card payments; nil is payment.TestProvider,
	// unless noCards leaves the shop without one.
	provider checkout.PaymentProvider
	noCards  bool
	// room adds a waiting room (in process) that the test drives with
	// f.room.Tick, admitting one shopper a second.
	room bool
	info *ShopInfo
}

func newFixture(t testing.TB, opts ...fixtureOptions) *fixture {
	t.Helper()
	var o fixtureOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	log := slog.New(slog.DiscardHandler)
	f := &fixture{t: t, db: db, ids: map[string]souq.ID{}}
	f.catalog = catalog.New(db, time.Now, log)
	f.carts = cart.New(db, f.catalog, time.Now, log)
	// The provider sends shoppers back as souq serve configures it.
	pay := checkout.Payments{Provider: o.provider, ReturnURL: func(id souq.ID, lang string) string {
		return f.url + "/" + lang + "/orders/" + string(id) + "/return"
	}}
	switch {
	case o.noCards:
		pay.Provider = nil
	case o.provider == nil:
		pay.Provider = payment.NewTestProvider()
	}
	f.checkout = checkout.New(db, f.catalog, f.carts, pay, time.Now, log)
	f.delivery = delivery.New(db, time.Now) // no settings: free delivery, nothing shown
	f.checkout.SetDelivery(f.delivery)
	products := testProducts()
	if o.empty {
		products = nil
	}
	for _, p := range products {
		created, err := f.catalog.Create(ctx, p)
		if err != nil {
			t.Fatalf("create %s: %v", p.SKU, err)
		}
		f.ids[created.Slug] = created.ID
	}
	if o.room {
		keys, err := waitroom.NewKeys([]byte("a waiting room secret for the storefront tests"))
		if err != nil {
			t.Fatal(err)
		}
		f.room, err = waitroom.New(waitroom.Config{Sales: f.catalog, Stocks: db.Stocks, State: waitroom.NewMemState(), Keys: keys,
			Controller: waitroom.ControllerConfig{Initial: 1, Max: 1}})
		if err != nil {
			t.Fatal(err)
		}
	}
	sf, err := New(Deps{Catalog: f.catalog, Carts: f.carts, Checkout: f.checkout, Room: f.room, WriteKey: o.writeKey, ConsentByDefault: o.consent, Info: o.info, Delivery: f.delivery, Log: log})
	if err != nil {
		t.Fatalf("storefront.New: %v", err)
	}
	mux := http.NewServeMux()
	for _, rt := range sf.Routes() {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.client = f.newClient()
	return f
}

// newClient is a fresh browser: its own cookie jar.
func (f *fixture) newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func price(aed int64) map[souq.MarketCode]int64 {
	return map[souq.MarketCode]int64{souq.AE: aed, souq.SA: aed, souq.QA: aed, souq.KW: aed * 10 / 32, souq.BH: aed * 10 / 98, souq.OM: aed * 10 / 95}
}

func testProducts() []catalog.ProductInput {
	n := func(i int) *int { return &i }
	return []catalog.ProductInput{
		{SKU: "GLW-01", Slug: "glow-serum", Brand: "Glowlab", Category: "skincare",
			Name: souq.Localized{EN: "Glow Serum", AR: "سيروم التوهج"}, Description: souq.Localized{EN: "A light serum.", AR: "سيروم خفيف."},
			Image: "/images/products/glow-serum.svg", Prices: map[souq.MarketCode]int64{souq.AE: 8900, souq.SA: 9100, souq.QA: 8800, souq.KW: 2750, souq.BH: 2300, souq.OM: 2350}, Stock: n(20)},
		{SKU: "SUN-01", Slug: "sun-cream", Brand: "Sunny", Category: "suncare",
			Name: souq.Localized{EN: "Sun Cream SPF50", AR: "كريم واقٍ من الشمس"}, Image: "/images/products/sun-cream.svg", Prices: price(6500), Stock: n(3)},
		{SKU: "MSK-01", Slug: "sold-out-mask", Brand: "Glowlab", Category: "masks",
			Name: souq.Localized{EN: "Sold Out Mask", AR: "قناع نفد"}, Image: "/images/products/sold-out-mask.svg", Prices: price(1200), Stock: n(0)},
		{SKU: "TON-01", Slug: "uae-toner", Brand: "Sunny", Category: "skincare",
			Name: souq.Localized{EN: "UAE Toner", AR: "تونر الإمارات"}, Image: "/images/products/uae-toner.svg",
			Prices: map[souq.MarketCode]int64{souq.AE: 4500}, Stock: n(50)},
	}
}

// get fetches a path and returns the status, body and response.
func (f *fixture) get(c *http.Client, path string, header ...string) (int, string, *http.Response) {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp
}

// post submits a form and returns the status, body and response.
func (f *fixture) post(c *http.Client, path string, form url.Values) (int, string, *http.Response) {
	f.t.Helper()
	resp, err := c.PostForm(f.url+path, form)
	if err != nil {
		f.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token from a rendered page.
func (f *fixture) csrf(body string) string {
	f.t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		f.t.Fatalf("no csrf field in page:\n%s", clip(body))
	}
	return m[1]
}

// addToCart opens a product page and submits its add-to-cart form.
func (f *fixture) addToCart(c *http.Client, lang, slug string, qty string) (int, string, *http.Response) {
	f.t.Helper()
	status, body, _ := f.get(c, "/"+lang+"/p/"+slug)
	if status != 200 {
		f.t.Fatalf("GET product %s: got %d, want 200", slug, status)
	}
	return f.post(c, "/"+lang+"/cart/items", url.Values{"csrf": {f.csrf(body)}, "product_id": {string(f.ids[slug])}, "quantity": {qty}})
}

// checkoutForm is a valid checkout for the UAE.
func checkoutValues(csrf string) url.Values {
	return url.Values{"csrf": {csrf}, "name": {"Mariam Al Mansoori"}, "phone": {"50 123 4567"}, "email": {"mariam@example.ae"},
		"city": {"Dubai"}, "area": {"Al Barsha"}, "address": {"Villa 12, Street 5"}, "notes": {"Call on arrival"}, "payment": {"cod"}}
}

// orderCount is how many orders exist.
func (f *fixture) orderCount() int {
	f.t.Helper()
	_, total, err := f.checkout.Orders(context.Background(), 1, 1)
	if err != nil {
		f.t.Fatalf("list orders: %v", err)
	}
	return total
}

func (f *fixture) stock(slug string) int {
	f.t.Helper()
	p, err := f.db.Product(context.Background(), f.ids[slug]) // not the catalog's cache
	if err != nil {
		f.t.Fatal(err)
	}
	return p.Stock
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: does not contain %q", what, w)
		}
	}
}

func testProductFor(brand string) souq.Product {
	return souq.Product{Brand: brand, Name: souq.Localized{EN: "Quiet night cream"}, Category: "skincare"}
}
