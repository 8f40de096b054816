package checkout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/tracing"
)

// errNoCardPayments answers an order paid by card in a shop without a
// card provider.
var errNoCardPayments = &souq.Error{Kind: souq.ErrInvalid,
	Detail: "card payment is not available in this shop: pay cash on delivery",
	Fields: []souq.FieldError{{Field: "payment.method", Reason: "card payment is not available in this shop; use \"cod\""}}}

// CartReader reads a cart's items for checkout from a cart.
type CartReader interface {
	Raw(ctx context.Context, id souq.ID) (souq.Cart, error)
}

// Idempotency timing. A claimed key whose order has not committed after
// KeyStaleAfter is taken over; requests are bounded by PlaceTimeout, well
// below it, so a live holder is never overtaken. Keys are kept for KeyTTL.
const (
	PlaceTimeout  = 20 * time.Second
	KeyStaleAfter = 2 * time.Minute
	KeyTTL        = 24 * time.Hour
	MaxKeyLength  = 255
)

// Service places, reads and cancels orders.
type Service struct {
	owner    string // this process's name on the idempotency claims it makes
	store    Store
	catalog  *catalog.Service
	carts    CartReader
	payments Payments
	delivery *delivery.Service  // nil: delivery is free
	outcomes *outcomes.Recorder // nil: answers are not counted
	now      func() time.Time
	log      *slog.Logger
	// newNumber draws an order number (souq.NewOrderNumber; tests set
	// their own with SetNumbers).
	newNumber func() string
}

// numberTries is how many numbers an order draws before it gives up: with
// a billion numbers, a second draw is already rare.
const numberTries = 5

// New returns a checkout service. payments.Provider may be nil: the shop
// then has no card provider, and an order paid by card is refused (cash on
// delivery only).
func New(store Store, cat *catalog.Service, carts CartReader, payments Payments, now func() time.Time, log *slog.Logger) *Service {
	if payments.Capture == "" {
		payments.Capture = CaptureAutomatic
	}
	if payments.Timeout <= 0 {
		payments.Timeout = DefaultPaymentTimeout
	}
	return &Service{owner: souq.NewToken(), store: store, catalog: cat, carts: carts, payments: payments, now: now,
		log: log.With("component", "checkout"), newNumber: souq.NewOrderNumber}
}

// SetDelivery makes orders pay the delivery and cash-on-delivery fees of
// d's settings. Without it, or for a market without settings, delivery is
// free. Call it before the Service is used.
func (s *Service) SetDelivery(d *delivery.Service) { s.delivery = d }

// SetNumbers replaces the order number generator: for tests that need two
// orders to draw the same number. Call it before the Service is used.
func (s *Service) SetNumbers(next func() string) { s.newNumber = next }

// ReleaseDeadClaims frees the idempotency keys that earlier processes left
// in flight when they stopped or crashed mid-request, so that clients
// retrying them get their order at once instead of 409 until the claims
// go stale (KeyStaleAfter). Call it once at start. No order committed
// under such a claim (the order and the key's completion commit
// together), so a retry places it once.
//
// It releases every claim this Service did not make, which is right when
// it is the only process placing orders on the store, as with the
// embedded SQLite database. Were a live process to share the store, its
// claim would be released too; its order would then not commit (it
// completes the key only under its own claim) and its client would retry:
// never a double order, but a failed request. So replicas sharing a
// PostgreSQL database do not call it: there a dead replica's claims are
// taken over once they are KeyStaleAfter old.
func (s *Service) ReleaseDeadClaims(ctx context.Context) (int, error) {
	n, err := s.store.ReleaseClaims(ctx, s.owner)
	if err != nil {
		return 0, fmt.Errorf("release dead idempotency claims: %w", err)
	}
	return n, nil
}

// Placed is a newly committed order with the access token that reads it. The
// token is shown once; only its hash is stored.
type Placed struct {
	Order       souq.Order
	AccessToken string
	// Visitor is the request's context: the event placing the order
	// carries it.
	Visitor souq.Visitor
}

// Idempotency identifies a request by its Idempotency-Key and the hash of
// its body. Render turns the placed order into the response stored for
// replays, committed in the order's transaction.
type Idempotency struct {
	Key    string
	Hash   string
	Render func(Placed) (status int, body []byte, err error)

	claimedAt time.Time // set by PlaceOrder when it claims the key
}

