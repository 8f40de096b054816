// Package payment holds the payment providers Souq can charge cards through.
// Providers receive tokens from the provider's own card form; Souq never sees,
// accepts or stores a card number or security code.
package payment

import (
	"context"
	"sync"

	"github.com/souq-commerce/souq/internal/souq"
)

// Test tokens the TestProvider understands.
const (
	TokenOK       = "tok_ok"
	TokenDeclined = "tok_declined"
)

// TestProvider is the built-in provider for development and tests: tok_ok is
// authorised, tok_declined is declined, any other token is rejected as
// unknown. It keeps its authorisations in memory.
type TestProvider struct {
	mu     sync.Mutex
	auths  map[string]souq.Money
	voided map[string]bool
}

// NewTestProvider returns a test provider.
func NewTestProvider() *TestProvider {
	return &TestProvider{auths: make(map[string]souq.Money), voided: make(map[string]bool)}
}

// Name returns "test".
func (p *TestProvider) Name() string { return "test" }

// Authorize authorises amount against a token and returns the provider's
// reference for the payment.
func (p *TestProvider) Authorize(ctx context.Context, token string, amount souq.Money, order souq.ID) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	switch token {
	case TokenOK:
		ref := "pay_test_" + string(order)
		p.mu.Lock()
		p.auths[ref] = amount
		p.mu.Unlock()
		return ref, nil
	case TokenDeclined:
		return "", souq.Errorf(souq.ErrPayment, "the card was declined by the payment provider")
	default:
		return "", souq.Errorf(souq.ErrInvalid, "unknown payment token for the test provider: use %q or %q", TokenOK, TokenDeclined)
	}
}

// Void releases an authorisation (on a failed or cancelled order).
func (p *TestProvider) Void(ctx context.Context, reference string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.auths[reference]; !ok {
		return souq.Errorf(souq.ErrNotFound, "no payment %q", reference)
	}
	p.voided[reference] = true
	return nil
}

// Voided reports whether a payment was voided.
func (p *TestProvider) Voided(reference string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.voided[reference]
}

// Voids returns how many payments were voided.
func (p *TestProvider) Voids() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.voided)
}
