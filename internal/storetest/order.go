package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// orderLine returns a line for quantity units of p at its AE price with 5%
// VAT. The figures are fixed test data: stores do not compute them.
func orderLine(p souq.Product, quantity int) souq.OrderLine {
	unit := p.Prices[souq.AE]
	total := unit * int64(quantity)
	return souq.OrderLine{
		ProductID: p.ID, SKU: p.SKU, Name: p.Name, Brand: p.Brand, Category: p.Category,
		Quantity: quantity, UnitPrice: unit, LineTotal: total,
		VAT: souq.VATIncluded(total, 500), VATBasisPoints: 500,
	}
}

// newOrder returns a placed cash-on-delivery order in AE created at t0+d.
func newOrder(id string, d time.Duration, lines ...souq.OrderLine) souq.Order {
	o := souq.Order{
		ID: souq.ID(id), Number: souq.NewOrderNumber(), Language: souq.Arabic,
		Status: souq.StatusPlaced, Market: souq.AE, Currency: souq.AED, Lines: lines,
		Customer:        souq.Customer{Name: "Fatima Al Mansoori", Email: "fatima@example.ae", Phone: "+971501234567"},
		ShippingAddress: souq.Address{Line1: "Villa 12, Street 4", Line2: "Near the park", Area: "Al Barsha", City: "Dubai", Country: souq.AE},
		Payment:         souq.Payment{Method: souq.PayCashOnDelivery},
		AccessTokenHash: souq.HashToken("token-" + id),
		CreatedAt:       at(d),
		UpdatedAt:       at(d),
		// Fees and a visitor, so that every read of an order is seen to
		// keep them.
		DeliveryFee: 1500, CODFee: 1000,
		Visitor: souq.Visitor{AnonymousID: "visitor-" + id, UserID: "user-" + id},
	}
	o.Total = o.DeliveryFee + o.CODFee
	o.VAT = souq.VATIncluded(o.Total, 500)
	for _, l := range lines {
		o.Total += l.LineTotal
		o.VAT += l.VAT
	}
	return o
}

// orderEvent builds the order's "Order Completed" outbox event.
func orderEvent(t *testing.T, o souq.Order) souq.OutboxEvent {
	t.Helper()
	ev, err := souq.NewOrderEvent(souq.EventOrderCompleted, o, o.CreatedAt)
	must(t, "NewOrderEvent", err)
	return ev
}

// pending reads every unpublished outbox event.
func pending(t *testing.T, s Store) []souq.OutboxEvent {
	t.Helper()
	evs, err := s.PendingOutbox(t.Context(), 1000)
	must(t, "PendingOutbox", err)
	return evs
}

// claim claims a key that must be new.
func claim(t *testing.T, s Store, key, hash string, now time.Time) {
	t.Helper()
	st, err := s.ClaimKey(t.Context(), key, hash, owner, now, now.Add(-time.Hour))
	must(t, "ClaimKey", err)
	checkDiff(t, "ClaimKey of a new key", st, checkout.KeyState{})
}

