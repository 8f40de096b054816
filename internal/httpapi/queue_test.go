package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

type queueStatus struct {
	Ticket         string `json:"ticket"`
	State          string `json:"state"`
	Position       int64  `json:"position"`
	Ahead          int64  `json:"ahead"`
	AdmissionToken string `json:"admission_token"`
	Poll           string `json:"poll"`
}

// TestQueueAPI plays a protected sale through the API: no order without
// an admission, places in arrival order, a token admits one order of its
// cart, and every answer matches the OpenAPI document.
func TestQueueAPI(t *testing.T) {
	f := newRoomFixture(t)
	a := &openAPICheck{t: t, f: f, v: newOpenAPIValidator(t)}
	p := f.product(100, 5000)
	ctx := t.Context()

	// Without a protected sale the room is open.
	a.do(openAPICall{method: "GET", path: "/api/v1/queue", want: 404})
	body, _ := a.do(openAPICall{method: "POST", path: "/api/v1/queue", want: 201})
	if st := decodeJSON[queueStatus](t, body); st.State != "open" {
		t.Fatalf("no protected sale: state %q, want open", st.State)
	}
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)), want: 201})

	now := f.clock()
	_, err := f.catalog.ScheduleSale(ctx, catalog.SaleInput{Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"},
		StartsAt: now.Add(time.Minute), EndsAt: now.Add(time.Hour), Protected: true,
		Items: []catalog.SaleItem{{ProductID: p.ID, DiscountPercent: 30}}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = a.do(openAPICall{method: "POST", path: "/api/v1/queue", want: 201})
	early := decodeJSON[queueStatus](t, body)
	if early.State != "early" || early.Poll == "" {
		t.Fatalf("before the start: %+v, want early with a poll link", early)
	}
	a.do(openAPICall{method: "GET", path: "/api/v1/queue", want: 200})
	a.do(openAPICall{method: "GET", path: "/api/v1/queue/draw", want: 404})
	// Before the start checkout is not gated.
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)), want: 201})

	f.advance(time.Minute)
	if _, err := f.room.Tick(ctx, time.Second); err != nil { // the draw; 2 admissions a second
		t.Fatal(err)
	}
	a.do(openAPICall{method: "GET", path: "/api/v1/queue/draw", want: 200})
	body, _ = a.do(openAPICall{method: "GET", path: "/api/v1/queue", want: 200})
	if !strings.Contains(string(body), `"seed":"`) {
		t.Errorf("after the start the seed is not published: %s", body)
	}
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)), want: 429})
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)),
		header: []string{AdmissionHeader, "v1.forged"}, want: 403})

	var tickets []string
	for range 3 {
		body, _ := a.do(openAPICall{method: "POST", path: "/api/v1/queue", body: map[string]any{}, want: 201})
		tickets = append(tickets, decodeJSON[queueStatus](t, body).Ticket)
	}
	status := func(ticket, cart string) queueStatus {
		path := "/api/v1/queue/" + ticket
		if cart != "" {
			path += "?cart_id=" + cart
		}
		body, _ := a.do(openAPICall{method: "GET", path: path, want: 200})
		return decodeJSON[queueStatus](t, body)
	}
	if st := status(early.Ticket, ""); st.State != "admitted" || st.Position != 1 {
		t.Fatalf("the early arrival after the draw: %+v, want admitted at position 1", st)
	}
	for i, tk := range tickets {
		if st := status(tk, ""); st.State != "waiting" || st.Position != int64(i+2) || st.Ahead != int64(i+1) {
			t.Errorf("arrival %d: %s, position %d, ahead %d; want waiting, %d, %d", i, st.State, st.Position, st.Ahead, i+2, i+1)
		}
	}
	if _, err := f.room.Tick(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	if st := status(tickets[2], ""); st.State != "waiting" || st.Ahead != 1 {
		t.Errorf("fourth in line after 3 admissions: %+v, want waiting, 1 ahead", st)
	}
	admitted := status(tickets[1], "")
	if admitted.State != "admitted" || admitted.AdmissionToken == "" {
		t.Fatalf("third in line after 3 admissions: %+v, want admitted with a token", admitted)
	}
	a.do(openAPICall{method: "GET", path: "/api/v1/queue/q_NOTATICKET", want: 404, outside: true})
	a.do(openAPICall{method: "POST", path: "/api/v1/queue", body: map[string]any{"cart_id": "cart.with.dots"}, want: 422, outside: true})
	a.do(openAPICall{method: "GET", path: "/api/v1/queue/" + tickets[0] + "?wait=99", want: 400, outside: true})

	// The token admits one order without a cart (it was issued for none).
	token := []string{AdmissionHeader, admitted.AdmissionToken, "Idempotency-Key", "q-1"}
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)), header: token, want: 201})
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)), header: token, want: 201}) // replay
	token[3] = "q-2"
	body, _ = a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)), header: token, want: 403})
	if !strings.Contains(string(body), `"reason":"used"`) {
		t.Errorf("second order with one admission: %s, want reason used", body)
	}
	// A token for a cart admits that cart's order only; a failed attempt
	// (out of stock) gives it back.
	body, _ = a.do(openAPICall{method: "POST", path: "/api/v1/carts", body: map[string]any{"market": "AE"}, want: 201})
	cart := decodeJSON[struct{ ID string }](t, body).ID
	a.do(openAPICall{method: "POST", path: "/api/v1/carts/" + cart + "/items", body: item(p.ID, 1), want: 200})
	st := status(early.Ticket, cart)
	fromCart := orderBody()
	delete(fromCart, "items")
	fromCart["cart_id"] = cart
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)),
		header: []string{AdmissionHeader, st.AdmissionToken}, want: 403})
	a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: fromCart,
		header: []string{AdmissionHeader, st.AdmissionToken, "Idempotency-Key", "c-1"}, want: 201})
}

