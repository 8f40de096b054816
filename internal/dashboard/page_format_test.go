package dashboard

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

func TestChartPoints(t *testing.T) {
	// The plot runs from x 56 to 468 and from y 190 (zero) up to 34.
	for _, tc := range []struct {
		name       string
		values     []int64
		top        float64
		line, area string
	}{
		{"none", nil, 1, "", ""},
		{"one", []int64{5}, 5, "56.0,34.0", "56.0,190.0 56.0,34.0 56.0,190.0"},
		{"all zero", []int64{0, 0, 0}, 1, "56.0,190.0 262.0,190.0 468.0,190.0", "56.0,190.0 56.0,190.0 262.0,190.0 468.0,190.0 468.0,190.0"},
		{"rising", []int64{0, 1, 2}, 2, "56.0,190.0 262.0,112.0 468.0,34.0", "56.0,190.0 56.0,190.0 262.0,112.0 468.0,34.0 468.0,190.0"},
		{"top above the peak", []int64{0, 1}, 4, "56.0,190.0 468.0,151.0", "56.0,190.0 56.0,190.0 468.0,151.0 468.0,190.0"},
	} {
		line, area := chartPoints(tc.values, tc.top)
		if line != tc.line || area != tc.area {
			t.Errorf("%s: got %q / %q, want %q / %q", tc.name, line, area, tc.line, tc.area)
		}
	}
}

func TestAxisFormats(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		top  float64
		tick string
	}{
		{0, 1, "0"}, {1, 1, "1"}, {3, 5, "3"}, {12, 20, "12"}, {50, 50, "50"}, {51, 100, "51"},
		{590, 1000, "590"}, {1200, 2000, "1.2k"}, {35000, 50000, "35k"}, {1.5e6, 2e6, "1.5M"},
	} {
		if got := niceTop(tc.in); got != tc.top {
			t.Errorf("niceTop(%v): got %v, want %v", tc.in, got, tc.top)
		}
		if got := fmtCompact(tc.in); got != tc.tick {
			t.Errorf("fmtCompact(%v): got %q, want %q", tc.in, got, tc.tick)
		}
	}
}

func TestSignedPctAndAges(t *testing.T) {
	for in, want := range map[float64]string{0.1234: "+12.3%", -0.04: "-4.0%", 0.0001: "0.0%", -0.0001: "0.0%", 0: "0.0%", 2: "+200.0%"} {
		if got := fmtSignedPct(in); got != want {
			t.Errorf("fmtSignedPct(%v): got %q, want %q", in, got, want)
		}
	}
	for _, tc := range []struct {
		d    time.Duration
		lang souq.Lang
		want string
	}{
		{42 * time.Second, souq.English, "42 s"},
		{185 * time.Second, souq.English, "3 min 5 s"},
		{185 * time.Second, souq.Arabic, "3 د 5 ث"},
		{2*time.Hour + 10*time.Minute, souq.Arabic, "2 س 10 د"},
	} {
		if got := fmtAgeIn(tc.d, tc.lang); got != tc.want {
			t.Errorf("fmtAgeIn(%v, %s): got %q, want %q", tc.d, tc.lang, got, tc.want)
		}
	}
	if got := fmtCountdown(3723); got != "1:02:03" {
		t.Errorf("fmtCountdown(3723): got %q, want 1:02:03", got)
	}
}

func TestAcceptLanguage(t *testing.T) {
	for header, want := range map[string]souq.Lang{
		"":                          souq.English,
		"fr-FR, de":                 souq.English,
		"ar-AE,ar;q=0.9,en;q=0.8":   souq.Arabic,
		"en-GB,en;q=0.9,ar;q=0.8":   souq.English,
		"fr, ar;q=0.5, en;q=0.7":    souq.English,
		"fr, AR-sa;q=0.8, en;q=0.7": souq.Arabic,
		"en;q=0.5, ar;q=0.5":        souq.English,
	} {
		if got := acceptLang(header); got != want {
			t.Errorf("acceptLang(%q): got %s, want %s", header, got, want)
		}
	}
}

