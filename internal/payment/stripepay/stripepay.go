// Package stripepay takes card payments through Stripe: it is the Stripe
// implementation of checkout.PaymentProvider.
//
// # Card data (PCI DSS SAQ A)
//
// Card numbers and security codes are typed only into Stripe: its hosted
// Checkout page, or Stripe.js and Elements (including Apple Pay) on the
// storefront, which turn them into a PaymentMethod (pm_…) in the browser.
// Souq's servers handle only those PaymentMethod ids and Stripe's references
// (pi_…, cs_…, re_…), so Souq stays within SAQ A. (With Elements, PCI DSS 4
// also asks that the scripts on the page that hosts Stripe's iframe are
// authorised and watched: requirements 6.4.3 and 11.6.1.)
//
// # Stripe objects
//
//   - A PaymentIntent (pi_…) per order paid with a token: Start creates and
//     confirms it at once; its state is the payment's state. Capture,
//     Cancel and Refund act on it.
//   - A Checkout Session (cs_…) per order paid on Stripe's hosted page (no
//     token: it works without JavaScript). Its reference is the session's
//     until the shopper pays; the PaymentIntent Stripe then creates carries
//     the order id in its metadata, and Lookup, the webhook and Capture
//     report and use the PaymentIntent's id. Checkout has no Arabic: the
//     page is in English or the browser's language.
//   - A Refund (re_…) per refunded order.
//
// Every object carries the order id in its metadata (order_id); a Checkout
// Session also in client_reference_id.
//
// # Idempotency
//
// Every POST carries an explicit Idempotency-Key, so that a repeated call
// (another process finishing the work of one that died) returns the first
// call's result instead of charging twice:
//
//	souq-order-<order>       the PaymentIntent of a token payment
//	souq-checkout-<order>    the Checkout Session of a hosted payment
//	souq-capture-<pi>        a capture
//	souq-cancel-<pi>         a PaymentIntent's cancellation
//	souq-expire-<cs>         a Checkout Session's expiry
//	souq-refund-<order>      the refund of an order
//
// Stripe answers a repeated request with its first answer, which may be out
// of date, so a repeated Start reads the payment back. It keeps a key for 24
// hours (an unpaid order is cancelled long before) and refuses a key reused
// with different parameters (an idempotency_error, reported as
// souq.ErrConflict): one order is one payment attempt. A declined token
// cannot be retried with another card under the same order id; the hosted
// page lets the shopper try again within the one session. For the same
// reason a Checkout Session's expiry moves in whole steps (see
// sessionExpiry), so that Start repeated a moment later sends the same one.
//
// # Webhooks
//
// The endpoint must be created with the API version this package is built
// with (stripe.APIVersion, see Webhook) and subscribe to:
//
//	payment_intent.succeeded
//	payment_intent.amount_capturable_updated
//	payment_intent.payment_failed
//	payment_intent.canceled
//	payment_intent.processing
//	payment_intent.requires_action
//	checkout.session.completed
//	checkout.session.expired
//	charge.refunded
package stripepay

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// Config configures a Provider.
type Config struct {
	// SecretKey is the account's secret API key (sk_live_…, sk_test_…) or a
	// restricted key (rk_…) allowed to write PaymentIntents, Checkout
	// Sessions and Refunds.
	SecretKey string
	// WebhookSecret is the webhook endpoint's signing secret (whsec_…).
	WebhookSecret string
	// APIURL is Stripe's API; empty means https://api.stripe.com. Tests
	// point it at stripe-mock.
	APIURL string
	// Tolerance is the webhook replay window: a signature older than this
	// is refused. Zero means webhook.DefaultTolerance (5 minutes).
	Tolerance time.Duration
	// HTTPClient makes the API calls; nil means one with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock for a Checkout Session's expiry; nil means
	// time.Now. (The webhook's age check uses the system clock: the
	// Stripe library takes no other.)
	Now func() time.Time
}

// Provider takes card payments through Stripe. It is safe for concurrent use.
type Provider struct {
	client        *stripe.Client
	webhookSecret string
	tolerance     time.Duration
	now           func() time.Time
}

var _ checkout.PaymentProvider = (*Provider)(nil)

// networkRetries is how many times the Stripe library retries a request that
// failed on the way (a connection error, a 409 or a 5xx Stripe says is safe
// to retry); the idempotency keys make the retries safe.
const networkRetries = 2

