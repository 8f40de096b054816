package checkout_test

import (
	"errors"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
)

// TestOutcomes places orders that end each way an attempt can and checks
// the counts: each attempt once, under its outcome; a replay not at all.
func TestOutcomes(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	store := outcomes.NewMemStore(r.clock)
	rec := outcomes.NewRecorder(store, outcomes.Options{Now: r.clock})
	r.svc.SetOutcomes(rec)
	ctx := t.Context()
	cod := func(qty int) checkout.OrderRequest {
		req := r.request(qty, "")
		req.Payment = checkout.PaymentRequest{Method: souq.PayCashOnDelivery}
		return req
	}
	key := func(k, hash string) *checkout.Idempotency {
		return &checkout.Idempotency{Key: k, Hash: hash, Render: func(p checkout.Placed) (int, []byte, error) {
			return 201, []byte(`{"id":"` + string(p.Order.ID) + `"}`), nil
		}}
	}

	steps := []struct {
		name    string
		place   func() error
		wantErr error
	}{
		{"cash order", func() error { _, err := r.svc.PlaceOrder(ctx, cod(1), nil); return err }, nil},
		{"keyed cash order", func() error { _, err := r.svc.PlaceOrder(ctx, cod(1), key("k-1", "h-1")); return err }, nil},
		{"its replay", func() error { _, err := r.svc.PlaceOrder(ctx, cod(1), key("k-1", "h-1")); return err }, nil},
		{"its key with another body", func() error { _, err := r.svc.PlaceOrder(ctx, cod(2), key("k-1", "h-2")); return err }, souq.ErrKeyReused},
		{"more than the stock", func() error { _, err := r.svc.PlaceOrder(ctx, cod(payStock), nil); return err }, souq.ErrOutOfStock},
		{"no customer", func() error {
			req := cod(1)
			req.Customer = souq.Customer{}
			_, err := r.svc.PlaceOrder(ctx, req, nil)
			return err
		}, souq.ErrInvalid},
		{"card declined", func() error {
			r.provider.startErr = souq.Errorf(souq.ErrPayment, "the card was declined")
			defer func() { r.provider.startErr = nil }()
			_, err := r.svc.PlaceOrder(ctx, r.request(1, "tok_declined"), nil)
			return err
		}, souq.ErrPayment},
		{"provider unreachable", func() error {
			r.provider.startErr = errors.New("dial tcp: connection refused")
			defer func() { r.provider.startErr = nil }()
			_, err := r.svc.PlaceOrder(ctx, r.request(1, "tok_1"), nil)
			return err
		}, souq.ErrUnavailable},
		{"card order pending", func() error { _, err := r.svc.PlaceOrder(ctx, r.request(1, "tok_2"), nil); return err }, nil},
		{"waiting room refusal", func() error {
			err := souq.Errorf(souq.ErrQueued, "join the queue")
			r.svc.Refused(err)
			return err
		}, souq.ErrQueued},
		{"nothing refused", func() error { r.svc.Refused(nil); return nil }, nil},
	}
	for _, st := range steps {
		if err := st.place(); !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: got error %v, want %v", st.name, err, st.wantErr)
		}
	}
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	at := r.clock().Truncate(time.Minute)
	got, err := store.Minutes(ctx, at, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// Hand-counted from the steps: 3 orders (cash, keyed cash, card
	// pending), 1 out of stock, 1 declined, 3 rejected (key reused, no
	// customer, waiting room), 1 error (provider unreachable); the replay
	// and the nil refusal count nothing.
	want := outcomes.Counts{Checkouts: 9, Orders: 3, OutOfStock: 1, Declined: 1, Rejected: 3, Errors: 1}
	if got[0].Counts != want {
		t.Errorf("counts: got %+v, want %+v", got[0].Counts, want)
	}
}

// TestOutcomesOptional checks that a Service without outcomes places
// orders as before.
func TestOutcomesOptional(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	r.svc.Refused(souq.Errorf(souq.ErrQueued, "join the queue"))
	if o, _ := r.place(1); o.ID == "" {
		t.Fatal("PlaceOrder without outcomes: no order")
	}
}
