package waitroom

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/souq"
)

// Room defaults.
const (
	DefaultGrace       = 2 * time.Minute
	DefaultWindow      = 10 * time.Minute
	DefaultStockFactor = 2.0
	DefaultTick        = 250 * time.Millisecond
	// MaxWait is the longest a status request is held waiting for news.
	MaxWait = 25 * time.Second
)

// Sales is what the room reads of the catalogue.
type Sales interface {
	// CurrentSale returns the running sale, or else the next scheduled one.
	CurrentSale(ctx context.Context) (souq.Sale, bool, error)
	// Now is the shop's clock.
	Now() time.Time
}

// Config is what a Room is built from.
type Config struct {
	Sales Sales
	// Stocks reads the stock of the sale's products (catalog.Store.Stocks).
	Stocks func(ctx context.Context, ids []souq.ID) (map[souq.ID]int, error)
	State  State
	Keys   *Keys
	// Controller tunes the admission rate; its Max is this replica's
	// ceiling.
	Controller ControllerConfig
	// Grace is how long a visitor may be away and keep its place.
	Grace time.Duration
	// Window is how long an admission lasts: a token expires this long
	// after it is issued.
	Window time.Duration
	// StockFactor (k) stops admission while the admissions of the last
	// Window not yet used outnumber k × the units left: admitting more
	// shoppers than could buy is pointless.
	StockFactor float64
	// QueueOnly makes a replica that serves the queue but not checkout
	// (a load-balancer rule sends the queue's pages and API to a pool of
	// its own): it gives places, answers visits and notices a sold-out
	// sale, but never admits anyone. Admission follows measured checkout
	// capacity, which only the replicas serving checkout measure.
	QueueOnly bool
	// Tick is how often the room advances the queue and reads the stock.
	Tick     time.Duration
	Registry prometheus.Registerer
	Log      *slog.Logger
}

// Room is a protected sale's waiting room: it gives visitors their places,
// admits them at the rate checkout can take (Controller), tells them when
// the sale has sold out, and checks the admission of every checkout during
// the sale. Run drives it; every api replica runs one, sharing the State.
type Room struct {
	cfg     Config
	ctrl    *Controller
	monitor Monitor
	waiters waiters
	log     *slog.Logger
	metrics *roomMetrics

	mu        sync.Mutex
	sale      souq.ID
	q         Queue
	history   []sample // this sale's queue over the last Window, oldest first
	remaining int      // units of the sale's products left, -1 unknown
	soldOut   bool
	carry     float64 // fraction of an admission owed from earlier ticks
}

type sample struct {
	at               time.Time
	head, tail, used int64
}

// New returns a room; Run must be running for it to admit anyone.
func New(cfg Config) (*Room, error) {
	switch {
	case cfg.Sales == nil || cfg.Stocks == nil || cfg.State == nil || cfg.Keys == nil:
		return nil, errors.New("waiting room: Sales, Stocks, State and Keys are required")
	case cfg.Grace < 0 || cfg.Window < 0 || cfg.StockFactor < 0:
		return nil, errors.New("waiting room: grace, window and stock factor must not be negative")
	}
	if cfg.Grace == 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.StockFactor == 0 {
		cfg.StockFactor = DefaultStockFactor
	}
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultTick
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	r := &Room{cfg: cfg, ctrl: NewController(cfg.Controller), log: cfg.Log.With("component", "waitroom"), remaining: -1}
	r.waiters.init()
	r.metrics = newRoomMetrics(cfg.Registry, r)
	return r, nil
}

// Controller returns the room's admission controller.
func (r *Room) Controller() *Controller { return r.ctrl }

// Grace is how long a visitor may be away and keep its place.
func (r *Room) Grace() time.Duration { return r.cfg.Grace }

// protected returns the protected sale that has not ended, if any.
func (r *Room) protected(ctx context.Context) (souq.Sale, bool, error) {
	sale, ok, err := r.cfg.Sales.CurrentSale(ctx)
	if err != nil || !ok || !sale.Protected {
		return souq.Sale{}, false, err
	}
	return sale, true, nil
}

