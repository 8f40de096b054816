package waitroom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/souq"
)

// fakeShop is the catalogue and stock a room reads, on a clock the test
// moves.
type fakeShop struct {
	mu    sync.Mutex
	now   time.Time
	sale  souq.Sale
	stock map[souq.ID]int
}

func (f *fakeShop) CurrentSale(context.Context) (souq.Sale, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sale, f.sale.ID != "" && f.now.Before(f.sale.EndsAt), nil
}

func (f *fakeShop) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeShop) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *fakeShop) setStock(id souq.ID, n int) {
	f.mu.Lock()
	f.stock[id] = n
	f.mu.Unlock()
}

func (f *fakeShop) Stocks(_ context.Context, ids []souq.ID) (map[souq.ID]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[souq.ID]int{}
	for _, id := range ids {
		if n, ok := f.stock[id]; ok {
			out[id] = n
		}
	}
	return out, nil
}

var saleStart = time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC)

func newShop() *fakeShop {
	return &fakeShop{
		now: saleStart.Add(-10 * time.Minute),
		sale: souq.Sale{ID: "sale_wf", Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"}, Protected: true,
			StartsAt: saleStart, EndsAt: saleStart.Add(2 * time.Hour),
			Prices: map[souq.ID]map[souq.MarketCode]int64{"prd_1": {souq.AE: 100}, "prd_2": {souq.AE: 200}}},
		stock: map[souq.ID]int{"prd_1": 1000, "prd_2": 1000},
	}
}