// TestMessagesInBothLanguages: every text of the page has an English
// and an Arabic version, and the Arabic one is not the English copied.
func TestMessagesInBothLanguages(t *testing.T) {
	for key, m := range messages {
		if m.en == "" || m.ar == "" {
			t.Errorf("%s: en %q, ar %q; want both", key, m.en, m.ar)
		}
		if m.en == m.ar {
			t.Errorf("%s: the Arabic text is the English one, %q", key, m.en)
		}
	}
}

// TestEveryMessageKeyExists: each key the template and the view ask for
// is in messages (a missing one would show as the key itself).
func TestEveryMessageKeyExists(t *testing.T) {
	src, err := templateFS.ReadFile("templates/dashboard.html")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`\.Tf? "([a-z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
		keys[m[1]] = true
	}
	goSrc := ""
	for _, f := range []string{"page_view.go", "page_panels.go", "page_products.go", "page_format.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		goSrc += string(b)
	}
	for _, m := range regexp.MustCompile(`(?:tr\(lang, |v\.Tf?\()"([a-z0-9_]+)"[),]`).FindAllStringSubmatch(goSrc, -1) {
		keys[m[1]] = true
	}
	// The keys made up at run time.
	for _, prefix := range []struct {
		prefix string
		of     []string
	}{
		{"a_", []string{"checkout_errors", "out_of_stock", "cancellations", "zero_result_searches", "sold_out", "pipeline_lag"}},
		{"last_", windows},
		{"st_", []string{"view", "cart", "checkout", "order"}},
		{"c_", []string{"views", "orders", "revenue"}},
		{"u_", []string{"views", "orders", "revenue"}},
		{"w_", []string{"minute", "hour", "day"}},
		{"s_", []string{"watch", "low", "out"}},
		{"", []string{"critical", "warning"}}, // an alert's severity
	} {
		for _, k := range prefix.of {
			keys[prefix.prefix+k] = true
		}
	}
	for _, s := range tableSorts {
		keys[s.label] = true
	}
	for _, l := range compareLabels {
		keys[l.key] = true
	}
	if len(keys) < 100 {
		t.Errorf("found %d keys: the patterns above no longer match the sources", len(keys))
	}
	for k := range keys {
		if _, ok := messages[k]; !ok {
			t.Errorf("message %q is used but not defined", k)
		}
	}
	for k := range messages {
		if !keys[k] {
			t.Errorf("message %q is defined but not used", k)
		}
	}
}

func TestChangeOf(t *testing.T) {
	tests := []struct {
		name        string
		rate, then  *float64
		today       float64
		lang        souq.Lang
		class, text string
	}{
		{"unknown", nil, nil, 5, souq.English, "none", "  no data vs yesterday"},
		{"zero then and now", nil, new(0.0), 0, souq.English, "same", "=  no change vs yesterday"},
		{"up from zero", nil, new(0.0), 3, souq.English, "up", "▲  up from zero vs yesterday"},
		{"up", new(0.125), new(8.0), 9, souq.English, "up", "▲ +12.5% up vs yesterday"},
		{"down", new(-0.5), new(8.0), 4, souq.English, "down", "▼ -50.0% down vs yesterday"},
		{"unknown in Arabic", nil, nil, 5, souq.Arabic, "none", "  لا بيانات vs yesterday"},
	}
	for _, tt := range tests {
		c := changeOf(tt.rate, tt.then, tt.today, "vs yesterday", tt.lang)
		if got := c.Arrow + " " + c.Pct + " " + c.Word + " " + c.Against; c.Class != tt.class || got != tt.text {
			t.Errorf("%s: got %s %q, want %s %q", tt.name, c.Class, got, tt.class, tt.text)
		}
	}
}