// Draw is an early arrival's draw number: the first 53 bits of
// SHA-256(seed ‖ visitor), so that anyone given the seed can recompute it.
func Draw(seed []byte, visitor string) uint64 {
	h := sha256.New()
	h.Write(seed)
	h.Write([]byte(visitor))
	return binary.BigEndian.Uint64(h.Sum(nil)) >> 11
}

// States of a visit.
const (
	StateOpen     = "open"     // no protected sale: no queue
	StateEarly    = "early"    // before the start: places are drawn at the start
	StateWaiting  = "waiting"  // in the queue
	StateAdmitted = "admitted" // may check out
	StateSoldOut  = "sold_out" // the sale's stock is gone
)

// Status is a visitor's view of the room.
type Status struct {
	State string
	Sale  souq.Sale
	// Position is the visitor's place, Ahead how many positions before it
	// are not admitted yet.
	Position, Ahead int64
	// WaitMin and WaitMax bound the estimated wait, from the rate at
	// which the queue moved lately; both 0 when it has not moved yet.
	WaitMin, WaitMax time.Duration
	// Token admits the cart the visit named, until TokenExpires.
	Token        string
	TokenExpires time.Time
	// Rejoined: the visitor had been away longer than the grace period
	// and lost its place.
	Rejoined bool
}

// Visit gives the visitor (an unguessable id held by its browser or app)
// its place and status. An admitted visitor's status carries a token for
// cart (for an order without a cart when cart is empty). With wait > 0 a
// visitor still waiting is held up to wait (at most MaxWait) for news:
// admission, the start, or the sale selling out.
func (r *Room) Visit(ctx context.Context, visitor string, cart souq.ID, wait time.Duration) (Status, error) {
	if len(cart) > 100 || strings.ContainsAny(string(cart), ". ") {
		return Status{}, souq.Errorf(souq.ErrInvalid, "cart_id %.100q is not a cart id", cart)
	}
	sale, ok, err := r.protected(ctx)
	if err != nil {
		return Status{}, err
	}
	if !ok {
		return Status{State: StateOpen}, nil
	}
	st, err := r.visit(ctx, sale, visitor, cart)
	if err != nil || wait <= 0 || (st.State != StateWaiting && st.State != StateEarly) {
		return st, err
	}
	timer := time.NewTimer(min(wait, MaxWait))
	defer timer.Stop()
	woke := r.waiters.add(st.Position)
	defer r.waiters.remove(woke)
	r.mu.Lock() // news between the visit and add would wake no one
	news := r.sale == sale.ID && (r.soldOut || (st.Position > 0 && r.q.Head >= st.Position) || (st.Position == 0 && r.q.Started))
	r.mu.Unlock()
	if news {
		return r.visit(ctx, sale, visitor, cart)
	}
	select {
	case <-woke.c:
	case <-timer.C:
	case <-ctx.Done():
		return st, nil
	}
	r.mu.Lock()
	soldOut := r.sale == sale.ID && r.soldOut
	admitted := r.sale == sale.ID && st.Position > 0 && r.q.Head >= st.Position
	r.mu.Unlock()
	switch {
	case soldOut:
		// The news of a sale selling out wakes every waiting visit at
		// once: answered from what this replica knows, without a trip
		// to the shared state each, so that a queue of 100,000 hears it
		// in a moment.
		st.State, st.Ahead, st.WaitMin, st.WaitMax = StateSoldOut, 0, 0, 0
		return st, nil
	case admitted:
		// Likewise an admission: the replica knows the place (the visit
		// just joined) and the head, and the token follows from them.
		st.Ahead, st.WaitMin, st.WaitMax = 0, 0, 0
		r.grant(&st, sale, visitor, cart, r.cfg.Sales.Now())
		return st, nil
	}
	return r.visit(ctx, sale, visitor, cart)
}

// Used reports whether the admission st gave visitor (an admitted
// status of Visit) is held by an order, placed or being placed: a visitor
// whose ticket comes from an app's join key gets the same place on every
// join, and with it an admission already spent.
func (r *Room) Used(ctx context.Context, visitor string, st Status) (bool, error) {
	if st.State != StateAdmitted {
		return false, nil
	}
	used, err := r.cfg.State.Claimed(ctx, string(st.Sale.ID), r.nonce(st.Sale.ID, visitor, st.Position))
	if err != nil {
		return false, fmt.Errorf("waiting room: claimed: %w", err)
	}
	return used, nil
}

