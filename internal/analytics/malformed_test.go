package analytics_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/analyticstest"
	"github.com/souq-commerce/souq/internal/souq"
)

// editProps returns ev with its properties decoded, changed by edit and
// encoded again.
func editProps(ev souq.Event, edit func(p map[string]any)) souq.Event {
	var p map[string]any
	if err := json.Unmarshal(ev.Properties, &p); err != nil {
		panic(err)
	}
	edit(p)
	ev.Properties = analyticstest.MustJSON(p)
	return ev
}

// editLine edits the first product of an order event.
func editLine(ev souq.Event, edit func(l map[string]any)) souq.Event {
	return editProps(ev, func(p map[string]any) { edit(p["products"].([]any)[0].(map[string]any)) })
}

func TestApplyMalformed(t *testing.T) {
	v := view("bad", time.Minute, "prd_a", "COSRX", "skincare", "AE")
	withProps := func(name string, props map[string]any) souq.Event {
		return track("bad", name, time.Minute, props, marketCtx("AE"))
	}
	aeOrder := order("bad", souq.EventOrderCompleted, time.Minute, souq.AE, "Dubai", line("prd_a", "COSRX", "skincare", 1, 8900))
	kwOrder := order("bad", souq.EventOrderCancelled, time.Minute, souq.KW, "Hawalli", line("prd_a", "COSRX", "skincare", 1, 12500))
	raw := func(ev souq.Event, props, ctx string) souq.Event {
		if props != "" {
			ev.Properties = json.RawMessage(props)
		}
		if ctx != "" {
			ev.Context = json.RawMessage(ctx)
		}
		return ev
	}
	tests := []struct {
		name string
		ev   souq.Event
	}{
		{"no messageId", func() souq.Event { e := v; e.MessageID = ""; return e }()},
		{"messageId too long", func() souq.Event { e := v; e.MessageID = strings.Repeat("x", 129); return e }()},
		{"no timestamps", func() souq.Event { e := v; e.Timestamp, e.ReceivedAt = time.Time{}, time.Time{}; return e }()},
		{"properties not JSON", raw(v, `{"product_id":`, "")},
		{"properties an array", raw(v, `["prd_a"]`, "")},
		{"context a string", raw(v, "", `"AE"`)},
		{"view without product_id", withProps(analytics.EventProductViewed, map[string]any{"brand": "COSRX"})},
		{"view with a blank product_id", withProps(analytics.EventProductViewed, map[string]any{"product_id": "  "})},
		{"product_id too long", withProps(analytics.EventProductViewed, map[string]any{"product_id": strings.Repeat("p", analytics.MaxMemberBytes+1)})},
		{"product_id a number", withProps(analytics.EventProductViewed, map[string]any{"product_id": 42})},
		{"add of zero units", withProps(analytics.EventProductAdded, map[string]any{"product_id": "prd_a", "quantity": 0})},
		{"remove of negative units", withProps(analytics.EventProductRemoved, map[string]any{"product_id": "prd_a", "quantity": -1})},
		{"quantity a string", withProps(analytics.EventProductAdded, map[string]any{"product_id": "prd_a", "quantity": "2"})},
		{"quantity a fraction", withProps(analytics.EventProductAdded, map[string]any{"product_id": "prd_a", "quantity": 1.5})},
		{"quantity too large", withProps(analytics.EventProductAdded, map[string]any{"product_id": "prd_a", "quantity": analytics.MaxQuantity + 1})},
		{"unknown market", track("bad", analytics.EventCartViewed, time.Minute, nil, marketCtx("ZZ"))},
		{"order in an unknown currency", editProps(aeOrder, func(p map[string]any) { p["currency"] = "USD" })},
		{"order without currency", editProps(aeOrder, func(p map[string]any) { delete(p, "currency") })},
		{"order in an unknown market", editProps(aeOrder, func(p map[string]any) { p["market"] = "EG" })},
		{"order with a negative total", editProps(aeOrder, func(p map[string]any) { p["total_minor"] = -1 })},
		{"order total out of range", editProps(aeOrder, func(p map[string]any) { p["total_minor"] = souq.MaxAmount + 1 })},
		{"order total a string", editProps(aeOrder, func(p map[string]any) { p["total_minor"] = "8900" })},
		{"order without products", editProps(aeOrder, func(p map[string]any) { p["products"] = []any{} })},
		{"order with products an object", editProps(aeOrder, func(p map[string]any) { p["products"] = map[string]any{} })},
		{"KWD price with four decimals", editLine(kwOrder, func(l map[string]any) { l["price"] = "12.3456" })},
		{"negative price", editLine(aeOrder, func(l map[string]any) { l["price"] = "-1.00" })},
		{"price a number", editLine(aeOrder, func(l map[string]any) { l["price"] = 89 })},
		{"price not an amount", editLine(aeOrder, func(l map[string]any) { l["price"] = "eighty" })},
		{"line amount out of range", editLine(aeOrder, func(l map[string]any) { l["price"] = "9999999999.00"; l["quantity"] = 1000 })},
		{"line of zero units", editLine(aeOrder, func(l map[string]any) { l["quantity"] = 0 })},
		{"line without product_id", editLine(aeOrder, func(l map[string]any) { delete(l, "product_id") })},
	}

	a, _ := newAggregator(t, analytics.Config{})
	applyAll(t, a, view("ok1", 0, "prd_a", "COSRX", "skincare", "AE"),
		order("ok2", souq.EventOrderCompleted, 0, souq.AE, "Dubai", line("prd_a", "COSRX", "skincare", 1, 8900)))
	before := analyticstest.Dump(t, a)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			applied, err := a.Apply(t.Context(), uint64(100+i), tt.ev)
			if !errors.Is(err, analytics.ErrMalformed) || applied {
				t.Errorf("Apply: got %v, %v; want false, an ErrMalformed error", applied, err)
			}
		})
	}
	checkDiff(t, "aggregates after malformed events", analyticstest.Dump(t, a), before)
	if got := a.Stats(); got.Malformed != uint64(len(tests)) || got.Applied != 2 {
		t.Errorf("stats: got %+v, want %d malformed and 2 applied", got, len(tests))
	}
	// The same ids, well formed, are applied: a rejected event leaves no trace.
	if applied, err := a.Apply(t.Context(), 1000, view("bad", time.Minute, "prd_a", "COSRX", "skincare", "AE")); err != nil || !applied {
		t.Errorf("Apply of a good event after bad ones with its id: got %v, %v; want true, nil", applied, err)
	}
}
