package shopper

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// newTestSimulator returns a simulator for the shop with no pauses.
func newTestSimulator(t *testing.T, s *shop, writeKey string) *Simulator {
	t.Helper()
	sim, err := New(Config{BaseURL: s.url, WriteKey: writeKey, Seed: 7, Now: s.clock, Speed: 1e12,
		Log: testLogger(t, slog.LevelDebug)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return sim
}

// runSessions plays n sessions one after the other, each with its own seed.
func runSessions(t *testing.T, sim *Simulator, n int) []Result {
	t.Helper()
	var out []Result
	for i := range n {
		rng := rand.New(rand.NewPCG(uint64(i), 42))
		res, err := sim.NewSession(rng).Run(context.Background(), rng)
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		out = append(out, res)
	}
	return out
}

// TestSessionsAgainstRealShop plays 200 shoppers against the real shop API
// and the real collector during a flash sale, and checks the orders in the
// database and every event batch.
func TestSessionsAgainstRealShop(t *testing.T) {
	s := newShop(t)
	sim := newTestSimulator(t, s, testWriteKey)
	const n = 200
	results := runSessions(t, sim, n)
	st := sim.Stats()
	t.Logf("stats: %+v", st)

	t.Run("stats", func(t *testing.T) {
		if st.Sessions != n || st.Active != 0 {
			t.Errorf("sessions: got %d started, %d active, want %d and 0", st.Sessions, st.Active, n)
		}
		if st.Errors != 0 || st.EventsRejected != 0 {
			t.Errorf("errors: got %d failed requests and %d rejected events, want 0 and 0", st.Errors, st.EventsRejected)
		}
		for name, got := range map[string]int64{"page views": st.PageViews, "searches": st.Searches, "adds": st.Adds,
			"checkouts": st.Checkouts, "orders": st.Orders, "out-of-stock answers": st.OutOfStock} {
			// Shoppers meet the single sale unit sold out while the
			// listings' caches (a second or two of wall time) still
			// show it in stock. Under the race detector the sessions
			// run several times slower, that window holds fewer of
			// them, and in one CI run none: the ordinary run checks it.
			if got == 0 && !(name == "out-of-stock answers" && raceDetector) {
				t.Errorf("%s: got 0, want some in %d sessions", name, n)
			}
		}
		if st.PageViews < n {
			t.Errorf("page views: got %d, want at least one per session (%d)", st.PageViews, n)
		}
		var orders, errs int64
		for _, r := range results {
			if r.OrderID != "" {
				orders++
			}
			errs += int64(r.Errors)
		}
		if orders != st.Orders || errs != st.Errors {
			t.Errorf("results: got %d orders and %d errors, want Stats' %d and %d", orders, errs, st.Orders, st.Errors)
		}
	})

	t.Run("API answers", func(t *testing.T) {
		for route, count := range s.statuses.counts() {
			f := strings.Fields(route)
			status := f[len(f)-1]
			switch {
			case status == "409":
				if !strings.Contains(route, "/items") && !strings.Contains(route, "/orders") {
					t.Errorf("%s: %d times, want 409 only for adds and orders", route, count)
				}
			case status == "404" && strings.Contains(route, "/sales/current"):
			case status[0] != '2':
				t.Errorf("%s: %d times, want none (a 422 means the simulator sent a request the shop refuses)", route, count)
			}
		}
	})

	t.Run("orders in the database", func(t *testing.T) {
		orders, total, err := s.checkout.Orders(context.Background(), 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		if int64(total) != st.Orders || len(orders) != min(total, 100) {
			t.Fatalf("orders: got %d in the database (%d listed), want %d", total, len(orders), st.Orders)
		}
		var card int
		for _, o := range orders {
			m := souq.MustMarket(o.Market)
			if !phoneOf(m).MatchString(o.Customer.Phone) {
				t.Errorf("order %s phone: got %q, want %s and %d digits", o.ID, o.Customer.Phone, m.PhonePrefix, m.PhoneDigits)
			}
			if !m.HasCity(o.ShippingAddress.City) || o.ShippingAddress.Country != m.Code {
				t.Errorf("order %s address: got %s, %s; want a city of %s", o.ID, o.ShippingAddress.City, o.ShippingAddress.Country, m.Code)
			}
			if o.Currency != m.Currency {
				t.Errorf("order %s currency: got %s, want %s", o.ID, o.Currency, m.Currency)
			}
			if !strings.Contains(o.Customer.Email, "@example.") || len(o.Customer.Name) < 5 {
				t.Errorf("order %s customer: got %+v, want a name and an example.* address", o.ID, o.Customer)
			}
			if o.Payment.Method == souq.PayCard {
				card++
			}
		}
		if card == 0 || card == len(orders) {
			t.Errorf("payments: got %d card of %d orders, want a mix of card and cash on delivery", card, len(orders))
		}
	})

	reqs := s.batches.all()
	var msgs []map[string]any
	for i, r := range reqs {
		if r.path != "/v1/batch" {
			t.Errorf("batch %d: got path %s, want /v1/batch", i, r.path)
		}
		if !r.basic || r.user != testWriteKey || r.pass != "" {
			t.Errorf("batch %d auth: got basic=%v user %q password %q, want the write key and an empty password", i, r.basic, r.user, r.pass)
		}
		if r.status != 200 || len(r.rejected) > 0 || r.undecodableBatch || r.accepted != len(r.messages) {
			t.Errorf("batch %d: got %d with %d of %d accepted, rejected %q; want all accepted", i, r.status, r.accepted, len(r.messages), r.rejected)
		}
		msgs = append(msgs, r.messages...)
	}
	if int64(len(msgs)) != st.Events {
		t.Errorf("events: got %d sent, Stats says %d accepted", len(msgs), st.Events)
	}

	t.Run("orders join visits", func(t *testing.T) {
		visitors := map[string]bool{}
		for _, m := range msgs {
			if a, ok := m["anonymousId"].(string); ok {
				visitors[a] = true
			}
		}
		evs, err := s.db.PendingOutbox(context.Background(), 100000)
		if err != nil {
			t.Fatal(err)
		}
		var completed int
		for _, e := range evs {
			var ev souq.Event
			if err := json.Unmarshal(e.Payload, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Event != souq.EventOrderCompleted {
				continue
			}
			completed++
			if !visitors[ev.AnonymousID] {
				t.Errorf("Order Completed anonymousId %q: no session's events carry it", ev.AnonymousID)
			}
		}
		if completed == 0 {
			t.Error("no Order Completed in the outbox")
		}
	})

	t.Run("search result counts", func(t *testing.T) {
		var searches int
		for _, m := range msgs {
			if m["event"] != "Products Searched" {
				continue
			}
			searches++
			props, _ := m["properties"].(map[string]any)
			if n, ok := props["result_count"].(float64); !ok || n < 0 {
				t.Errorf("Products Searched %v: want a result_count", props)
			}
		}
		if searches == 0 {
			t.Error("no Products Searched sent")
		}
	})

	t.Run("events", func(t *testing.T) {
		if len(msgs) < 3*n {
			t.Fatalf("events: got %d, want at least 3 a session", len(msgs))
		}
		ids := map[string]bool{}
		byName := map[string]int{}
		names := EventNames()
		for i, m := range msgs {
			id, _ := m["messageId"].(string)
			anon, _ := m["anonymousId"].(string)
			name, _ := m["event"].(string)
			ts, _ := m["timestamp"].(string)
			if id == "" || ids[id] {
				t.Errorf("event %d messageId: got %q, want a unique one", i, id)
			}
			ids[id] = true
			if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(anon) {
				t.Errorf("event %d anonymousId: got %q, want a UUID", i, anon)
			}
			if at, err := time.Parse(time.RFC3339Nano, ts); err != nil || !at.Equal(peakTime) {
				t.Errorf("event %d timestamp: got %q, want %s", i, ts, peakTime.Format(time.RFC3339))
			}
			if m["type"] != "track" || !slices.Contains(names, name) {
				t.Errorf("event %d: got type %v event %q, want a track call of %v", i, m["type"], name, names)
			}
			if name == souq.EventOrderCompleted || name == souq.EventOrderCancelled {
				t.Errorf("event %d: got %q, which only the server may record", i, name)
			}
			byName[name]++
			ctx, _ := m["context"].(map[string]any)
			market, _ := ctx["market"].(string)
			mk, err := souq.LookupMarket(market)
			if err != nil || !mk.HasCity(ctx["city"].(string)) {
				t.Errorf("event %d context: got %v, want a market and one of its cities", i, ctx)
			}
			if loc, _ := ctx["locale"].(string); loc != "ar-"+market && loc != "en-"+market {
				t.Errorf("event %d locale: got %q, want ar-%s or en-%s", i, loc, market, market)
			}
		}
		for _, name := range names {
			if byName[name] == 0 {
				t.Errorf("%s: got none, want some", name)
			}
		}
		if int64(byName[eventCheckoutStarted]) != st.Checkouts || int64(byName[eventProductAdded]) != st.Adds ||
			int64(byName[eventProductsSearched]) != st.Searches {
			t.Errorf("events by name %v: want one Checkout Started per checkout (%d), Product Added per add (%d), Products Searched per search (%d)",
				byName, st.Checkouts, st.Adds, st.Searches)
		}
	})

	t.Run("markets and languages", func(t *testing.T) {
		markets := map[string]map[string]bool{} // market → anonymousIds
		langs := map[string]int{}
		arabicQueries := 0
		for _, m := range msgs {
			ctx := m["context"].(map[string]any)
			mk := ctx["market"].(string)
			if markets[mk] == nil {
				markets[mk] = map[string]bool{}
			}
			markets[mk][m["anonymousId"].(string)] = true
			langs[ctx["locale"].(string)[:2]]++
			if q, ok := m["properties"].(map[string]any)["query"].(string); ok && strings.ContainsFunc(q, func(r rune) bool { return r >= 0x600 && r <= 0x6ff }) {
				arabicQueries++
			}
		}
		shoppers := map[string]int{}
		total := 0
		for mk, ids := range markets {
			shoppers[mk] = len(ids)
			total += len(ids)
		}
		t.Logf("shoppers by market: %v; events by language: %v", shoppers, langs)
		if len(shoppers) < 4 {
			t.Errorf("markets: got %v, want at least 4 of 6 in %d sessions", shoppers, n)
		}
		if got := shoppers["SA"] + shoppers["AE"]; got*2 <= total {
			t.Errorf("Saudi and Emirati shoppers: got %d of %d, want more than half", got, total)
		}
		if langs["ar"] == 0 || langs["en"] == 0 || arabicQueries == 0 {
			t.Errorf("languages: got %v and %d Arabic searches, want both languages", langs, arabicQueries)
		}
	})

	t.Run("prices and the sale", func(t *testing.T) {
		onSale := map[string]bool{}
		for id := range s.sale.Prices {
			onSale[string(id)] = true
		}
		var views, saleViews int
		for _, m := range msgs {
			if m["event"] != eventProductViewed {
				continue
			}
			props := m["properties"].(map[string]any)
			id := props["product_id"].(string)
			mk := souq.MustMarket(souq.MarketCode(m["context"].(map[string]any)["market"].(string)))
			views++
			if onSale[id] {
				saleViews++
			}
			offer, err := s.catalog.Get(context.Background(), id, mk)
			if err != nil {
				t.Fatal(err)
			}
			want := float64(offer.Price.Amount) / math.Pow10(mk.Currency.Exponent())
			if props["price"] != want || props["currency"] != string(mk.Currency) || props["value"] != want {
				t.Errorf("%s in %s: got price %v %v, want %v %s", id, mk.Code, props["price"], props["currency"], want, mk.Currency)
			}
			for _, f := range []string{"sku", "name", "brand", "category"} {
				if v, _ := props[f].(string); v == "" {
					t.Errorf("%s in %s: got no %s, want one", id, mk.Code, f)
				}
			}
		}
		// The sale has 3 of the 12 products; shoppers go for them.
		if saleViews*2 <= views {
			t.Errorf("sale products: got %d of %d product views, want more than half during the sale", saleViews, views)
		}
	})
}

// phoneOf matches the international numbers of a market.
func phoneOf(m souq.Market) *regexp.Regexp {
	return regexp.MustCompile(`^\` + m.PhonePrefix + `[0-9]{` + strconv.Itoa(m.PhoneDigits) + `}$`)
}

// TestNoWriteKey sends API traffic only, and says so once.
func TestNoWriteKey(t *testing.T) {
	s := newShop(t)
	var logs bytes.Buffer
	sim, err := New(Config{BaseURL: s.url, Seed: 3, Now: s.clock, Speed: 1e12,
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	runSessions(t, sim, 40)
	st := sim.Stats()
	if n := len(s.batches.all()); n != 0 || st.Events != 0 {
		t.Errorf("collector: got %d requests and %d events, want none without a write key", n, st.Events)
	}
	if st.PageViews < 40 || st.Orders == 0 || st.Errors != 0 {
		t.Errorf("API traffic: got %+v, want page views, orders and no errors", st)
	}
	if got := strings.Count(logs.String(), "no collector write key"); got != 1 {
		t.Errorf("log: got the no-write-key line %d times, want once:\n%s", got, logs.String())
	}
}

// TestWrongWriteKey counts refused batches as errors, warns once, and
// still places orders.
func TestWrongWriteKey(t *testing.T) {
	s := newShop(t)
	var logs bytes.Buffer
	sim, err := New(Config{BaseURL: s.url, WriteKey: "wk_wrong", Seed: 5, Now: s.clock, Speed: 1e12,
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	runSessions(t, sim, 20)
	st := sim.Stats()
	batches := len(s.batches.all())
	if batches == 0 || st.Errors != int64(batches) || st.Events != 0 || st.PageViews < 20 {
		t.Errorf("got %d batches and stats %+v, want every batch refused and counted as an error", batches, st)
	}
	if got := strings.Count(logs.String(), "refused the write key"); got != 1 {
		t.Errorf("log: got the refused-key warning %d times, want once:\n%s", got, logs.String())
	}
}

// TestRunAgainstRealShop is what `souq serve --demo` does: Run with quick
// shoppers against the real shop and collector, from many goroutines at
// once, then stop.
func TestRunAgainstRealShop(t *testing.T) {
	s := newShop(t)
	sim, err := New(Config{BaseURL: s.url, WriteKey: testWriteKey, Rate: 60, Seed: 21, Now: s.clock, Speed: 100,
		Log: testLogger(t, slog.LevelDebug)})
	if err != nil {
		t.Fatal(err)
	}
	runFor(t, sim, 1500*time.Millisecond)
	st := sim.Stats()
	t.Logf("stats: %+v", st)
	if st.Sessions < 30 || st.Active != 0 || st.Events == 0 {
		t.Errorf("stats: got %+v, want at least 30 sessions (about 90), none left active, events", st)
	}
	if st.Errors != 0 || st.EventsRejected != 0 {
		t.Errorf("errors: got %d failed requests and %d rejected events, want none", st.Errors, st.EventsRejected)
	}
	// An order in flight when Run stopped may have been placed without the
	// shopper seeing the answer.
	_, placed, err := s.checkout.Orders(context.Background(), 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if int64(placed) < st.Orders || int64(placed) > st.Checkouts {
		t.Errorf("orders in the database: got %d, want between the %d placed and the %d sent", placed, st.Orders, st.Checkouts)
	}
	// (A request cut short by the stop may be answered 503 to nobody.)
	for route, n := range s.statuses.counts() {
		if strings.HasSuffix(route, " 400") || strings.HasSuffix(route, " 422") || strings.HasSuffix(route, " 500") {
			t.Errorf("%s: %d times, want none", route, n)
		}
	}
}

// TestSessionsThroughWaitingRoom: during a protected sale, shoppers sent
// to the waiting room by checkout queue, wait for their admission and
// place their order with it; none fails.
func TestSessionsThroughWaitingRoom(t *testing.T) {
	s := newShopWith(t, true)
	sim := newTestSimulator(t, s, "")
	results := make(chan Result, 60)
	for i := range cap(results) {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			res, err := sim.NewSession(rng).Run(t.Context(), rng)
			if err != nil {
				t.Errorf("session %d: %v", i, err)
			}
			results <- res
		}()
	}
	queued, ordered := 0, 0
	for range cap(results) {
		res := <-results
		if res.Queued {
			queued++
			if res.OrderID != "" {
				ordered++
			}
		}
	}
	st := sim.Stats()
	if queued == 0 || int64(queued) != st.Queued || st.Errors != 0 {
		t.Fatalf("%d sessions queued (stats %+v); want some, and no errors", queued, st)
	}
	if got := s.statuses.counts()["POST /api/v1/orders 429"]; got != queued {
		t.Errorf("checkouts sent to the queue: %d, want one per queued session (%d)", got, queued)
	}
	if ordered == 0 {
		t.Errorf("none of the %d queued sessions placed an order", queued)
	}
	// Joins are held for news: a shopper admitted within the hold needs
	// no poll (each needed one at least when joins were answered at once).
	polls := 0
	for k, n := range s.statuses.counts() {
		if strings.HasPrefix(k, "GET /api/v1/queue/q_") {
			polls += n
		}
	}
	if polls >= queued {
		t.Errorf("%d polls for %d queued sessions, want fewer: joins held for news", polls, queued)
	}
	t.Logf("%d of %d sessions queued, %d of them ordered; stats %+v; answers %v", queued, cap(results), ordered, st, s.statuses.counts())
}
