package checkout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/postgres"
	"github.com/souq-commerce/souq/internal/postgres/pgtest"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// fakeProvider is a payment provider whose payments the test drives: a
// payment is whatever the test last set it to. Webhooks are JSON
// notifications, "signed" by the header X-Fake-Signature: good.
type fakeProvider struct {
	mu       sync.Mutex
	payments map[string]*checkout.PaymentState // by reference
	refunds  map[string]int                    // refund calls per reference
	cancels  int
	startErr error
	failNext error // the next Refund or Cancel fails with it
	// onStart runs after a payment is created, before Start returns.
	onStart func(checkout.PaymentState)
	status  souq.PaymentStatus // what Start makes a payment: pending by default
}

func newFakeProvider() *fakeProvider {
	return &fakeProvider{payments: map[string]*checkout.PaymentState{}, refunds: map[string]int{}}
}

func (p *fakeProvider) Name() string { return "fake" }

func (p *fakeProvider) Start(ctx context.Context, c checkout.Charge) (checkout.PaymentState, error) {
	p.mu.Lock()
	if p.startErr != nil {
		defer p.mu.Unlock()
		return checkout.PaymentState{}, p.startErr
	}
	ref := "pi_" + string(c.Order)
	st, ok := p.payments[ref]
	if !ok {
		status := p.status
		if status == "" {
			status = souq.PaymentPending
		}
		st = &checkout.PaymentState{Reference: ref, Order: c.Order, Status: status, Amount: c.Amount,
			RedirectURL: "https://pay.example/" + ref}
		p.payments[ref] = st
	}
	out, hook := *st, p.onStart
	p.mu.Unlock()
	if hook != nil {
		hook(out)
	}
	return out, nil
}

func (p *fakeProvider) set(ref string, status souq.PaymentStatus) checkout.PaymentState {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.payments[ref]
	st.Status = status
	return *st
}

func (p *fakeProvider) get(ref string) (*checkout.PaymentState, error) {
	st, ok := p.payments[ref]
	if !ok {
		return nil, souq.Errorf(souq.ErrNotFound, "no payment %s", ref)
	}
	return st, nil
}

func (p *fakeProvider) Lookup(_ context.Context, ref string) (checkout.PaymentState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := p.get(ref)
	if err != nil {
		return checkout.PaymentState{}, err
	}
	return *st, nil
}

func (p *fakeProvider) Capture(_ context.Context, ref string) (checkout.PaymentState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := p.get(ref)
	if err != nil {
		return checkout.PaymentState{}, err
	}
	if st.Status == souq.PaymentAuthorized {
		st.Status = souq.PaymentCaptured
	}
	return *st, nil
}

func (p *fakeProvider) Cancel(_ context.Context, ref string) (checkout.PaymentState, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.failNext; err != nil {
		p.failNext = nil
		return checkout.PaymentState{}, err
	}
	st, err := p.get(ref)
	if err != nil {
		return checkout.PaymentState{}, err
	}
	if st.Status == souq.PaymentPending || st.Status == souq.PaymentAuthorized || st.Status == souq.PaymentFailed {
		st.Status = souq.PaymentCanceled
		p.cancels++
	}
	return *st, nil
}

func (p *fakeProvider) Refund(_ context.Context, ref string, order souq.ID) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.failNext; err != nil {
		p.failNext = nil
		return "", err
	}
	st, err := p.get(ref)
	if err != nil {
		return "", err
	}
	if st.Status == souq.PaymentCaptured {
		st.Status = souq.PaymentRefunded
		p.refunds[ref]++
	}
	return "re_" + string(order), nil
}

// notice is a fake webhook's body.
type notice struct {
	ID       string             `json:"id"`
	Order    souq.ID            `json:"order"`
	Ref      string             `json:"reference"`
	Status   souq.PaymentStatus `json:"status"`
	Amount   int64              `json:"amount"`
	Currency souq.Currency      `json:"currency"`
}