// Result is what PlaceOrder did: placed a new order, or found a completed
// request with the same key and body whose stored response is Replay. With
// a key, Response is the new order's response as Render made it and as it
// was stored for replays, so it need not be rendered again. A card order
// is stored as it committed, pending payment; Placed.Order is the order
// after the payment was started, and Action the shopper's next step, so a
// card order's response is rendered again from them.
type Result struct {
	Placed   Placed
	Action   *PaymentAction
	Replay   *KeyResult
	Response *KeyResult
}

// OrderPlaced reports whether a PlaceOrder that returned res and err placed
// an order, or may have: a request with the same key still in progress.
func OrderPlaced(res Result, err error) bool {
	return res.Placed.Order.ID != "" || res.Replay != nil || errors.Is(err, souq.ErrKeyInFlight)
}

// PlaceOrder validates and prices the request and commits the order and
// its stock decrements in one transaction: a cash-on-delivery order with
// its "Order Completed" event, a card order pending payment. A card
// order's payment is started after the commit (pay.go); when that fails
// the error is returned with the Result, whose Placed names the order. With
// idem set, the same key and body replays the first response, a different
// body is ErrKeyReused and a key still in flight is ErrKeyInFlight. Each
// answer but a replay is counted once in the Service's outcomes.
func (s *Service) PlaceOrder(ctx context.Context, req OrderRequest, idem *Idempotency) (res Result, err error) {
	ctx, span := tracing.Tracer().Start(ctx, "checkout.place_order")
	defer func() {
		s.count(res, err)
		if span.IsRecording() {
			span.SetAttributes(attribute.String("souq.order_id", string(res.Placed.Order.ID)), attribute.Bool("souq.replay", res.Replay != nil))
		}
		tracing.End(span, err)
	}()
	ctx, cancel := context.WithTimeout(ctx, PlaceTimeout)
	defer cancel()
	if idem != nil {
		if len(idem.Key) == 0 || len(idem.Key) > MaxKeyLength {
			return Result{}, souq.Errorf(souq.ErrInvalid, "Idempotency-Key must be 1 to %d characters", MaxKeyLength)
		}
		idem.claimedAt = s.now().UTC()
		st, err := s.store.ClaimKey(ctx, idem.Key, idem.Hash, s.owner, idem.claimedAt, idem.claimedAt.Add(-KeyStaleAfter))
		if err != nil {
			return Result{}, fmt.Errorf("claim idempotency key: %w", err)
		}
		switch {
		case st.Exists && st.Hash != idem.Hash:
			return Result{}, souq.Errorf(souq.ErrKeyReused, "this Idempotency-Key was used with a different request body; use a new key for a new order")
		case st.Exists && st.InFlight:
			return Result{}, souq.Errorf(souq.ErrKeyInFlight, "a request with this Idempotency-Key is still being processed; retry shortly")
		case st.Exists:
			res := st.Result
			return Result{Replay: &res}, nil
		}
	}
	placed, resp, err := s.place(ctx, req, idem)
	if err != nil && idem != nil {
		// Nothing was committed: free the key so a corrected request may use it.
		if rerr := s.store.ReleaseKey(context.WithoutCancel(ctx), idem.Key, idem.claimedAt); rerr != nil {
			s.log.Error("release idempotency key", "err", rerr)
		}
	}
	if err != nil || placed.Order.Status != souq.StatusPendingPayment {
		return Result{Placed: placed, Response: resp}, err
	}
	// The order and its key are committed: whatever happens to the payment
	// now, a retry with the key gets this order, never a second one.
	o, action, err := s.startPayment(ctx, placed.Order, req.Payment, placed.Visitor)
	placed.Order = o
	return Result{Placed: placed, Action: action, Response: resp}, err
}