func testOrderCreate(t *testing.T, s Store) {
	a, b := newProduct("prd_a", "SKN-001"), newProduct("prd_b", "SKN-002")
	b.Stock = 3
	createProducts(t, s, a, b)
	c := newCart(string(souq.NewCartID()), 0)
	must(t, "CreateCart", s.CreateCart(t.Context(), c))
	for _, it := range []souq.CartItem{{ProductID: a.ID, Quantity: 4}, {ProductID: b.ID, Quantity: 3}} {
		must(t, "SetCartItem", s.SetCartItem(t.Context(), c.ID, it, t0))
	}
	claim(t, s, "key-1", "hash-1", t0)

	o := newOrder("ord_1", time.Minute, orderLine(a, 4), orderLine(b, 3))
	o.Lines[1].OnSale = true
	o.CartID = c.ID
	o.Payment = souq.Payment{Method: souq.PayCard, Provider: "checkout.com", Reference: "pay_123"}
	ev := orderEvent(t, o)
	done := &checkout.KeyResult{Key: "key-1", ClaimedAt: t0, Status: 201, Body: []byte(`{"id":"ord_1"}`)}
	must(t, "CreateOrder", s.CreateOrder(t.Context(), o, ev, done))

	got, err := s.Order(t.Context(), o.ID)
	must(t, "Order", err)
	checkDiff(t, "Order", got, o)
	checkStock(t, s, a.ID, 6)
	checkStock(t, s, b.ID, 0)
	checkDiff(t, "pending outbox", pending(t, s), []souq.OutboxEvent{ev})
	checkDiff(t, "cart items after the order", getCart(t, s, c.ID).Items, []souq.CartItem(nil))

	st, err := s.ClaimKey(t.Context(), "key-1", "hash-1", owner, at(2*time.Minute), at(time.Hour)) // stale time is irrelevant once done
	must(t, "ClaimKey after the order", err)
	checkDiff(t, "key after the order", st, checkout.KeyState{Exists: true, Hash: "hash-1", Result: *done})
}

// testOrderNumber: an order is found by its number; an order whose number
// another has is refused with ErrNumberTaken and writes nothing (its stock,
// event, cart and key are as they were), and goes in with another number;
// orders without a number (placed before numbers) may be many.
func testOrderNumber(t *testing.T, s Store) {
	a := newProduct("prd_a", "SKN-001")
	createProducts(t, s, a)
	first := newOrder("ord_1", time.Minute, orderLine(a, 1))
	firstEvent := orderEvent(t, first)
	must(t, "CreateOrder", s.CreateOrder(t.Context(), first, firstEvent, nil))
	got, err := s.OrderByNumber(t.Context(), first.Number)
	must(t, "OrderByNumber", err)
	checkDiff(t, "OrderByNumber", got, first)
	_, err = s.OrderByNumber(t.Context(), "SQ-000000")
	checkKind(t, "OrderByNumber of an unknown number", err, souq.ErrNotFound)

	c := newCart(string(souq.NewCartID()), 0)
	must(t, "CreateCart", s.CreateCart(t.Context(), c))
	must(t, "SetCartItem", s.SetCartItem(t.Context(), c.ID, souq.CartItem{ProductID: a.ID, Quantity: 2}, t0))
	claim(t, s, "key-2", "hash-2", t0)
	clash := newOrder("ord_2", 2*time.Minute, orderLine(a, 2))
	clash.Number, clash.CartID = first.Number, c.ID
	done := &checkout.KeyResult{Key: "key-2", ClaimedAt: t0, Status: 201, Body: []byte("{}")}
	err = s.CreateOrder(t.Context(), clash, orderEvent(t, clash), done)
	if !errors.Is(err, checkout.ErrNumberTaken) {
		t.Fatalf("CreateOrder with a number given already: got %v, want ErrNumberTaken", err)
	}
	checkStock(t, s, a.ID, 9)
	_, err = s.Order(t.Context(), clash.ID)
	checkKind(t, "Order refused for its number", err, souq.ErrNotFound)
	checkDiff(t, "pending outbox", pending(t, s), []souq.OutboxEvent{firstEvent})
	checkDiff(t, "cart items after a refused order", getCart(t, s, c.ID).Items, []souq.CartItem{{ProductID: a.ID, Quantity: 2}})

	clash.Number = souq.NewOrderNumber()
	must(t, "CreateOrder with another number", s.CreateOrder(t.Context(), clash, orderEvent(t, clash), done))
	got, err = s.OrderByNumber(t.Context(), clash.Number)
	must(t, "OrderByNumber", err)
	checkDiff(t, "OrderByNumber of the order that drew again", got.ID, clash.ID)
	checkStock(t, s, a.ID, 7)

	for _, id := range []string{"ord_3", "ord_4"} {
		o := newOrder(id, 3*time.Minute, orderLine(a, 1))
		o.Number = ""
		must(t, "CreateOrder without a number", s.CreateOrder(t.Context(), o, souq.OutboxEvent{}, nil))
		got, err := s.Order(t.Context(), o.ID)
		must(t, "Order", err)
		checkDiff(t, "order without a number", got, o)
	}
}

