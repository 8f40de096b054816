package dashboard

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
)

func timePtr(t time.Time) *time.Time { return &t }

// TestSalePanel checks every figure of the sale panel against values
// computed by hand from the fixture: 30 min 30 s into an hour's sale,
// Prd_oud sold 60 of 100 (29 in the last 15 minute buckets, 14.5 minutes
// at t0: 2 a minute, so its 40 left last 20 more minutes), prd_cream sold
// out (29 in those minutes: 2 a minute), prd_mask sold none.
func TestSalePanel(t *testing.T) {
	d, _, _, _ := newWarTest(t, nil)
	got, err := d.update(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	span := t0.Sub(saleStart)
	want := &SalePanel{
		ID: "sal_1", Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"}, StartsAt: saleStart, EndsAt: saleEnd,
		Running: true, SecondsLeft: 29*60 + 30,
		During: SaleFigures{From: saleStart, To: t0, Orders: 95, Units: 110, RevenueAED: 2360000},
		Before: SaleFigures{From: saleStart.Add(-span), To: saleStart, Orders: 15, Units: 15, RevenueAED: 275000},
		Items: []SaleItem{
			{ProductID: "prd_oud", Name: souq.Localized{EN: "Royal Oud Perfume", AR: "عطر العود الملكي"}, Brand: "Arabian Oud",
				Offered: 100, Stock: 40, Sold: 60, SellThrough: 0.6, UnitsPerMinute: 2, SoldOutAt: timePtr(t0.Add(20 * time.Minute))},
			{ProductID: "prd_mask", Name: souq.Localized{EN: "Sheet Mask", AR: "قناع"}, Brand: "=cmd", Offered: 20, Stock: 20},
			{ProductID: "prd_cream", Name: souq.Localized{EN: "Night Cream", AR: "كريم الليل"}, Brand: "Nivea",
				Offered: 50, Stock: 0, Sold: 50, SellThrough: 1, UnitsPerMinute: 2, SoldOut: true},
		},
	}
	if diff := cmp.Diff(want, got.Sale); diff != "" {
		t.Errorf("sale panel (-want +got):\n%s", diff)
	}
}

func TestPickSale(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 14, h, 0, 0, 0, time.UTC) }
	ended1 := souq.Sale{ID: "a", StartsAt: at(1), EndsAt: at(2)}
	ended2 := souq.Sale{ID: "b", StartsAt: at(3), EndsAt: at(4)}
	running := souq.Sale{ID: "c", StartsAt: at(5), EndsAt: at(7)}
	later := souq.Sale{ID: "d", StartsAt: at(8), EndsAt: at(9)}
	for _, tc := range []struct {
		name  string
		sales []souq.Sale
		now   time.Time
		want  souq.ID
	}{
		{"running beats ended", []souq.Sale{ended1, ended2, running, later}, at(6), "c"},
		{"the last to end", []souq.Sale{ended2, ended1, later}, at(5), "b"},
		{"ends exactly now: ended", []souq.Sale{ended1, running}, at(7), "c"},
		{"only scheduled: none", []souq.Sale{later}, at(5), ""},
		{"nothing", nil, at(5), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := pickSale(tc.sales, tc.now)
			if got.ID != tc.want || ok != (tc.want != "") {
				t.Errorf("got %q %v, want %q", got.ID, ok, tc.want)
			}
		})
	}
}

// TestSaleEndedKeepsItsFigures: after the end, the panel shows the sale
// over its whole length, no time left and no projection.
func TestSaleEndedKeepsItsFigures(t *testing.T) {
	now := saleEnd.Add(10 * time.Minute)
	d, w, _, _ := newWarTest(t, func(d *Deps) { d.Now = func() time.Time { return now } })
	w.cat.now = func() time.Time { return now }
	w.figures.spans[[2]time.Time{saleStart, saleEnd}] = []analytics.ProductRow{prow("prd_oud", 400, 70, 50, 60, 2160000), prow("prd_cream", 200, 80, 45, 50, 200000)}
	w.figures.spans[[2]time.Time{saleEnd.Add(-15 * time.Minute), saleEnd}] = w.figures.spans[[2]time.Time{t0.Add(-15 * time.Minute), t0}]
	p := d.salePanel(context.Background(), now)
	if p == nil {
		t.Fatal("got no panel, want the ended sale")
	}
	if p.Running || p.SecondsLeft != 0 || p.During.To != saleEnd || p.During.Units != 110 || p.Before.From != saleStart.Add(-time.Hour) {
		t.Errorf("got running %v, %d s left, during to %v units %d, before from %v; want ended, 0, %v, 110, %v",
			p.Running, p.SecondsLeft, p.During.To, p.During.Units, p.Before.From, saleEnd, saleStart.Add(-time.Hour))
	}
	for _, it := range p.Items {
		if it.SoldOutAt != nil {
			t.Errorf("%s: got sold out at %v, want none once the sale has ended", it.ProductID, *it.SoldOutAt)
		}
	}
}

