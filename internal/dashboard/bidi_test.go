package dashboard

import (
	"strings"
	"testing"
)

// TestProductNamesIsolateLatinRuns: an Arabic product name's Latin run is
// isolated on the dashboard, in the page and in the script that redraws
// the tables, so "SPF50+" does not read "+SPF50"; the English page shows
// an Arabic-only name in a right-to-left span, and an English name's
// Arabic run is isolated too.
func TestProductNamesIsolateLatinRuns(t *testing.T) {
	_, _, h := newTest(t, func(d *Deps) {
		d.Products = fakeNames{
			"prd_oud":   {EN: "Sun Fluid SPF50+", AR: "واقي شمس SPF50+"},
			"prd_cream": {AR: "كريم ليلي SPF15"},
		}
	})
	for _, tc := range []struct{ target, want string }{
		{"/dashboard?lang=ar", `<th scope="row" title="prd_oud">واقي شمس <bdi dir="ltr">SPF50+</bdi></th>`},
		{"/dashboard?lang=en", `<th scope="row" title="prd_oud">Sun Fluid SPF50+</th>`},
		{"/dashboard?lang=en", `<th scope="row" title="prd_cream"><span lang="ar" dir="rtl">كريم ليلي <bdi dir="ltr">SPF15</bdi></span></th>`},
		{"/dashboard?lang=ar", `<th scope="row" title="prd_cream">كريم ليلي <bdi dir="ltr">SPF15</bdi></th>`},
	} {
		if page := body(t, get(t, h, tc.target)); !strings.Contains(page, tc.want) {
			t.Errorf("%s: no %q", tc.target, tc.want)
		}
	}
	js := body(t, get(t, h, staticURL("dashboard.js")))
	for _, want := range []string{"function isolated(", "isolated(text, s)"} {
		if !strings.Contains(js, want) {
			t.Errorf("dashboard.js: no %q", want)
		}
	}
}