// testOrderNumberInBatch: orders placed at once, as a store batches them,
// one of which has a number given already: only that one is refused.
func testOrderNumberInBatch(t *testing.T, s Store) {
	const n = 12
	a := newProduct("prd_a", "SKN-001")
	a.Stock = 100
	createProducts(t, s, a)
	first := newOrder("ord_first", 0, orderLine(a, 1))
	must(t, "CreateOrder", s.CreateOrder(t.Context(), first, orderEvent(t, first), nil))
	orders := make([]souq.Order, n)
	for i := range orders {
		orders[i] = newOrder(fmt.Sprintf("ord_%02d", i), time.Minute, orderLine(a, 1))
	}
	orders[n/2].Number = first.Number
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, o := range orders {
		wg.Go(func() { errs[i] = s.CreateOrder(t.Context(), o, orderEvent(t, o), nil) })
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i == n/2 && !errors.Is(err, checkout.ErrNumberTaken):
			t.Errorf("order with a number given already: got %v, want ErrNumberTaken", err)
		case i != n/2 && err != nil:
			t.Errorf("order %d: got %v, want nil", i, err)
		}
	}
	checkStock(t, s, a.ID, 100-n)
	_, total, err := s.ListOrders(t.Context(), 0, 100)
	must(t, "ListOrders", err)
	if total != n {
		t.Errorf("orders: got %d, want %d", total, n)
	}
}

func testOrderOutOfStock(t *testing.T, s Store) {
	a, b := newProduct("prd_a", "SKN-001"), newProduct("prd_b", "SKN-002")
	a.Stock, b.Stock = 5, 1
	createProducts(t, s, a, b)
	c := newCart(string(souq.NewCartID()), 0)
	must(t, "CreateCart", s.CreateCart(t.Context(), c))
	must(t, "SetCartItem", s.SetCartItem(t.Context(), c.ID, souq.CartItem{ProductID: a.ID, Quantity: 2}, t0))
	claim(t, s, "key-1", "hash-1", t0)

	// The first line can be filled, the second cannot: nothing may be written.
	o := newOrder("ord_1", time.Minute, orderLine(a, 2), orderLine(b, 2))
	o.CartID = c.ID
	err := s.CreateOrder(t.Context(), o, orderEvent(t, o), &checkout.KeyResult{Key: "key-1", ClaimedAt: t0, Status: 201, Body: []byte("{}")})
	checkOutOfStock(t, err, souq.OutOfStockError{ProductID: b.ID, SKU: b.SKU, Requested: 2, Available: 1})

	checkStock(t, s, a.ID, 5)
	checkStock(t, s, b.ID, 1)
	_, err = s.Order(t.Context(), o.ID)
	checkKind(t, "Order after a refused order", err, souq.ErrNotFound)
	checkDiff(t, "pending outbox after a refused order", pending(t, s), []souq.OutboxEvent(nil))
	checkDiff(t, "cart items after a refused order", getCart(t, s, c.ID).Items, []souq.CartItem{{ProductID: a.ID, Quantity: 2}})
	st, err := s.ClaimKey(t.Context(), "key-1", "hash-1", owner, at(2*time.Minute), t0)
	must(t, "ClaimKey after a refused order", err)
	checkDiff(t, "key after a refused order", st, checkout.KeyState{Exists: true, Hash: "hash-1", InFlight: true})
	_, total, err := s.ListOrders(t.Context(), 0, 10)
	must(t, "ListOrders", err)
	if total != 0 {
		t.Errorf("orders after a refused order: got %d, want 0", total)
	}
}