// Ticket returns the ticket an app's join key stands for (Keys.Ticket):
// the same on every replica holding the same first secret.
func (r *Room) Ticket(key string) string { return r.cfg.Keys.Ticket(key) }

// grant makes st, the status of a place the queue has reached, admitted,
// with a token for cart.
func (r *Room) grant(st *Status, sale souq.Sale, visitor string, cart souq.ID, now time.Time) {
	r.mu.Lock()
	admitted := r.admittedAt(sale.ID, st.Position, now)
	r.mu.Unlock()
	st.State = StateAdmitted
	st.TokenExpires = now.Add(r.cfg.Window)
	st.Token = r.cfg.Keys.Issue(Admission{Sale: sale.ID, Cart: cart, Nonce: r.nonce(sale.ID, visitor, st.Position),
		Expires: st.TokenExpires, Admitted: admitted})
}

func (r *Room) visit(ctx context.Context, sale souq.Sale, visitor string, cart souq.ID) (Status, error) {
	now := r.cfg.Sales.Now()
	place, q, err := r.cfg.State.Join(ctx, string(sale.ID), visitor, Draw(r.cfg.Keys.Seed(sale.ID), visitor), now, sale.StartsAt, r.cfg.Grace)
	if err != nil {
		return Status{}, fmt.Errorf("waiting room: join: %w", err)
	}
	st := Status{Sale: sale, Position: place.Position, Rejoined: place.Rejoined}
	r.mu.Lock()
	soldOut := q.SoldOut || (r.sale == sale.ID && r.soldOut)
	rate := r.exitRate(now)
	r.mu.Unlock()
	switch {
	case soldOut:
		st.State = StateSoldOut
	case place.Position == 0:
		st.State = StateEarly
	case place.Position <= q.Head:
		r.grant(&st, sale, visitor, cart, now)
	default:
		st.State = StateWaiting
		st.Ahead = place.Position - q.Head
		if rate > 0 {
			est := float64(st.Ahead) / rate
			st.WaitMin = roundWait(time.Duration(est * 0.8 * float64(time.Second)))
			st.WaitMax = max(st.WaitMin+time.Minute, roundWait(time.Duration(est*1.25*float64(time.Second))+time.Minute-1))
		}
	}
	return st, nil
}

// roundWait rounds a wait down to whole minutes.
func roundWait(d time.Duration) time.Duration { return d.Truncate(time.Minute) }

