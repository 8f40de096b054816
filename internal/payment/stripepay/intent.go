package stripepay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stripe/stripe-go/v82"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// Reference prefixes: Stripe's ids of the objects this package returns.
const (
	prefixIntent  = "pi_"
	prefixSession = "cs_"
)

// Start takes payment for an order. With a token (a PaymentMethod id that
// Stripe.js, Elements or Apple Pay made on the storefront) it creates and
// confirms a PaymentIntent: the state returned is captured, authorised, or
// pending with the bank's 3-D Secure page as RedirectURL; a declined card is
// a souq.ErrPayment error with Stripe's message for the shopper. Without a
// token it creates a Checkout Session: the state is pending, with Stripe's
// hosted page as RedirectURL.
func (p *Provider) Start(ctx context.Context, c checkout.Charge) (checkout.PaymentState, error) {
	if err := checkCharge(c); err != nil {
		return checkout.PaymentState{}, err
	}
	if c.Token == "" {
		return p.startSession(ctx, c)
	}
	return p.startIntent(ctx, c)
}

// checkCharge refuses a charge Stripe would refuse, or that Souq should
// never send. Stripe's minimum amounts are left to Stripe.
func checkCharge(c checkout.Charge) error {
	switch {
	case c.Order == "":
		return errors.New("stripe: start: the charge has no order id")
	case !c.Amount.Currency.Valid():
		return fmt.Errorf("stripe: start order %s: unknown currency %q", c.Order, c.Amount.Currency)
	case c.Capture != checkout.CaptureAutomatic && c.Capture != checkout.CaptureManual:
		return fmt.Errorf("stripe: start order %s: unknown capture mode %q", c.Order, c.Capture)
	case c.ReturnURL == "":
		return fmt.Errorf("stripe: start order %s: the charge has no return URL", c.Order)
	case c.Amount.Amount <= 0 || c.Amount.Amount > souq.MaxAmount:
		return souq.Errorf(souq.ErrInvalid, "a card payment of %s is out of range", c.Amount)
	case c.Amount.Currency.Exponent() == 3 && c.Amount.Amount%10 != 0:
		// Stripe takes KWD, BHD and OMR amounts in thousandths, but only
		// whole hundredths of them; rounding would charge a different
		// amount from the order's.
		return souq.Errorf(souq.ErrInvalid,
			"Stripe charges %s only in multiples of 10 minor units (0.010): %s cannot be charged by card",
			c.Amount.Currency, c.Amount)
	case c.Token != "" && !strings.HasPrefix(c.Token, "pm_"):
		return souq.Errorf(souq.ErrInvalid, "the payment token is not a Stripe PaymentMethod id (pm_…)")
	}
	return nil
}

// captureMethod is Stripe's name for a capture mode.
func captureMethod(m checkout.CaptureMode) string {
	if m == checkout.CaptureManual {
		return string(stripe.PaymentIntentCaptureMethodManual)
	}
	return string(stripe.PaymentIntentCaptureMethodAutomatic)
}

func (p *Provider) startIntent(ctx context.Context, c checkout.Charge) (checkout.PaymentState, error) {
	params := &stripe.PaymentIntentCreateParams{
		Amount:        stripe.Int64(c.Amount.Amount),
		Currency:      stripe.String(strings.ToLower(string(c.Amount.Currency))),
		PaymentMethod: stripe.String(c.Token),
		Confirm:       stripe.Bool(true),
		ReturnURL:     stripe.String(c.ReturnURL),
		CaptureMethod: stripe.String(captureMethod(c.Capture)),
		Description:   stripe.String(description(c.Order)),
		Metadata:      map[string]string{metadataOrder: string(c.Order)},
	}
	if c.Email != "" {
		params.ReceiptEmail = stripe.String(c.Email)
	}
	params.SetIdempotencyKey("souq-order-" + string(c.Order))
	pi, err := p.client.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return checkout.PaymentState{}, stripeErr("create payment intent for order "+string(c.Order), err)
	}
	if replayed(pi.LastResponse) {
		return p.Lookup(ctx, pi.ID)
	}
	return intentState(pi)
}

// replayed reports whether Stripe answered a POST from its idempotency
// cache: with its answer to the first request with the key, which may be
// out of date (the shopper has passed 3-D Secure since, or paid on the
// hosted page).
func replayed(r *stripe.APIResponse) bool {
	return r != nil && r.Header.Get("Idempotent-Replayed") == "true"
}

