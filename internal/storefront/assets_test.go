package storefront

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/souq-commerce/souq/internal/demo"
	"github.com/souq-commerce/souq/internal/souq"
)

var assetLink = regexp.MustCompile(`(?:href|src)="(/assets/[a-z]+\.[0-9a-f]{12}\.(?:css|js))"`)

func rawClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}
}

func TestAssets(t *testing.T) {
	f := newFixture(t, fixtureOptions{writeKey: testWriteKey})
	_, body, _ := f.get(f.client, "/en/")
	links := assetLink.FindAllStringSubmatch(body, -1)
	if len(links) != 3 {
		t.Fatalf("fingerprinted assets in the page: got %d, want 3 (css, site.js, track.js)", len(links))
	}
	c := rawClient()
	for _, l := range links {
		path := l[1]
		var raw []byte
		for _, enc := range []string{"", "gzip", "br", "gzip;q=0.5, br;q=0", "br;q=0.9, gzip"} {
			req, _ := http.NewRequest(http.MethodGet, f.url+path, nil)
			if enc != "" {
				req.Header.Set("Accept-Encoding", enc)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || resp.Header.Get("ETag") == "" {
				t.Errorf("%s (%s): got %d, Cache-Control %q, ETag %q", path, enc, resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"))
			}
			want := map[string]string{"": "", "gzip": "gzip", "br": "br", "gzip;q=0.5, br;q=0": "gzip", "br;q=0.9, gzip": "gzip"}[enc]
			if got := resp.Header.Get("Content-Encoding"); got != want {
				t.Errorf("%s Accept-Encoding %q: Content-Encoding got %q, want %q", path, enc, got, want)
			}
			decoded := decode(t, resp.Header.Get("Content-Encoding"), b)
			if raw == nil {
				raw = decoded
			} else if !bytes.Equal(raw, decoded) {
				t.Errorf("%s: %s body differs from the plain one", path, enc)
			}
			if enc == "" {
				req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
				resp2, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp2.Body.Close()
				if resp2.StatusCode != http.StatusNotModified {
					t.Errorf("%s If-None-Match: got %d, want 304", path, resp2.StatusCode)
				}
			}
		}
		if strings.Contains(path, "track.") && len(raw) >= 4096 {
			t.Errorf("track.js is %d bytes, want under 4 KB", len(raw))
		}
	}
	if status, _, _ := f.get(f.client, "/assets/site.000000000000.css"); status != http.StatusNotFound {
		t.Errorf("an unknown fingerprint: got %d, want 404", status)
	}
	// Pages are compressed too: gzip when the client takes both, br when
	// it takes only br.
	for enc, want := range map[string]string{"br, gzip": "gzip", "br": "br", "gzip;q=0.5, br": "br"} {
		req, _ := http.NewRequest(http.MethodGet, f.url+"/en/", nil)
		req.Header.Set("Accept-Encoding", enc)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Content-Encoding"); got != want || !strings.Contains(string(decode(t, want, b)), "<!doctype html>") {
			t.Errorf("page with Accept-Encoding %q: got Content-Encoding %q, want %q and the page", enc, got, want)
		}
	}
}

func decode(t *testing.T, enc string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	switch enc {
	case "":
		return b
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s: %v", enc, err)
	}
	return out
}

func TestProductImage(t *testing.T) {
	f := newFixture(t)
	status, body, resp := f.get(f.client, "/images/products/glow-serum.svg")
	if status != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("image: got %d %q", status, resp.Header.Get("Content-Type"))
	}
	// A skincare product is a dropper bottle labelled with its brand and name.
	mustContain(t, "svg", body, `<svg xmlns="http://www.w3.org/2000/svg"`, ">Glowlab</text>", ">Glow Serum</text>", `<rect x="120" y="98" width="160" height="270" rx="22"`)
	if resp.Header.Get("Cache-Control") != imageCacheControl || resp.Header.Get("ETag") == "" {
		t.Errorf("image caching: Cache-Control %q, ETag %q", resp.Header.Get("Cache-Control"), resp.Header.Get("ETag"))
	}
	_, again, resp2 := f.get(f.client, "/images/products/glow-serum.svg")
	if again != body || resp2.Header.Get("ETag") != resp.Header.Get("ETag") {
		t.Errorf("image is not deterministic")
	}
	if status, _, _ := f.get(f.client, "/images/products/glow-serum.svg", "If-None-Match", resp.Header.Get("ETag")); status != http.StatusNotModified {
		t.Errorf("If-None-Match: got %d, want 304", status)
	}
	for _, p := range []string{"/images/products/nothing.svg", "/images/products/glow-serum.webp", "/images/products/" + string(f.ids["glow-serum"]) + ".svg"} {
		if status, _, _ := f.get(f.client, p); status != http.StatusNotFound {
			t.Errorf("GET %s: got %d, want 404", p, status)
		}
	}
	if a, b := productSVG(testProductFor("A & B <x>")), productSVG(testProductFor("A & B <x>")); !bytes.Equal(a, b) || !bytes.Contains(a, []byte("A &amp; B &lt;x&gt;")) {
		t.Errorf("brand text is not escaped or not deterministic: %s", a)
	}
	// Each kind of pack has its own silhouette; long names wrap and end
	// with an ellipsis.
	shapes := map[string]bool{}
	for _, cat := range []string{"skincare", "bodycare", "haircare", "makeup", "masks", "fragrance", "other"} {
		svg := string(productSVG(souq.Product{Brand: "Glowlab", Category: cat, Name: souq.Localized{EN: "A very long product name that will not fit on three short lines of the label at all"}}))
		shape := svg[strings.Index(svg, `<ellipse cx="200" cy="372"`):strings.Index(svg, "<g fill")]
		shapes[shape] = true
		if strings.Count(svg, `font-size="15"`) != 3 || !strings.Contains(svg, "…</text>") {
			t.Errorf("%s: the name is not wrapped in three lines ending with an ellipsis: %s", cat, svg)
		}
	}
	if len(shapes) != 7 {
		t.Errorf("%d distinct pack silhouettes for 7 kinds, want 7", len(shapes))
	}
	// White text on every brand colour meets 4.5:1.
	for hue := 0; hue < 360; hue++ {
		bg := hsl(float64(hue), 0.55, 0.28)
		if r := contrast("#ffffff", bg); r < 4.5 {
			t.Errorf("hue %d: white on %s is %.2f:1, want at least 4.5", hue, bg, r)
		}
	}
}