func (s *Service) place(ctx context.Context, req OrderRequest, idem *Idempotency) (Placed, *KeyResult, error) {
	m, err := req.validate()
	if err != nil {
		return Placed{}, nil, err
	}
	if req.Payment.Method == souq.PayCard && s.payments.Provider == nil {
		return Placed{}, nil, errNoCardPayments
	}
	items := req.Items
	if req.CartID != "" {
		if items, err = s.cartItems(ctx, req.CartID, m); err != nil {
			return Placed{}, nil, err
		}
	}
	now := s.now().UTC()
	o := souq.Order{
		ID: souq.NewID(souq.OrderPrefix), Market: m.Code, Currency: m.Currency, Language: req.Language,
		Customer: req.Customer, ShippingAddress: req.ShippingAddress, CartID: req.CartID,
		Payment:   souq.Payment{Method: req.Payment.Method},
		CreatedAt: now, UpdatedAt: now, Status: souq.StatusPlaced, CompletedAt: &now,
	}
	if o.Lines, err = s.price(ctx, merge(items), m); err != nil {
		return Placed{}, nil, err
	}
	for _, l := range o.Lines {
		o.Total += l.LineTotal
		o.VAT += l.VAT
	}
	if o.Total > souq.MaxAmount {
		return Placed{}, nil, souq.Errorf(souq.ErrInvalid, "order total is too large")
	}
	if err := s.addFees(ctx, &o, m); err != nil {
		return Placed{}, nil, err
	}
	if o.Total > souq.MaxAmount {
		return Placed{}, nil, souq.Errorf(souq.ErrInvalid, "order total is too large")
	}
	if req.Payment.Method == souq.PayCard {
		// Held, not sold: the stock is the order's until the payment is
		// confirmed or the order is released (pay.go).
		due := now.Add(s.payments.Timeout)
		o.Status, o.CompletedAt = souq.StatusPendingPayment, nil
		o.Payment = souq.Payment{Method: souq.PayCard, Provider: s.payments.Provider.Name(),
			Status: souq.PaymentPending, Capture: string(s.payments.Capture), DueAt: &due}
	}
	placed := Placed{Order: o, AccessToken: souq.NewToken()}
	if req.Context != nil {
		// Kept with the order: its later events (a card payment confirmed
		// after, a cancellation) carry it too.
		placed.Visitor, placed.Order.Visitor = *req.Context, *req.Context
	}
	placed.Order.AccessTokenHash = souq.HashToken(placed.AccessToken)
	// The number is drawn here, above the stores, which only refuse one
	// already given (ErrNumberTaken): then the order, its event and its
	// stored response are made again with another.
	var resp *KeyResult
	for try := 1; ; try++ {
		placed.Order.Number = s.newNumber()
		resp, err = s.commit(ctx, placed, idem, now)
		if !errors.Is(err, ErrNumberTaken) || try == numberTries {
			break
		}
		s.log.Info("order number taken; drawing another", "number", placed.Order.Number)
	}
	if err != nil {
		return Placed{}, nil, err
	}
	return placed, resp, nil
}

// addFees adds to o, priced, its delivery and cash-on-delivery fees, and
// their VAT at the market's standard rate (each Gulf country taxes
// delivery as it taxes the goods delivered).
func (s *Service) addFees(ctx context.Context, o *souq.Order, m souq.Market) error {
	if s.delivery == nil {
		return nil
	}
	q, ok, err := s.delivery.QuoteFor(ctx, m.Code, o.Total, o.Payment.Method, o.ShippingAddress.City)
	if err != nil || !ok {
		return err
	}
	o.DeliveryFee, o.CODFee = q.Fee, q.CODFee
	o.Total += q.Fee + q.CODFee
	o.VAT += souq.VATIncluded(q.Fee+q.CODFee, m.VATBasisPoints)
	return nil
}

