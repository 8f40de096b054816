package catalog

import (
	"slices"
	"testing"

	"github.com/souq-commerce/souq/internal/souq"
)

func TestNormalizeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Snail  Mucin-Essence!", "snail mucin essence"},
		{"مُرَطِّب", "مرطب"},       // harakat removed
		{"أحمر شفاه", "احمر شفاه"}, // hamza on alef folded
		{"إيسنس", "ايسنس"},         // alef with hamza below
		{"كريمة", "كريمه"},         // taa marbuta
		{"مستشفى", "مستشفي"},       // alef maqsura
		{"كــريم", "كريم"},         // tatweel
		{"١٠٠ مل", "100 مل"},       // Arabic-Indic digits
		{"Kiehl's", "kiehls"},      // apostrophe dropped
		{"rom&nd Juicy Lasting Tint", "rom nd juicy lasting tint"},
	}
	for _, tt := range tests {
		if got := NormalizeText(tt.in); got != tt.want {
			t.Errorf("NormalizeText(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSearchTerms(t *testing.T) {
	if got, want := SearchTerms("  أقنعة   Sheet "), []string{"اقنعه", "sheet"}; !slices.Equal(got, want) {
		t.Errorf("SearchTerms: got %q, want %q", got, want)
	}
	if got := SearchTerms("a b c d e f g h i j"); len(got) != MaxSearchTerms {
		t.Errorf("SearchTerms cap: got %d terms, want %d", len(got), MaxSearchTerms)
	}
}

func TestSearchTextHasBothLanguages(t *testing.T) {
	p := souq.Product{SKU: "COSRX-SNAIL-96", Brand: "COSRX", Category: "skincare",
		Name: souq.Localized{EN: "Advanced Snail 96 Mucin Power Essence", AR: "جوهر الحلزون المتقدم"}}
	got := SearchText(p)
	for _, want := range []string{"cosrx", "snail", "الحلزون", "skincare", "بالبشره"} {
		if !slices.Contains(splitWords(got), want) {
			t.Errorf("SearchText: %q lacks %q", got, want)
		}
	}
}

func splitWords(s string) []string {
	var out []string
	word := []rune{}
	for _, r := range s + " " {
		if r == ' ' {
			if len(word) > 0 {
				out = append(out, string(word))
			}
			word = word[:0]
			continue
		}
		word = append(word, r)
	}
	return out
}

func TestDiscountedPrice(t *testing.T) {
	tests := []struct {
		regular int64
		percent int
		c       souq.Currency
		want    int64
	}{
		{8900, 30, souq.AED, 6200}, // 62.30 → 62.00
		{9900, 50, souq.SAR, 4900}, // 49.50 → 49.00
		{7250, 20, souq.KWD, 5800}, // 5.800 stays 5.800
		{7250, 25, souq.KWD, 5400}, // 5.4375 → 5.400
		{150, 50, souq.AED, 75},    // 0.75 is below one unit: kept as is
		{40, 50, souq.BHD, 20},     // 0.020 below the 0.050 step: kept as is
		{100000, 90, souq.OMR, 10000},
	}
	for _, tt := range tests {
		if got := DiscountedPrice(tt.regular, tt.percent, tt.c); got != tt.want {
			t.Errorf("DiscountedPrice(%d, %d%%, %s): got %d, want %d", tt.regular, tt.percent, tt.c, got, tt.want)
		}
	}
}

func TestProductInputValidate(t *testing.T) {
	valid := func() ProductInput {
		return ProductInput{SKU: "ABC-123", Slug: "abc-123", Brand: "Laneige", Category: "skincare",
			Name: souq.Localized{EN: "Lip Sleeping Mask", AR: "قناع الشفاه الليلي"}, Image: "/images/x.webp",
			Prices: map[souq.MarketCode]int64{souq.AE: 9900}}
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid input: got %v, want nil", err)
	}
	neg := -1
	tests := []struct {
		name  string
		edit  func(*ProductInput)
		field string
	}{
		{"lower-case sku", func(p *ProductInput) { p.SKU = "abc" }, "sku"},
		{"slug with spaces", func(p *ProductInput) { p.Slug = "a b" }, "slug"},
		{"no Arabic name", func(p *ProductInput) { p.Name.AR = " " }, "name.ar"},
		{"no prices", func(p *ProductInput) { p.Prices = nil }, "prices"},
		{"unknown market", func(p *ProductInput) { p.Prices["US"] = 100 }, "prices.US"},
		{"zero price", func(p *ProductInput) { p.Prices[souq.AE] = 0 }, "prices.AE"},
		{"negative stock", func(p *ProductInput) { p.Stock = &neg }, "stock"},
		{"http image", func(p *ProductInput) { p.Image = "http://cdn.example/x.jpg" }, "image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.edit(&in)
			err := in.Validate()
			e, ok := err.(*souq.Error)
			if !ok || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
				t.Fatalf("got %v, want an invalid %s", err, tt.field)
			}
		})
	}
}
