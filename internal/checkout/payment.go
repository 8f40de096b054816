package checkout

import (
	"context"
	"net/http"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// PaymentProvider takes card payments for orders. Card details go from the
// shopper to the provider only (its hosted page, or its own front-end
// library turning them into a token); Souq sees tokens and references.
//
// Every call must be idempotent per order or reference: a process that dies
// midway leaves the work to another, which repeats the call. payment's
// TestProvider is the built-in one; docs/payments.md says how to write
// another.
type PaymentProvider interface {
	// Name is the provider's name, recorded on each order it takes.
	Name() string
	// Start asks the provider to take payment for an order. Starting the
	// same order again returns the same payment, not a second one. A card
	// declined at once is an ErrPayment error.
	Start(ctx context.Context, c Charge) (PaymentState, error)
	// Lookup reads a payment's state back from the provider.
	Lookup(ctx context.Context, reference string) (PaymentState, error)
	// Capture takes the whole of an authorised payment (manual capture).
	// Capturing a captured payment returns its state.
	Capture(ctx context.Context, reference string) (PaymentState, error)
	// Cancel cancels a payment not taken yet: the shopper has not paid, or
	// an authorisation is voided. When the payment was taken meanwhile it is
	// not cancelled, and the state returned says so.
	Cancel(ctx context.Context, reference string) (PaymentState, error)
	// Refund returns the whole of a captured payment; refunding the same
	// order again returns the same refund's reference.
	Refund(ctx context.Context, reference string, order souq.ID) (string, error)
	// Webhook verifies a notification the provider sent (its signature and
	// age) and decodes it. A notification that fails verification is an
	// ErrUnauthorized error; one about something other than a payment is
	// returned with Notification.State.Status empty.
	Webhook(header http.Header, body []byte) (Notification, error)
}

// CaptureMode is when a card payment is taken.
type CaptureMode string

// Capture modes: at once when the shopper pays, or an authorisation held
// until the order is dispatched (the admin API's capture).
const (
	CaptureAutomatic CaptureMode = "automatic"
	CaptureManual    CaptureMode = "manual"
)

// Charge is what a provider is asked to take for an order.
type Charge struct {
	Order    souq.ID
	Amount   souq.Money
	Capture  CaptureMode
	Email    string // the shopper's, for the provider's receipt; may be empty
	Language string // "ar" or "en", for the provider's pages
	// Token is a payment method the provider's own front-end library made
	// from the card (or Apple Pay); Souq confirms the payment with it. Empty
	// sends the shopper to the provider's hosted payment page instead.
	Token string
	// ReturnURL is where the provider sends the shopper back after its
	// page or 3-D Secure; CancelURL when the shopper gives up on its page.
	ReturnURL string
	CancelURL string
	// ExpiresAt is when the order's stock is released if it is unpaid.
	ExpiresAt time.Time
}

// PaymentState is a payment as the provider reports it.
type PaymentState struct {
	Reference string
	Order     souq.ID // from the payment's metadata; empty when unknown
	Status    souq.PaymentStatus
	Amount    souq.Money
	// RedirectURL is the shopper's next step while the payment is pending
	// (the hosted page, or the bank's 3-D Secure page).
	RedirectURL string
	// ClientSecret lets the provider's front-end library finish a pending
	// payment (a PaymentIntent's client secret); it is never stored.
	ClientSecret string
	// Failure is the provider's reason for a decline, safe to show.
	Failure string
}

// Notification is a verified webhook: the provider's event id (deliveries
// of one event share it) and the payment's state it reports. Deliveries
// may come in any order; the order's own state decides what news still
// applies (pay.go), so the event's time is not needed.
type Notification struct {
	ID    string
	State PaymentState
}
