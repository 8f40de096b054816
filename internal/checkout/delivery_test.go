package checkout_test

import (
	"errors"
	"testing"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/souq"
)

// TestOrderFees checks that orders pay their market's delivery and
// cash-on-delivery fees, in the total and with VAT at the market's rate.
// The product costs 89.00 in every market.
func TestOrderFees(t *testing.T) {
	r := newPayRig(t, checkout.CaptureAutomatic)
	ds := delivery.New(r.db.(delivery.Store), r.clock)
	for _, st := range []delivery.Settings{
		{Market: souq.AE, Fee: 1500, FreeOver: 20000, CODFee: 1000, Cutoff: "14:00", Estimate: delivery.Days{MinDays: 1, MaxDays: 1}},
		{Market: souq.SA, Fee: 2500, FreeOver: 30000, CODFee: 1500, CODLimit: 20000, Cutoff: "14:00", Estimate: delivery.Days{MinDays: 2, MaxDays: 3}},
		{Market: souq.QA, Fee: 2000, Cutoff: "14:00", Estimate: delivery.Days{MinDays: 1, MaxDays: 2}},
	} {
		if _, err := ds.Put(t.Context(), st); err != nil {
			t.Fatalf("Put %s: %v", st.Market, err)
		}
	}
	r.svc.SetDelivery(ds)
	if _, err := r.catalog.SetStock(t.Context(), r.product.ID, 100); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                    string
		market                  souq.MarketCode
		city                    string
		qty                     int
		method                  souq.PaymentMethod
		fee, codFee, total, vat int64
	}{
		// 89.00 + 15.00 + 10.00; VAT 5%: 4.24 on the goods, 1.19 on the fees.
		{"UAE cash on delivery", souq.AE, "Dubai", 1, souq.PayCashOnDelivery, 1500, 1000, 11400, 424 + 119},
		// 267.00 is over the free-delivery threshold of 200.00.
		{"UAE free delivery", souq.AE, "Dubai", 3, souq.PayCashOnDelivery, 0, 1000, 27700, 1271 + 48},
		// VAT 15%: 11.61 on the goods, 3.26 on the fee.
		{"Saudi card", souq.SA, "Riyadh", 1, souq.PayCard, 2500, 0, 11400, 1161 + 326},
		{"Qatar has no VAT", souq.QA, "Doha", 1, souq.PayCashOnDelivery, 2000, 0, 10900, 0},
		{"Oman has no settings", souq.OM, "Muscat", 1, souq.PayCashOnDelivery, 0, 0, 8900, 424},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := feeRequest(r, tt.market, tt.city, tt.qty, tt.method)
			res, err := r.svc.PlaceOrder(t.Context(), req, nil)
			if err != nil {
				t.Fatalf("PlaceOrder: %v", err)
			}
			o := r.order(res.Placed.Order.ID)
			if o.DeliveryFee != tt.fee || o.CODFee != tt.codFee || o.Total != tt.total || o.VAT != tt.vat {
				t.Errorf("fee, COD fee, total, VAT: got %d, %d, %d, %d; want %d, %d, %d, %d",
					o.DeliveryFee, o.CODFee, o.Total, o.VAT, tt.fee, tt.codFee, tt.total, tt.vat)
			}
		})
	}

	t.Run("over the COD limit", func(t *testing.T) {
		before := r.stock()
		// 2 × 89.00 + 25.00 + 15.00 = 218.00, over SAR 200.00.
		_, err := r.svc.PlaceOrder(t.Context(), feeRequest(r, souq.SA, "Riyadh", 2, souq.PayCashOnDelivery), nil)
		var se *souq.Error
		if !errors.As(err, &se) || !errors.Is(err, souq.ErrInvalid) || len(se.Fields) != 1 || se.Fields[0].Field != "payment.method" {
			t.Fatalf("PlaceOrder: got %v, want ErrInvalid naming payment.method", err)
		}
		if got := r.stock(); got != before {
			t.Errorf("stock: got %d, want %d (nothing ordered)", got, before)
		}
	})
}

func feeRequest(r *payRig, m souq.MarketCode, city string, qty int, method souq.PaymentMethod) checkout.OrderRequest {
	mk := souq.MustMarket(m)
	req := r.request(qty, "")
	req.Market = string(m)
	req.Payment.Method = method
	req.ShippingAddress.City, req.ShippingAddress.Country = city, m
	req.Customer.Phone = mk.PhonePrefix + "5" + "0123456789"[:mk.PhoneDigits-1]
	return req
}