func TestCSS(t *testing.T) {
	css, err := os.ReadFile("static/site.css")
	if err != nil {
		t.Fatal(err)
	}
	physical := regexp.MustCompile(`(?i)\b(margin|padding|border)-(left|right)\b|[\s;{](left|right|top|bottom)\s*:|text-align\s*:\s*(left|right)|float\s*:\s*(left|right)|\b(width|height)\s*:`)
	if m := physical.FindAll(css, -1); len(m) > 0 {
		t.Errorf("site.css uses physical properties (use logical ones): %q", m)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*(#[0-9a-f]{6});`).FindAllStringSubmatch(string(css), -1) {
		vars[m[1]] = m[2]
	}
	pairs := []struct {
		fg, bg string
		min    float64
	}{
		{"ink", "paper", 4.5}, {"muted", "paper", 4.5}, {"brand", "paper", 4.5}, {"brand-ink", "brand", 4.5},
		{"paper", "sale", 4.5}, {"sale", "paper", 4.5}, {"ok", "paper", 4.5}, {"warn", "paper", 4.5},
		{"alert-ink", "alert-bg", 4.5}, {"ink", "soft", 4.5}, {"muted", "soft", 4.5}, {"focus", "paper", 3},
	}
	for _, p := range pairs {
		fg, bg := vars[p.fg], vars[p.bg]
		if fg == "" || bg == "" {
			t.Errorf("--%s or --%s is not in site.css", p.fg, p.bg)
			continue
		}
		r := contrast(fg, bg)
		t.Logf("--%s %s on --%s %s: %.2f:1", p.fg, fg, p.bg, bg, r)
		if r < p.min {
			t.Errorf("--%s on --%s: %.2f:1, want at least %.1f:1", p.fg, p.bg, r, p.min)
		}
	}
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	ch := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(0) + 0.7152*ch(1) + 0.0722*ch(2)
}

// TestPageWeight measures the home and product pages of the demo catalogue
// with their style sheet and scripts, and keeps each under 100 KB without
// images. go test -v -run PageWeight prints the figures.
func TestPageWeight(t *testing.T) {
	f := newFixture(t, fixtureOptions{writeKey: testWriteKey, consent: true, empty: true})
	if _, err := demo.Seed(context.Background(), f.catalog, time.Now(), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("demo seed: %v", err)
	}
	product := demo.Products()[0].Slug
	sizes := func(b []byte) (int, int, int) {
		gz, _ := gzipBytes(b, gzip.DefaultCompression)
		br, _ := brotliFast(b)
		return len(b), len(gz), len(br)
	}
	s, err := New(Deps{Catalog: f.catalog, Carts: f.carts, Checkout: f.checkout})
	if err != nil {
		t.Fatal(err)
	}
	var assetsRaw int
	for _, name := range []string{"site.css", "site.js", "track.js"} {
		a := s.assets.bySource[name]
		assetsRaw += len(a.raw)
		t.Logf("%-9s raw %6d B, gzip %5d B, br %5d B", name, len(a.raw), len(a.gz), len(a.br))
	}
	for _, lang := range []string{"en", "ar"} {
		for _, path := range []string{"/" + lang + "/", "/" + lang + "/p/" + product} {
			status, body, _ := f.get(f.client, path)
			if status != 200 {
				t.Fatalf("GET %s: %d", path, status)
			}
			raw, gz, br := sizes([]byte(body))
			t.Logf("%-40s raw %6d B, gzip %5d B, br %5d B", path, raw, gz, br)
			if total := raw + assetsRaw; total > 100<<10 {
				t.Errorf("%s with CSS and JS: %d bytes, want under 100 KB", path, total)
			}
		}
	}
}
