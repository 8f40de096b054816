package payment

import (
	"errors"
	"fmt"
	"testing"

	"github.com/souq-commerce/souq/internal/souq"
)

func TestTestProvider(t *testing.T) {
	p := NewTestProvider()
	ctx := t.Context()
	amount := souq.M(8900, souq.AED)
	ref, err := p.Authorize(ctx, TokenOK, amount, "ord_1")
	if err != nil || ref != "pay_test_ord_1" {
		t.Fatalf("Authorize(tok_ok): got %q, %v; want pay_test_ord_1", ref, err)
	}
	if _, err := p.Authorize(ctx, TokenDeclined, amount, "ord_2"); !errors.Is(err, souq.ErrPayment) {
		t.Errorf("Authorize(tok_declined): got %v, want ErrPayment", err)
	}
	if _, err := p.Authorize(ctx, "tok_other", amount, "ord_3"); !errors.Is(err, souq.ErrInvalid) {
		t.Errorf("Authorize(unknown token): got %v, want ErrInvalid", err)
	}
	if err := p.Void(ctx, "pay_other_1"); !errors.Is(err, souq.ErrNotFound) {
		t.Errorf("Void(a reference it never gave): got %v, want ErrNotFound", err)
	}
	if err := p.Void(ctx, ref); err != nil || !p.Voided(ref) || p.Voids() != 1 {
		t.Errorf("Void: got %v, voided %v, voids %d; want nil, true, 1", err, p.Voided(ref), p.Voids())
	}
	if err := p.Void(ctx, ref); err != nil || p.Voids() != 1 {
		t.Errorf("Void again: got %v, voids %d; want nil, 1", err, p.Voids())
	}
}

// TestTestProviderMemoryIsBounded: a long demo voids many payments; the
// provider remembers only the latest.
func TestTestProviderMemoryIsBounded(t *testing.T) {
	p := NewTestProvider()
	for i := range maxVoids + 500 {
		if err := p.Void(t.Context(), fmt.Sprintf("pay_test_ord_%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(p.voided) != maxVoids || len(p.order) != maxVoids {
		t.Errorf("remembered voids: got %d (%d in order), want %d", len(p.voided), len(p.order), maxVoids)
	}
	if p.Voids() != maxVoids+500 || p.Voided("pay_test_ord_0") || !p.Voided(fmt.Sprintf("pay_test_ord_%d", maxVoids+499)) {
		t.Errorf("got %d voids, oldest remembered %v, newest %v", p.Voids(), p.Voided("pay_test_ord_0"), p.Voided(fmt.Sprintf("pay_test_ord_%d", maxVoids+499)))
	}
}
