package payment

import (
	"errors"
	"testing"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/souq"
)

func TestTestProvider(t *testing.T) {
	p := NewTestProvider()
	ctx := t.Context()
	charge := checkout.Charge{Order: "ord_1", Amount: souq.M(8900, souq.AED), Capture: checkout.CaptureAutomatic, Token: TokenOK}
	st, err := p.Start(ctx, charge)
	if err != nil || st.Reference != "pay_test_ord_1" || st.Status != souq.PaymentCaptured || st.Amount != charge.Amount || st.Order != "ord_1" {
		t.Fatalf("Start(tok_ok): got %+v, %v; want pay_test_ord_1 captured for 89.00 AED", st, err)
	}
	if again, err := p.Start(ctx, charge); err != nil || again != st {
		t.Errorf("Start again: got %+v, %v; want the same payment %+v", again, err, st)
	}
	declined := charge
	declined.Order, declined.Token = "ord_2", TokenDeclined
	if _, err := p.Start(ctx, declined); !errors.Is(err, souq.ErrPayment) {
		t.Errorf("Start(tok_declined): got %v, want ErrPayment", err)
	}
	for _, tok := range []string{"", "tok_other"} {
		c := charge
		c.Order, c.Token = "ord_3", tok
		if _, err := p.Start(ctx, c); !errors.Is(err, souq.ErrInvalid) {
			t.Errorf("Start(%q): got %v, want ErrInvalid", tok, err)
		}
	}
	// Cancelling a captured payment leaves it captured; refunding it once
	// refunds it, twice changes nothing.
	if st, err := p.Cancel(ctx, "pay_test_ord_1"); err != nil || st.Status != souq.PaymentCaptured {
		t.Errorf("Cancel(captured): got %+v, %v; want it still captured", st, err)
	}
	for range 2 {
		if ref, err := p.Refund(ctx, "pay_test_ord_1", "ord_1"); err != nil || ref != "re_test_ord_1" {
			t.Errorf("Refund: got %q, %v; want re_test_ord_1", ref, err)
		}
	}
	if p.Refunds() != 1 || p.Status("pay_test_ord_1") != souq.PaymentRefunded {
		t.Errorf("after two refunds: %d refunds, status %s; want 1, refunded", p.Refunds(), p.Status("pay_test_ord_1"))
	}
	if _, err := p.Lookup(ctx, "pay_test_unknown"); !errors.Is(err, souq.ErrNotFound) {
		t.Errorf("Lookup(unknown): got %v, want ErrNotFound", err)
	}
}

func TestTestProviderManualCapture(t *testing.T) {
	p := NewTestProvider()
	ctx := t.Context()
	c := checkout.Charge{Order: "ord_m", Amount: souq.M(100, souq.SAR), Capture: checkout.CaptureManual, Token: TokenOK}
	st, err := p.Start(ctx, c)
	if err != nil || st.Status != souq.PaymentAuthorized {
		t.Fatalf("Start with manual capture: got %+v, %v; want authorized", st, err)
	}
	if st, err := p.Capture(ctx, st.Reference); err != nil || st.Status != souq.PaymentCaptured {
		t.Errorf("Capture: got %+v, %v; want captured", st, err)
	}
	c.Order = "ord_v"
	st, _ = p.Start(ctx, c)
	if st, err := p.Cancel(ctx, st.Reference); err != nil || st.Status != souq.PaymentCanceled || p.Voids() != 1 {
		t.Errorf("Cancel(authorized): got %+v, %v, %d voids; want canceled, 1 void", st, err, p.Voids())
	}
	if _, err := p.Webhook(nil, []byte("{}")); !errors.Is(err, souq.ErrUnauthorized) {
		t.Errorf("Webhook: got %v, want ErrUnauthorized", err)
	}
}