// New returns a Stripe provider. It checks the shape of the key and the
// webhook secret (never their value in an error) and calls nothing.
func New(cfg Config) (*Provider, error) {
	if err := checkKey(cfg.SecretKey); err != nil {
		return nil, err
	}
	if err := checkWebhookSecret(cfg.WebhookSecret); err != nil {
		return nil, err
	}
	if cfg.Tolerance < 0 {
		return nil, fmt.Errorf("stripepay: negative webhook tolerance %s", cfg.Tolerance)
	}
	tolerance := cfg.Tolerance
	if tolerance == 0 {
		tolerance = webhook.DefaultTolerance
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	backend := &stripe.BackendConfig{
		HTTPClient:        httpClient,
		MaxNetworkRetries: stripe.Int64(networkRetries),
		// Errors are returned to the caller, which logs them; the library
		// logs nothing of its own.
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIURL != "" {
		u, err := url.Parse(cfg.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("stripepay: API URL %q is not an http(s) URL", cfg.APIURL)
		}
		backend.URL = stripe.String(cfg.APIURL)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Provider{
		client:        stripe.NewClient(cfg.SecretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(backend))),
		webhookSecret: cfg.WebhookSecret,
		tolerance:     tolerance,
		now:           now,
	}, nil
}

func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("stripepay: no secret key: set the account's sk_… or a restricted rk_… key")
	case strings.HasPrefix(key, "pk_"):
		return errors.New("stripepay: the secret key is a publishable key (pk_…): the server needs the secret sk_… or a restricted rk_… key")
	case !strings.HasPrefix(key, "sk_") && !strings.HasPrefix(key, "rk_"):
		return errors.New("stripepay: the secret key does not start with sk_ or rk_")
	case strings.ContainsFunc(key, isSpace):
		return errors.New("stripepay: the secret key contains white space (a trailing newline?)")
	}
	return nil
}

func checkWebhookSecret(secret string) error {
	switch {
	case secret == "":
		return errors.New("stripepay: no webhook signing secret: set the endpoint's whsec_… secret")
	case !strings.HasPrefix(secret, "whsec_"):
		return errors.New("stripepay: the webhook signing secret does not start with whsec_")
	case strings.ContainsFunc(secret, isSpace):
		return errors.New("stripepay: the webhook signing secret contains white space (a trailing newline?)")
	}
	return nil
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// Name returns "stripe".
func (p *Provider) Name() string { return "stripe" }

// metadataOrder is the metadata key of the order id on every Stripe object.
const metadataOrder = "order_id"

// description names the order on Stripe's dashboard, the hosted page and
// the shopper's statement of the payment.
func description(order souq.ID) string { return "Souq order " + string(order) }

// apiError is a Stripe error that is Souq's or Stripe's problem, not the
// shopper's: a refused key, a rate limit, an outage. It unwraps to the
// *stripe.Error. Its message leaves out what Stripe attaches to an error (a
// PaymentIntent with its client secret) and, for a refused key, Stripe's
// message (which quotes the key's last characters).
type apiError struct {
	op  string
	err *stripe.Error
}

func (e *apiError) Error() string {
	msg := e.err.Msg
	if e.err.HTTPStatusCode == http.StatusUnauthorized || e.err.HTTPStatusCode == http.StatusForbidden {
		msg = "the API key was refused"
	}
	s := fmt.Sprintf("stripe: %s: %s (status %d", e.op, msg, e.err.HTTPStatusCode)
	if e.err.Type != "" {
		s += ", " + string(e.err.Type)
	}
	if e.err.Code != "" {
		s += ", " + string(e.err.Code)
	}
	if e.err.RequestID != "" {
		s += ", request " + e.err.RequestID
	}
	return s + ")"
}

func (e *apiError) Unwrap() error { return e.err }

// stripeErr turns an error from the Stripe library into Souq's terms: a
// declined card is souq.ErrPayment (its message is Stripe's, meant for the
// shopper); a request Stripe refuses is souq.ErrInvalid, souq.ErrNotFound
// (no such object) or souq.ErrConflict (the payment's state does not allow
// it, or the idempotency key was used for another request); anything else (a
// refused key, a rate limit, Stripe down, the network) is a plain error.
func stripeErr(op string, err error) error {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("stripe: %s: %w", op, err)
	}
	switch {
	case se.Type == stripe.ErrorTypeCard:
		msg := se.Msg
		if msg == "" {
			msg = "The card was declined."
		}
		return souq.Errorf(souq.ErrPayment, "%s", msg)
	case se.Type == stripe.ErrorTypeIdempotency:
		return souq.Errorf(souq.ErrConflict, "this order's payment was already started with other details (another card?)")
	case se.Type != stripe.ErrorTypeInvalidRequest,
		se.HTTPStatusCode == http.StatusUnauthorized,
		se.HTTPStatusCode == http.StatusForbidden,
		se.HTTPStatusCode == http.StatusTooManyRequests,
		se.HTTPStatusCode >= 500:
		return &apiError{op: op, err: se}
	case se.Code == stripe.ErrorCodeResourceMissing || se.HTTPStatusCode == http.StatusNotFound:
		return souq.Errorf(souq.ErrNotFound, "%s", se.Msg)
	case se.Code == stripe.ErrorCodePaymentIntentUnexpectedState:
		return souq.Errorf(souq.ErrConflict, "%s", se.Msg)
	default:
		return souq.Errorf(souq.ErrInvalid, "%s", se.Msg)
	}
}

// stripeCode returns the code of a Stripe error, or "" for another error.
func stripeCode(err error) stripe.ErrorCode {
	var se *stripe.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

// money converts a Stripe amount, in the minor units of a lower-case
// currency, to Souq's Money. Stripe and Souq agree on the minor units of
// the six currencies (two decimals, three for KWD, BHD and OMR).
func money(amount int64, c stripe.Currency) (souq.Money, error) {
	cur := souq.Currency(strings.ToUpper(string(c)))
	if !cur.Valid() {
		return souq.Money{}, fmt.Errorf("stripe: the payment is in %q, a currency Souq does not take", string(c))
	}
	return souq.M(amount, cur), nil
}