func (p *fakeProvider) Webhook(h http.Header, body []byte) (checkout.Notification, error) {
	if h.Get("X-Fake-Signature") != "good" {
		return checkout.Notification{}, souq.Errorf(souq.ErrUnauthorized, "bad signature")
	}
	var n notice
	if err := json.Unmarshal(body, &n); err != nil {
		return checkout.Notification{}, souq.Errorf(souq.ErrInvalid, "unreadable: %v", err)
	}
	return checkout.Notification{ID: n.ID, State: checkout.PaymentState{Reference: n.Ref, Order: n.Order,
		Status: n.Status, Amount: souq.M(n.Amount, n.Currency)}}, nil
}

func (p *fakeProvider) refundCount(ref string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refunds[ref]
}

// payStore is what the rig needs of a database.
type payStore interface {
	checkout.Store
	catalog.Store
	cart.Store
	Product(ctx context.Context, id souq.ID) (souq.Product, error)
	PendingOutbox(ctx context.Context, limit int) ([]souq.OutboxEvent, error)
}

// payRig is a shop with one product and a fake provider, its clock moved
// by the test, on SQLite (or on PostgreSQL: newPayRigOn).
type payRig struct {
	t        *testing.T
	db       payStore
	provider *fakeProvider
	catalog  *catalog.Service
	carts    *cart.Service
	svc      *checkout.Service
	product  souq.Product
	mu       sync.Mutex
	now      time.Time
}

const payStock = 5

func newPayRig(t *testing.T, capture checkout.CaptureMode) *payRig {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "souq.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return newPayRigOn(t, db, capture)
}