// Lookup reads a payment back from Stripe: a PaymentIntent (pi_…), or a
// Checkout Session (cs_…), which is pending while open, canceled once
// expired, and once complete its PaymentIntent's state (the reference
// returned is then the PaymentIntent's).
func (p *Provider) Lookup(ctx context.Context, reference string) (checkout.PaymentState, error) {
	switch {
	case strings.HasPrefix(reference, prefixIntent):
		params := &stripe.PaymentIntentRetrieveParams{}
		params.AddExpand("latest_charge") // to tell a refunded payment
		pi, err := p.client.V1PaymentIntents.Retrieve(ctx, reference, params)
		if err != nil {
			return checkout.PaymentState{}, stripeErr("retrieve payment intent "+reference, err)
		}
		return intentState(pi)
	case strings.HasPrefix(reference, prefixSession):
		params := &stripe.CheckoutSessionRetrieveParams{}
		params.AddExpand("payment_intent.latest_charge")
		s, err := p.client.V1CheckoutSessions.Retrieve(ctx, reference, params)
		if err != nil {
			return checkout.PaymentState{}, stripeErr("retrieve checkout session "+reference, err)
		}
		return sessionState(s)
	}
	return checkout.PaymentState{}, notFound(reference)
}

func notFound(reference string) error {
	return souq.Errorf(souq.ErrNotFound, "no Stripe payment %q: a reference starts with pi_ or cs_", reference)
}

// intentRef returns the PaymentIntent of a reference: itself, or a complete
// Checkout Session's. A session the shopper has not paid has none: that is
// a souq.ErrConflict error.
func (p *Provider) intentRef(ctx context.Context, reference string) (string, error) {
	switch {
	case strings.HasPrefix(reference, prefixIntent):
		return reference, nil
	case strings.HasPrefix(reference, prefixSession):
		st, err := p.Lookup(ctx, reference)
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(st.Reference, prefixIntent) {
			return "", souq.Errorf(souq.ErrConflict, "the payment %s is %s: nothing was paid", reference, st.Status)
		}
		return st.Reference, nil
	}
	return "", notFound(reference)
}

// Capture takes an authorised payment (manual capture). Capturing a payment
// Stripe has already captured returns its state.
func (p *Provider) Capture(ctx context.Context, reference string) (checkout.PaymentState, error) {
	id, err := p.intentRef(ctx, reference)
	if err != nil {
		return checkout.PaymentState{}, err
	}
	params := &stripe.PaymentIntentCaptureParams{}
	params.SetIdempotencyKey("souq-capture-" + id)
	pi, err := p.client.V1PaymentIntents.Capture(ctx, id, params)
	if err == nil {
		return intentState(pi)
	}
	if stripeCode(err) == stripe.ErrorCodePaymentIntentUnexpectedState {
		st, lerr := p.Lookup(ctx, id)
		if lerr == nil && (st.Status == souq.PaymentCaptured || st.Status == souq.PaymentRefunded) {
			return st, nil
		}
	}
	return checkout.PaymentState{}, stripeErr("capture payment intent "+id, err)
}

// Cancel cancels a payment not taken yet: it cancels a PaymentIntent (which
// voids an authorisation) or expires an open Checkout Session. When Stripe
// refuses because the payment was taken meanwhile (or is already
// cancelled), Cancel returns the payment's state, which says so.
func (p *Provider) Cancel(ctx context.Context, reference string) (checkout.PaymentState, error) {
	switch {
	case strings.HasPrefix(reference, prefixIntent):
		return p.cancelIntent(ctx, reference)
	case strings.HasPrefix(reference, prefixSession):
		return p.expireSession(ctx, reference)
	}
	return checkout.PaymentState{}, notFound(reference)
}

func (p *Provider) cancelIntent(ctx context.Context, id string) (checkout.PaymentState, error) {
	params := &stripe.PaymentIntentCancelParams{}
	params.SetIdempotencyKey("souq-cancel-" + id)
	pi, err := p.client.V1PaymentIntents.Cancel(ctx, id, params)
	if err == nil {
		return intentState(pi)
	}
	if stripeCode(err) == stripe.ErrorCodePaymentIntentUnexpectedState {
		st, lerr := p.Lookup(ctx, id)
		if lerr == nil && final(st.Status) {
			return st, nil
		}
	}
	return checkout.PaymentState{}, stripeErr("cancel payment intent "+id, err)
}

