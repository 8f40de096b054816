package storefront

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// TestSalePage: the banner links to /{lang}/sale and gives the largest
// discount; the sale page lists the sale's products with their badge,
// saving and sell-through (sold-out ones last), filters by category, in
// both languages; the home page shows a running sale's items; no sale, 404.
func TestSalePage(t *testing.T) {
	f := newFixture(t)
	if status, _, _ := f.get(f.client, "/en/sale"); status != http.StatusNotFound {
		t.Errorf("/en/sale without a sale: got %d, want 404", status)
	}
	now := f.catalog.Now()
	_, err := f.catalog.ScheduleSale(t.Context(), catalog.SaleInput{Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"},
		StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour),
		Items: []catalog.SaleItem{
			{ProductID: f.ids["glow-serum"], DiscountPercent: 30, Units: 40}, // 20 left of 40: 50% sold
			{ProductID: f.ids["sun-cream"], DiscountPercent: 10},             // offered with its 3 units
			{ProductID: f.ids["sold-out-mask"], DiscountPercent: 50},
		}})
	if err != nil {
		t.Fatal(err)
	}
	status, body, _ := f.get(f.client, "/en/sale")
	if status != 200 {
		t.Fatalf("/en/sale: got %d", status)
	}
	mustContain(t, "English sale page", body,
		`<a href="/en/sale">White Friday — up to −50%</a>`,
		"−30%", "Save AED 27.00", `<meter min="0" max="100" value="50"`, "50% sold", "0% sold",
		`href="?category=suncare"`)
	glow, sun, mask := strings.Index(body, "Glow Serum"), strings.Index(body, "Sun Cream"), strings.Index(body, "Sold Out Mask")
	if glow < 0 || sun < 0 || mask < 0 || !(glow < sun && sun < mask) {
		t.Errorf("order on the sale page: Glow Serum at %d, Sun Cream at %d, Sold Out Mask at %d; want by discount, sold out last", glow, sun, mask)
	}
	if strings.Contains(body, "UAE Toner") {
		t.Error("the sale page lists a product that is not in the sale")
	}
	_, body, _ = f.get(f.client, "/en/sale?category=suncare")
	if !strings.Contains(body, "Sun Cream") || strings.Contains(body, "Glow Serum") {
		t.Error("?category=suncare: want Sun Cream only")
	}
	_, body, _ = f.get(f.client, "/ar/sale")
	mustContain(t, "Arabic sale page", body, `dir="rtl"`, "خصم حتى ٥٠٪", "−٣٠٪", "بيع ٥٠٪")
	_, body, _ = f.get(f.client, "/en/")
	mustContain(t, "home page during the sale", body, "On sale now", "See every sale product", "−30%")
	if strings.Contains(body[strings.Index(body, "On sale now"):strings.Index(body, "See every sale product")], "Sold Out Mask") {
		t.Error("the home page's sale strip shows a sold-out product")
	}
}

// TestSalePageBeforeTheStart: before a sale starts its page shows the
// price to pay now and the sale price as what the start will bring.
func TestSalePageBeforeTheStart(t *testing.T) {
	f := newFixture(t)
	now := f.catalog.Now()
	_, err := f.catalog.ScheduleSale(t.Context(), catalog.SaleInput{Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"},
		StartsAt: now.Add(time.Hour), EndsAt: now.Add(2 * time.Hour),
		Items: []catalog.SaleItem{{ProductID: f.ids["glow-serum"], DiscountPercent: 30}}})
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := f.get(f.client, "/en/sale")
	mustContain(t, "sale page before the start", body, "<bdi>AED 89.00</bdi>", "AED 62.00 when the sale starts", "0% sold")
	if strings.Contains(body, "Save AED") {
		t.Error("the sale page promises a saving before the sale starts")
	}
}

// TestListingOnSaleFilter: the listings' "on sale only" filter keeps the
// running sale's products, and the pager keeps the filter.
func TestListingOnSaleFilter(t *testing.T) {
	f := newFixture(t)
	now := f.catalog.Now()
	_, err := f.catalog.ScheduleSale(t.Context(), catalog.SaleInput{Name: souq.Localized{EN: "White Friday", AR: "الجمعة البيضاء"},
		StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour),
		Items: []catalog.SaleItem{{ProductID: f.ids["glow-serum"], DiscountPercent: 30}}})
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := f.get(f.client, "/en/c/skincare")
	mustContain(t, "skincare unfiltered", body, "Glow Serum", "UAE Toner", `name="sale" value="1">`)
	_, body, _ = f.get(f.client, "/en/c/skincare?sale=1")
	mustContain(t, "skincare on sale", body, "Glow Serum", `name="sale" value="1" checked>`)
	if strings.Contains(body, "UAE Toner") {
		t.Error("the on-sale filter lists a product that is not on sale")
	}
}

// TestProductPhotos: a product with uploaded photos shows them with srcset
// and sizes: the first eager (the largest image of the page), the others
// lazy; its card uses the 640 px rendition.
func TestProductPhotos(t *testing.T) {
	f := newFixture(t)
	imgs := []souq.Image{
		{Key: "products/x/" + strings.Repeat("a", 32), Width: 1024, Height: 1024, Widths: []int{320, 640, 1024}},
		{Key: "products/x/" + strings.Repeat("b", 32), Width: 640, Height: 480, Widths: []int{320, 640}},
	}
	if _, err := f.catalog.SetImages(t.Context(), f.ids["glow-serum"], imgs); err != nil {
		t.Fatal(err)
	}
	_, body, _ := f.get(f.client, "/en/p/glow-serum")
	a, b := "/media/products/x/"+strings.Repeat("a", 32), "/media/products/x/"+strings.Repeat("b", 32)
	mustContain(t, "product page", body,
		`<img src="`+a+`-1024.jpg" srcset="`+a+`-320.jpg 320w, `+a+`-640.jpg 640w, `+a+`-1024.jpg 1024w" sizes="(width <= 40rem) 100vw, 400px" alt="Glow Serum" width="1024" height="1024" fetchpriority="high">`,
		`<img src="`+b+`-640.jpg" srcset="`+b+`-320.jpg 320w, `+b+`-640.jpg 640w"`, `loading="lazy" class="more">`)
	if strings.Contains(body, "/images/products/glow-serum.svg") {
		t.Error("the product page still shows the generated picture")
	}
	_, body, _ = f.get(f.client, "/en/c/skincare")
	mustContain(t, "category page", body, `<img src="`+a+`-640.jpg" srcset="`+a+`-320.jpg 320w`)
}

// TestCanonicalKeepsThePage: a page's canonical address and its language
// versions drop sorts, filters and campaign parameters, and keep the
// search and the page number.
func TestCanonicalKeepsThePage(t *testing.T) {
	f := newFixture(t)
	_, body, _ := f.get(f.client, "/en/search?q=serum&sort=price_asc&utm_source=newsletter&page=1&brand=Glowlab")
	mustContain(t, "search page head", body, `<link rel="canonical" href="`+f.url+`/en/search?page=1&amp;q=serum">`,
		`hreflang="ar" href="`+f.url+`/ar/search?page=1&amp;q=serum"`)
	if strings.Contains(body, `canonical" href="`+f.url+`/en/search?q=serum&amp;sort`) || strings.Contains(body, "utm_source=newsletter\">") {
		t.Error("the canonical address keeps the sort or the campaign parameter")
	}
}
