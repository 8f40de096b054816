package stripepay

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// ErrAPIVersion is a webhook event, correctly signed, of a Stripe API
// version other than the library's (stripe.APIVersion): its objects might
// decode wrongly, so it is not read. It is a server-side error (the caller
// answers 5xx and Stripe delivers again later): create the webhook endpoint
// with the library's API version.
var ErrAPIVersion = errors.New("stripe webhook: event of another API version")

// Webhook verifies a delivery to the webhook endpoint (its Stripe-Signature
// header, made with the endpoint's secret, and its age against Tolerance)
// and decodes the event:
//
//	payment_intent.succeeded, .amount_capturable_updated, .payment_failed,
//	.canceled, .processing, .requires_action    the PaymentIntent's state (see intentState)
//	checkout.session.completed, .expired        the session's state (see sessionState)
//	charge.refunded                             refunded, when the whole charge is
//	anything else                               a Notification with no State.Status
//
// A PaymentIntent or Checkout Session with no order id is not Souq's (the
// account's Payment Links, another integration): its events are returned
// with no State.Status too, so that the caller acknowledges them instead of
// having Stripe deliver them again for days.
//
// A delivery that fails verification is a souq.ErrUnauthorized error; a
// signed body that is not an event Souq can read is souq.ErrInvalid; an
// event of another API version is ErrAPIVersion. The Stripe library checks
// the version because objects change shape between API versions: the
// endpoint must be created (in the dashboard or the API) with
// stripe.APIVersion, the version of the stripe-go this package is built with,
// and moved to the new version when stripe-go is upgraded.
//
// The caller bounds the body's size. Deliveries of one event share its ID;
// Stripe does not order them.
func (p *Provider) Webhook(header http.Header, body []byte) (checkout.Notification, error) {
	event, err := webhook.ConstructEventWithOptions(body, header.Get("Stripe-Signature"), p.webhookSecret,
		webhook.ConstructEventOptions{Tolerance: p.tolerance})
	if err != nil {
		return checkout.Notification{}, p.webhookErr(body, err)
	}
	if event.ID == "" || event.Data == nil {
		return checkout.Notification{}, souq.Errorf(souq.ErrInvalid, "the Stripe event has no id or no data")
	}
	n := checkout.Notification{ID: event.ID}
	var st checkout.PaymentState
	switch event.Type {
	case stripe.EventTypePaymentIntentSucceeded,
		stripe.EventTypePaymentIntentAmountCapturableUpdated,
		stripe.EventTypePaymentIntentPaymentFailed,
		stripe.EventTypePaymentIntentCanceled,
		stripe.EventTypePaymentIntentProcessing,
		stripe.EventTypePaymentIntentRequiresAction:
		var pi stripe.PaymentIntent
		if err = json.Unmarshal(event.Data.Raw, &pi); err == nil && pi.Metadata[metadataOrder] != "" {
			st, err = intentState(&pi)
		}
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionExpired:
		var s stripe.CheckoutSession
		if err = json.Unmarshal(event.Data.Raw, &s); err == nil && (s.ClientReferenceID != "" || s.Metadata[metadataOrder] != "") {
			st, err = sessionState(&s)
		}
	case stripe.EventTypeChargeRefunded:
		var ch stripe.Charge
		if err = json.Unmarshal(event.Data.Raw, &ch); err == nil {
			st, err = refundedState(&ch)
		}
	default:
		return n, nil
	}
	if err == nil && st.Status != "" && st.Reference == "" {
		err = errors.New("no object id")
	}
	if err != nil {
		return checkout.Notification{}, souq.Errorf(souq.ErrInvalid, "Stripe event %s (%s): %v", event.ID, event.Type, err)
	}
	n.State = st
	return n, nil
}

// refundedState maps a refunded charge to its PaymentIntent's state:
// refunded when the whole charge is. A partial refund (made on Stripe's
// dashboard: Souq refunds whole payments) or a charge of no PaymentIntent
// returns an empty state, which the caller ignores.
func refundedState(ch *stripe.Charge) (checkout.PaymentState, error) {
	if !ch.Refunded || ch.PaymentIntent == nil || ch.PaymentIntent.ID == "" {
		return checkout.PaymentState{}, nil
	}
	amount, err := money(ch.AmountRefunded, ch.Currency)
	if err != nil {
		return checkout.PaymentState{}, fmt.Errorf("charge %s: %w", ch.ID, err)
	}
	return checkout.PaymentState{
		Reference: ch.PaymentIntent.ID,
		Order:     souq.ID(ch.Metadata[metadataOrder]),
		Status:    souq.PaymentRefunded,
		Amount:    amount,
	}, nil
}

// webhookErr explains why ConstructEventWithOptions refused a delivery.
func (p *Provider) webhookErr(body []byte, err error) error {
	switch {
	case errors.Is(err, webhook.ErrNotSigned):
		return souq.Errorf(souq.ErrUnauthorized, "the request has no Stripe-Signature header")
	case errors.Is(err, webhook.ErrInvalidHeader):
		return souq.Errorf(souq.ErrUnauthorized, "the Stripe-Signature header is malformed")
	case errors.Is(err, webhook.ErrTooOld):
		// The library checks the age before the signature.
		return souq.Errorf(souq.ErrUnauthorized, "the Stripe-Signature timestamp is older than %s: a replayed delivery, or a clock is off", p.tolerance)
	case errors.Is(err, webhook.ErrNoValidSignature):
		return souq.Errorf(souq.ErrUnauthorized, "no signature in the Stripe-Signature header matches the body and the endpoint's secret")
	}
	// The signature is good. The library's other two refusals are a body
	// that is not an event, and an event of another API version.
	var e stripe.Event
	if json.Unmarshal(body, &e) != nil {
		return souq.Errorf(souq.ErrInvalid, "the signed body is not a Stripe event")
	}
	return fmt.Errorf("%w: event %s is of API version %q, stripe-go reads %q: create the webhook endpoint with API version %s",
		ErrAPIVersion, e.ID, e.APIVersion, stripe.APIVersion, stripe.APIVersion)
}