// nonce names one admission: the same for every token issued to one place,
// so a place admits one order however many tokens its visitor asks for.
func (r *Room) nonce(sale souq.ID, visitor string, position int64) string {
	h := hmac.New(sha256.New, r.cfg.Keys.Seed(sale))
	h.Write([]byte("nonce " + visitor + " " + strconv.FormatInt(position, 10)))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// check verifies a checkout's admission during a protected sale's run:
// gated is false outside one (every checkout passes). reason is the token
// error (ErrTokenMalformed…, or nil with an empty token: none given).
func (r *Room) check(ctx context.Context, token string, cart souq.ID) (sale souq.Sale, a Admission, gated bool, reason error, err error) {
	sale, ok, err := r.protected(ctx)
	now := r.cfg.Sales.Now()
	if err != nil || !ok || !sale.ActiveAt(now) {
		return sale, a, false, nil, err
	}
	if token == "" {
		return sale, a, true, nil, nil
	}
	a, reason = r.cfg.Keys.Verify(token, now)
	switch {
	case reason != nil:
	case a.Sale != sale.ID:
		reason = ErrTokenOtherSale
	case a.Cart != cart:
		reason = ErrTokenOtherCart
	}
	return sale, a, true, reason, nil
}

// queued is the 429 of a checkout without a token.
func queued(sale souq.Sale) error {
	e := souq.Errorf(souq.ErrQueued, "%s is protected by the waiting room: join the queue (POST /api/v1/queue) and check out with the admission token it gives you", sale.Name.EN)
	e.Extra = map[string]any{"queue": "/api/v1/queue"}
	return e
}

// Admit checks a checkout's admission during a protected sale: token must
// be a valid, unexpired token of this sale for cart, not used by another
// order. key names the order attempt (its Idempotency-Key, "" for none): a
// retry with the same key passes again. Outside a protected sale's run
// Admit passes every checkout. The caller must call done with whether an
// order was placed: a checkout that placed none gives the admission back.
//
// Errors: souq.ErrQueued (429) without a token, souq.ErrForbidden (403)
// with a token refused.
func (r *Room) Admit(ctx context.Context, token string, cart souq.ID, key string) (done func(placed bool), err error) {
	done, _, err = r.admit(ctx, token, cart, key)
	return done, err
}

// admit is Admit, returning the admission too (zero outside a protected
// sale's run).
func (r *Room) admit(ctx context.Context, token string, cart souq.ID, key string) (done func(placed bool), _ Admission, err error) {
	sale, a, gated, reason, err := r.check(ctx, token, cart)
	switch {
	case err != nil:
		return nil, a, err
	case !gated:
		return func(bool) {}, Admission{}, nil
	case token == "":
		r.metrics.refused.WithLabelValues("no_token").Inc()
		return nil, a, queued(sale)
	case reason != nil:
		return nil, a, r.refuse(reason)
	}
	if key == "" {
		key = "once"
	}
	// The claim lasts as long as the place can ask for tokens: every visit
	// of an admitted place gives a fresh one with the same nonce, and a
	// place is kept while its visitor comes back within the grace period,
	// up to the sale's end. A claim that ended with its token would let
	// the place order again with the next. After the end (and the window
	// of the last tokens) checkout is not gated.
	until := sale.EndsAt.Add(r.cfg.Window)
	if a.Expires.After(until) {
		until = a.Expires
	}
	claimed, err := r.cfg.State.Claim(ctx, string(sale.ID), a.Nonce, key, until.Sub(r.cfg.Sales.Now())+time.Minute)
	if err != nil {
		return nil, a, fmt.Errorf("waiting room: claim admission: %w", err)
	}
	if !claimed {
		return nil, a, r.refuse(ErrTokenUsed)
	}
	return func(placed bool) {
		if placed {
			return
		}
		// A fresh context: the request's may be over, and the admission
		// must come back whatever happened to it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := r.cfg.State.Release(ctx, string(sale.ID), a.Nonce, key); err != nil {
			r.log.Warn("could not give an unused admission back", "sale", sale.ID, "err", err)
		}
	}, a, nil
}

// Checkout runs place, a checkout of cart, through the room: Admit with
// token and key first, then place, timed from before Admit (the claim is
// part of the checkout's time) for the admission controller, then the
// admission kept or given back as place reports whether it placed an
// order (or may have). A refused admission is Admit's error and
// place does not run; otherwise the error is place's.
func (r *Room) Checkout(ctx context.Context, token string, cart souq.ID, key string, place func() (placed bool, err error)) error {
	start, shopStart := time.Now(), r.cfg.Sales.Now()
	done, a, err := r.admit(ctx, token, cart, key)
	if err != nil {
		return err
	}
	admitted := time.Time{} // on the clock of start: the shop's may be another in tests
	if !a.Admitted.IsZero() {
		admitted = start.Add(-shopStart.Sub(a.Admitted))
	}
	end := r.monitor.Begin(admitted, start)
	placed, err := place()
	var known *souq.Error // the client's error (a 4xx), not checkout failing
	end(time.Now(), err != nil && !placed && !errors.As(err, &known))
	done(placed)
	return err
}

// Valid checks a token as Admit does, without using it or counting it:
// for a page that leads to checkout. Outside a protected sale's run every
// token (and none) is valid.
func (r *Room) Valid(ctx context.Context, token string, cart souq.ID) error {
	sale, _, gated, reason, err := r.check(ctx, token, cart)
	switch {
	case err != nil || !gated:
		return err
	case token == "":
		return queued(sale)
	case reason != nil:
		return souq.Errorf(souq.ErrForbidden, "%s", reason)
	}
	return nil
}