// checkOutOfStock fails the test unless err is a *souq.OutOfStockError equal
// to want.
func checkOutOfStock(t *testing.T, err error, want souq.OutOfStockError) {
	t.Helper()
	var oos *souq.OutOfStockError
	if !errors.As(err, &oos) {
		t.Fatalf("CreateOrder: got error %v, want a *souq.OutOfStockError", err)
	}
	checkDiff(t, "OutOfStockError", *oos, want)
	checkKind(t, "CreateOrder", err, souq.ErrOutOfStock)
}

func testOrderUnknownProduct(t *testing.T, s Store) {
	a := newProduct("prd_a", "SKN-001")
	createProducts(t, s, a)
	ghost := newProduct("prd_ghost", "GHOST-1")
	o := newOrder("ord_1", 0, orderLine(a, 1), orderLine(ghost, 1))
	err := s.CreateOrder(t.Context(), o, orderEvent(t, o), nil)
	checkOutOfStock(t, err, souq.OutOfStockError{ProductID: ghost.ID, SKU: ghost.SKU, Requested: 1, Available: 0})
	checkStock(t, s, a.ID, 10)
	checkDiff(t, "pending outbox", pending(t, s), []souq.OutboxEvent(nil))
}

func testOrderConcurrentStock(t *testing.T, s Store) {
	const stock, buyers = 50, 200
	p := newProduct("prd_hot", "HOT-001")
	p.Stock = stock
	createProducts(t, s, p)

	var (
		wg              sync.WaitGroup
		mu              sync.Mutex
		placed, refused int
		unexpected      []error
	)
	for i := range buyers {
		wg.Go(func() {
			o := newOrder(fmt.Sprintf("ord_%03d", i), time.Duration(i)*time.Millisecond, orderLine(p, 1))
			ev, err := souq.NewOrderEvent(souq.EventOrderCompleted, o, o.CreatedAt)
			if err == nil {
				err = s.CreateOrder(t.Context(), o, ev, nil)
			}
			var oos *souq.OutOfStockError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				placed++
			case errors.As(err, &oos) && oos.ProductID == p.ID && oos.Available == 0:
				refused++
			default:
				unexpected = append(unexpected, err)
			}
		})
	}
	wg.Wait()
	for _, err := range unexpected {
		t.Errorf("concurrent CreateOrder: got error %v, want nil or out of stock with 0 available", err)
	}
	if placed != stock || refused != buyers-stock {
		t.Errorf("concurrent orders: got %d placed and %d refused, want %d and %d", placed, refused, stock, buyers-stock)
	}
	checkStock(t, s, p.ID, 0)
	if got := len(pending(t, s)); got != stock {
		t.Errorf("outbox events: got %d, want %d", got, stock)
	}
	_, total, err := s.ListOrders(t.Context(), 0, 1)
	must(t, "ListOrders", err)
	if total != stock {
		t.Errorf("orders: got %d, want %d", total, stock)
	}
}

// cancel is an UpdateOrder change cancelling a placed or paid order at
// t: its stock restored and an "Order Cancelled" event. It remembers the
// orders it was given.
type cancel struct {
	t    time.Time
	seen []souq.Order
}

func (c *cancel) change(o *souq.Order) (checkout.OrderUpdate, error) {
	c.seen = append(c.seen, *o)
	if o.Status != souq.StatusPlaced && o.Status != souq.StatusPaid {
		return checkout.OrderUpdate{}, fmt.Errorf("order %s is %s: %w", o.ID, o.Status, souq.ErrConflict)
	}
	t := c.t
	o.Status, o.CancelledAt = souq.StatusCancelled, &t
	ev, err := souq.NewOrderEvent(souq.EventOrderCancelled, *o, t)
	return checkout.OrderUpdate{Restock: true, Events: []souq.OutboxEvent{ev}}, err
}

