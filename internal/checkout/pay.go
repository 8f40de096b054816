package checkout

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/tracing"
)

// Card payments
//
// A card order commits as pending_payment with its stock held and no
// event; the provider is asked for the payment only then, with the order
// id as its idempotency key, so a payment never exists without an order
// holding its stock. The order becomes paid, and "Order Completed" goes to
// the outbox, only when the provider says the payment was taken or
// authorised: in a verified webhook, or when Souq reads the payment back
// from the provider (Start's answer, the sweeper's look). What the
// shopper's browser says is never believed.
//
// Every step is a conditional update of the order under its row lock
// (settle), so replicas, duplicated and reordered webhooks and the sweeper
// may all act on one order: each sees the last one's result, and a step
// that no longer applies changes nothing. Provider calls are made outside
// transactions, before the update they lead to, and are idempotent; a
// process dying between a call and its update leaves the order due
// (Payment.DueAt) for the sweeper, which repeats the step.
//
// An unpaid order is released when its time is up: the sweeper cancels the
// payment at the provider first, and releases the stock only if the
// provider confirms it was not taken (if it was, the order is paid). A
// payment the provider takes for an order already released, or a second
// payment for a paid order, is given back.

// DefaultPaymentTimeout is how long an unpaid card order holds its stock.
const DefaultPaymentTimeout = 15 * time.Minute

// Sweeper timing: how many due orders one pass takes, how long a failed
// refund waits before it is tried again (a day when the provider does not
// know the payment: someone must look), and how long a call to the
// provider may take.
const (
	sweepBatch         = 100
	refundRetry        = time.Minute
	unknownRefundRetry = 24 * time.Hour
	providerCall       = 30 * time.Second
	// PaymentEventTTL is how long a webhook event id is remembered;
	// providers redeliver for a few days at most (Stripe: 3).
	PaymentEventTTL = 30 * 24 * time.Hour
)

// Payments configures card payments.
type Payments struct {
	Provider PaymentProvider // nil: cash on delivery only
	Capture  CaptureMode     // default CaptureAutomatic
	Timeout  time.Duration   // how long an unpaid order holds stock; default DefaultPaymentTimeout
	// ReturnURL is the shop's page for an order that the provider sends
	// the shopper back to after its page or 3-D Secure (lang is "ar" or
	// "en"), when the request names none. Nil: requests must name one.
	ReturnURL func(order souq.ID, lang string) string
}

