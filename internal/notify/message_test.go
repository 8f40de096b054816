package notify

import (
	"bytes"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/souq"
)

// TestFeeLines checks the e-mail lists the delivery and cash-on-delivery
// fees an order paid, in both languages, and none when it paid none.
func TestFeeLines(t *testing.T) {
	o := souq.Order{ID: "ord_1", Number: "SQ-7K4M2Q", Status: souq.StatusPlaced, Market: souq.SA, Currency: souq.SAR,
		Lines:       []souq.OrderLine{{SKU: "GLOW-1", Name: souq.Localized{EN: "Glow Serum", AR: "سيروم التوهج"}, Quantity: 1, LineTotal: 8900, VAT: 1161, VATBasisPoints: 1500}},
		DeliveryFee: 2500, CODFee: 1500, Total: 12900, VAT: 1683,
		Customer: souq.Customer{Name: "Mariam", Email: "mariam@example.sa", Phone: "+966501234567"},
		Payment:  souq.Payment{Method: souq.PayCashOnDelivery}}
	tests := []struct {
		lang souq.Lang
		want []string
	}{
		{souq.English, []string{"Delivery: SAR 25.00", "Cash on delivery fee: SAR 15.00", "Order total: SAR 129.00"}},
		{souq.Arabic, []string{"التوصيل: \u2068", "رسوم الدفع عند الاستلام: \u2068"}},
	}
	for _, tt := range tests {
		o.Language = tt.lang
		var plain, html bytes.Buffer
		v := newView(o)
		if err := plainTemplate.Execute(&plain, v); err != nil {
			t.Fatal(err)
		}
		if err := htmlTemplate.Execute(&html, v); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(plain.String(), w) {
				t.Errorf("%s plain text: no %q in\n%s", tt.lang, w, plain.String())
			}
		}
		if en := tt.lang == souq.English; en && !strings.Contains(html.String(), "Delivery: <bdi>SAR 25.00</bdi><br>Cash on delivery fee: <bdi>SAR 15.00</bdi>") {
			t.Errorf("html: no fee lines in\n%s", html.String())
		}
	}
	o.DeliveryFee, o.CODFee, o.Language = 0, 0, souq.English
	var plain bytes.Buffer
	if err := plainTemplate.Execute(&plain, newView(o)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "Delivery:") {
		t.Errorf("an order without fees: got a delivery line in\n%s", plain.String())
	}
}