func testOrderCancel(t *testing.T, s Store) {
	a, b := newProduct("prd_a", "SKN-001"), newProduct("prd_b", "SKN-002")
	createProducts(t, s, a, b)
	o := newOrder("ord_1", 0, orderLine(a, 3), orderLine(b, 1))
	placed := orderEvent(t, o)
	must(t, "CreateOrder", s.CreateOrder(t.Context(), o, placed, nil))
	checkStock(t, s, a.ID, 7)

	c := &cancel{t: at(time.Hour)}
	got, err := s.UpdateOrder(t.Context(), o.ID, at(time.Hour), c.change)
	must(t, "UpdateOrder", err)
	want := o
	cancelled := at(time.Hour)
	want.Status, want.UpdatedAt, want.CancelledAt = souq.StatusCancelled, at(time.Hour), &cancelled
	checkDiff(t, "cancelled order returned", got, want)
	checkDiff(t, "order given to the change", c.seen, []souq.Order{o})
	read, err := s.Order(t.Context(), o.ID)
	must(t, "Order", err)
	checkDiff(t, "cancelled order read back", read, want)
	checkStock(t, s, a.ID, 10)
	checkStock(t, s, b.ID, 10)
	evs := pending(t, s)
	if len(evs) != 2 || evs[0].ID != placed.ID || evs[1].Name != souq.EventOrderCancelled {
		t.Fatalf("pending outbox: got %d events %v, want the placed event then one %q event", len(evs), evs, souq.EventOrderCancelled)
	}

	_, err = s.UpdateOrder(t.Context(), o.ID, at(2*time.Hour), (&cancel{t: at(2 * time.Hour)}).change)
	checkKind(t, "UpdateOrder cancelling again", err, souq.ErrConflict)
	checkStock(t, s, a.ID, 10)
	if got := len(pending(t, s)); got != 2 {
		t.Errorf("pending outbox after a refused cancel: got %d events, want 2", got)
	}
	read, err = s.Order(t.Context(), o.ID)
	must(t, "Order", err)
	checkDiff(t, "order after a refused cancel", read, want)

	_, err = s.UpdateOrder(t.Context(), "ord_missing", at(time.Hour), c.change)
	checkKind(t, "UpdateOrder(missing)", err, souq.ErrNotFound)

	// An update saying the order is unchanged writes nothing, whatever the
	// change did to it, and returns the order as read.
	got, err = s.UpdateOrder(t.Context(), o.ID, at(3*time.Hour), func(o *souq.Order) (checkout.OrderUpdate, error) {
		o.Status = souq.StatusPlaced
		return checkout.OrderUpdate{Unchanged: true, Restock: true}, nil
	})
	must(t, "UpdateOrder(unchanged)", err)
	checkDiff(t, "order returned by an unchanged update", got, want)
	read, err = s.Order(t.Context(), o.ID)
	must(t, "Order", err)
	checkDiff(t, "order after an unchanged update", read, want)
	checkStock(t, s, a.ID, 10)
	if got := len(pending(t, s)); got != 2 {
		t.Errorf("pending outbox after an unchanged update: got %d events, want 2", got)
	}
}

func testOrderCancelEventError(t *testing.T, s Store) {
	a := newProduct("prd_a", "SKN-001")
	createProducts(t, s, a)
	o := newOrder("ord_1", 0, orderLine(a, 2))
	must(t, "CreateOrder", s.CreateOrder(t.Context(), o, orderEvent(t, o), nil))

	broken := errors.New("event builder broke")
	_, err := s.UpdateOrder(t.Context(), o.ID, at(time.Hour), func(o *souq.Order) (checkout.OrderUpdate, error) {
		o.Status = souq.StatusCancelled
		return checkout.OrderUpdate{Restock: true}, broken
	})
	checkKind(t, "UpdateOrder with a failing change", err, broken)
	got, err := s.Order(t.Context(), o.ID)
	must(t, "Order", err)
	checkDiff(t, "order after a failed update", got, o)
	checkStock(t, s, a.ID, 8)
	if got := len(pending(t, s)); got != 1 {
		t.Errorf("pending outbox after a failed update: got %d events, want 1", got)
	}
}