// TestQueueJoinHeld: an app's join with ?wait=N is held for news like a
// status poll, so it learns of its admission in one request; with an
// Idempotency-Key the same key gets the same ticket and place, so a join
// whose answer was lost is sent again without losing the place.
func TestQueueJoinHeld(t *testing.T) {
	f := newRoomFixture(t)
	a := &openAPICheck{t: t, f: f, v: newOpenAPIValidator(t)}
	p := f.product(100, 5000)
	ctx := t.Context()
	startProtectedSale(t, f, p) // no one admitted yet
	join := func(key string, want int) queueStatus {
		t.Helper()
		body, _ := a.do(openAPICall{method: "POST", path: "/api/v1/queue", header: []string{"Idempotency-Key", key}, want: want})
		return decodeJSON[queueStatus](t, body)
	}
	first := join("app-install-1-4f0c2a9e6d1b", 201)
	if first.State != "waiting" || first.Position != 1 {
		t.Fatalf("first join: %+v, want waiting at position 1", first)
	}
	if again := join("app-install-1-4f0c2a9e6d1b", 201); again.Ticket != first.Ticket || again.Position != 1 {
		t.Errorf("the same key again: ticket %s at %d, want %s at 1", again.Ticket, again.Position, first.Ticket)
	}
	if other := join("app-install-2-4f0c2a9e6d1b", 201); other.Ticket == first.Ticket || other.Position != 2 {
		t.Errorf("another key: ticket %s at %d, want a new ticket at 2", other.Ticket, other.Position)
	}
	body, _ := a.do(openAPICall{method: "GET", path: "/api/v1/queue/" + first.Ticket, want: 200})
	if st := decodeJSON[queueStatus](t, body); st.Position != 1 {
		t.Errorf("the key's ticket polled: position %d, want 1", st.Position)
	}

	// A held join: answered once the queue reaches it, not before.
	held := make(chan queueStatus, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", f.url+"/api/v1/queue?wait=20", nil)
		req.Header.Set("Idempotency-Key", "app-install-3-4f0c2a9e6d1b")
		resp, err := f.client.Do(req)
		if err != nil {
			t.Error(err)
			held <- queueStatus{}
			return
		}
		defer resp.Body.Close()
		var st queueStatus
		if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&st) != nil {
			t.Errorf("held join: status %d", resp.StatusCode)
		}
		held <- st
	}()
	// Wait until the held join holds position 3, then admit 4 (2 a
	// second): had it not been held, it would have answered "waiting".
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if _, err := f.room.Tick(ctx, 0); err != nil { // reads the queue, admits no one
			t.Fatal(err)
		}
		body, _ = a.do(openAPICall{method: "GET", path: "/api/v1/queue", want: 200})
		if decodeJSON[struct {
			Waiting int64 `json:"waiting"`
		}](t, body).Waiting == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the held join never took its place")
		}
	}
	select {
	case st := <-held:
		t.Fatalf("the join answered before its admission: %+v", st)
	default:
	}
	if _, err := f.room.Tick(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	st := <-held
	if st.State != "admitted" || st.Position != 3 || st.AdmissionToken == "" {
		t.Errorf("held join: %+v, want admitted at position 3 with a token", st)
	}

	a.do(openAPICall{method: "POST", path: "/api/v1/queue?wait=99", want: 400, outside: true})
	a.do(openAPICall{method: "POST", path: "/api/v1/queue", header: []string{"Idempotency-Key", strings.Repeat("k", 256)}, want: 400, outside: true})
	// A short key is a guessable one: whoever sends it takes the place.
	body, _ = a.do(openAPICall{method: "POST", path: "/api/v1/queue", header: []string{"Idempotency-Key", "1"}, want: 400, outside: true})
	if !strings.Contains(string(body), "at least 22 characters") {
		t.Errorf("a one-character join key: %s, want a problem saying how long a key must be", body)
	}
}