// PaymentAction is the shopper's next step for a payment still pending.
type PaymentAction struct {
	RedirectURL  string `json:"redirect_url,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// CardPayments reports whether the shop takes cards, and with which
// provider.
func (s *Service) CardPayments() (provider string, ok bool) {
	if s.payments.Provider == nil {
		return "", false
	}
	return s.payments.Provider.Name(), true
}

// startPayment asks the provider for an order's payment and records what
// it answers. A card declined at once releases the order and is returned
// as the error; a provider that cannot be reached leaves the order pending
// (the shopper may try again with Pay; the sweeper releases it when its
// time is up) and is returned as an ErrUnavailable error. A payment taken
// at once writes "Order Completed" for who.
func (s *Service) startPayment(ctx context.Context, o souq.Order, req PaymentRequest, who souq.Visitor) (souq.Order, *PaymentAction, error) {
	lang := req.Language
	if lang != "ar" {
		lang = "en"
	}
	ret := req.ReturnURL
	if ret == "" && s.payments.ReturnURL != nil {
		ret = s.payments.ReturnURL(o.ID, lang)
	}
	c := Charge{Order: o.ID, Amount: souq.M(o.Total, o.Currency), Capture: CaptureMode(o.Payment.Capture),
		Email: o.Customer.Email, Language: lang, Token: req.Token,
		ReturnURL: ret, CancelURL: ret, ExpiresAt: *o.Payment.DueAt}
	st, err := s.payments.Provider.Start(ctx, c)
	if errors.Is(err, souq.ErrPayment) || errors.Is(err, souq.ErrInvalid) {
		failure := err.Error()
		if _, rerr := s.release(context.WithoutCancel(ctx), o.ID, souq.PaymentFailed, failure); rerr != nil {
			s.log.Error("release declined order", "order", o.ID, "err", rerr)
		}
		var e *souq.Error
		if errors.As(err, &e) {
			extra := map[string]any{"order_id": o.ID}
			for k, v := range e.Extra {
				extra[k] = v
			}
			return o, nil, &souq.Error{Kind: e.Kind, Detail: e.Detail, Fields: e.Fields, Extra: extra}
		}
		return o, nil, err
	}
	if err != nil {
		s.log.Error("start payment", "order", o.ID, "provider", s.payments.Provider.Name(), "err", err)
		return o, nil, &souq.Error{Kind: souq.ErrUnavailable, Extra: map[string]any{"order_id": o.ID},
			Detail: "the payment provider could not be reached; the order is held for a while: try paying again from the order page"}
	}
	if st.Order == "" {
		st.Order = o.ID
	}
	settled, err := s.settleFor(context.WithoutCancel(ctx), o.ID, st, who)
	if err != nil {
		return o, nil, fmt.Errorf("record payment of order %s: %w", o.ID, err)
	}
	var action *PaymentAction
	if settled.Status == souq.StatusPendingPayment && (st.RedirectURL != "" || st.ClientSecret != "") {
		action = &PaymentAction{RedirectURL: st.RedirectURL, ClientSecret: st.ClientSecret}
	}
	return settled, action, nil
}

// Pay starts (or resumes) the payment of an order still pending, for the
// holder of its access token: the shopper came back from the provider's
// page without paying, or the provider could not be reached when the
// order was placed. The provider returns the payment it already has for
// the order, if any.
func (s *Service) Pay(ctx context.Context, id souq.ID, token string, req PaymentRequest) (souq.Order, *PaymentAction, error) {
	var p souq.Problems
	req.checkCard(&p, "")
	if err := p.Err(); err != nil {
		return souq.Order{}, nil, err
	}
	o, err := s.Order(ctx, id, token)
	if err != nil {
		return souq.Order{}, nil, err
	}
	if o.Status != souq.StatusPendingPayment {
		return o, nil, nil
	}
	if s.payments.Provider == nil || o.Payment.Provider != s.payments.Provider.Name() {
		return souq.Order{}, nil, souq.Errorf(souq.ErrConflict, "order %s is paid through %q, which this shop no longer uses", id, o.Payment.Provider)
	}
	return s.startPayment(ctx, o, req, souq.Visitor{})
}

// settle records a payment's state, as the provider reported it, on its
// order: the one step every path takes (Start's answer, webhooks, the
// sweeper, capture). It returns the order as it stands after. A payment
// that must be given back (taken for an order released meanwhile, or a
// second payment of an order) is given back here.
func (s *Service) settle(ctx context.Context, id souq.ID, st PaymentState) (souq.Order, error) {
	return s.settleFor(ctx, id, st, souq.Visitor{})
}

// settleFor is settle for a payment started by who, known only to the
// request that placed the order (the visitor is not stored with it):
// "Order Completed" carries who when the payment is taken.
func (s *Service) settleFor(ctx context.Context, id souq.ID, st PaymentState, who souq.Visitor) (souq.Order, error) {
	now := s.now().UTC()
	var giveBack bool
	o, err := s.store.UpdateOrder(ctx, id, now, func(o *souq.Order) (OrderUpdate, error) {
		giveBack = false
		if o.Payment.Method != souq.PayCard || s.payments.Provider == nil || o.Payment.Provider != s.payments.Provider.Name() {
			return OrderUpdate{}, fmt.Errorf("order %s is not paid by card through %s: %w", id, s.providerName(), souq.ErrConflict)
		}
		p := &o.Payment
		taken := st.Status == souq.PaymentCaptured || st.Status == souq.PaymentAuthorized
		sameRef := st.Reference == "" || p.Reference == "" || st.Reference == p.Reference
		switch o.Status {
		case souq.StatusPendingPayment:
			if st.Reference != "" {
				p.Reference = st.Reference // a hosted page's session gives way to its payment
			}
			switch {
			case taken && st.Amount != souq.M(o.Total, o.Currency):
				s.log.Error("payment amount differs from the order's total: not accepted, given back",
					"order", id, "reference", st.Reference, "amount", st.Amount.Decimal(), "currency", st.Amount.Currency,
					"total", souq.M(o.Total, o.Currency).Decimal())
				giveBack = true
				return s.releaseUpdate(o, now, souq.PaymentRefundPending, "the amount paid differs from the order's total")
			case taken:
				o.Status, p.Status, p.Failure, p.DueAt, o.CompletedAt = souq.StatusPaid, st.Status, "", nil, &now
				ev, err := souq.NewVisitorOrderEvent(souq.EventOrderCompleted, *o, now, tracing.Traceparent(ctx), who)
				return OrderUpdate{Events: []souq.OutboxEvent{ev}}, err
			case st.Status == souq.PaymentCanceled:
				return s.releaseUpdate(o, now, souq.PaymentCanceled, "")
			case st.Status == souq.PaymentFailed, st.Status == souq.PaymentPending:
				// The shopper may try again on the provider's page until
				// the order's time is up.
				p.Failure = st.Failure
				return OrderUpdate{}, nil
			}
		case souq.StatusPaid:
			switch {
			case taken && !sameRef:
				giveBack = true // a second payment for a paid order
				return unchanged, nil
			case st.Status == souq.PaymentCaptured && p.Status == souq.PaymentAuthorized:
				p.Status = souq.PaymentCaptured
				return OrderUpdate{}, nil
			case st.Status == souq.PaymentCanceled && p.Status == souq.PaymentAuthorized && sameRef:
				// The authorisation was voided or lapsed at the provider:
				// nothing can be captured any more.
				s.log.Error("the authorisation of a paid order was cancelled at the provider: the order cannot be captured",
					"order", id, "reference", p.Reference)
				p.Status = souq.PaymentCanceled
				return OrderUpdate{}, nil
			case st.Status == souq.PaymentRefunded && sameRef && p.Status != souq.PaymentRefunded:
				// Refunded at the provider (its dashboard, a dispute).
				return refundedUpdate(o, now, st.Reference)
			}
		case souq.StatusCancelled:
			switch {
			case taken && sameRef && p.Status != souq.PaymentRefundPending && p.Status != souq.PaymentRefunded:
				// Paid after the order was released: give it back.
				if p.Reference == "" {
					p.Reference = st.Reference // its process died before recording it
				}
				p.Status, p.DueAt = souq.PaymentRefundPending, &now
				giveBack = true
				return OrderUpdate{}, nil
			case taken && !sameRef:
				giveBack = true
				return unchanged, nil
			case st.Status == souq.PaymentRefunded && sameRef && p.Status == souq.PaymentRefundPending:
				return refundedUpdate(o, now, "")
			}
		}
		return unchanged, nil
	})
	if err != nil {
		return souq.Order{}, err
	}
	if giveBack {
		if st.Reference != "" && st.Reference != o.Payment.Reference {
			s.giveBackStray(ctx, id, st.Reference)
		} else if o, err = s.refund(ctx, id); err != nil {
			s.log.Error("give back payment", "order", id, "err", err)
			return o, nil // due: the sweeper tries again
		}
	}
	return o, nil
}

// unchanged ends an UpdateOrder whose order needs no change.
var unchanged = OrderUpdate{Unchanged: true}

func (s *Service) providerName() string {
	if s.payments.Provider == nil {
		return "no provider"
	}
	return s.payments.Provider.Name()
}

// releaseUpdate cancels an order that was never completed, giving its
// stock back. It writes no event: the order never counted as sold. A
// payment to give back is due at once.
func (s *Service) releaseUpdate(o *souq.Order, now time.Time, status souq.PaymentStatus, failure string) (OrderUpdate, error) {
	o.Status, o.CancelledAt = souq.StatusCancelled, &now
	o.Payment.Status, o.Payment.Failure, o.Payment.DueAt = status, failure, nil
	if status == souq.PaymentRefundPending {
		o.Payment.DueAt = &now
	}
	return OrderUpdate{Restock: true}, nil
}

// refundedUpdate records a payment given back, with the "Order Refunded"
// event.
func refundedUpdate(o *souq.Order, now time.Time, ref string) (OrderUpdate, error) {
	p := &o.Payment
	p.Status, p.DueAt, p.RefundedAt = souq.PaymentRefunded, nil, &now
	if ref != "" && p.RefundReference == "" {
		p.RefundReference = ref
	}
	ev, err := souq.NewOrderEvent(souq.EventOrderRefunded, *o, now)
	return OrderUpdate{Events: []souq.OutboxEvent{ev}}, err
}

// release cancels an unpaid order, its stock given back, if it is still
// pending payment.
func (s *Service) release(ctx context.Context, id souq.ID, status souq.PaymentStatus, failure string) (souq.Order, error) {
	now := s.now().UTC()
	return s.store.UpdateOrder(ctx, id, now, func(o *souq.Order) (OrderUpdate, error) {
		if o.Status != souq.StatusPendingPayment {
			return OrderUpdate{}, fmt.Errorf("order %s is %s: %w", id, o.Status, souq.ErrConflict)
		}
		return s.releaseUpdate(o, now, status, failure)
	})
}

// refund gives back the payment of a cancelled order whose payment is
// refund_pending: an authorisation is voided (no money moved, no event),
// a captured payment refunded ("Order Refunded"). A failure leaves it due
// a minute later.
func (s *Service) refund(ctx context.Context, id souq.ID) (souq.Order, error) {
	o, err := s.store.Order(ctx, id)
	if err != nil || o.Payment.Status != souq.PaymentRefundPending {
		return o, err
	}
	ctx, cancel := context.WithTimeout(ctx, providerCall)
	defer cancel()
	p := s.payments.Provider
	st, err := p.Lookup(ctx, o.Payment.Reference)
	var refundRef string
	switch {
	case err != nil:
	case st.Status == souq.PaymentAuthorized, st.Status == souq.PaymentPending:
		st, err = p.Cancel(ctx, o.Payment.Reference)
	case st.Status == souq.PaymentCaptured:
		refundRef, err = p.Refund(ctx, o.Payment.Reference, id)
		st.Status = souq.PaymentRefunded
	}
	now := s.now().UTC()
	if err != nil {
		retry := now.Add(refundRetry)
		if errors.Is(err, souq.ErrNotFound) {
			// Not a passing failure: someone must look (the log says).
			retry = now.Add(unknownRefundRetry)
		}
		_, uerr := s.store.UpdateOrder(ctx, id, now, func(o *souq.Order) (OrderUpdate, error) {
			if o.Payment.Status != souq.PaymentRefundPending {
				return unchanged, nil
			}
			o.Payment.DueAt = &retry
			return OrderUpdate{}, nil
		})
		if uerr != nil {
			s.log.Error("postpone refund", "order", id, "err", uerr)
		}
		return o, fmt.Errorf("give back the payment of order %s: %w", id, err)
	}
	o, err = s.store.UpdateOrder(ctx, id, now, func(o *souq.Order) (OrderUpdate, error) {
		if o.Payment.Status != souq.PaymentRefundPending {
			return unchanged, nil
		}
		switch st.Status {
		case souq.PaymentRefunded:
			return refundedUpdate(o, now, refundRef)
		case souq.PaymentCanceled, souq.PaymentFailed:
			o.Payment.Status, o.Payment.DueAt = souq.PaymentCanceled, nil
			return OrderUpdate{}, nil
		}
		return OrderUpdate{}, fmt.Errorf("order %s: the provider reports the payment %s after giving it back", id, st.Status)
	})
	return o, err
}

// giveBackStray gives back a payment that is not the order's own (a second
// payment for it): refunded if taken, cancelled if only authorised.
func (s *Service) giveBackStray(ctx context.Context, id souq.ID, ref string) {
	ctx, cancel := context.WithTimeout(ctx, providerCall)
	defer cancel()
	p := s.payments.Provider
	st, err := p.Lookup(ctx, ref)
	switch {
	case err != nil:
	case st.Status == souq.PaymentAuthorized:
		_, err = p.Cancel(ctx, ref)
	case st.Status == souq.PaymentCaptured:
		_, err = p.Refund(ctx, ref, id)
	}
	if err != nil {
		s.log.Error("give back a second payment of an order: do it by hand", "order", id, "reference", ref, "err", err)
		return
	}
	s.log.Warn("gave back a second payment of an order", "order", id, "reference", ref)
}

// Capture takes an authorised payment when the order is dispatched
// (manual capture). Capturing a captured payment returns the order.
func (s *Service) Capture(ctx context.Context, id souq.ID) (souq.Order, error) {
	o, err := s.AdminOrder(ctx, id)
	if err != nil {
		return souq.Order{}, err
	}
	if o.Status == souq.StatusPaid && o.Payment.Status == souq.PaymentCaptured {
		return o, nil
	}
	if o.Status != souq.StatusPaid || o.Payment.Status != souq.PaymentAuthorized {
		return souq.Order{}, souq.Errorf(souq.ErrConflict, "order %s cannot be captured: it is %s with its payment %s", id, o.Status, orNone(string(o.Payment.Status)))
	}
	if s.payments.Provider == nil || o.Payment.Provider != s.payments.Provider.Name() {
		return souq.Order{}, souq.Errorf(souq.ErrConflict, "order %s is paid through %q, which this shop no longer uses", id, o.Payment.Provider)
	}
	st, err := s.payments.Provider.Capture(ctx, o.Payment.Reference)
	if err != nil {
		return souq.Order{}, fmt.Errorf("capture the payment of order %s: %w", id, err)
	}
	if st.Status != souq.PaymentCaptured {
		return souq.Order{}, souq.Errorf(souq.ErrConflict, "the provider did not capture order %s's payment: it is %s", id, st.Status)
	}
	return s.settle(ctx, id, st)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// PaymentWebhook handles a notification from the payment provider: it
// verifies it, and unless its event was handled before, records the state
// it reports on its order. A notification about an order Souq does not
// have, or one that is not paid by card, is acknowledged and logged: the
// provider would otherwise send it again for days. An error other than
// ErrUnauthorized means it could not be handled now, and the provider
// should send it again.
func (s *Service) PaymentWebhook(ctx context.Context, header http.Header, body []byte) error {
	p := s.payments.Provider
	if p == nil {
		return souq.Errorf(souq.ErrNotFound, "this shop takes no card payments")
	}
	n, err := p.Webhook(header, body)
	if err != nil {
		return err
	}
	seen, err := s.store.PaymentEventSeen(ctx, p.Name(), n.ID)
	if err != nil {
		return err
	}
	if seen {
		return nil
	}
	if n.State.Status != "" && n.State.Order != "" {
		_, err := s.settle(ctx, n.State.Order, n.State)
		switch {
		case errors.Is(err, souq.ErrNotFound), errors.Is(err, souq.ErrConflict):
			s.log.Warn("payment notification for an order that cannot take it: acknowledged, ignored",
				"event", n.ID, "order", n.State.Order, "reference", n.State.Reference, "status", n.State.Status, "err", err)
		case err != nil:
			return err
		}
	}
	return s.store.RecordPaymentEvent(ctx, p.Name(), n.ID, s.now().UTC())
}

// SweepPayments looks at the orders whose payment is due: it releases the
// unpaid ones whose time is up (after cancelling their payment at the
// provider; a payment taken meanwhile makes the order paid instead) and
// gives back payments waiting to be refunded. It returns how many orders
// it looked at. Several replicas may sweep at once: each step is
// conditional on the order's state, and provider calls are idempotent.
func (s *Service) SweepPayments(ctx context.Context) (int, error) {
	if s.payments.Provider == nil {
		return 0, nil
	}
	now := s.now().UTC()
	ids, err := s.store.DuePayments(ctx, now, sweepBatch)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, id := range ids {
		if err := s.sweep(ctx, id); err != nil && !errors.Is(err, souq.ErrConflict) {
			errs = append(errs, err)
		}
	}
	if _, err := s.store.DeletePaymentEventsBefore(ctx, now.Add(-PaymentEventTTL)); err != nil {
		errs = append(errs, fmt.Errorf("forget old payment events: %w", err))
	}
	return len(ids), errors.Join(errs...)
}

// sweep handles one due order.
func (s *Service) sweep(ctx context.Context, id souq.ID) error {
	o, err := s.store.Order(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case o.Payment.Status == souq.PaymentRefundPending:
		_, err = s.refund(ctx, id)
		return err
	case o.Status != souq.StatusPendingPayment:
		_, err = s.store.UpdateOrder(ctx, id, s.now().UTC(), func(o *souq.Order) (OrderUpdate, error) {
			if o.Payment.DueAt == nil || o.Payment.Status == souq.PaymentRefundPending || o.Status == souq.StatusPendingPayment {
				return unchanged, nil
			}
			o.Payment.DueAt = nil // nothing left to do
			return OrderUpdate{}, nil
		})
		return err
	case o.Payment.Provider != s.providerName():
		s.log.Error("unpaid order of a provider this shop no longer uses: released without asking it",
			"order", id, "provider", o.Payment.Provider, "reference", o.Payment.Reference)
		_, err = s.release(ctx, id, souq.PaymentCanceled, "")
		return err
	case o.Payment.Reference == "":
		// The process that placed it stopped before the provider answered.
		// Had a payment been made, its webhook would have named the order;
		// one arriving after this release is given back (settle).
		_, err = s.release(ctx, id, souq.PaymentCanceled, "")
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, providerCall)
	defer cancel()
	st, err := s.payments.Provider.Cancel(cctx, o.Payment.Reference)
	if errors.Is(err, souq.ErrNotFound) {
		// The provider has no such payment (the test provider forgets its
		// payments when its process stops): nothing can be taken.
		s.log.Warn("the provider has no payment for an unpaid order: released", "order", id, "reference", o.Payment.Reference)
		_, err = s.release(ctx, id, souq.PaymentCanceled, "the payment provider has no such payment")
		return err
	}
	if err != nil {
		return fmt.Errorf("cancel the unpaid payment of order %s: %w", id, err)
	}
	if st.Status == souq.PaymentPending || st.Status == souq.PaymentFailed {
		return fmt.Errorf("cancel the unpaid payment of order %s: the provider still reports it %s", id, st.Status)
	}
	if st.Status == souq.PaymentCanceled {
		// The payment cannot be taken any more: release the stock.
		_, err = s.release(ctx, id, souq.PaymentCanceled, "the payment was not completed in time")
		return err
	}
	_, err = s.settle(ctx, id, st)
	return err
}

// cancelPaid is the cancellation of a paid order: its stock given back,
// "Order Cancelled" written, and its payment given back (refund_pending,
// then refund).
func (s *Service) cancelPaid(o *souq.Order, now time.Time) (OrderUpdate, error) {
	o.Status, o.CancelledAt = souq.StatusCancelled, &now
	up := OrderUpdate{Restock: true}
	if o.CompletedAt != nil {
		ev, err := souq.NewOrderEvent(souq.EventOrderCancelled, *o, now)
		if err != nil {
			return OrderUpdate{}, err
		}
		up.Events = append(up.Events, ev)
	}
	if o.Payment.Method == souq.PayCard && slices.Contains([]souq.PaymentStatus{souq.PaymentAuthorized, souq.PaymentCaptured}, o.Payment.Status) {
		o.Payment.Status, o.Payment.DueAt = souq.PaymentRefundPending, &now
	}
	return up, nil
}

// Refresh reads the payment of an order still pending back from the
// provider and records it, for the holder of its access token: the
// shopper is back from the provider's page, perhaps before its webhook.
// It returns the order as it stands; a provider that cannot be reached
// leaves it as it was (the webhook or the sweeper settles it).
func (s *Service) Refresh(ctx context.Context, id souq.ID, token string) (souq.Order, error) {
	o, err := s.Order(ctx, id, token)
	if err != nil || o.Status != souq.StatusPendingPayment || o.Payment.Reference == "" || o.Payment.Provider != s.providerName() {
		return o, err
	}
	cctx, cancel := context.WithTimeout(ctx, providerCall)
	defer cancel()
	st, err := s.payments.Provider.Lookup(cctx, o.Payment.Reference)
	if err != nil {
		s.log.Warn("read payment back", "order", id, "err", err)
		return o, nil
	}
	if st.Status == souq.PaymentCanceled {
		// Only the sweeper releases an order, after cancelling at the
		// provider; a hosted page the shopper left is not the end.
		return o, nil
	}
	return s.settle(ctx, id, st)
}