// pendingCardOrder returns a card order waiting for its payment, due at
// t0+due.
func pendingCardOrder(id string, d, due time.Duration, lines ...souq.OrderLine) souq.Order {
	o := newOrder(id, d, lines...)
	dueAt := at(due)
	o.Status = souq.StatusPendingPayment
	o.Payment = souq.Payment{Method: souq.PayCard, Provider: "test", Status: souq.PaymentPending,
		Capture: "automatic", DueAt: &dueAt}
	return o
}

func testOrderPendingPayment(t *testing.T, s Store) {
	a := newProduct("prd_a", "SKN-001")
	createProducts(t, s, a)
	first := pendingCardOrder("ord_1", 0, 15*time.Minute, orderLine(a, 2))
	second := pendingCardOrder("ord_2", time.Minute, 16*time.Minute, orderLine(a, 1))
	for _, o := range []souq.Order{second, first} {
		// No event: "Order Completed" waits for the payment.
		must(t, "CreateOrder", s.CreateOrder(t.Context(), o, souq.OutboxEvent{}, nil))
	}
	checkStock(t, s, a.ID, 7)
	if evs := pending(t, s); len(evs) != 0 {
		t.Errorf("outbox after orders pending payment: got %v, want nothing", evs)
	}
	read, err := s.Order(t.Context(), first.ID)
	must(t, "Order", err)
	checkDiff(t, "order pending payment read back", read, first)

	for _, c := range []struct {
		at    time.Duration
		limit int
		want  []souq.ID
	}{
		{14 * time.Minute, 10, []souq.ID{}},
		{15 * time.Minute, 10, []souq.ID{first.ID}},
		{time.Hour, 10, []souq.ID{first.ID, second.ID}},
		{time.Hour, 1, []souq.ID{first.ID}},
	} {
		ids, err := s.DuePayments(t.Context(), at(c.at), c.limit)
		must(t, "DuePayments", err)
		checkDiff(t, fmt.Sprintf("DuePayments(t0+%s, %d)", c.at, c.limit), ids, c.want)
	}

	// Paid: every payment field is written, the event with it, and the
	// order is no longer due.
	paidAt := at(5 * time.Minute)
	got, err := s.UpdateOrder(t.Context(), first.ID, paidAt, func(o *souq.Order) (checkout.OrderUpdate, error) {
		o.Status, o.CompletedAt = souq.StatusPaid, &paidAt
		o.Payment.Reference, o.Payment.Status, o.Payment.DueAt = "pi_123", souq.PaymentCaptured, nil
		ev, err := souq.NewOrderEvent(souq.EventOrderCompleted, *o, paidAt)
		return checkout.OrderUpdate{Events: []souq.OutboxEvent{ev}}, err
	})
	must(t, "UpdateOrder(paid)", err)
	want := first
	want.Status, want.CompletedAt, want.UpdatedAt = souq.StatusPaid, &paidAt, paidAt
	want.Payment.Reference, want.Payment.Status, want.Payment.DueAt = "pi_123", souq.PaymentCaptured, nil
	checkDiff(t, "paid order returned", got, want)
	read, err = s.Order(t.Context(), first.ID)
	must(t, "Order", err)
	checkDiff(t, "paid order read back", read, want)
	if evs := pending(t, s); len(evs) != 1 || evs[0].Name != souq.EventOrderCompleted {
		t.Errorf("outbox after the payment: got %v, want one %q", evs, souq.EventOrderCompleted)
	}
	checkStock(t, s, a.ID, 7)

	// Refunded: the refund's fields round-trip too.
	refundedAt := at(time.Hour)
	got, err = s.UpdateOrder(t.Context(), first.ID, refundedAt, func(o *souq.Order) (checkout.OrderUpdate, error) {
		o.Status, o.CancelledAt = souq.StatusCancelled, &refundedAt
		o.Payment.Status, o.Payment.RefundReference, o.Payment.RefundedAt = souq.PaymentRefunded, "re_1", &refundedAt
		o.Payment.Failure = "cancelled by the shopper"
		return checkout.OrderUpdate{Restock: true}, nil
	})
	must(t, "UpdateOrder(refunded)", err)
	read, err = s.Order(t.Context(), first.ID)
	must(t, "Order", err)
	checkDiff(t, "refunded order read back", read, got)
	if read.Payment.RefundedAt == nil || !read.Payment.RefundedAt.Equal(refundedAt) || read.Payment.RefundReference != "re_1" {
		t.Errorf("refund read back: %+v", read.Payment)
	}
	checkStock(t, s, a.ID, 9)

	ids, err := s.DuePayments(t.Context(), at(time.Hour), 10)
	must(t, "DuePayments", err)
	checkDiff(t, "DuePayments after the first was paid", ids, []souq.ID{second.ID})
}