func testKeys(t *testing.T, secrets ...string) *Keys {
	t.Helper()
	if len(secrets) == 0 {
		secrets = []string{"a secret of at least thirty-two bytes, for tests"}
	}
	bs := make([][]byte, len(secrets))
	for i, s := range secrets {
		bs[i] = []byte(s)
	}
	k, err := NewKeys(bs...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newRoom(t *testing.T, shop *fakeShop, state State, cfg ControllerConfig) *Room {
	t.Helper()
	r, err := New(Config{Sales: shop, Stocks: shop.Stocks, State: state, Keys: testKeys(t), Controller: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func visit(t *testing.T, r *Room, visitor string, cart souq.ID) Status {
	t.Helper()
	st, err := r.Visit(t.Context(), visitor, cart, 0)
	if err != nil {
		t.Fatalf("Visit(%s): %v", visitor, err)
	}
	return st
}

func tick(t *testing.T, r *Room, dt time.Duration) {
	t.Helper()
	if _, err := r.Tick(t.Context(), dt); err != nil {
		t.Fatalf("Tick: %v", err)
	}
}

// TestAdmissionOrder: no shopper is admitted before one who arrived
// earlier, across three replicas sharing the queue, whatever rate each
// replica admits at.
func TestAdmissionOrder(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	state := NewMemState()
	rooms := []*Room{
		newRoom(t, shop, state, ControllerConfig{Initial: 3, Max: 3}),
		newRoom(t, shop, state, ControllerConfig{Initial: 7, Max: 7}),
		newRoom(t, shop, state, ControllerConfig{Initial: 13, Max: 13}),
	}
	const shoppers = 300
	arrived := map[string]time.Time{}
	admitted := map[string]time.Time{}
	var waiting []string
	for i := 0; len(admitted) < shoppers; i++ {
		if i < shoppers { // one arrival every 100 ms, on a replica in turn
			v := fmt.Sprintf("shopper-%03d", i)
			arrived[v] = shop.Now()
			waiting = append(waiting, v)
		}
		if i%3 == 0 {
			tick(t, rooms[(i/3)%3], 300*time.Millisecond)
		}
		still := waiting[:0]
		for j, v := range waiting { // every waiting shopper refreshes
			if st := visit(t, rooms[j%3], v, ""); st.State == StateAdmitted {
				admitted[v] = shop.Now()
			} else {
				still = append(still, v)
			}
		}
		waiting = still
		shop.advance(100 * time.Millisecond)
		if i > 100000 {
			t.Fatalf("only %d of %d admitted", len(admitted), shoppers)
		}
	}
	for a := range arrived {
		for b := range arrived {
			if arrived[a].Before(arrived[b]) && admitted[b].Before(admitted[a]) {
				t.Fatalf("%s arrived at %v, before %s (%v), but was admitted later (%v > %v)",
					a, arrived[a], b, arrived[b], admitted[a], admitted[b])
			}
		}
	}
}

// TestDrawIsSeeded: early arrivals are ordered by the draw numbers of the
// published seed, which anyone can recompute.
func TestDrawIsSeeded(t *testing.T) {
	shop := newShop()
	r := newRoom(t, shop, NewMemState(), ControllerConfig{})
	var visitors []string
	for i := range 40 {
		v := fmt.Sprintf("early-%02d", i)
		visitors = append(visitors, v)
		if st := visit(t, r, v, ""); st.State != StateEarly {
			t.Fatalf("before the start: state %s, want early", st.State)
		}
	}
	sum, _, err := r.Summary(t.Context())
	if err != nil || sum.Seed != nil || len(sum.Commitment) != 32 {
		t.Fatalf("before the start: seed %x (commitment %x, err %v); want the commitment only", sum.Seed, sum.Commitment, err)
	}
	shop.now = saleStart
	tick(t, r, time.Second)
	sum, _, _ = r.Summary(t.Context())
	if sum.Seed == nil {
		t.Fatal("after the start the seed is not published")
	}
	slices.SortFunc(visitors, func(a, b string) int {
		da, db := Draw(sum.Seed, a), Draw(sum.Seed, b)
		switch {
		case da < db:
			return -1
		case da > db:
			return 1
		}
		return 0
	})
	for i, v := range visitors {
		if st := visit(t, r, v, ""); st.Position != int64(i+1) {
			t.Errorf("%s: position %d, want %d from the published seed", v, st.Position, i+1)
		}
	}
	numbers, err := r.DrawNumbers(t.Context())
	if err != nil || len(numbers) != 40 || !slices.IsSorted(numbers) {
		t.Errorf("DrawNumbers = %d numbers (sorted %v), %v; want 40 sorted", len(numbers), slices.IsSorted(numbers), err)
	}
}

func TestTokens(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	r := newRoom(t, shop, NewMemState(), ControllerConfig{Initial: 100})
	ctx := t.Context()
	visit(t, r, "v1", "")
	tick(t, r, time.Second)
	st := visit(t, r, "v1", "cart_1")
	if st.State != StateAdmitted || st.Token == "" {
		t.Fatalf("status %+v, want admitted with a token", st)
	}
	other := testKeys(t, "another secret of at least thirty-two bytes!!")
	forged := other.Issue(Admission{Sale: "sale_wf", Cart: "cart_1", Expires: shop.Now().Add(time.Minute)})
	tampered := st.Token[:len(st.Token)-1] + "A"
	if tampered == st.Token {
		tampered = st.Token[:len(st.Token)-1] + "B"
	}
	expired := r.cfg.Keys.Issue(Admission{Sale: "sale_wf", Cart: "cart_1", Expires: shop.Now()})
	otherSale := r.cfg.Keys.Issue(Admission{Sale: "sale_other", Cart: "cart_1", Expires: shop.Now().Add(time.Minute)})
	for _, tt := range []struct {
		name, token string
		cart        souq.ID
		kind        error
		reason      string
	}{
		{"no token", "", "cart_1", souq.ErrQueued, ""},
		{"garbage", "not-a-token", "cart_1", souq.ErrForbidden, "malformed"},
		{"signed with another secret", forged, "cart_1", souq.ErrForbidden, "forged"},
		{"signature altered", tampered, "cart_1", souq.ErrForbidden, "forged"},
		{"expired", expired, "cart_1", souq.ErrForbidden, "expired"},
		{"another sale", otherSale, "cart_1", souq.ErrForbidden, "other_sale"},
		{"another cart", st.Token, "cart_2", souq.ErrForbidden, "other_cart"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Admit(ctx, tt.token, tt.cart, "key-1")
			var e *souq.Error
			if !errors.Is(err, tt.kind) || !errors.As(err, &e) || (tt.reason != "" && e.Extra["reason"] != tt.reason) {
				t.Fatalf("Admit = %v (%+v), want %v with reason %q", err, e, tt.kind, tt.reason)
			}
		})
	}
	done, err := r.Admit(ctx, st.Token, "cart_1", "key-1")
	if err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	done(true)
	if _, err := r.Admit(ctx, st.Token, "cart_1", "key-1"); err != nil {
		t.Errorf("the same request retried (same Idempotency-Key) refused: %v", err)
	}
	if _, err := r.Admit(ctx, st.Token, "cart_1", "key-2"); !errors.Is(err, souq.ErrForbidden) {
		t.Errorf("token reused for a second order: %v, want 403", err)
	}
	// A new token for the same place is the same admission: refused too.
	again := visit(t, r, "v1", "cart_1")
	if _, err := r.Admit(ctx, again.Token, "cart_1", "key-3"); !errors.Is(err, souq.ErrForbidden) {
		t.Errorf("a second token of the same place admitted a second order: %v", err)
	}
	// An attempt that placed no order gives the admission back.
	visit(t, r, "v2", "")
	tick(t, r, time.Second)
	st2 := visit(t, r, "v2", "cart_2")
	done, err = r.Admit(ctx, st2.Token, "cart_2", "key-a")
	if err != nil {
		t.Fatal(err)
	}
	done(false)
	if _, err := r.Admit(ctx, st2.Token, "cart_2", "key-b"); err != nil {
		t.Errorf("after a failed attempt the admission was not given back: %v", err)
	}
	// Rotation: a token signed before a new secret was put first still
	// verifies while the old secret is kept.
	rotated := testKeys(t, "the next secret, at least thirty-two bytes long", "a secret of at least thirty-two bytes, for tests")
	if _, err := rotated.Verify(st.Token, shop.Now()); err != nil {
		t.Errorf("token of the previous secret refused after rotation: %v", err)
	}
	// Outside a running protected sale, checkout is open.
	shop.sale.Protected = false
	if _, err := r.Admit(ctx, "", "cart_1", ""); err != nil {
		t.Errorf("unprotected sale: %v", err)
	}
}

// ttlState is a MemState that records the lifetime of the last claim.
type ttlState struct {
	*MemState
	ttl time.Duration
}

func (s *ttlState) Claim(ctx context.Context, sale, nonce, key string, ttl time.Duration) (bool, error) {
	s.ttl = ttl
	return s.MemState.Claim(ctx, sale, nonce, key, ttl)
}

// TestClaimOutlivesThePlace: every visit of an admitted place gives a
// fresh token with the same nonce and a later expiry, and a place is kept
// for as long as its visitor comes back within the grace period. The
// claim an order makes must therefore last as long as the sale is
// protected (and a window after), not only as long as the token it came
// with: after that token's expiry the place would get a new token and
// order again.
func TestClaimOutlivesThePlace(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	state := &ttlState{MemState: NewMemState()}
	r := newRoom(t, shop, state, ControllerConfig{Initial: 100})
	visit(t, r, "v1", "")
	tick(t, r, time.Second)
	st := visit(t, r, "v1", "")
	done, err := r.Admit(t.Context(), st.Token, "", "order-1")
	if err != nil {
		t.Fatal(err)
	}
	done(true)
	if want := shop.sale.EndsAt.Add(r.cfg.Window).Sub(shop.Now()); state.ttl < want {
		t.Errorf("the claim lasts %v, want at least %v: until a window after the sale ends", state.ttl, want)
	}
	if used, err := r.Used(t.Context(), "v1", visit(t, r, "v1", "")); err != nil || !used {
		t.Errorf("the place visited again after its order: used %v, %v; want true", used, err)
	}
}

// TestTokenAdmittedTime: a token carries when its place was admitted, to
// the millisecond; altering it breaks the signature; a token of the last
// version (v1, without it) still admits.
func TestTokenAdmittedTime(t *testing.T) {
	k := testKeys(t)
	now := saleStart
	admitted := saleStart.Add(-1234 * time.Millisecond)
	tok := k.Issue(Admission{Sale: "sale_wf", Cart: "cart_1", Nonce: "n1", Expires: now.Add(time.Minute), Admitted: admitted})
	a, err := k.Verify(tok, now)
	if err != nil || !a.Admitted.Equal(admitted) || a.Nonce != "n1" || a.Cart != "cart_1" {
		t.Fatalf("Verify = %+v, %v; want admitted at %v", a, err, admitted)
	}
	parts := strings.Split(tok, ".")
	parts[6] = strconv.FormatInt(admitted.Add(time.Second).UnixMilli(), 10)
	if _, err := k.Verify(strings.Join(parts, "."), now); !errors.Is(err, ErrTokenForged) {
		t.Errorf("admission time altered: %v, want %v", err, ErrTokenForged)
	}
	parts[6] = strconv.FormatInt(now.Add(time.Hour).UnixMilli(), 10) // after its expiry
	if _, err := k.Verify(strings.Join(parts, "."), now); !errors.Is(err, ErrTokenMalformed) {
		t.Errorf("admission time after the expiry: %v, want %v", err, ErrTokenMalformed)
	}
	parts[6] = "-5"
	if _, err := k.Verify(strings.Join(parts, "."), now); !errors.Is(err, ErrTokenMalformed) {
		t.Errorf("negative admission time: %v, want %v", err, ErrTokenMalformed)
	}
	body := strings.Join([]string{"v1", k.keys[0].id, "sale_wf", "cart_1", "n1", strconv.FormatInt(now.Add(time.Minute).Unix(), 10)}, ".")
	if a, err := k.Verify(body+"."+sign(k.keys[0].mac, body), now); err != nil || !a.Admitted.IsZero() || a.Nonce != "n1" {
		t.Errorf("v1 token: %+v, %v; want valid, admission time unknown", a, err)
	}
	if a, err := k.Verify(k.Issue(Admission{Sale: "sale_wf", Expires: now.Add(time.Minute)}), now); err != nil || !a.Admitted.IsZero() {
		t.Errorf("token without an admission time: %+v, %v", a, err)
	}
}

// TestTokenVersionForRollout: keys told to issue the last version (v1)
// issue exactly what a replica of that release issues and verifies (so its
// replicas take them during a rolling upgrade), while taking v2 tokens
// too; the keys they came from still issue v2; no other version is taken.
func TestTokenVersionForRollout(t *testing.T) {
	k := testKeys(t)
	now := saleStart
	exp := now.Add(time.Minute)
	k1, err := k.WithVersion(1)
	if err != nil {
		t.Fatal(err)
	}
	tok := k1.Issue(Admission{Sale: "sale_wf", Cart: "cart_1", Nonce: "n1", Expires: exp, Admitted: now.Add(-time.Second)})
	body := strings.Join([]string{"v1", k.keys[0].id, "sale_wf", "cart_1", "n1", strconv.FormatInt(exp.Unix(), 10)}, ".")
	if want := body + "." + sign(k.keys[0].mac, body); tok != want {
		t.Errorf("v1 keys issued %q, want the last release's format %q", tok, want)
	}
	for _, c := range []struct {
		name string
		keys *Keys
		tok  string
	}{
		{"v2 keys, v1 token", k, tok},
		{"v1 keys, v1 token", k1, tok},
		{"v1 keys, v2 token", k1, k.Issue(Admission{Sale: "sale_wf", Cart: "cart_1", Nonce: "n1", Expires: exp})},
	} {
		if a, err := c.keys.Verify(c.tok, now); err != nil || a.Nonce != "n1" || a.Cart != "cart_1" {
			t.Errorf("%s: %+v, %v; want valid", c.name, a, err)
		}
	}
	if got := k.Issue(Admission{Sale: "sale_wf", Expires: exp}); !strings.HasPrefix(got, "v2.") {
		t.Errorf("the keys v1 keys came from issued %q, want v2", got)
	}
	if k2, err := k1.WithVersion(2); err != nil || !strings.HasPrefix(k2.Issue(Admission{Sale: "sale_wf", Expires: exp}), "v2.") {
		t.Errorf("WithVersion(2): %v, want keys issuing v2", err)
	}
	for _, v := range []int{0, 3} {
		if _, err := k.WithVersion(v); err == nil {
			t.Errorf("WithVersion(%d): no error", v)
		}
	}
}

// TestKeyTickets: an app's join key stands for one ticket under the
// signing secret: the same on every replica, another for another key or
// another secret, and in the tickets' alphabet.
func TestKeyTickets(t *testing.T) {
	k := testKeys(t)
	same, err := NewKeys(bytes.Repeat([]byte("s"), MinSecretLength))
	if err != nil {
		t.Fatal(err)
	}
	again, err := NewKeys(bytes.Repeat([]byte("s"), MinSecretLength))
	if err != nil {
		t.Fatal(err)
	}
	a := same.Ticket("app-1")
	if len(a) != 26 || strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Errorf("ticket %q: want 26 base32 characters", a)
	}
	if b := again.Ticket("app-1"); b != a {
		t.Errorf("the same key and secret on another replica: %q, want %q", b, a)
	}
	if b := same.Ticket("app-2"); b == a {
		t.Errorf("another key: %q, the same ticket", b)
	}
	if b := k.Ticket("app-1"); b == a {
		t.Errorf("another secret: %q, the same ticket", b)
	}
}

// TestCheckoutMeasuresDeadTime: a shopper's token says when the queue
// reached its place, and its checkout reports to the controller the time
// from then to the checkout's end.
func TestCheckoutMeasuresDeadTime(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	r := newRoom(t, shop, NewMemState(), ControllerConfig{Initial: 100})
	tick(t, r, 0)
	visit(t, r, "v1", "")
	tick(t, r, time.Second) // admits v1 at saleStart
	admittedAt := shop.Now()
	shop.advance(1500 * time.Millisecond)
	st := visit(t, r, "v1", "cart_1")
	if st.State != StateAdmitted {
		t.Fatalf("status %+v, want admitted", st)
	}
	a, err := r.cfg.Keys.Verify(st.Token, shop.Now())
	if err != nil || !a.Admitted.Equal(admittedAt) {
		t.Fatalf("token says admitted at %v (%v), want %v: the tick that admitted the place", a.Admitted, err, admittedAt)
	}
	shop.advance(500 * time.Millisecond)
	if err := r.Checkout(t.Context(), st.Token, "cart_1", "k", func() (bool, error) { return true, nil }); err != nil {
		t.Fatal(err)
	}
	o := r.monitor.Take()
	if o.Checkouts != 1 || o.Delay < 2*time.Second || o.Delay > 3*time.Second {
		t.Errorf("observation %+v, want 1 checkout with a dead time of 2s (and the checkout's own few ms)", o)
	}
}

// TestAdmittedByAnotherReplica: a replica that learns of an admission from
// the shared state before its own tick has seen the head move (another
// replica admitted the place since) dates the admission now, not never:
// otherwise every token of a queue that moves faster than it is joined
// carried no admission time, and checkout measured no dead time.
func TestAdmittedByAnotherReplica(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	state := NewMemState()
	admitting := newRoom(t, shop, state, ControllerConfig{Initial: 10, Max: 10})
	queue, err := New(Config{Sales: shop, Stocks: shop.Stocks, State: state, Keys: admitting.cfg.Keys, QueueOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	tick(t, admitting, 0)
	tick(t, queue, 0)
	visit(t, queue, "v1", "")
	shop.advance(time.Second)
	tick(t, admitting, time.Second) // admits v1; the queue replica has not ticked since
	shop.advance(100 * time.Millisecond)
	st := visit(t, queue, "v1", "cart_1")
	a, err := admitting.cfg.Keys.Verify(st.Token, shop.Now())
	if err != nil || st.State != StateAdmitted || !a.Admitted.Equal(shop.Now()) {
		t.Errorf("status %s, token admitted at %v (%v); want admitted, dated now (%v)", st.State, a.Admitted, err, shop.Now())
	}
	// Once the queue replica's tick has seen it, the tick dates it.
	visit(t, queue, "v2", "")
	shop.advance(time.Second)
	tick(t, admitting, time.Second)
	admittedTick := shop.Now()
	shop.advance(100 * time.Millisecond)
	tick(t, queue, 100*time.Millisecond)
	shop.advance(time.Second)
	st = visit(t, queue, "v2", "cart_2")
	if a, err := admitting.cfg.Keys.Verify(st.Token, shop.Now()); err != nil || !a.Admitted.Equal(admittedTick.Add(100*time.Millisecond)) {
		t.Errorf("token admitted at %v (%v), want %v: the queue replica's first tick that saw it", a.Admitted, err, admittedTick.Add(100*time.Millisecond))
	}
}

// TestSoldOutNotice: every visit held waiting hears "sold out" on the
// tick that sees the stock gone, not when its wait times out.
func TestSoldOutNotice(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	state := &countingState{State: NewMemState()}
	r := newRoom(t, shop, state, ControllerConfig{Initial: 1, Max: 1})
	const n = 50
	results := holdVisits(t, r, n, func(int) souq.ID { return "" })
	shop.setStock("prd_1", 0)
	shop.setStock("prd_2", 0)
	joins := state.joins.Load()
	tick(t, r, 250*time.Millisecond)
	for range n {
		select {
		case st := <-results:
			if st.State != StateSoldOut {
				t.Errorf("state %s, want sold_out", st.State)
			}
		case <-time.After(MaxWait / 2):
			t.Fatal("a waiting visit was not told the sale sold out")
		}
	}
	// The news is answered from the replica's own knowledge: a queue of
	// 100,000 must not make 100,000 trips to the shared state at once.
	if d := state.joins.Load() - joins; d != 0 {
		t.Errorf("telling %d waiting visits the sale sold out joined the shared state %d times, want 0", n, d)
	}
}

// TestAdmissionNotice: a visit held waiting whose place the queue reaches
// is answered with its token from the replica's own knowledge (it knows
// the place and the head), without another trip to the shared state: a
// replica that serves the queue answers a thousand admissions a second,
// and a trip each was a third of its work.
func TestAdmissionNotice(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	state := &countingState{State: NewMemState()}
	r := newRoom(t, shop, state, ControllerConfig{Initial: 20, Max: 20})
	tick(t, r, 0)
	const n = 20
	results := holdVisits(t, r, n, func(i int) souq.ID { return souq.ID(fmt.Sprint("cart_", i)) })
	joins := state.joins.Load()
	tick(t, r, time.Second) // admits all n (20 a second)
	for range n {
		select {
		case st := <-results:
			if st.State != StateAdmitted || st.Token == "" {
				t.Fatalf("status %+v, want admitted with a token", st)
			}
			if a, err := r.cfg.Keys.Verify(st.Token, shop.Now()); err != nil || !a.Admitted.Equal(shop.Now()) {
				t.Errorf("token says admitted at %v (%v), want %v: the tick that admitted it", a.Admitted, err, shop.Now())
			}
			cart := souq.ID(fmt.Sprint("cart_", st.Position-1))
			if _, err := r.Admit(t.Context(), st.Token, cart, "k"); err != nil {
				t.Errorf("the token of position %d does not admit its cart %s: %v", st.Position, cart, err)
			}
		case <-time.After(MaxWait / 2):
			t.Fatal("a waiting visit was not told it was admitted")
		}
	}
	if d := state.joins.Load() - joins; d != 0 {
		t.Errorf("telling %d waiting visits they were admitted joined the shared state %d times, want 0", n, d)
	}
	// The token is the one a fresh visit gives: the same admission.
	st := visit(t, r, "w0", "cart_0")
	if _, err := r.Admit(t.Context(), st.Token, "cart_0", "k"); err != nil {
		t.Errorf("a fresh visit's token for the same place, same key: %v", err)
	}
	if _, err := r.Admit(t.Context(), st.Token, "cart_0", "other-key"); !errors.Is(err, souq.ErrForbidden) {
		t.Errorf("a fresh visit's token for the same place admitted a second order: %v", err)
	}
}

// holdVisits gives visitors w0…w(n-1) their places, then holds a visit of
// each waiting for news (for the cart cart(i)), and returns once all n are
// held; each visit's status arrives on the channel when it returns.
func holdVisits(t *testing.T, r *Room, n int, cart func(i int) souq.ID) <-chan Status {
	t.Helper()
	for i := range n {
		visit(t, r, fmt.Sprint("w", i), "")
	}
	results := make(chan Status, n)
	for i := range n {
		go func() {
			st, err := r.Visit(t.Context(), fmt.Sprint("w", i), cart(i), MaxWait)
			if err != nil {
				t.Error(err)
			}
			results <- st
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.waiters.len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d visits waiting", r.waiters.len(), n)
		}
		time.Sleep(time.Millisecond)
	}
	return results
}

// countingState counts the joins a room makes.
type countingState struct {
	State
	joins atomic.Int64
}

func (c *countingState) Join(ctx context.Context, sale, visitor string, draw uint64, now, start time.Time, grace time.Duration) (Place, Queue, error) {
	c.joins.Add(1)
	return c.State.Join(ctx, sale, visitor, draw, now, start, grace)
}

// TestStockFactor: admission stops while unused admissions outnumber k ×
// the units left.
func TestStockFactor(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	shop.setStock("prd_1", 3)
	shop.setStock("prd_2", 2)
	r := newRoom(t, shop, NewMemState(), ControllerConfig{Initial: 1000, Max: 1000})
	for i := range 100 {
		visit(t, r, fmt.Sprint("s", i), "")
	}
	for range 5 {
		tick(t, r, time.Second)
		shop.advance(time.Second)
	}
	if q := r.q; q.Head != 10 {
		t.Errorf("admitted %d with 5 units left and k=2, want 10", q.Head)
	}
}

// TestStockFactorOwesNothing: admissions the stock held back are not
// owed once units come back: the rate, not a backlog, decides.
func TestStockFactorOwesNothing(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	shop.setStock("prd_1", 1)
	shop.setStock("prd_2", 0)
	r := newRoom(t, shop, NewMemState(), ControllerConfig{Initial: 10, Max: 10})
	for i := range 100 {
		visit(t, r, fmt.Sprint("s", i), "")
	}
	tick(t, r, time.Second)
	if r.q.Head != 2 {
		t.Fatalf("admitted %d with 1 unit left and k=2, want 2", r.q.Head)
	}
	shop.setStock("prd_1", 1000)
	shop.advance(time.Hour) // the window's admissions are history
	tick(t, r, time.Second)
	if r.q.Head != 12 {
		t.Errorf("after the stock came back: head %d, want 12 (one second at 10/s, nothing owed, nothing withheld)", r.q.Head)
	}
}

// TestWaitMetric: an admitted position's wait runs from when the queue's
// tail reached it to its admission.
func TestWaitMetric(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	reg := prometheus.NewRegistry()
	r, err := New(Config{Sales: shop, Stocks: shop.Stocks, State: NewMemState(), Keys: testKeys(t), Registry: reg,
		Controller: ControllerConfig{Initial: 1, Max: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		visit(t, r, fmt.Sprint("w", i), "")
	}
	tick(t, r, time.Second) // admits the first at once
	shop.advance(10 * time.Second)
	tick(t, r, time.Second) // the second, 10 s after it joined
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "souq_waitroom_wait_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			if h.GetSampleCount() != 2 || h.GetSampleSum() != 10 {
				t.Errorf("wait: %d samples summing to %g s, want 2 summing to 10", h.GetSampleCount(), h.GetSampleSum())
			}
			return
		}
	}
	t.Fatal("souq_waitroom_wait_seconds not registered")
}

// TestQueueOnlyReplica: a replica configured to serve the queue but not
// checkout (QueueOnly) never moves the head, whatever its controller's
// rate; it still tells its visitors when another replica admits them and
// when the sale sells out.
func TestQueueOnlyReplica(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	state := NewMemState()
	queue, err := New(Config{Sales: shop, Stocks: shop.Stocks, State: state, Keys: testKeys(t),
		Controller: ControllerConfig{Initial: 1000, Max: 1000}, QueueOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	checkout := newRoom(t, shop, state, ControllerConfig{Initial: 4, Max: 4})
	for i := range 20 {
		visit(t, queue, fmt.Sprint("v", i), "")
	}
	for range 8 {
		tick(t, queue, 250*time.Millisecond)
		shop.advance(250 * time.Millisecond)
	}
	if st := visit(t, queue, "v0", ""); st.State != StateWaiting {
		t.Fatalf("after 2 s of a queue-only replica's ticks at rate 1000, the first visitor is %s, want waiting", st.State)
	}
	tick(t, checkout, time.Second) // 4 admitted
	tick(t, queue, 250*time.Millisecond)
	for i := range 20 {
		want := StateWaiting
		if i < 4 {
			want = StateAdmitted
		}
		if st := visit(t, queue, fmt.Sprint("v", i), ""); st.State != want {
			t.Errorf("visitor %d on the queue-only replica after the checkout replica admitted 4: %s, want %s", i, st.State, want)
		}
	}
	shop.setStock("prd_1", 0)
	shop.setStock("prd_2", 0)
	tick(t, queue, 250*time.Millisecond)
	if st := visit(t, queue, "v10", ""); st.State != StateSoldOut {
		t.Errorf("after the stock ran out, a queue-only replica's visitor is %s, want sold_out", st.State)
	}
}

// TestPacedWakeUps: the visits a tick admits are woken in queue order and
// evenly over the spread, not all at once, so that they reach checkout as
// a stream; a later release continues from where the last one had got to.
func TestPacedWakeUps(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	r := newRoom(t, shop, NewMemState(), ControllerConfig{Initial: 40, Max: 40})
	const n = 60
	for i := range n {
		visit(t, r, fmt.Sprint("p", i), "")
	}
	woken := make(chan int64, n)
	for i := range n {
		go func() {
			st, err := r.Visit(t.Context(), fmt.Sprint("p", i), "", MaxWait)
			if err != nil {
				t.Error(err)
			}
			woken <- st.Position
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.waiters.len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d visits waiting", r.waiters.len(), n)
		}
		time.Sleep(time.Millisecond)
	}
	// receive takes the next k wake-ups and checks none more came.
	next := int64(1)
	receive := func(k int) {
		t.Helper()
		var got []int64
		for range k {
			select {
			case pos := <-woken:
				got = append(got, pos)
			case <-time.After(10 * time.Second):
				t.Fatalf("%d of %d visits woken", len(got), k)
			}
		}
		slices.Sort(got)
		for _, pos := range got {
			if pos != next {
				t.Fatalf("woke positions %v, want the %d from %d (queue order)", got, k, next)
			}
			next++
		}
		deadline := time.Now().Add(50 * time.Millisecond)
		for r.waiters.len() != n-int(next-1) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := n - r.waiters.len(); got != int(next-1) {
			t.Fatalf("%d visits woken, want %d", got, next-1)
		}
	}
	start := shop.Now()
	if _, err := r.tick(t.Context(), time.Second, time.Second); err != nil { // admits 40
		t.Fatal(err)
	}
	receive(0) // nothing at the tick itself
	r.waiters.step(start.Add(250 * time.Millisecond))
	receive(10)
	r.waiters.step(start.Add(500 * time.Millisecond))
	receive(10)
	shop.advance(500 * time.Millisecond)
	if _, err := r.tick(t.Context(), 500*time.Millisecond, time.Second); err != nil { // 20 more: 40 to wake
		t.Fatal(err)
	}
	r.waiters.step(start.Add(750 * time.Millisecond))
	receive(10) // a quarter of the 40 left
	r.waiters.step(start.Add(1500 * time.Millisecond))
	receive(30)
}

// TestStalledTickAdmitsNoBurst: a replica whose ticks stalled (here the
// clock jumps 10 s between two ticks) admits at most two ticks' worth
// when it resumes, not the 10 s its rate would have allowed at once.
func TestStalledTickAdmitsNoBurst(t *testing.T) {
	shop := newShop()
	shop.now = saleStart
	r, err := New(Config{Sales: shop, Stocks: shop.Stocks, State: NewMemState(), Keys: testKeys(t),
		Controller: ControllerConfig{Initial: 100, Max: 100}, Tick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		visit(t, r, fmt.Sprint("s", i), "")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	admitted := func() int64 {
		s, _, err := r.Summary(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return s.Admitted
	}
	// Let the room take the sale in (its first ticks admit nothing: the
	// clock stands still), then stall it for 10 s.
	deadline := time.Now().Add(10 * time.Second)
	ticked := func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.sale == shop.sale.ID
	}
	for !ticked() {
		if time.Now().After(deadline) {
			t.Fatal("the room did not tick")
		}
		time.Sleep(time.Millisecond)
	}
	shop.advance(10 * time.Second)
	for admitted() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("nothing admitted after the stall")
		}
		time.Sleep(time.Millisecond)
	}
	if got := admitted(); got > 2 { // 100/s × 2 × 10 ms
		t.Fatalf("%d admitted at once after a 10 s stall, want at most 2 (two ticks' worth)", got)
	}
}