func newPayRigOn(t *testing.T, db payStore, capture checkout.CaptureMode) *payRig {
	t.Helper()
	var err error
	r := &payRig{t: t, db: db, provider: newFakeProvider(), now: time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r.catalog = catalog.New(db, r.clock, log)
	r.carts = cart.New(db, r.catalog, r.clock, log)
	r.svc = r.replica(capture)
	stock := payStock
	r.product, err = r.catalog.Create(t.Context(), catalog.ProductInput{
		SKU: "PAY-0001", Slug: "rose-water", Brand: "Ajmal", Category: "fragrance",
		Name:   souq.Localized{EN: "Rose Water", AR: "ماء الورد"},
		Prices: map[souq.MarketCode]int64{souq.AE: 8900, souq.SA: 8900, souq.QA: 8900, souq.KW: 8900, souq.BH: 8900, souq.OM: 8900},
		Stock:  &stock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// replica is another checkout service on the same database and provider,
// as another process would run.
func (r *payRig) replica(capture checkout.CaptureMode) *checkout.Service {
	return r.replicaOn(r.db, capture)
}

// replicaOn is a replica with its own connection to the database.
func (r *payRig) replicaOn(db payStore, capture checkout.CaptureMode) *checkout.Service {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return checkout.New(db, r.catalog, r.carts, checkout.Payments{Provider: r.provider, Capture: capture,
		ReturnURL: func(id souq.ID, lang string) string {
			return "https://shop.example/" + lang + "/orders/" + string(id) + "/return"
		}},
		r.clock, log)
}

func (r *payRig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *payRig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = r.now.Add(d)
}

func (r *payRig) request(qty int, token string) checkout.OrderRequest {
	return checkout.OrderRequest{Market: "AE",
		Items:           []checkout.ItemRequest{{ProductID: r.product.ID, Quantity: qty}},
		Customer:        souq.Customer{Name: "Noura Al Suwaidi", Email: "noura@example.ae", Phone: "+971501112233"},
		ShippingAddress: souq.Address{Line1: "Villa 3, Street 9", Area: "Jumeirah", City: "Dubai", Country: souq.AE},
		Payment:         checkout.PaymentRequest{Method: souq.PayCard, Token: token},
	}
}

// place places a card order for qty units and returns it with its next
// step.
func (r *payRig) place(qty int) (souq.Order, *checkout.PaymentAction) {
	r.t.Helper()
	res, err := r.svc.PlaceOrder(r.t.Context(), r.request(qty, ""), nil)
	if err != nil {
		r.t.Fatalf("PlaceOrder: %v", err)
	}
	return res.Placed.Order, res.Action
}

func (r *payRig) order(id souq.ID) souq.Order {
	r.t.Helper()
	o, err := r.db.Order(r.t.Context(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return o
}

func (r *payRig) stock() int {
	r.t.Helper()
	p, err := r.db.Product(r.t.Context(), r.product.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return p.Stock
}

// events counts the outbox events by name.
func (r *payRig) events() map[string]int {
	r.t.Helper()
	evs, err := r.db.PendingOutbox(r.t.Context(), 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	n := map[string]int{}
	for _, ev := range evs {
		n[ev.Name]++
	}
	return n
}

// webhook delivers a notification reporting status for order o's payment.
func (r *payRig) webhook(id string, o souq.Order, ref string, status souq.PaymentStatus) error {
	body, _ := json.Marshal(notice{ID: id, Order: o.ID, Ref: ref, Status: status, Amount: o.Total, Currency: o.Currency})
	h := http.Header{}
	h.Set("X-Fake-Signature", "good")
	return r.svc.PaymentWebhook(r.t.Context(), h, body)
}

func (r *payRig) want(o souq.Order, status souq.OrderStatus, payment souq.PaymentStatus, stock int, events map[string]int) {
	r.t.Helper()
	got := r.order(o.ID)
	if got.Status != status || got.Payment.Status != payment {
		r.t.Errorf("order %s: got %s with payment %s, want %s with payment %s", o.ID, got.Status, got.Payment.Status, status, payment)
	}
	if s := r.stock(); s != stock {
		r.t.Errorf("stock: got %d, want %d", s, stock)
	}
	if e := r.events(); fmt.Sprint(e) != fmt.Sprint(events) {
		r.t.Errorf("outbox events: got %v, want %v", e, events)
	}
}

var (
	none      = map[string]int{}
	completed = map[string]int{souq.EventOrderCompleted: 1}
)

// TestCardOrderPaidByWebhook: the order waits, its stock held, until a
// verified webhook says the payment was taken; the same event again, a
// second event saying the same, and older news arriving late change
// nothing.
func TestCardOrderPaidByWebhook(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	o, action := r.place(2)
	if o.Status != souq.StatusPendingPayment || action == nil || action.RedirectURL != "https://pay.example/pi_"+string(o.ID) {
		t.Fatalf("placed: %s with action %+v; want pending_payment with the provider's page", o.Status, action)
	}
	if o.Payment.DueAt == nil || !o.Payment.DueAt.Equal(r.clock().Add(checkout.DefaultPaymentTimeout)) {
		t.Errorf("due at: got %v, want the default timeout from now", o.Payment.DueAt)
	}
	r.want(o, souq.StatusPendingPayment, souq.PaymentPending, payStock-2, none)

	ref := "pi_" + string(o.ID)
	// A badly signed notification is refused and changes nothing.
	body, _ := json.Marshal(notice{ID: "evt_forged", Order: o.ID, Ref: ref, Status: souq.PaymentCaptured, Amount: o.Total, Currency: o.Currency})
	if err := r.svc.PaymentWebhook(t.Context(), http.Header{"X-Fake-Signature": {"forged"}}, body); !errors.Is(err, souq.ErrUnauthorized) {
		t.Fatalf("forged webhook: got %v, want ErrUnauthorized", err)
	}
	r.want(o, souq.StatusPendingPayment, souq.PaymentPending, payStock-2, none)

	r.provider.set(ref, souq.PaymentCaptured)
	for _, id := range []string{"evt_1", "evt_1", "evt_2"} {
		if err := r.webhook(id, o, ref, souq.PaymentCaptured); err != nil {
			t.Fatalf("webhook %s: %v", id, err)
		}
	}
	r.want(o, souq.StatusPaid, souq.PaymentCaptured, payStock-2, completed)
	if got := r.order(o.ID); got.CompletedAt == nil || got.Payment.DueAt != nil {
		t.Errorf("paid order: completed %v, due %v; want completed, not due", got.CompletedAt, got.Payment.DueAt)
	}
	// Out of order: a failure or a cancellation reported after the payment.
	for _, st := range []souq.PaymentStatus{souq.PaymentFailed, souq.PaymentPending, souq.PaymentCanceled} {
		if err := r.webhook("evt_late_"+string(st), o, ref, st); err != nil {
			t.Fatal(err)
		}
	}
	r.want(o, souq.StatusPaid, souq.PaymentCaptured, payStock-2, completed)
}

// TestWebhookOtherOrders: notifications about an order Souq does not
// have, or one paid cash on delivery, are acknowledged and change nothing;
// an amount that is not the order's total does not pay it.
func TestWebhookOtherOrders(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	if err := r.webhook("evt_unknown", souq.Order{ID: "ord_unknown", Total: 100, Currency: souq.AED}, "pi_x", souq.PaymentCaptured); err != nil {
		t.Errorf("webhook for an unknown order: %v, want it acknowledged", err)
	}
	req := r.request(1, "")
	req.Payment = checkout.PaymentRequest{Method: souq.PayCashOnDelivery}
	res, err := r.svc.PlaceOrder(t.Context(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	cod := res.Placed.Order
	if err := r.webhook("evt_cod", cod, "pi_cod", souq.PaymentCaptured); err != nil {
		t.Errorf("webhook for a cash-on-delivery order: %v, want it acknowledged", err)
	}
	if got := r.order(cod.ID); got.Status != souq.StatusPlaced || got.Payment.Status != "" {
		t.Errorf("cash-on-delivery order after a card webhook: %s, payment %q", got.Status, got.Payment.Status)
	}

	o, _ := r.place(1)
	wrong := o
	wrong.Total = o.Total - 100
	if err := r.webhook("evt_short", wrong, "pi_"+string(o.ID), souq.PaymentCaptured); err != nil {
		t.Fatal(err)
	}
	got := r.order(o.ID)
	if got.Status == souq.StatusPaid {
		t.Errorf("an order was paid by a payment of another amount")
	}
}

// TestUnpaidOrderReleased: when its time is up the sweeper cancels the
// payment at the provider and gives the stock back; a payment taken
// after that is refunded, and the stock stays released.
func TestUnpaidOrderReleased(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	o, _ := r.place(3)
	if n, err := r.svc.SweepPayments(t.Context()); err != nil || n != 0 {
		t.Fatalf("sweep before the timeout: looked at %d, %v; want 0", n, err)
	}
	r.advance(checkout.DefaultPaymentTimeout)
	if n, err := r.svc.SweepPayments(t.Context()); err != nil || n != 1 {
		t.Fatalf("sweep at the timeout: looked at %d, %v; want 1", n, err)
	}
	r.want(o, souq.StatusCancelled, souq.PaymentCanceled, payStock, none)
	if got := r.order(o.ID); got.CompletedAt != nil || got.CancelledAt == nil || got.Payment.DueAt != nil {
		t.Errorf("released order: completed %v, cancelled %v, due %v", got.CompletedAt, got.CancelledAt, got.Payment.DueAt)
	}

	// The shopper's bank confirms late: the provider took the money.
	ref := "pi_" + string(o.ID)
	r.provider.set(ref, souq.PaymentCaptured)
	if err := r.webhook("evt_late", o, ref, souq.PaymentCaptured); err != nil {
		t.Fatal(err)
	}
	r.want(o, souq.StatusCancelled, souq.PaymentRefunded, payStock, map[string]int{souq.EventOrderRefunded: 1})
	if got := r.provider.refundCount(ref); got != 1 {
		t.Errorf("refunds: got %d, want 1", got)
	}
	if err := r.webhook("evt_late", o, ref, souq.PaymentCaptured); err != nil {
		t.Fatal(err)
	}
	if err := r.webhook("evt_late_again", o, ref, souq.PaymentCaptured); err != nil {
		t.Fatal(err)
	}
	if got := r.provider.refundCount(ref); got != 1 {
		t.Errorf("refunds after the notification came again: got %d, want 1", got)
	}
}

// TestSweepFindsPayment: a payment the provider took before the sweeper
// came makes the order paid, not released.
func TestSweepFindsPayment(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	o, _ := r.place(1)
	r.provider.set("pi_"+string(o.ID), souq.PaymentCaptured) // its webhook is lost
	r.advance(checkout.DefaultPaymentTimeout + time.Minute)
	if _, err := r.svc.SweepPayments(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.want(o, souq.StatusPaid, souq.PaymentCaptured, payStock-1, completed)
}

// TestReplicaKilledAfterPaymentCreated: a process dies after the provider
// created the payment and before it recorded it. The order is committed
// with its stock held (it always is before the provider is asked), so a
// payment is never without stock; and the stock is not held forever: the
// webhook pays the order, or the sweeper releases it, after which a late
// payment is refunded.
func TestReplicaKilledAfterPaymentCreated(t *testing.T) {
	for _, paid := range []bool{true, false} {
		t.Run(fmt.Sprintf("paid=%v", paid), func(t *testing.T) {
			r := newPayRig(t, checkout.CaptureAutomatic)
			r.provider.status = souq.PaymentCaptured // a token payment, confirmed at once
			var created checkout.PaymentState
			r.provider.onStart = func(st checkout.PaymentState) {
				created = st
				runtime.Goexit() // the process dies here
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = r.svc.PlaceOrder(context.Background(), r.request(2, "pm_card"), nil)
			}()
			<-done
			if created.Order == "" {
				t.Fatal("the provider was never asked for the payment")
			}
			o := r.order(created.Order)
			r.want(o, souq.StatusPendingPayment, souq.PaymentPending, payStock-2, none)
			if o.Payment.Reference != "" {
				t.Fatalf("reference recorded by a process that died first: %q", o.Payment.Reference)
			}

			other := r.replica(checkout.CaptureAutomatic)
			r.svc, r.provider.onStart = other, nil
			if paid {
				if err := r.webhook("evt_paid", o, created.Reference, souq.PaymentCaptured); err != nil {
					t.Fatal(err)
				}
				r.want(o, souq.StatusPaid, souq.PaymentCaptured, payStock-2, completed)
				return
			}
			r.advance(checkout.DefaultPaymentTimeout)
			if _, err := other.SweepPayments(t.Context()); err != nil {
				t.Fatal(err)
			}
			r.want(o, souq.StatusCancelled, souq.PaymentCanceled, payStock, none)
			if err := r.webhook("evt_late", o, created.Reference, souq.PaymentCaptured); err != nil {
				t.Fatal(err)
			}
			r.want(o, souq.StatusCancelled, souq.PaymentRefunded, payStock, map[string]int{souq.EventOrderRefunded: 1})
			if got := r.provider.refundCount(created.Reference); got != 1 {
				t.Errorf("refunds: got %d, want 1", got)
			}
		})
	}
}

// TestSweepReplicas: replicas sweeping the same due orders at once
// release each once, on SQLite (one process's connections) and on
// PostgreSQL (three pools, as three processes have).
func TestSweepReplicas(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		r := newPayRig(t, checkout.CaptureAutomatic)
		sweepReplicas(t, r, r.replica(checkout.CaptureAutomatic), r.replica(checkout.CaptureAutomatic))
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.Schema(t)
		open := func() *postgres.DB {
			db, err := postgres.Open(t.Context(), url, postgres.Options{MaxConns: 4})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(db.Close)
			return db
		}
		r := newPayRigOn(t, open(), checkout.CaptureAutomatic)
		sweepReplicas(t, r, r.replicaOn(open(), checkout.CaptureAutomatic), r.replicaOn(open(), checkout.CaptureAutomatic))
	})
}

func sweepReplicas(t *testing.T, r *payRig, others ...*checkout.Service) {
	var orders []souq.Order
	for range payStock {
		o, _ := r.place(1)
		orders = append(orders, o)
	}
	if s := r.stock(); s != 0 {
		t.Fatalf("stock held: got %d left, want 0", s)
	}
	r.advance(checkout.DefaultPaymentTimeout)
	replicas := append([]*checkout.Service{r.svc}, others...)
	var wg sync.WaitGroup
	for _, s := range replicas {
		wg.Go(func() {
			if _, err := s.SweepPayments(t.Context()); err != nil {
				t.Errorf("sweep: %v", err)
			}
		})
	}
	wg.Wait()
	for _, o := range orders {
		if got := r.order(o.ID); got.Status != souq.StatusCancelled {
			t.Errorf("order %s after the sweep: %s", o.ID, got.Status)
		}
	}
	if s := r.stock(); s != payStock {
		t.Errorf("stock after the replicas' sweep: got %d, want %d (each order released once)", s, payStock)
	}
}

// TestCancelPaidRefunds: cancelling a paid order restores its stock,
// writes "Order Cancelled", refunds the payment once and writes "Order
// Refunded"; a refund that fails is retried by the sweeper.
func TestCancelPaidRefunds(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	o, _ := r.place(2)
	ref := "pi_" + string(o.ID)
	r.provider.set(ref, souq.PaymentCaptured)
	if err := r.webhook("evt_paid", o, ref, souq.PaymentCaptured); err != nil {
		t.Fatal(err)
	}
	r.provider.failNext = errors.New("provider unreachable")
	got, err := r.svc.AdminCancel(t.Context(), o.ID)
	if err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if got.Status != souq.StatusCancelled || got.Payment.Status != souq.PaymentRefundPending {
		t.Fatalf("cancelled with the provider down: %s, payment %s; want cancelled, refund_pending", got.Status, got.Payment.Status)
	}
	r.want(o, souq.StatusCancelled, souq.PaymentRefundPending, payStock, map[string]int{souq.EventOrderCompleted: 1, souq.EventOrderCancelled: 1})
	if _, err := r.svc.AdminCancel(t.Context(), o.ID); !errors.Is(err, souq.ErrConflict) {
		t.Errorf("cancel again: got %v, want ErrConflict", err)
	}
	r.advance(2 * time.Minute)
	if _, err := r.svc.SweepPayments(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.want(o, souq.StatusCancelled, souq.PaymentRefunded, payStock,
		map[string]int{souq.EventOrderCompleted: 1, souq.EventOrderCancelled: 1, souq.EventOrderRefunded: 1})
	final := r.order(o.ID)
	if final.Payment.RefundReference != "re_"+string(o.ID) || final.Payment.RefundedAt == nil {
		t.Errorf("refund recorded: reference %q at %v", final.Payment.RefundReference, final.Payment.RefundedAt)
	}
	if _, err := r.svc.SweepPayments(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := r.provider.refundCount(ref); got != 1 {
		t.Errorf("refunds: got %d, want 1", got)
	}
}

// TestManualCapture: with manual capture the order is paid when the
// payment is authorised and captured at dispatch; cancelling an
// authorised order voids it (no money moved, no "Order Refunded").
func TestManualCapture(t *testing.T) {
	r := newPayRig(t, checkout.CaptureManual)
	r.provider.status = souq.PaymentAuthorized
	res, err := r.svc.PlaceOrder(t.Context(), r.request(1, "pm_card"), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := res.Placed.Order
	if o.Status != souq.StatusPaid || o.Payment.Status != souq.PaymentAuthorized || o.Payment.Capture != "manual" || res.Action != nil {
		t.Fatalf("authorised order: %s, payment %+v, action %+v", o.Status, o.Payment, res.Action)
	}
	for range 2 {
		got, err := r.svc.Capture(t.Context(), o.ID)
		if err != nil || got.Payment.Status != souq.PaymentCaptured {
			t.Fatalf("capture: %s, %v; want captured", got.Payment.Status, err)
		}
	}
	r.want(o, souq.StatusPaid, souq.PaymentCaptured, payStock-1, completed)

	res, err = r.svc.PlaceOrder(t.Context(), r.request(1, "pm_card"), nil)
	if err != nil {
		t.Fatal(err)
	}
	voided := res.Placed.Order
	if _, err := r.svc.AdminCancel(t.Context(), voided.ID); err != nil {
		t.Fatal(err)
	}
	if got := r.order(voided.ID); got.Payment.Status != souq.PaymentCanceled || got.Payment.RefundedAt != nil {
		t.Errorf("cancelled authorised order: payment %s, refunded %v; want canceled, no refund", got.Payment.Status, got.Payment.RefundedAt)
	}
	if e := r.events(); e[souq.EventOrderRefunded] != 0 || e[souq.EventOrderCancelled] != 1 {
		t.Errorf("events: %v, want one cancellation and no refund", e)
	}
	if _, err := r.svc.Capture(t.Context(), voided.ID); !errors.Is(err, souq.ErrConflict) {
		t.Errorf("capture of a cancelled order: got %v, want ErrConflict", err)
	}
}

// TestProviderDown: a provider that cannot be reached leaves the order
// placed and pending (an idempotent retry gets the same order); the
// shopper pays it later with Pay.
func TestProviderDown(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	r.provider.startErr = errors.New("connection refused")
	idem := func() *checkout.Idempotency {
		return &checkout.Idempotency{Key: "key-1", Hash: "h", Render: func(p checkout.Placed) (int, []byte, error) {
			return 201, []byte(`{"id":"` + string(p.Order.ID) + `"}`), nil
		}}
	}
	res, err := r.svc.PlaceOrder(t.Context(), r.request(1, ""), idem())
	if !errors.Is(err, souq.ErrUnavailable) {
		t.Fatalf("PlaceOrder with the provider down: got %v, want ErrUnavailable", err)
	}
	o := res.Placed.Order
	r.want(o, souq.StatusPendingPayment, souq.PaymentPending, payStock-1, none)
	again, err := r.svc.PlaceOrder(t.Context(), r.request(1, ""), idem())
	if err != nil || again.Replay == nil || string(again.Replay.Body) != `{"id":"`+string(o.ID)+`"}` {
		t.Fatalf("retry with the key: %+v, %v; want the stored order", again.Replay, err)
	}
	r.provider.startErr = nil
	paid, action, err := r.svc.Pay(t.Context(), o.ID, res.Placed.AccessToken, checkout.PaymentRequest{})
	if err != nil || paid.Status != souq.StatusPendingPayment || action == nil || action.RedirectURL == "" {
		t.Fatalf("Pay: %s, %+v, %v; want pending with the provider's page", paid.Status, action, err)
	}
	if _, _, err := r.svc.Pay(t.Context(), o.ID, "wrong-token", checkout.PaymentRequest{}); !errors.Is(err, souq.ErrNotFound) {
		t.Errorf("Pay with a wrong token: got %v, want ErrNotFound", err)
	}
	// Back from the provider's page: the payment is read back.
	r.provider.set("pi_"+string(o.ID), souq.PaymentCaptured)
	got, err := r.svc.Refresh(t.Context(), o.ID, res.Placed.AccessToken)
	if err != nil || got.Status != souq.StatusPaid {
		t.Errorf("Refresh: %s, %v; want paid", got.Status, err)
	}
}

// TestShopperCancelsUnpaid: a shopper cancelling an order still pending
// payment cancels the payment at the provider and releases the stock,
// with no event (it never completed).
func TestShopperCancelsUnpaid(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	res, err := r.svc.PlaceOrder(t.Context(), r.request(2, ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := res.Placed.Order
	if _, err := r.svc.Cancel(t.Context(), o.ID, res.Placed.AccessToken); err != nil {
		t.Fatal(err)
	}
	r.want(o, souq.StatusCancelled, souq.PaymentCanceled, payStock, none)
	if r.provider.cancels != 1 {
		t.Errorf("payments cancelled at the provider: got %d, want 1", r.provider.cancels)
	}
}

// TestSweepForgottenPayment: a payment the provider does not know (the
// test provider forgets its payments when its process stops) cannot be
// taken: the order is released, not looked at again every sweep.
func TestSweepForgottenPayment(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	o, _ := r.place(2)
	r.provider.mu.Lock()
	delete(r.provider.payments, "pi_"+string(o.ID))
	r.provider.mu.Unlock()
	r.advance(checkout.DefaultPaymentTimeout)
	if _, err := r.svc.SweepPayments(t.Context()); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	r.want(o, souq.StatusCancelled, souq.PaymentCanceled, payStock, none)
	if n, err := r.svc.SweepPayments(t.Context()); err != nil || n != 0 {
		t.Errorf("next sweep: looked at %d, %v; want nothing due", n, err)
	}
}