func TestStockPanel(t *testing.T) {
	d, _, _, _ := newWarTest(t, nil)
	u, err := d.update(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	oud := souq.Localized{EN: "Royal Oud Perfume", AR: "عطر العود الملكي"}
	cream := souq.Localized{EN: "Night Cream", AR: "كريم الليل"}
	soap := souq.Localized{EN: "Soap, \"Rose\"", AR: "صابون"}
	want := &StockPanel{Threshold: 5,
		Watch: []StockRow{
			{ProductID: "prd_oud", Name: oud, Brand: "Arabian Oud", Stock: 40, UnitsLastHour: 60, OnSale: true},
			{ProductID: "prd_cream", Name: cream, Brand: "Nivea", Stock: 0, UnitsLastHour: 50, OnSale: true},
			{ProductID: "prd_soap", Name: soap, Brand: "Dove", Stock: 3, UnitsLastHour: 2},
			{ProductID: "prd_mask", Name: souq.Localized{EN: "Sheet Mask", AR: "قناع"}, Brand: "=cmd", Stock: 20, OnSale: true},
		},
		Low: []StockRow{{ProductID: "prd_soap", Name: soap, Brand: "Dove", Stock: 3, UnitsLastHour: 2}},
		Out: []StockRow{
			{ProductID: "prd_cream", Name: cream, Brand: "Nivea", Stock: 0, UnitsLastHour: 50, OnSale: true},
			{ProductID: "prd_gone", Name: souq.Localized{EN: "Lipstick", AR: "أحمر شفاه"}, Brand: "Mac", Stock: 0},
		},
	}
	if diff := cmp.Diff(want, u.Stock); diff != "" {
		t.Errorf("stock panel (-want +got):\n%s", diff)
	}
}

// TestOutOfStockCannotHideLowStock: with more products out of stock than
// a list holds (200), the low list still shows prd_soap (3 left) and
// the out list says it is cut; behind more than one read can skip (500),
// the low list says it could not be read whole rather than look empty.
func TestOutOfStockCannotHideLowStock(t *testing.T) {
	for _, tc := range []struct {
		zeros                      int
		wantLow                    []souq.ID
		wantOut                    int
		outTruncated, lowTruncated bool
	}{
		{zeros: 0, wantLow: []souq.ID{"prd_soap"}, wantOut: 2},
		{zeros: 198, wantLow: []souq.ID{"prd_soap"}, wantOut: 200},
		{zeros: 250, wantLow: []souq.ID{"prd_soap"}, wantOut: 200, outTruncated: true},
		{zeros: 600, wantLow: nil, wantOut: 200, outTruncated: true, lowTruncated: true},
	} {
		t.Run(strconv.Itoa(tc.zeros), func(t *testing.T) {
			d, w, _, _ := newWarTest(t, nil)
			for i := range tc.zeros {
				w.cat.setStock(souq.ID(fmt.Sprintf("prd_a%04d", i)), 0) // before prd_cream and prd_gone by id
			}
			u, err := d.update(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var low []souq.ID
			for _, r := range u.Stock.Low {
				low = append(low, r.ProductID)
			}
			if diff := cmp.Diff(tc.wantLow, low); diff != "" {
				t.Errorf("low (-want +got):\n%s", diff)
			}
			if got := len(u.Stock.Out); got != tc.wantOut || u.Stock.OutTruncated != tc.outTruncated || u.Stock.LowTruncated != tc.lowTruncated {
				t.Errorf("got %d out, out truncated %v, low truncated %v; want %d, %v, %v",
					got, u.Stock.OutTruncated, u.Stock.LowTruncated, tc.wantOut, tc.outTruncated, tc.lowTruncated)
			}
		})
	}
}

// TestLowStockIsReadOncePerInterval: pushes and requests within a few
// seconds share one low-stock query; live stock is read at each push.
func TestLowStockIsReadOncePerInterval(t *testing.T) {
	now := t0
	d, w, _, _ := newWarTest(t, func(d *Deps) { d.Now = func() time.Time { return now } })
	for range 3 {
		if _, err := d.update(context.Background()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	// Two reads an interval: out of stock, then low.
	if got := w.cat.lowCalls.Load(); got != 2 {
		t.Errorf("low-stock queries over 3 pushes in 3 s: got %d, want 2", got)
	}
	now = now.Add(lowStockTTL)
	if _, err := d.update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.cat.lowCalls.Load(); got != 4 {
		t.Errorf("low-stock queries after %v: got %d, want 4", lowStockTTL, got)
	}
	w.cat.setStock("prd_oud", 0)
	u, _ := d.update(context.Background())
	if u.Sale.Items[len(u.Sale.Items)-1].ProductID != "prd_oud" || !u.Sale.Items[len(u.Sale.Items)-1].SoldOut {
		t.Errorf("after prd_oud's stock went to 0: got items %+v, want it sold out at the end at the next push", u.Sale.Items)
	}
}

// TestComparisonsFollowToday: today's figures move at every push (the
// Reader caches the past spans, not today), so a push a second later
// shows today's new revenue, not the last minute's.
func TestComparisonsFollowToday(t *testing.T) {
	now := t0
	d, w, _, _ := newWarTest(t, func(d *Deps) { d.Now = func() time.Time { return now } })
	if _, err := d.update(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.figures.mu.Lock()
	w.figures.compare.Figures = slices.Clone(w.figures.compare.Figures)
	w.figures.compare.Figures[0].Today = 130000
	w.figures.mu.Unlock()
	now = now.Add(time.Second)
	u, err := d.update(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Compare.Figures[0]; got.Figure != "revenue_aed" || got.Today != 130000 {
		t.Errorf("a second later: got %s today %v, want revenue_aed 130000", got.Figure, got.Today)
	}
	if got := w.figures.compares.Load(); got != 2 {
		t.Errorf("comparisons over 2 pushes: got %d, want 2", got)
	}
}

// TestLastHourIsAKeptWindow: the push asks for the last hour's product
// figures as the 60 minute buckets ending with the filling one, on whole
// minutes — the span the analytics Reader answers from the sums it keeps
// between pushes (analytics.Reader.Products: From and To on whole minutes,
// To − From one of 5, 15 or 60 minutes) — not [now − 59 min, now), which
// made it read all 60 buckets of every product at every push.
func TestLastHourIsAKeptWindow(t *testing.T) {
	for _, now := range []time.Time{t0, t0.Truncate(time.Minute), t0.Add(29*time.Second + 999*time.Millisecond)} {
		d, w, _, _ := newWarTest(t, func(d *Deps) { d.Now = func() time.Time { return now } })
		if _, err := d.update(context.Background()); err != nil {
			t.Fatal(err)
		}
		var hour []analytics.ProductQuery
		for _, q := range w.figures.queries {
			if q.IDs == nil && q.Market == "" && q.City == "" {
				hour = append(hour, q)
			}
		}
		// 10:00:xx: the buckets of 09:01 to 10:00.
		want := []analytics.ProductQuery{{From: time.Date(2026, 3, 14, 9, 1, 0, 0, time.UTC), To: time.Date(2026, 3, 14, 10, 1, 0, 0, time.UTC)}}
		if diff := cmp.Diff(want, hour); diff != "" {
			t.Errorf("at %v, the last hour's query (-want +got):\n%s", now.Format(time.TimeOnly), diff)
		}
	}
}

func TestProductsPanel(t *testing.T) {
	d, _, _, _ := newWarTest(t, nil)
	u, err := d.update(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	aed := func(n int64) souq.Money { return souq.M(n, souq.AED) }
	want := []ProductTableRow{
		{ProductID: "prd_oud", Name: souq.Localized{EN: "Royal Oud Perfume", AR: "عطر العود الملكي"}, Brand: "Arabian Oud", Category: "fragrance",
			Price: aed(36000), Views: 500, AddEvents: 80, Orders: 50, Units: 60, RevenueAED: 2160000, Stock: 40},
		{ProductID: "prd_cream", Name: souq.Localized{EN: "Night Cream", AR: "كريم الليل"}, Brand: "Nivea", Category: "skincare",
			Price: aed(4000), Views: 300, AddEvents: 90, Orders: 45, Units: 50, RevenueAED: 200000, Stock: 0},
		{ProductID: "prd_soap", Name: souq.Localized{EN: "Soap, \"Rose\"", AR: "صابون"}, Brand: "Dove", Category: "bodycare",
			Price: aed(800), Views: 100, AddEvents: 5, Orders: 2, Units: 2, RevenueAED: 1600, Stock: 3},
		{ProductID: "prd_unknown", Price: aed(0), Views: 7},
	}
	if diff := cmp.Diff(want, u.Products); diff != "" {
		t.Errorf("products (-want +got):\n%s", diff)
	}
}

// TestPanelsWithoutSources: a dashboard configured as before the war room
// pushes null panels and answers 503 on their endpoints.
func TestPanelsWithoutSources(t *testing.T) {
	d, _, h := newTest(t, nil)
	u, err := d.update(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.Audience != nil || u.Compare != nil || u.Sale != nil || u.Stock != nil || u.Products != nil {
		t.Errorf("got panels %v %v %v %v %v, want all null", u.Audience, u.Compare, u.Sale, u.Stock, u.Products)
	}
	for path, what := range map[string]string{
		"/api/v1/analytics/audience": "visitor figures", "/api/v1/analytics/compare": "comparisons",
		"/api/v1/analytics/sale": "sale figures", "/api/v1/analytics/stock": "stock", "/api/v1/analytics/products": "product figures",
	} {
		res := get(t, h, path)
		p := decodeAs[problemDoc](t, res)
		if res.StatusCode != http.StatusServiceUnavailable || p.Detail != "this server does not report "+what {
			t.Errorf("%s: got %d %q, want 503 %q", path, res.StatusCode, p.Detail, "this server does not report "+what)
		}
	}
}

// TestSaleFailureIsNullNotZero: when live stock cannot be read the sale
// and stock panels are null, so no item shows as sold out by mistake.
func TestSaleFailureIsNullNotZero(t *testing.T) {
	d, w, _, _ := newWarTest(t, nil)
	w.cat.err = errStore
	u, err := d.update(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.Sale != nil || u.Stock != nil {
		t.Errorf("got sale %v stock %v, want both null", u.Sale, u.Stock)
	}
	for _, a := range u.Alerts {
		if a.Kind == kindSoldOut {
			t.Errorf("got alert %s, want no sold-out alert without stock", a.ID)
		}
	}
}

// readCSV checks a CSV answer's headers and parses it.
func readCSV(t *testing.T, res *http.Response, table string) [][]string {
	t.Helper()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("got %d %q, want 200 text/csv; charset=utf-8", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if got, want := res.Header.Get("Content-Disposition"), `attachment; filename="souq-`+table+`-20260314T100030Z.csv"`; got != want {
		t.Errorf("Content-Disposition: got %q, want %q", got, want)
	}
	raw := body(t, res)
	if !strings.Contains(raw, "\r\n") {
		t.Errorf("got lines without CRLF, want RFC 4180 line ends")
	}
	rows, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v", err)
	}
	return rows
}

func TestOutcomeAlerts(t *testing.T) {
	o := &fakeOutcomes{}
	start := t0.Truncate(time.Minute).Add(-5 * time.Minute) // 09:55
	var ms []outcomes.Minute
	for i, errs := range []int64{2, 3, 8, 9, 10} {
		ms = append(ms, outcomes.Minute{Start: start.Add(time.Duration(i) * time.Minute),
			Counts: outcomes.Counts{Checkouts: 100, Orders: 90 - errs, Errors: errs, OutOfStock: 10, CartOutOfStock: 5}})
	}
	ms = append(ms, outcomes.Minute{Start: t0.Truncate(time.Minute), Counts: outcomes.Counts{Checkouts: 1, Errors: 1}}) // filling: not judged
	o.set(ms)
	d, _, _, _ := newWarTest(t, func(d *Deps) { d.Outcomes = o })
	got := alertsByID(t, d)
	// 32 errors of 500 checkouts; minutes 09:57–09:59 were each over 5%.
	if a := got["checkout_errors"]; a.Value != 0.064 || a.Threshold != 0.05 || a.Severity != "warning" || !a.Since.Equal(start.Add(2*time.Minute)) ||
		a.Message.EN != "Checkout errors: 6.4% of checkouts failed in the last 5 minutes (threshold 5.0%)" || a.Message.AR == "" {
		t.Errorf("checkout_errors: got %+v", a)
	}
	// 75 refusals in 5 minutes, every minute over 10.
	if a := got["out_of_stock"]; a.Value != 15 || a.Threshold != 10 || !a.Since.Equal(start) {
		t.Errorf("out_of_stock: got %+v", a)
	}
	if a := got["sold_out:prd_cream"]; a.Subject != "prd_cream" || !a.Since.Equal(t0) || !strings.HasPrefix(a.Message.EN, "Sold out: Night Cream") ||
		!strings.HasPrefix(a.Message.AR, "نفدت الكمية: كريم الليل") {
		t.Errorf("sold_out:prd_cream: got %+v", a)
	}
	for _, id := range []string{"cancellations", "zero_result_searches", "pipeline_lag", "sold_out:prd_oud"} {
		if _, ok := got[id]; ok {
			t.Errorf("got alert %s, want none (under its threshold)", id)
		}
	}
	if len(got) != 3 {
		t.Errorf("got %d alerts, want 3", len(got))
	}
}

// TestQueuedCheckoutsDoNotDiluteErrors: attempts the waiting room refused
// are not checkouts for the error rate. 10 errors in 50 attempts checkout
// answered beside 2,000 queued are 20%, not 0.5%; 2,000 queued beside 5
// answered attempts do not reach MinCheckouts (20).
func TestQueuedCheckoutsDoNotDiluteErrors(t *testing.T) {
	start := t0.Truncate(time.Minute).Add(-5 * time.Minute)
	for _, tc := range []struct {
		name      string
		counts    outcomes.Counts // each of the 5 minutes
		wantAlert bool
		wantValue float64
	}{
		{"errors among queued", outcomes.Counts{Checkouts: 410, Orders: 8, Errors: 2, Rejected: 400}, true, 0.2},
		{"queued alone", outcomes.Counts{Checkouts: 401, Errors: 1, Rejected: 400}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &fakeOutcomes{}
			var ms []outcomes.Minute
			for i := range 5 {
				ms = append(ms, outcomes.Minute{Start: start.Add(time.Duration(i) * time.Minute), Counts: tc.counts})
			}
			o.set(ms)
			d, _, _, _ := newWarTest(t, func(d *Deps) { d.Outcomes = o })
			u, err := d.update(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var got *Alert
			for i, a := range u.Alerts {
				if a.ID == kindCheckoutErrors {
					got = &u.Alerts[i]
				}
			}
			switch {
			case tc.wantAlert && (got == nil || got.Value != tc.wantValue || got.Severity != "critical"):
				t.Errorf("checkout_errors: got %+v, want a critical alert at %v", got, tc.wantValue)
			case !tc.wantAlert && got != nil:
				t.Errorf("checkout_errors: got %+v, want none", got)
			}
		})
	}
}

// TestAlertHysteresis: an alert is raised at its threshold, stays while
// its level is over the clear level or for ClearAfter under it, and then
// clears; each change is one event.
func TestAlertHysteresis(t *testing.T) {
	b := newAlertBook()
	judged := map[string]bool{kindPipelineLag: true}
	lag := func(v float64) []measure {
		return []measure{{id: kindPipelineLag, kind: kindPipelineLag, value: v, threshold: 30, since: t0.Add(-time.Minute)}}
	}
	steps := []struct {
		at     time.Duration
		value  float64
		active bool
	}{
		{0, 29, false},  // under the threshold
		{1, 30, true},   // raised
		{2, 25, true},   // under 30 but over 0.8 × 30: stays
		{3, 20, true},   // under the clear level: the clock starts
		{20, 23, true},  // still under: 17 s of 30
		{32, 10, true},  // 29 s under
		{33, 10, false}, // 30 s under: cleared
		{35, 70, true},  // raised again, critical
	}
	for _, s := range steps {
		active := b.apply(t0.Add(s.at*time.Second), judged, lag(s.value), 0.8, 30*time.Second)
		if (len(active) == 1) != s.active {
			t.Errorf("at %d s, value %v: got active %v, want %v", s.at, s.value, active, s.active)
		}
	}
	events := b.eventsAfter(time.Time{})
	var states []string
	for _, e := range events {
		states = append(states, e.State+"@"+e.At.Sub(t0).String()+"/"+e.Alert.Severity)
	}
	want := []string{"raised@35s/critical", "cleared@33s/warning", "raised@1s/warning"}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("events, newest first (-want +got):\n%s", diff)
	}
	if got := b.eventsAfter(t0.Add(33 * time.Second)); len(got) != 1 || got[0].State != "raised" {
		t.Errorf("events after 33 s: got %v, want the last raise only", got)
	}
	// A kind that was not judged (its source failed) keeps its alert.
	if active := b.apply(t0.Add(2*time.Hour), map[string]bool{}, nil, 0.8, 30*time.Second); len(active) != 1 {
		t.Errorf("with the source failing: got %v, want the alert kept", active)
	}
}

func TestAlertEventsAreBounded(t *testing.T) {
	b := newAlertBook()
	judged := map[string]bool{kindPipelineLag: true}
	for i := range 150 { // 300 events
		at := t0.Add(time.Duration(i) * time.Hour)
		b.apply(at, judged, []measure{{id: "x", kind: kindPipelineLag, value: 100, threshold: 1}}, 0.8, time.Second)
		b.apply(at.Add(time.Minute), judged, nil, 0.8, 0)
	}
	events := b.eventsAfter(time.Time{})
	if len(events) != maxAlertEvents || events[0].State != "cleared" || !events[0].At.Equal(t0.Add(149*time.Hour+time.Minute)) {
		t.Errorf("got %d events, newest %+v; want %d, the last clear first", len(events), events[0], maxAlertEvents)
	}
}

// TestBeforeFiguresReadOncePerMinute: the span before a running sale
// grows a second a push, but its minute buckets change once a minute, so
// its figures are read again only then.
func TestBeforeFiguresReadOncePerMinute(t *testing.T) {
	now := t0
	d, w, _, _ := newWarTest(t, func(d *Deps) { d.Now = func() time.Time { return now } })
	var froms []time.Time
	for _, at := range []time.Duration{0, time.Second, 29 * time.Second, 30 * time.Second, 31 * time.Second} {
		now = t0.Add(at)
		u, err := d.update(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if want := saleStart.Add(-now.Sub(saleStart)); !u.Sale.Before.From.Equal(want) {
			t.Errorf("at +%v: before from %v, want %v", at, u.Sale.Before.From, want)
		}
	}
	for _, q := range w.figures.queries {
		if q.To.Equal(saleStart) {
			froms = append(froms, q.From)
		}
	}
	// 08:59:30 and 08:59:29 start with the 09:00 bucket; 08:59:01 too;
	// 08:59:00 starts with the 08:59 bucket: read again.
	want := []time.Time{saleStart.Add(-(t0.Sub(saleStart))), saleStart.Add(-(t0.Add(30 * time.Second).Sub(saleStart)))}
	if diff := cmp.Diff(want, froms); diff != "" {
		t.Errorf("reads of the figures before the sale (-want +got):\n%s", diff)
	}
}

// TestSaleFiguresReadOncePerMinute: a push reads the sale's complete
// minutes once a minute, the filling minute afresh, and its last 15
// minutes as a span the Reader keeps sums of (whole minutes, 15 long), not
// the sale's whole span at every push.
func TestSaleFiguresReadOncePerMinute(t *testing.T) {
	now := t0
	d, w, _, _ := newWarTest(t, func(d *Deps) { d.Now = func() time.Time { return now } })
	minute := t0.Truncate(time.Minute)
	for _, at := range []time.Duration{0, time.Second, 2 * time.Second} {
		now = t0.Add(at)
		u, err := d.update(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if at == 0 && (u.Sale.During.Units != 110 || !u.Sale.During.To.Equal(t0)) {
			t.Errorf("during: got %+v, want 110 units to %v", u.Sale.During, t0)
		}
	}
	var got [][2]time.Time
	for _, q := range w.figures.queries {
		if q.IDs != nil && !q.To.Equal(saleStart) {
			got = append(got, [2]time.Time{q.From, q.To})
		}
	}
	rate := [2]time.Time{saleRateFrom, saleRateTo}
	want := [][2]time.Time{
		{saleStart, minute}, {minute, t0}, rate,
		{minute, t0.Add(time.Second)}, rate,
		{minute, t0.Add(2 * time.Second)}, rate,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sale figure reads over 3 pushes (-want +got):\n%s", diff)
	}
}

// TestUpdateJSONCarriesThePanels: the pushed JSON names the panels as the
// page reads them.
func TestUpdateJSONCarriesThePanels(t *testing.T) {
	d, _, _, _ := newWarTest(t, nil)
	u, err := d.update(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"snapshot", "health", "names", "audience", "compare", "sale", "stock", "products", "alerts"} {
		v, ok := raw[key]
		if !ok || string(v) == "null" {
			t.Errorf("%s: got %s, want a value", key, v)
		}
	}
	if !strings.Contains(string(raw["sale"]), `"sold_out_at":"2026-03-14T10:20:30Z"`) || !strings.Contains(string(raw["products"]), `"price":{"amount":36000,"currency":"AED"}`) {
		t.Errorf("got sale %s\nproducts %s", raw["sale"], raw["products"])
	}
}

// TestEventAlerts: cancellations and searches that found nothing are
// judged over the complete minutes of the last Window, not the hour: the
// minute before the window and the filling minute do not count.
func TestEventAlerts(t *testing.T) {
	d, _, src, _ := newWarTest(t, nil)
	snap := sampleSnapshot()
	byStart := map[string]analytics.MinutePoint{
		"09:54": {Cancellations: 50, Orders: 1}, // before the window
		"09:55": {Cancellations: 4, Orders: 10, Searches: 10, ZeroResultSearches: 1},
		"09:56": {Cancellations: 6, Orders: 10, Searches: 10, ZeroResultSearches: 4},
		"09:57": {Cancellations: 7, Orders: 10, Searches: 10, ZeroResultSearches: 5},
		"09:58": {Orders: 10, Searches: 10},
		"09:59": {Cancellations: 8, Orders: 10, Searches: 10, ZeroResultSearches: 6},
		"10:00": {Cancellations: 100, Searches: 100, ZeroResultSearches: 100}, // filling
	}
	for i := range snap.Minutes {
		m := &snap.Minutes[i]
		set := byStart[m.Start.Format("15:04")]
		m.Cancellations, m.Orders, m.Searches, m.ZeroResultSearches = set.Cancellations, set.Orders, set.Searches, set.ZeroResultSearches
	}
	src.mu.Lock()
	src.snap = snap
	src.mu.Unlock()
	got := alertsByID(t, d)
	at := func(hm string) time.Time {
		tm, _ := time.Parse("15:04", hm)
		return time.Date(t0.Year(), t0.Month(), t0.Day(), tm.Hour(), tm.Minute(), 0, 0, time.UTC)
	}
	// 25 cancellations of 50 orders in 09:55–09:59: 5.0 a minute (1× its
	// threshold) but 50% of orders (2.5× 20%), so the share is reported.
	if a := got["cancellations"]; a.Value != 0.5 || a.Threshold != 0.2 || a.Severity != "critical" || !a.Since.Equal(at("09:59")) ||
		a.Message.EN != "Cancellations: 50.0% of orders over the last 5 minutes (threshold 20.0%)" {
		t.Errorf("cancellations: got %+v", a)
	}
	// 16 of 50 searches found nothing: 32% against 30%.
	if a := got["zero_result_searches"]; a.Value != 0.32 || a.Threshold != 0.3 || a.Severity != "warning" || !a.Since.Equal(at("09:59")) ||
		a.Message.EN != "Searches that found nothing: 32.0% of searches over the last 5 minutes (threshold 30.0%)" {
		t.Errorf("zero_result_searches: got %+v", a)
	}
}

// alertsByID runs one update of d and returns its active alerts by id
// (an id given twice is an error).
func alertsByID(t *testing.T, d *Dashboard) map[string]Alert {
	t.Helper()
	u, err := d.update(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Alert{}
	for _, a := range u.Alerts {
		if _, dup := got[a.ID]; dup {
			t.Errorf("alert %s twice in one update", a.ID)
		}
		got[a.ID] = a
	}
	return got
}
