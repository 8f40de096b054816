package storefront

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"unicode"

	"github.com/souq-commerce/souq/internal/souq"
)

// imageCacheControl: product images are named by slug, not by content, so
// they are revalidated (by ETag) after 30 days rather than kept for good.
const imageCacheControl = "public, max-age=2592000"

// handleImage serves /images/products/{slug}.svg: a generated placeholder
// picture of a catalogue product (404 for any other name).
func (s *Storefront) handleImage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slug, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
		if !ok || slug == "" || strings.HasPrefix(slug, souq.ProductPrefix) {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		p, err := s.Catalog.Product(r.Context(), slug)
		if errors.Is(err, souq.ErrNotFound) {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if err != nil {
			s.log.Error("product image", "slug", slug, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		body := productSVG(p)
		sum := sha256.Sum256(body)
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", imageCacheControl)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeBody(w, r, http.StatusOK, "image/svg+xml", body)
	})
}

// productSVG draws a product's placeholder: a square in its brand's colour
// with the product's initials, the brand and the category. The same product
// always gives the same bytes.
func productSVG(p souq.Product) []byte {
	bg, accent := brandColours(p.Brand)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400" width="400" height="400">`)
	fmt.Fprintf(&b, `<rect width="400" height="400" fill="%s"/>`, bg)
	fmt.Fprintf(&b, `<circle cx="200" cy="170" r="110" fill="%s"/>`, accent)
	fmt.Fprintf(&b, `<g fill="#fff" font-family="system-ui,sans-serif" text-anchor="middle">`)
	fmt.Fprintf(&b, `<text x="200" y="205" font-size="96" font-weight="700">%s</text>`, esc(initials(p.Name.EN)))
	fmt.Fprintf(&b, `<text x="200" y="332" font-size="30" font-weight="600">%s</text>`, esc(p.Brand))
	fmt.Fprintf(&b, `<text x="200" y="368" font-size="20">%s</text>`, esc(strings.ToUpper(p.Category)))
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}

// brandColours derives a background and an accent from a hash of the
// brand: a hue, at a lightness dark enough for white text (contrast above
// 4.5:1 for every hue).
func brandColours(brand string) (bg, accent string) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(brand))
	hue := float64(h.Sum32() % 360)
	return hsl(hue, 0.55, 0.28), hsl(hue, 0.45, 0.36)
}

// hsl converts a hue (degrees), saturation and lightness to #rrggbb.
func hsl(h, s, l float64) string {
	c := (1 - abs(2*l-1)) * s
	hp := h / 60
	x := c * (1 - abs(mod2(hp)-1))
	var r, g, b float64
	switch {
	case hp < 1:
		r, g = c, x
	case hp < 2:
		r, g = x, c
	case hp < 3:
		g, b = c, x
	case hp < 4:
		g, b = x, c
	case hp < 5:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := l - c/2
	return fmt.Sprintf("#%02x%02x%02x", int((r+m)*255+0.5), int((g+m)*255+0.5), int((b+m)*255+0.5))
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func mod2(f float64) float64 {
	for f >= 2 {
		f -= 2
	}
	return f
}

// initials are the first letters of the first two words of a name.
func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		r := []rune(w)[0]
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToUpper(r))
		}
		if len(out) == 2 {
			break
		}
	}
	return string(out)
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
