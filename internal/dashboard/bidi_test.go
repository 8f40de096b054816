package dashboard

import (
	"strings"
	"testing"
)

// TestProductNamesIsolateLatinRuns: an Arabic product name's Latin run is
// isolated on the dashboard, in the page and in the script that redraws
// the tables, so "SPF50+" does not read "+SPF50".
func TestProductNamesIsolateLatinRuns(t *testing.T) {
	_, _, h := newTest(t, func(d *Deps) {
		d.Products = fakeNames{"prd_oud": {EN: "Sun Fluid SPF50+", AR: "واقي شمس SPF50+"}}
	})
	page := body(t, get(t, h, "/dashboard"))
	if want := `<span class="ar" lang="ar" dir="rtl">واقي شمس <bdi dir="ltr">SPF50+</bdi></span>`; !strings.Contains(page, want) {
		t.Errorf("page: no %q", want)
	}
	js := body(t, get(t, h, staticURL("dashboard.js")))
	for _, want := range []string{"function isolated(", "isolated(n.ar"} {
		if !strings.Contains(js, want) {
			t.Errorf("dashboard.js: no %q", want)
		}
	}
}