// testOrderUpdateSerialised checks that updates of one order at once run
// one after the other: each sees the last one's result.
func testOrderUpdateSerialised(t *testing.T, s Store) {
	a := newProduct("prd_a", "SKN-001")
	createProducts(t, s, a)
	o := pendingCardOrder("ord_1", 0, time.Hour, orderLine(a, 1))
	must(t, "CreateOrder", s.CreateOrder(t.Context(), o, souq.OutboxEvent{}, nil))
	const n = 8
	var (
		wg   sync.WaitGroup
		wins = make(chan int, n)
	)
	for i := range n {
		wg.Go(func() {
			_, err := s.UpdateOrder(t.Context(), o.ID, at(time.Minute), func(o *souq.Order) (checkout.OrderUpdate, error) {
				if o.Status != souq.StatusPendingPayment {
					return checkout.OrderUpdate{}, souq.ErrConflict
				}
				o.Status, o.Payment.Status, o.Payment.DueAt = souq.StatusCancelled, souq.PaymentCanceled, nil
				return checkout.OrderUpdate{Restock: true}, nil
			})
			if err == nil {
				wins <- i
			} else if !errors.Is(err, souq.ErrConflict) {
				t.Errorf("UpdateOrder: %v", err)
			}
		})
	}
	wg.Wait()
	close(wins)
	if got := len(wins); got != 1 {
		t.Errorf("releases that went through: got %d, want exactly 1", got)
	}
	checkStock(t, s, a.ID, 10)
}

