package main

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/souq-commerce/souq/internal/notify/smtptest"
)

// TestServeSendsOrderEmail: souq serve with --smtp-url sends the
// confirmation of an order placed through the API, in the order's
// language, with its number.
func TestServeSendsOrderEmail(t *testing.T) {
	mailbox := smtptest.Start(t, nil)
	base, stdout, _ := startServe(t, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--demo", "--shoppers", "0",
		"--smtp-from", "Souq <orders@shop.example>"}, map[string]string{"SOUQ_SMTP_URL": mailbox.URL()})
	var list productList
	getJSON(t, base+"/api/v1/products?market=AE&page_size=50", &list)
	body := fmt.Sprintf(`{"market":"AE","language":"ar","items":[{"product_id":%q,"quantity":1}],
		"customer":{"name":"Mariam","email":"mariam@example.ae","phone":"+971501234567"},
		"shipping_address":{"line1":"Villa 12","area":"Jumeirah","city":"Dubai","country":"AE"},
		"payment":{"method":"cod"}}`, list.inStock(t))
	resp, err := http.Post(base+"/api/v1/orders", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var order struct{ ID, Number, Language string }
	if err := json.Unmarshal(raw, &order); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("place order: got %d %s (%v)", resp.StatusCode, raw, err)
	}
	if !strings.HasPrefix(order.Number, "SQ-") || order.Language != "ar" {
		t.Fatalf("order: got number %q language %q, want SQ-… and ar", order.Number, order.Language)
	}
	m := mailbox.Wait()
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Msg.Header.Get("Subject"))
	if m.To != "mariam@example.ae" || !strings.Contains(subject, order.Number) || m.Msg.Header.Get("Content-Language") != "ar" {
		t.Errorf("e-mail: got to %s, subject %q, language %q; want mariam@example.ae, the number %s, ar",
			m.To, subject, m.Msg.Header.Get("Content-Language"), order.Number)
	}
	_ = stdout
}
