package storefront

import (
	"net/http"
	"strings"
	"testing"
)

// TestShopInfo: the configured company, numbers and contacts show in every
// page's footer in the page's language, the policies on their own pages;
// without the information, neither shows and the pages are 404.
func TestShopInfo(t *testing.T) {
	f := newFixture(t, fixtureOptions{info: DemoShopInfo()})
	_, body, _ := f.get(f.client, "/en/")
	mustContain(t, "English footer", body, "Souq Demo Trading L.L.C.", "Commercial registration <bdi>1234567 (Dubai, demo)</bdi>",
		"VAT number <bdi>100000000000003 (demo)</bdi>", `href="mailto:care@souq.example"`, `href="tel:&#43;97140000000"`,
		`href="https://wa.me/971500000000"`, `href="/en/returns">Returns</a>`, `href="/en/delivery">Delivery</a>`,
		"Every product is genuine")
	_, body, _ = f.get(f.client, "/ar/p/glow-serum")
	mustContain(t, "Arabic footer", body, "سوق ديمو للتجارة ذ.م.م", "السجل التجاري", `href="/ar/returns">الإرجاع</a>`, "كل المنتجات أصلية")
	status, body, _ := f.get(f.client, "/en/returns")
	if status != 200 {
		t.Fatalf("/en/returns: got %d", status)
	}
	mustContain(t, "returns page", body, "<h1>Returns</h1>", "<p>Unopened products can be returned within 14 days", "<p>Call or message us")
	status, body, _ = f.get(f.client, "/ar/delivery")
	if status != 200 || !strings.Contains(body, "نوصل إلى كل مدن") {
		t.Errorf("/ar/delivery: got %d", status)
	}

	bare := newFixture(t)
	_, body, _ = bare.get(bare.client, "/en/")
	if strings.Contains(body, `class="info"`) {
		t.Error("a shop without information shows an information block")
	}
	if status, _, _ := bare.get(bare.client, "/en/returns"); status != http.StatusNotFound {
		t.Errorf("/en/returns without a policy: got %d, want 404", status)
	}
}

func TestParseShopInfo(t *testing.T) {
	good := `{"company": {"en": "Gulf Beauty LLC", "ar": "جلف بيوتي ذ.م.م"}, "email": "help@gulfbeauty.example",
		"phone": "+966112345678", "whatsapp": "+966501234567", "returns": {"en": "14 days.", "ar": "١٤ يومًا."}}`
	info, err := ParseShopInfo([]byte(good))
	if err != nil || info.Company.EN != "Gulf Beauty LLC" || info.Returns.AR != "١٤ يومًا." {
		t.Fatalf("good: got %+v, %v", info, err)
	}
	for _, tt := range []struct{ name, json, want string }{
		{"unknown field", `{"company": {"en": "A", "ar": "ب"}, "fax": "1"}`, `unknown field "fax"`},
		{"no Arabic name", `{"company": {"en": "A"}}`, "company needs an English and an Arabic name"},
		{"bad e-mail", `{"company": {"en": "A", "ar": "ب"}, "email": "not-an-address"}`, `email "not-an-address"`},
		{"local phone", `{"company": {"en": "A", "ar": "ب"}, "phone": "0501234567"}`, "international form"},
		{"one language", `{"company": {"en": "A", "ar": "ب"}, "delivery": {"en": "Fast."}}`, "delivery needs both"},
	} {
		if _, err := ParseShopInfo([]byte(tt.json)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error saying %q", tt.name, err, tt.want)
		}
	}
}
