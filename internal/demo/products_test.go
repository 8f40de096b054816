package demo

import (
	"strings"
	"testing"
	"unicode"
)

func hasArabic(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Arabic, r) }) >= 0
}

func TestProductsCount(t *testing.T) {
	if got, want := len(Products()), 150; got < want {
		t.Errorf("len(Products()): got %d, want at least %d", got, want)
	}
}

func TestProductsValidate(t *testing.T) {
	for _, p := range Products() {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: Validate: got %v, want nil", p.SKU, err)
		}
	}
}

func TestProductsUnique(t *testing.T) {
	skus, slugs := map[string]bool{}, map[string]bool{}
	for _, p := range Products() {
		if skus[p.SKU] {
			t.Errorf("SKU %s: got a duplicate, want unique SKUs", p.SKU)
		}
		if slugs[p.Slug] {
			t.Errorf("slug %s: got a duplicate, want unique slugs", p.Slug)
		}
		skus[p.SKU], slugs[p.Slug] = true, true
	}
}

func TestProductsLanguages(t *testing.T) {
	for _, p := range Products() {
		for _, tt := range []struct {
			field, text string
			arabic      bool
		}{
			{"name.en", p.Name.EN, false},
			{"description.en", p.Description.EN, false},
			{"name.ar", p.Name.AR, true},
			{"description.ar", p.Description.AR, true},
		} {
			if got := hasArabic(tt.text); got != tt.arabic {
				t.Errorf("%s %s %q: got Arabic letters %v, want %v", p.SKU, tt.field, tt.text, got, tt.arabic)
			}
		}
	}
}

func TestProductsFields(t *testing.T) {
	categories := map[string]int{"skincare": 0, "makeup": 0, "haircare": 0, "bodycare": 0, "suncare": 0, "masks": 0}
	zero, low := 0, 0
	for _, p := range Products() {
		if _, ok := categories[p.Category]; !ok {
			t.Errorf("%s category: got %q, want one of the six demo categories", p.SKU, p.Category)
		}
		categories[p.Category]++
		if want := "/images/products/" + p.Slug + ".svg"; p.Image != want {
			t.Errorf("%s image: got %q, want %q", p.SKU, p.Image, want)
		}
		if p.Stock == nil {
			t.Errorf("%s stock: got nil, want a level", p.SKU)
			continue
		}
		switch s := *p.Stock; {
		case s == 0:
			zero++
		case s <= 5:
			low++
		case s < 20 || s > 400:
			t.Errorf("%s stock: got %d, want 0, 1–5 or 20–400", p.SKU, s)
		}
		if ae := p.Prices["AE"]; ae < 2500 || ae > 25000 || ae%100 != 0 {
			t.Errorf("%s AE price: got %d fils, want whole dirhams between 25 and 250", p.SKU, ae)
		}
		if got, want := len(p.Prices), 6; got != want {
			t.Errorf("%s prices: got %d markets, want %d", p.SKU, got, want)
		}
	}
	for cat, n := range categories {
		if n == 0 {
			t.Errorf("category %s: got no products, want some", cat)
		}
	}
	if categories["skincare"] < categories["haircare"]+categories["bodycare"] || categories["makeup"] < categories["haircare"] {
		t.Errorf("category mix %v: want mostly skincare and makeup", categories)
	}
	if zero < 2 || zero > 3 {
		t.Errorf("out-of-stock products: got %d, want 2 or 3", zero)
	}
	if low < 2 {
		t.Errorf("low-stock (1–5) products: got %d, want a few", low)
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Advanced Snail 96 Mucin Power Essence 100ml", "advanced-snail-96-mucin-power-essence-100ml"},
		{"Relief Sun: Rice + Probiotics SPF50+", "relief-sun-rice-probiotics-spf50"},
		{"I'm From", "im-from"},
		{"  --AHA/BHA--  ", "aha-bha"},
	}
	for _, tt := range tests {
		if got := slugify(tt.in); got != tt.want {
			t.Errorf("slugify(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