// startProtectedSale schedules a protected sale of p starting in a minute,
// moves the clock to its start and ticks the room once (the start; no one
// admitted yet).
func startProtectedSale(t *testing.T, f *fixture, p souq.Product) {
	t.Helper()
	now := f.clock()
	if _, err := f.catalog.ScheduleSale(t.Context(), catalog.SaleInput{Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"},
		StartsAt: now.Add(time.Minute), EndsAt: now.Add(time.Hour), Protected: true,
		Items: []catalog.SaleItem{{ProductID: p.ID, DiscountPercent: 30}}}); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Minute)
	if _, err := f.room.Tick(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
}

// TestQueueKeyAfterOrder: a join key's place is the same on every join,
// so once an order used its admission a join with that key answers 409
// (join with a new key), not an admission already spent, which would
// send the app round between the join and a 403 for ever; a new key
// queues again.
func TestQueueKeyAfterOrder(t *testing.T) {
	f := newRoomFixture(t)
	a := &openAPICheck{t: t, f: f, v: newOpenAPIValidator(t)}
	p := f.product(100, 5000)
	ctx := t.Context()
	startProtectedSale(t, f, p)
	const key = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	join := func(key string, want int) []byte {
		t.Helper()
		body, _ := a.do(openAPICall{method: "POST", path: "/api/v1/queue", header: []string{"Idempotency-Key", key}, want: want})
		return body
	}
	join(key, 201)
	if _, err := f.room.Tick(ctx, time.Second); err != nil { // admits 2
		t.Fatal(err)
	}
	st := decodeJSON[queueStatus](t, join(key, 201))
	if st.State != "admitted" || st.AdmissionToken == "" {
		t.Fatalf("the key's place reached: %+v, want admitted with a token", st)
	}
	order := func(token, orderKey string, want int) {
		t.Helper()
		a.do(openAPICall{method: "POST", path: "/api/v1/orders", body: orderBody(item(p.ID, 1)),
			header: []string{AdmissionHeader, token, "Idempotency-Key", orderKey}, want: want})
	}
	order(st.AdmissionToken, "order-1", 201)
	body := join(key, 409)
	if !strings.Contains(string(body), "join with a new Idempotency-Key") {
		t.Errorf("the key joined again after its order: %s, want a problem telling to join with a new key", body)
	}
	order(st.AdmissionToken, "order-1", 201) // the order's own retry still answers
	const newKey = "0b6f7b52-8a3e-4d55-9a51-6a1f7c2d0e11"
	if again := decodeJSON[queueStatus](t, join(newKey, 201)); again.Position != 2 {
		t.Fatalf("a new key: %+v, want a new place, 2", again)
	}
	if _, err := f.room.Tick(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	again := decodeJSON[queueStatus](t, join(newKey, 201))
	if again.State != "admitted" || again.AdmissionToken == "" || again.AdmissionToken == st.AdmissionToken {
		t.Fatalf("the new key's place reached: %+v, want admitted with a new token", again)
	}
	order(again.AdmissionToken, "order-2", 201)
}
