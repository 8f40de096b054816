// Package payment holds the payment providers Souq can charge cards through.
// Providers receive tokens from the provider's own card form; Souq never sees,
// accepts or stores a card number or security code.
package payment

import (
	"context"
	"strings"
	"sync"

	"github.com/souq-commerce/souq/internal/souq"
)

// Test tokens the TestProvider understands.
const (
	TokenOK       = "tok_ok"
	TokenDeclined = "tok_declined"
)

// referencePrefix starts every reference the TestProvider returns.
const referencePrefix = "pay_test_"

// maxVoids bounds how many voided references the TestProvider remembers.
const maxVoids = 10_000

// TestProvider is the built-in provider for development and tests: tok_ok is
// authorised, tok_declined is declined, any other token is rejected as
// unknown. It moves no money, so souq serve offers it only with --demo or
// --payment test, on a loopback address. Its references are derived from
// the order id, so it keeps no authorisations; it remembers the last
// maxVoids voided references, for tests.
type TestProvider struct {
	mu     sync.Mutex
	voided map[string]bool
	order  []string // voided references, oldest first
	voids  int      // voids ever
}

// NewTestProvider returns a test provider.
func NewTestProvider() *TestProvider {
	return &TestProvider{voided: make(map[string]bool)}
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
		return referencePrefix + string(order), nil
	case TokenDeclined:
		return "", souq.Errorf(souq.ErrPayment, "the card was declined by the payment provider")
	default:
		return "", souq.Errorf(souq.ErrInvalid, "unknown payment token for the test provider: use %q or %q", TokenOK, TokenDeclined)
	}
}

// Void releases an authorisation (on a failed or cancelled order).
func (p *TestProvider) Void(ctx context.Context, reference string) error {
	if !strings.HasPrefix(reference, referencePrefix) || len(reference) == len(referencePrefix) {
		return souq.Errorf(souq.ErrNotFound, "no payment %q", reference)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.voided[reference] {
		return nil
	}
	p.voids++
	p.voided[reference] = true
	p.order = append(p.order, reference)
	if len(p.order) > maxVoids {
		delete(p.voided, p.order[0])
		p.order = p.order[1:]
	}
	return nil
}

// Voided reports whether a payment was voided (among the last maxVoids).
func (p *TestProvider) Voided(reference string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.voided[reference]
}

// Voids returns how many payments were voided.
func (p *TestProvider) Voids() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.voids
}