// refuse returns the 403 for a refused token.
func (r *Room) refuse(err error) error {
	reason := map[error]string{ErrTokenMalformed: "malformed", ErrTokenForged: "forged", ErrTokenExpired: "expired",
		ErrTokenOtherSale: "other_sale", ErrTokenOtherCart: "other_cart", ErrTokenUsed: "used"}[err]
	r.metrics.refused.WithLabelValues(reason).Inc()
	e := souq.Errorf(souq.ErrForbidden, "%s; join the queue again (POST /api/v1/queue)", err)
	e.Extra = map[string]any{"reason": reason, "queue": "/api/v1/queue"}
	return e
}

// admittedAt is when this replica saw the queue of sale reach position
// (a place the caller knows admitted): the first tick that found the head
// at or past it, or now when none has yet (the replica learnt it from the
// shared state between two ticks: another replica admitted it since).
// Zero when it was reached before the ticks this replica keeps, or the
// replica has not ticked in this sale. r.mu must be held.
func (r *Room) admittedAt(sale souq.ID, position int64, now time.Time) time.Time {
	if r.sale != sale || len(r.history) == 0 || r.history[0].head >= position {
		return time.Time{}
	}
	// The first sample with head >= position.
	i, _ := slices.BinarySearchFunc(r.history, position, func(s sample, p int64) int { return cmp.Compare(s.head, p) })
	if i == len(r.history) {
		return now
	}
	return r.history[i].at
}

// exitRate is how many positions a second the queue admitted over the
// last minute of samples; r.mu must be held.
func (r *Room) exitRate(now time.Time) float64 {
	if len(r.history) < 2 {
		return 0
	}
	last := r.history[len(r.history)-1]
	first := last
	for i := len(r.history) - 1; i >= 0 && now.Sub(r.history[i].at) <= time.Minute; i-- {
		first = r.history[i]
	}
	if d := last.at.Sub(first.at).Seconds(); d > 0 {
		return float64(last.head-first.head) / d
	}
	return 0
}

// Summary is the room's public state for a sale.
type Summary struct {
	Sale      souq.Sale
	Started   bool
	Waiting   int64
	Admitted  int64
	ExitRate  float64 // positions admitted per second lately
	Rate      float64 // this replica's admission rate now
	SoldOut   bool
	Remaining int // units left, -1 unknown
	// Commitment is SHA-256 of the draw seed, published before the start;
	// Seed itself is published once the draw is done.
	Commitment []byte
	Seed       []byte
	Early      int64
}

// Summary returns the room's state for the current protected sale (as of
// this replica's last tick), and false when there is none.
func (r *Room) Summary(ctx context.Context) (Summary, bool, error) {
	sale, ok, err := r.protected(ctx)
	if err != nil || !ok {
		return Summary{}, false, err
	}
	// The queue as this replica's last tick read it; before its first
	// tick of the sale, from the state.
	r.mu.Lock()
	q, ticked := r.q, r.sale == sale.ID
	r.mu.Unlock()
	if !ticked {
		if q, err = r.cfg.State.Advance(ctx, string(sale.ID), 0, !r.cfg.Sales.Now().Before(sale.StartsAt), false); err != nil {
			return Summary{}, false, fmt.Errorf("waiting room: %w", err)
		}
	}
	seed := r.cfg.Keys.Seed(sale.ID)
	commit := sha256.Sum256(seed)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Summary{Sale: sale, Started: q.Started, Waiting: q.Waiting(), Admitted: q.Head, ExitRate: r.exitRate(r.cfg.Sales.Now()),
		Rate: r.ctrl.Rate(), SoldOut: q.SoldOut, Remaining: -1, Commitment: commit[:], Early: q.Early}
	if r.sale == sale.ID {
		s.Remaining = r.remaining
	}
	if q.Started {
		s.Seed = seed
	}
	return s, true, nil
}

// DrawNumbers returns the current protected sale's draw numbers, lowest
// first, once the draw is done.
func (r *Room) DrawNumbers(ctx context.Context) ([]uint64, error) {
	s, ok, err := r.Summary(ctx)
	if err != nil {
		return nil, err
	}
	if !ok || !s.Started {
		return nil, souq.Errorf(souq.ErrNotFound, "no protected sale has drawn its early arrivals")
	}
	return r.cfg.State.Draw(ctx, string(s.Sale.ID))
}
