package stripepay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// startSession sends the shopper to Stripe's hosted page: a Checkout
// Session with one line, the order's total.
func (p *Provider) startSession(ctx context.Context, c checkout.Charge) (checkout.PaymentState, error) {
	cancelURL := c.CancelURL
	if cancelURL == "" {
		cancelURL = c.ReturnURL
	}
	meta := map[string]string{metadataOrder: string(c.Order)}
	params := &stripe.CheckoutSessionCreateParams{
		Mode: stripe.String(string(stripe.CheckoutSessionModePayment)),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripe.String(strings.ToLower(string(c.Amount.Currency))),
				UnitAmount:  stripe.Int64(c.Amount.Amount),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String(description(c.Order))},
			},
		}},
		ClientReferenceID: stripe.String(string(c.Order)),
		Metadata:          meta,
		PaymentIntentData: &stripe.CheckoutSessionCreatePaymentIntentDataParams{
			Metadata:      meta,
			CaptureMethod: stripe.String(captureMethod(c.Capture)),
			Description:   stripe.String(description(c.Order)),
		},
		SuccessURL: stripe.String(c.ReturnURL),
		CancelURL:  stripe.String(cancelURL),
		Locale:     stripe.String(locale(c.Language)),
		ExpiresAt:  stripe.Int64(sessionExpiry(c.ExpiresAt, p.now())),
	}
	if c.Email != "" {
		params.CustomerEmail = stripe.String(c.Email)
	}
	params.SetIdempotencyKey("souq-checkout-" + string(c.Order))
	s, err := p.client.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return checkout.PaymentState{}, stripeErr("create checkout session for order "+string(c.Order), err)
	}
	if replayed(s.LastResponse) {
		return p.Lookup(ctx, s.ID)
	}
	return checkout.PaymentState{
		Reference:   s.ID,
		Order:       c.Order,
		Status:      souq.PaymentPending,
		Amount:      c.Amount,
		RedirectURL: s.URL,
	}, nil
}

// locale is the hosted page's language: English when the shopper chose
// it, else the browser's ("auto"). Stripe Checkout has no Arabic (its
// locales are European and East Asian ones; "ar" is refused), so an Arabic
// shopper sees the page in the browser's language if Stripe has it, else in
// English.
func locale(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "auto"
}

// Stripe's bounds on a Checkout Session's expiry, from its creation, with a
// minute's margin for the clocks.
const (
	sessionMinLife = 31 * time.Minute
	sessionMaxLife = 24*time.Hour - time.Minute
	sessionStep    = 30 * time.Minute
)

// sessionExpiry returns a Checkout Session's expires_at: the order's expiry
// when Stripe allows it (30 minutes to 24 hours from now), else moved into
// that window. (The caller expires the session earlier, with Cancel, when
// the order's stock hold ends first.)
//
// A moved expiry moves in whole steps of half an hour from the order's (or,
// without one, to a half-hour of the clock), so that Start repeated for the
// same order a little later sends the same expires_at: Stripe refuses an
// idempotency key reused with different parameters.
func sessionExpiry(want, now time.Time) int64 {
	lo, hi := now.Add(sessionMinLife), now.Add(sessionMaxLife)
	switch {
	case want.IsZero() || lo.Sub(want) > 24*time.Hour:
		t := lo.Truncate(sessionStep)
		if t.Before(lo) {
			t = t.Add(sessionStep)
		}
		return t.Unix()
	case want.Before(lo):
		steps := (lo.Sub(want) + sessionStep - 1) / sessionStep
		return want.Add(steps * sessionStep).Unix()
	case want.After(hi):
		return hi.Truncate(sessionStep).Unix()
	}
	return want.Unix()
}

// sessionState maps a Checkout Session to the payment's state: pending with
// the hosted page while open, canceled once expired. A complete session is
// its PaymentIntent's state when Stripe sent the PaymentIntent (Lookup
// expands it). Otherwise (a webhook's session names its PaymentIntent only)
// the reference becomes the PaymentIntent's id and the status is captured
// when the session is paid, else pending: a manual capture's authorisation,
// or a payment still processing, is reported by the payment_intent events
// that follow.
func sessionState(s *stripe.CheckoutSession) (checkout.PaymentState, error) {
	order := souq.ID(s.ClientReferenceID)
	if order == "" {
		order = souq.ID(s.Metadata[metadataOrder])
	}
	if s.Status == stripe.CheckoutSessionStatusComplete && s.PaymentIntent != nil && s.PaymentIntent.Status != "" {
		st, err := intentState(s.PaymentIntent)
		if st.Order == "" {
			st.Order = order
		}
		return st, err
	}
	st := checkout.PaymentState{Reference: s.ID, Order: order}
	switch s.Status {
	case stripe.CheckoutSessionStatusOpen:
		st.Status = souq.PaymentPending
		st.RedirectURL = s.URL
	case stripe.CheckoutSessionStatusExpired:
		st.Status = souq.PaymentCanceled
	case stripe.CheckoutSessionStatusComplete:
		st.Status = souq.PaymentPending
		if s.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid {
			st.Status = souq.PaymentCaptured
		}
		if s.PaymentIntent != nil && s.PaymentIntent.ID != "" {
			st.Reference = s.PaymentIntent.ID
		}
	default:
		return checkout.PaymentState{}, fmt.Errorf("stripe: checkout session %s has an unknown status %q", s.ID, s.Status)
	}
	var err error
	if st.Amount, err = money(s.AmountTotal, s.Currency); err != nil {
		return checkout.PaymentState{}, fmt.Errorf("checkout session %s: %w", s.ID, err)
	}
	return st, nil
}

// expireSession expires an open Checkout Session. When Stripe refuses
// because the session is complete or expired already, it returns the
// session's state.
func (p *Provider) expireSession(ctx context.Context, id string) (checkout.PaymentState, error) {
	params := &stripe.CheckoutSessionExpireParams{}
	params.SetIdempotencyKey("souq-expire-" + id)
	s, err := p.client.V1CheckoutSessions.Expire(ctx, id, params)
	if err == nil {
		return sessionState(s)
	}
	err = stripeErr("expire checkout session "+id, err)
	if errors.Is(err, souq.ErrInvalid) || errors.Is(err, souq.ErrConflict) {
		// Stripe names no error code for "the session is not open": its
		// state says whether it is.
		st, lerr := p.Lookup(ctx, id)
		if lerr == nil && (st.Reference != id || st.Status != souq.PaymentPending) {
			return st, nil
		}
	}
	return checkout.PaymentState{}, err
}
