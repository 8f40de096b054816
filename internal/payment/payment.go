// Package payment holds Souq's built-in payment provider, for development
// and tests; stripepay is the real one. Providers receive tokens from the
// provider's own card form; Souq never sees, accepts or stores a card
// number or security code.
package payment

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

// Test tokens the TestProvider understands.
const (
	TokenOK       = "tok_ok"
	TokenDeclined = "tok_declined"
)

// Reference prefixes of the TestProvider's payments and refunds.
const (
	referencePrefix = "pay_test_"
	refundPrefix    = "re_test_"
)

// maxPayments bounds how many payments the TestProvider remembers.
const maxPayments = 100_000

var _ checkout.PaymentProvider = (*TestProvider)(nil)

// TestProvider is the built-in provider for development and tests: tok_ok
// is paid at once (authorised only, with manual capture), tok_declined is
// declined, any other token, or none, is refused. It moves no money and
// sends no webhooks, so souq serve offers it only with --demo or --payment
// test, on a loopback address. It remembers its last maxPayments payments.
type TestProvider struct {
	mu       sync.Mutex
	payments map[string]testPayment // by reference
	order    []string               // references, oldest first
	voids    int
	refunds  int
}

type testPayment struct {
	order  souq.ID
	amount souq.Money
	status souq.PaymentStatus
}

// NewTestProvider returns a test provider.
func NewTestProvider() *TestProvider {
	return &TestProvider{payments: make(map[string]testPayment)}
}

// Name returns "test".
func (p *TestProvider) Name() string { return "test" }

// Start takes the payment of c with its token: tok_ok is captured (or
// authorised, with manual capture), tok_declined declined.
func (p *TestProvider) Start(ctx context.Context, c checkout.Charge) (checkout.PaymentState, error) {
	if err := ctx.Err(); err != nil {
		return checkout.PaymentState{}, err
	}
	switch c.Token {
	case TokenOK:
	case TokenDeclined:
		return checkout.PaymentState{}, souq.Errorf(souq.ErrPayment, "the card was declined by the payment provider")
	default:
		return checkout.PaymentState{}, souq.Errorf(souq.ErrInvalid, "the test payment provider takes a token: %q or %q", TokenOK, TokenDeclined)
	}
	ref := referencePrefix + string(c.Order)
	p.mu.Lock()
	defer p.mu.Unlock()
	if pay, ok := p.payments[ref]; ok { // started before: the same payment
		return p.state(ref, pay), nil
	}
	pay := testPayment{order: c.Order, amount: c.Amount, status: souq.PaymentCaptured}
	if c.Capture == checkout.CaptureManual {
		pay.status = souq.PaymentAuthorized
	}
	p.payments[ref] = pay
	p.order = append(p.order, ref)
	if len(p.order) > maxPayments {
		delete(p.payments, p.order[0])
		p.order = p.order[1:]
	}
	return p.state(ref, pay), nil
}

func (p *TestProvider) state(ref string, pay testPayment) checkout.PaymentState {
	return checkout.PaymentState{Reference: ref, Order: pay.order, Status: pay.status, Amount: pay.amount}
}

// update applies change to a known payment and returns its state.
func (p *TestProvider) update(ctx context.Context, ref string, change func(*testPayment)) (checkout.PaymentState, error) {
	if err := ctx.Err(); err != nil {
		return checkout.PaymentState{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pay, ok := p.payments[ref]
	if !ok || !strings.HasPrefix(ref, referencePrefix) {
		return checkout.PaymentState{}, souq.Errorf(souq.ErrNotFound, "no payment %q", ref)
	}
	if change != nil {
		change(&pay)
		p.payments[ref] = pay
	}
	return p.state(ref, pay), nil
}

// Lookup returns a payment's state.
func (p *TestProvider) Lookup(ctx context.Context, ref string) (checkout.PaymentState, error) {
	return p.update(ctx, ref, nil)
}

// Capture captures an authorised payment.
func (p *TestProvider) Capture(ctx context.Context, ref string) (checkout.PaymentState, error) {
	return p.update(ctx, ref, func(pay *testPayment) {
		if pay.status == souq.PaymentAuthorized {
			pay.status = souq.PaymentCaptured
		}
	})
}

// Cancel voids a payment not captured.
func (p *TestProvider) Cancel(ctx context.Context, ref string) (checkout.PaymentState, error) {
	return p.update(ctx, ref, func(pay *testPayment) {
		if pay.status == souq.PaymentAuthorized || pay.status == souq.PaymentPending {
			pay.status = souq.PaymentCanceled
			p.voids++
		}
	})
}

// Refund refunds a captured payment.
func (p *TestProvider) Refund(ctx context.Context, ref string, order souq.ID) (string, error) {
	_, err := p.update(ctx, ref, func(pay *testPayment) {
		if pay.status == souq.PaymentCaptured {
			pay.status = souq.PaymentRefunded
			p.refunds++
		}
	})
	if err != nil {
		return "", err
	}
	return refundPrefix + string(order), nil
}

// Webhook refuses every notification: the test provider sends none.
func (p *TestProvider) Webhook(http.Header, []byte) (checkout.Notification, error) {
	return checkout.Notification{}, souq.Errorf(souq.ErrUnauthorized, "the test payment provider sends no webhooks")
}

// Status returns a payment's status, "" for one it does not know.
func (p *TestProvider) Status(ref string) souq.PaymentStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.payments[ref].status
}

// Voids counts the payments cancelled before they were taken.
func (p *TestProvider) Voids() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.voids
}

// Refunds counts the payments refunded.
func (p *TestProvider) Refunds() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refunds
}
