package main

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/souq-commerce/souq/internal/browsertest"
)

// viewport sets the tab's screen: width × height CSS pixels, as a phone
// (touch, mobile) or a laptop.
func viewport(ctx context.Context, t *testing.T, width, height int64, mobile bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: width, Height: height, DeviceScaleFactor: 1, Mobile: mobile}); err != nil {
		t.Fatalf("viewport %dx%d: %v", width, height, err)
	}
}

// onScreen counts the elements matching sel that show on the first screen:
// their top edge within the viewport and at least 40 px of them visible.
func onScreen(ctx context.Context, t *testing.T, sel string) int {
	t.Helper()
	return eval[int](ctx, t, `[...document.querySelectorAll(`+jsString(sel)+`)].filter(e => {
		const r = e.getBoundingClientRect();
		return r.width > 0 && r.top >= 0 && r.top <= innerHeight - 40;
	}).length`)
}

// noOverflow fails t when the page is wider than the screen, width px
// (a phone's layout viewport grows to the page, so innerWidth would not
// tell).
func noOverflow(ctx context.Context, t *testing.T, p page, width int) {
	t.Helper()
	if w := eval[int](ctx, t, `Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)`); w > width {
		t.Errorf("%v: the page is %d px wide on a %d px screen (horizontal scroll)", p, w, width)
	}
}

func shot(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	if _, err := browsertest.SaveScreenshot(ctx, t, name); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

// TestBrowserMobileFirst: on a 390 × 844 phone, in Arabic and English, the
// home page's first screen shows products (two to a row), the product
// page shows the price and "add to cart" without scrolling, and checkout
// shows the order's total before "Place order"; no page scrolls sideways.
// The sale page shows its discount badges on a phone's first screen; the sale
// and returns pages fit it. At 1366 × 900 the home page shows products on
// its first screen too.
func TestBrowserMobileFirst(t *testing.T) {
	base, _, ctx := browserShop(t)
	for _, lang := range []string{"ar", "en"} {
		viewport(ctx, t, 390, 844, true)
		home := open(ctx, t, base+"/"+lang+"/", regexp.MustCompile(`^/`+lang+`/$`))
		need(ctx, t, home, ".grid .card", "#cart-link .count", "details.menu summary", "form#search")
		shot(ctx, t, "mobile-home-"+lang)
		noOverflow(ctx, t, home, 390)
		if n := onScreen(ctx, t, ".grid .card img"); n < 2 {
			t.Errorf("%s home at 390 px: %d product pictures on the first screen, want at least 2", lang, n)
		}
		if cols := eval[int](ctx, t, `(() => {
			const cards = [...document.querySelectorAll(".grid .card")].slice(0, 3).map(c => c.getBoundingClientRect().top);
			return cards.filter(top => Math.abs(top - cards[0]) < 1).length;
		})()`); cols != 2 {
			t.Errorf("%s home at 390 px: %d products in the first row, want 2", lang, cols)
		}

		href := eval[string](ctx, t, `document.querySelector(".grid .card a.product-link").getAttribute("href")`)
		product := open(ctx, t, base+href, regexp.MustCompile(`^/`+lang+`/p/`))
		need(ctx, t, product, ".product .price", "#add-to-cart-button")
		shot(ctx, t, "mobile-product-"+lang)
		noOverflow(ctx, t, product, 390)
		for _, sel := range []string{".product .price", "#add-to-cart-button"} {
			if onScreen(ctx, t, sel) != 1 {
				t.Errorf("%s product page at 390 px: %s is not on the first screen", lang, sel)
			}
		}
		// The add-to-cart bar stays on screen while the shopper reads on.
		eval[any](ctx, t, `window.scrollTo(0, document.body.scrollHeight / 2)`)
		if inView := eval[bool](ctx, t, `(() => {
			const r = document.querySelector("#add-to-cart-button").getBoundingClientRect();
			return r.top >= 0 && r.bottom <= innerHeight;
		})()`); !inView {
			t.Errorf("%s product page at 390 px: add to cart scrolled away (want a sticky bar)", lang)
		}

		open(ctx, t, base+href, regexp.MustCompile(`^/`+lang+`/p/`))
		cart := addToCart(ctx, t, product, lang)
		noOverflow(ctx, t, cart, 390)
		checkout := clickTo(ctx, t, "#checkout-link", regexp.MustCompile(`^/`+lang+`/checkout$`))
		need(ctx, t, checkout, "#place-order", "#pay-total", "aside .totals")
		shot(ctx, t, "mobile-checkout-"+lang)
		noOverflow(ctx, t, checkout, 390)
		order := eval[[]float64](ctx, t, `["aside .totals", "#pay-total", "#place-order"].map(s => document.querySelector(s).getBoundingClientRect().top + scrollY)`)
		if !(order[0] < order[2] && order[1] < order[2]) {
			t.Errorf("%s checkout at 390 px: summary at %v, total at %v, Place order at %v; want the summary and total before Place order", lang, order[0], order[1], order[2])
		}

		// The sale page (its badges on the first screen) and a policy
		// page fit the phone too.
		sale := open(ctx, t, base+"/"+lang+"/sale", regexp.MustCompile(`^/`+lang+`/sale$`))
		shot(ctx, t, "mobile-sale-"+lang)
		noOverflow(ctx, t, sale, 390)
		if n := onScreen(ctx, t, ".grid .card .badge"); n < 2 {
			t.Errorf("%s sale page at 390 px: %d discount badges on the first screen, want at least 2", lang, n)
		}
		returns := open(ctx, t, base+"/"+lang+"/returns", regexp.MustCompile(`^/`+lang+`/returns$`))
		noOverflow(ctx, t, returns, 390)

		viewport(ctx, t, 1366, 900, false)
		sale = open(ctx, t, base+"/"+lang+"/sale", regexp.MustCompile(`^/`+lang+`/sale$`))
		shot(ctx, t, "laptop-sale-"+lang)
		noOverflow(ctx, t, sale, 1366)
		wide := open(ctx, t, base+"/"+lang+"/", regexp.MustCompile(`^/`+lang+`/$`))
		shot(ctx, t, fmt.Sprintf("laptop-home-%s", lang))
		noOverflow(ctx, t, wide, 1366)
		if n := onScreen(ctx, t, ".grid .card img"); n < 4 {
			t.Errorf("%s home at 1366 px: %d product pictures on the first screen, want at least 4", lang, n)
		}
	}
}