// commit writes the placed order and returns, with a key, the response
// stored for it. An order pending payment has no event yet: "Order
// Completed" is written when its payment is confirmed.
func (s *Service) commit(ctx context.Context, placed Placed, idem *Idempotency, now time.Time) (*KeyResult, error) {
	var ev souq.OutboxEvent
	if placed.Order.Status != souq.StatusPendingPayment {
		var err error
		if ev, err = souq.NewVisitorOrderEvent(souq.EventOrderCompleted, placed.Order, now, tracing.Traceparent(ctx), placed.Visitor); err != nil {
			return nil, fmt.Errorf("order event: %w", err)
		}
	}
	var done *KeyResult
	if idem != nil {
		status, body, err := idem.Render(placed)
		if err != nil {
			return nil, fmt.Errorf("render order response: %w", err)
		}
		done = &KeyResult{Key: idem.Key, ClaimedAt: idem.claimedAt, Status: status, Body: body}
	}
	// The transaction: with group commit, this order's share of a batch
	// (the span lasts from joining the batch to its commit).
	txCtx, span := tracing.Tracer().Start(ctx, "checkout.commit")
	err := s.store.CreateOrder(txCtx, placed.Order, ev, done)
	tracing.End(span, err)
	var oos *souq.OutOfStockError
	if errors.As(err, &oos) {
		detail := fmt.Sprintf("not enough stock for %s: %d requested, %d left", oos.SKU, oos.Requested, oos.Available)
		if oos.SKU == "" {
			detail = fmt.Sprintf("product %s is no longer available", oos.ProductID)
		}
		return nil, &souq.Error{Kind: souq.ErrOutOfStock, Detail: detail, Extra: map[string]any{
			"product_id": oos.ProductID, "sku": oos.SKU, "requested": oos.Requested, "available": oos.Available}}
	}
	if errors.Is(err, ErrKeyNotHeld) {
		return nil, souq.Errorf(souq.ErrConflict, "the Idempotency-Key was released or taken over while this request ran; the order was not placed")
	}
	if err != nil {
		return nil, fmt.Errorf("create order: %w", err)
	}
	return done, nil
}

// cartItems reads the items of a cart in market m.
func (s *Service) cartItems(ctx context.Context, id souq.ID, m souq.Market) ([]ItemRequest, error) {
	c, err := s.carts.Raw(ctx, id)
	if errors.Is(err, souq.ErrNotFound) {
		return nil, &souq.Error{Kind: souq.ErrInvalid, Detail: "cart not found",
			Fields: []souq.FieldError{{Field: "cart_id", Reason: "no such cart"}}}
	}
	if err != nil {
		return nil, err
	}
	if c.Market != m.Code {
		return nil, souq.Errorf(souq.ErrInvalid, "the cart is in market %s, the order in %s; change the cart's market first", c.Market, m.Code)
	}
	if len(c.Items) == 0 {
		return nil, souq.Errorf(souq.ErrInvalid, "the cart is empty")
	}
	items := make([]ItemRequest, len(c.Items))
	for i, it := range c.Items {
		items[i] = ItemRequest{ProductID: it.ProductID, Quantity: it.Quantity}
	}
	return items, nil
}

// merge sums the quantities of repeated products, keeping first-seen order.
func merge(items []ItemRequest) []ItemRequest {
	out := make([]ItemRequest, 0, len(items))
	at := make(map[souq.ID]int, len(items))
	for _, it := range items {
		if i, ok := at[it.ProductID]; ok {
			out[i].Quantity += it.Quantity
			continue
		}
		at[it.ProductID] = len(out)
		out = append(out, it)
	}
	return out
}

// price turns items into order lines at the server's current prices.
func (s *Service) price(ctx context.Context, items []ItemRequest, m souq.Market) ([]souq.OrderLine, error) {
	var p souq.Problems
	lines := make([]souq.OrderLine, 0, len(items))
	for i, it := range items {
		field := fmt.Sprintf("items[%d]", i)
		if it.Quantity > MaxLineQuantity {
			p.Add(field+".quantity", "at most %d units of one product per order", MaxLineQuantity)
			continue
		}
		prod, err := s.catalog.Product(ctx, string(it.ProductID))
		if errors.Is(err, souq.ErrNotFound) {
			p.Add(field+".product_id", "product %q not found", it.ProductID)
			continue
		}
		if err != nil {
			return nil, err
		}
		o, err := s.catalog.Offer(ctx, prod, m)
		if err != nil {
			return nil, err
		}
		if !o.Sold {
			p.Add(field+".product_id", "product %s is not sold in %s", prod.SKU, m.Code)
			continue
		}
		total, vat := souq.LineTotal(o.Price.Amount, it.Quantity, m)
		lines = append(lines, souq.OrderLine{
			ProductID: prod.ID, SKU: prod.SKU, Name: prod.Name, Brand: prod.Brand, Category: prod.Category,
			Quantity: it.Quantity, UnitPrice: o.Price.Amount, OnSale: o.OnSale,
			LineTotal: total, VAT: vat, VATBasisPoints: m.VATBasisPoints,
		})
	}
	return lines, p.Err()
}
