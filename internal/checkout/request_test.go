package checkout

import (
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/souq"
)

func validRequest() OrderRequest {
	return OrderRequest{
		Market:          "AE",
		Items:           []ItemRequest{{ProductID: "prd_x", Quantity: 1}},
		Customer:        souq.Customer{Name: "Mariam Al Mansoori", Email: "mariam@example.ae", Phone: "+971 50 123 4567"},
		ShippingAddress: souq.Address{Line1: "Villa 12, Street 5", Area: "Al Barsha", City: "dubai"},
		Payment:         PaymentRequest{Method: souq.PayCashOnDelivery},
	}
}

func TestValidateAcceptsAndNormalises(t *testing.T) {
	r := validRequest()
	m, err := r.validate()
	if err != nil {
		t.Fatalf("validate: got %v, want nil", err)
	}
	if m.Code != souq.AE || r.Customer.Phone != "+971501234567" || r.ShippingAddress.Country != souq.AE {
		t.Errorf("got market %s, phone %q, country %q; want AE, +971501234567, AE", m.Code, r.Customer.Phone, r.ShippingAddress.Country)
	}
}

func TestValidateEmailOptional(t *testing.T) {
	r := validRequest()
	r.Customer.Email = "  "
	if _, err := r.validate(); err != nil {
		t.Fatalf("validate without email: got %v, want nil", err)
	}
	if r.Customer.Email != "" {
		t.Errorf("email: got %q, want it trimmed to empty", r.Customer.Email)
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*OrderRequest)
		field string
	}{
		{"unknown market", func(r *OrderRequest) { r.Market = "US" }, "market"},
		{"no items or cart", func(r *OrderRequest) { r.Items = nil }, "items"},
		{"both items and cart", func(r *OrderRequest) { r.CartID = "cart_x" }, "items"},
		{"zero quantity", func(r *OrderRequest) { r.Items[0].Quantity = 0 }, "items[0].quantity"},
		{"negative quantity", func(r *OrderRequest) { r.Items[0].Quantity = -3 }, "items[0].quantity"},
		{"huge quantity", func(r *OrderRequest) { r.Items[0].Quantity = 1 << 40 }, "items[0].quantity"},
		{"missing product id", func(r *OrderRequest) { r.Items[0].ProductID = "" }, "items[0].product_id"},
		{"too many lines", func(r *OrderRequest) {
			for range MaxLines {
				r.Items = append(r.Items, ItemRequest{ProductID: "prd_y", Quantity: 1})
			}
		}, "items"},
		{"bad email", func(r *OrderRequest) { r.Customer.Email = "mariam at example" }, "customer.email"},
		{"display-name email", func(r *OrderRequest) { r.Customer.Email = "Mariam <mariam@example.ae>" }, "customer.email"},
		{"Saudi phone in the UAE", func(r *OrderRequest) { r.Customer.Phone = "+966501234567" }, "customer.phone"},
		{"short UAE phone", func(r *OrderRequest) { r.Customer.Phone = "+97150123" }, "customer.phone"},
		{"letters in phone", func(r *OrderRequest) { r.Customer.Phone = "+97150123456a" }, "customer.phone"},
		{"city in another market", func(r *OrderRequest) { r.ShippingAddress.City = "Riyadh" }, "shipping_address.city"},
		{"country other than market", func(r *OrderRequest) { r.ShippingAddress.Country = "SA" }, "shipping_address.country"},
		{"no name", func(r *OrderRequest) { r.Customer.Name = " " }, "customer.name"},
		{"long area", func(r *OrderRequest) { r.ShippingAddress.Area = strings.Repeat("a", 101) }, "shipping_address.area"},
		{"unknown method", func(r *OrderRequest) { r.Payment.Method = "bitcoin" }, "payment.method"},
		{"card with a malformed token", func(r *OrderRequest) { r.Payment = PaymentRequest{Method: souq.PayCard, Token: "pm card"} }, "payment.token"},
		{"cod with a return address", func(r *OrderRequest) { r.Payment.ReturnURL = "https://shop.example/back" }, "payment.return_url"},
		{"plain http return address", func(r *OrderRequest) {
			r.Payment = PaymentRequest{Method: souq.PayCard, ReturnURL: "http://shop.example/back"}
		}, "payment.return_url"},
		{"relative return address", func(r *OrderRequest) { r.Payment = PaymentRequest{Method: souq.PayCard, ReturnURL: "/en/orders"} }, "payment.return_url"},
		{"unknown payment language", func(r *OrderRequest) { r.Payment = PaymentRequest{Method: souq.PayCard, Language: "fr"} }, "payment.language"},
		{"card number as token", func(r *OrderRequest) {
			r.Payment = PaymentRequest{Method: souq.PayCard, Token: "4111 1111 1111 1111"}
		}, "payment.token"},
		{"token with cash", func(r *OrderRequest) { r.Payment.Token = "tok_ok" }, "payment.token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			tt.edit(&r)
			_, err := r.validate()
			e, ok := err.(*souq.Error)
			if !ok {
				t.Fatalf("got %v, want a *souq.Error", err)
			}
			var fields []string
			for _, f := range e.Fields {
				fields = append(fields, f.Field)
				if strings.Contains(f.Reason, "4111") {
					t.Errorf("reason echoes the card number: %q", f.Reason)
				}
			}
			if !strings.Contains(strings.Join(fields, " "), tt.field) {
				t.Errorf("fields: got %v, want %s among them", fields, tt.field)
			}
		})
	}
}

func TestPhonesPerMarket(t *testing.T) {
	tests := []struct {
		market, phone, want string
	}{
		{"SA", "+966 55 123 4567", "+966551234567"},
		{"QA", "0097455123456", "+97455123456"},
		{"KW", "+965 9988 7766", "+96599887766"},
		{"BH", "+973-3612-3456", "+97336123456"},
		{"OM", "(+968) 9123 4567", ""},
		{"OM", "+968 9123 4567", "+96891234567"},
	}
	for _, tt := range tests {
		got, ok := normalisePhone(tt.phone, souq.MustMarket(souq.MarketCode(tt.market)))
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("normalisePhone(%q, %s): got %q, %v; want %q", tt.phone, tt.market, got, ok, tt.want)
		}
	}
}