// testOrderUpdateMany updates several orders at once, every other one's
// change failing: the failures write nothing, the others all of theirs
// (stores may batch concurrent updates into one transaction).
func testOrderUpdateMany(t *testing.T, s Store) {
	a := newProduct("prd_a", "SKN-001")
	createProducts(t, s, a)
	const n = 6
	for i := range n {
		o := pendingCardOrder(fmt.Sprintf("ord_%d", i), time.Duration(i)*time.Second, time.Hour, orderLine(a, 1))
		must(t, "CreateOrder", s.CreateOrder(t.Context(), o, souq.OutboxEvent{}, nil))
	}
	checkStock(t, s, a.ID, 10-n)
	refused := errors.New("refused")
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := souq.ID(fmt.Sprintf("ord_%d", i))
			got, err := s.UpdateOrder(t.Context(), id, at(time.Minute), func(o *souq.Order) (checkout.OrderUpdate, error) {
				o.Status, o.Payment.Status, o.Payment.DueAt = souq.StatusCancelled, souq.PaymentCanceled, nil
				if i%2 == 1 {
					return checkout.OrderUpdate{Restock: true}, refused
				}
				return checkout.OrderUpdate{Restock: true}, nil
			})
			switch {
			case i%2 == 1 && !errors.Is(err, refused):
				t.Errorf("update of %s: got %v, want the change's error", id, err)
			case i%2 == 0 && (err != nil || got.ID != id || got.Status != souq.StatusCancelled):
				t.Errorf("update of %s: got %s %s, %v; want it cancelled", id, got.ID, got.Status, err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		o, err := s.Order(t.Context(), souq.ID(fmt.Sprintf("ord_%d", i)))
		must(t, "Order", err)
		want := souq.StatusCancelled
		if i%2 == 1 {
			want = souq.StatusPendingPayment
		}
		if o.Status != want {
			t.Errorf("order %s: got %s, want %s", o.ID, o.Status, want)
		}
	}
	checkStock(t, s, a.ID, 10-n/2)
}

func testPaymentEvents(t *testing.T, s Store) {
	ctx := t.Context()
	for _, c := range []struct{ provider, id string }{{"stripe", "evt_1"}, {"stripe", "evt_2"}, {"other", "evt_1"}} {
		seen, err := s.PaymentEventSeen(ctx, c.provider, c.id)
		must(t, "PaymentEventSeen", err)
		if seen {
			t.Errorf("%s %s seen before it was recorded", c.provider, c.id)
		}
	}
	must(t, "RecordPaymentEvent", s.RecordPaymentEvent(ctx, "stripe", "evt_1", at(0)))
	must(t, "RecordPaymentEvent again", s.RecordPaymentEvent(ctx, "stripe", "evt_1", at(time.Hour)))
	must(t, "RecordPaymentEvent", s.RecordPaymentEvent(ctx, "stripe", "evt_2", at(2*time.Hour)))
	for _, c := range []struct {
		provider, id string
		want         bool
	}{{"stripe", "evt_1", true}, {"stripe", "evt_2", true}, {"other", "evt_1", false}} {
		seen, err := s.PaymentEventSeen(ctx, c.provider, c.id)
		must(t, "PaymentEventSeen", err)
		if seen != c.want {
			t.Errorf("PaymentEventSeen(%s, %s): got %v, want %v", c.provider, c.id, seen, c.want)
		}
	}
	n, err := s.DeletePaymentEventsBefore(ctx, at(time.Hour))
	must(t, "DeletePaymentEventsBefore", err)
	if n != 1 {
		t.Errorf("DeletePaymentEventsBefore: deleted %d, want 1 (the first record's time is kept)", n)
	}
	if seen, _ := s.PaymentEventSeen(ctx, "stripe", "evt_1"); seen {
		t.Error("evt_1 still seen after it was forgotten")
	}
}

func testOrderNotFound(t *testing.T, s Store) {
	_, err := s.Order(t.Context(), "ord_missing")
	checkKind(t, "Order(missing)", err, souq.ErrNotFound)
}

func testOrderList(t *testing.T, s Store) {
	orders, total, err := s.ListOrders(t.Context(), 0, 10)
	must(t, "ListOrders of none", err)
	if len(orders) != 0 || total != 0 {
		t.Errorf("ListOrders of none: got %d orders, total %d, want 0 and 0", len(orders), total)
	}

	p := newProduct("prd_a", "SKN-001")
	createProducts(t, s, p)
	var placed []souq.Order
	for i, d := range []time.Duration{2 * time.Minute, 0, 3 * time.Minute, time.Minute} {
		o := newOrder(fmt.Sprintf("ord_%d", i), d, orderLine(p, i+1))
		must(t, "CreateOrder", s.CreateOrder(t.Context(), o, orderEvent(t, o), nil))
		placed = append(placed, o)
	}
	newestFirst := []souq.Order{placed[2], placed[0], placed[3], placed[1]}
	tests := []struct {
		offset, limit int
		want          []souq.Order
	}{
		{0, 10, newestFirst},
		{0, 2, newestFirst[:2]},
		{2, 2, newestFirst[2:]},
		{3, 5, newestFirst[3:]},
		{4, 5, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("offset %d limit %d", tt.offset, tt.limit), func(t *testing.T) {
			got, total, err := s.ListOrders(t.Context(), tt.offset, tt.limit)
			must(t, "ListOrders", err)
			checkDiff(t, "ListOrders", got, tt.want)
			if total != len(placed) {
				t.Errorf("ListOrders total: got %d, want %d", total, len(placed))
			}
		})
	}
}