// final reports whether a payment's state can no longer be cancelled.
func final(s souq.PaymentStatus) bool {
	return s == souq.PaymentCaptured || s == souq.PaymentCanceled || s == souq.PaymentRefunded
}

// Refund returns the whole of a captured payment. The refund's
// idempotency key is the order's, so refunding the order again within
// Stripe's 24 hours returns the same refund; later, Stripe refuses a second
// refund of a refunded payment, and Refund returns the latest refund's id.
func (p *Provider) Refund(ctx context.Context, reference string, order souq.ID) (string, error) {
	if order == "" {
		return "", errors.New("stripe: refund: no order id")
	}
	id, err := p.intentRef(ctx, reference)
	if err != nil {
		return "", err
	}
	params := &stripe.RefundCreateParams{
		PaymentIntent: stripe.String(id),
		Metadata:      map[string]string{metadataOrder: string(order)},
	}
	params.SetIdempotencyKey("souq-refund-" + string(order))
	r, err := p.client.V1Refunds.Create(ctx, params)
	if err == nil {
		return r.ID, nil
	}
	if stripeCode(err) == stripe.ErrorCodeChargeAlreadyRefunded {
		if ref, lerr := p.latestRefund(ctx, id); lerr == nil && ref != "" {
			return ref, nil
		}
	}
	return "", stripeErr("refund payment intent "+id+" for order "+string(order), err)
}

// latestRefund returns the newest refund of a PaymentIntent that has not
// failed, or "" when there is none.
func (p *Provider) latestRefund(ctx context.Context, id string) (string, error) {
	params := &stripe.RefundListParams{PaymentIntent: stripe.String(id)}
	params.Limit = stripe.Int64(10)
	for r, err := range p.client.V1Refunds.List(ctx, params) {
		if err != nil {
			return "", err
		}
		if r.Status != stripe.RefundStatusFailed && r.Status != stripe.RefundStatusCanceled {
			return r.ID, nil // Stripe lists the newest first
		}
	}
	return "", nil
}

// intentState maps a PaymentIntent to the payment's state:
//
//	requires_payment_method, requires_confirmation,
//	requires_action, processing                       pending
//	requires_capture                                  authorized
//	succeeded                                         captured (refunded once its charge is)
//	canceled                                          canceled
//
// A pending payment carries the client secret (for Stripe.js to finish
// it), the 3-D Secure page when Stripe asks for a redirect, and the last
// decline's message: a PaymentIntent whose card was declined waits for
// another payment method, so Stripe's "failed" is Souq's pending with a
// Failure, final only when the PaymentIntent is cancelled.
func intentState(pi *stripe.PaymentIntent) (checkout.PaymentState, error) {
	st := checkout.PaymentState{Reference: pi.ID, Order: souq.ID(pi.Metadata[metadataOrder])}
	amount := pi.Amount
	switch pi.Status {
	case stripe.PaymentIntentStatusRequiresPaymentMethod,
		stripe.PaymentIntentStatusRequiresConfirmation,
		stripe.PaymentIntentStatusRequiresAction,
		stripe.PaymentIntentStatusProcessing:
		st.Status = souq.PaymentPending
		st.ClientSecret = pi.ClientSecret
		if pi.LastPaymentError != nil {
			st.Failure = pi.LastPaymentError.Msg
		}
		if pi.Status == stripe.PaymentIntentStatusRequiresAction && pi.NextAction != nil && pi.NextAction.RedirectToURL != nil {
			st.RedirectURL = pi.NextAction.RedirectToURL.URL
		}
	case stripe.PaymentIntentStatusRequiresCapture:
		st.Status = souq.PaymentAuthorized
	case stripe.PaymentIntentStatusSucceeded:
		st.Status = souq.PaymentCaptured
		amount = pi.AmountReceived
		if pi.LatestCharge != nil && pi.LatestCharge.Refunded {
			st.Status = souq.PaymentRefunded
		}
	case stripe.PaymentIntentStatusCanceled:
		st.Status = souq.PaymentCanceled
	default:
		return checkout.PaymentState{}, fmt.Errorf("stripe: payment intent %s has an unknown status %q", pi.ID, pi.Status)
	}
	var err error
	if st.Amount, err = money(amount, pi.Currency); err != nil {
		return checkout.PaymentState{}, fmt.Errorf("payment intent %s: %w", pi.ID, err)
	}
	return st, nil
}
