package demo

import (
	"reflect"
	"testing"
)

func TestLargeCatalogue(t *testing.T) {
	const n = 2000
	got := LargeCatalogue(n)
	if len(got) != n {
		t.Fatalf("got %d products, want %d", len(got), n)
	}
	if base := Products(); !reflect.DeepEqual(got[:len(base)], base) {
		t.Error("the large catalogue does not start with the demo catalogue")
	}
	skus, slugs := map[string]bool{}, map[string]bool{}
	for i, in := range got {
		if err := in.Validate(); err != nil {
			t.Fatalf("product %d (%s): %v", i, in.SKU, err)
		}
		if skus[in.SKU] || slugs[in.Slug] {
			t.Fatalf("product %d: SKU %s or slug %s repeats", i, in.SKU, in.Slug)
		}
		skus[in.SKU], slugs[in.Slug] = true, true
	}
	if again := LargeCatalogue(n); !reflect.DeepEqual(again, got) {
		t.Error("the same n made another catalogue")
	}
	if small := LargeCatalogue(5); len(small) != 5 || small[4].SKU != got[4].SKU {
		t.Errorf("LargeCatalogue(5): got %d products", len(small))
	}
}
