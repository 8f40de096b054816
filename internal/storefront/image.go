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

// productSVG draws a product's packshot: the silhouette of its kind of
// pack (a dropper bottle for skincare, a tube for body and sun care, a pump
// bottle for hair care, a compact for make-up, a sachet for sheet masks, a
// flacon for fragrance, a jar otherwise) in its brand's colour on a light
// ground, labelled with the brand and the product's name. The same product
// always gives the same bytes.
func productSVG(p souq.Product) []byte {
	bg, accent := brandColours(p.Brand)
	var b bytes.Buffer
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400" width="400" height="400">`)
	b.WriteString(`<rect width="400" height="400" fill="#f3f5f4"/><ellipse cx="200" cy="372" rx="120" ry="12" fill="#d9dedb"/>`)
	label, room := 0.0, 140.0 // the label's top, and its width
	switch p.Category {
	case "skincare": // dropper bottle
		fmt.Fprintf(&b, `<rect x="176" y="28" width="48" height="40" rx="18" fill="%s"/><rect x="184" y="66" width="32" height="34" fill="#2b2f33"/>`, accent)
		fmt.Fprintf(&b, `<rect x="120" y="98" width="160" height="270" rx="22" fill="%s"/>`, bg)
		label, room = 170, 144
	case "bodycare", "suncare": // tube, cap down
		fmt.Fprintf(&b, `<path d="M118 40 H282 L262 318 H138 Z" fill="%s"/><rect x="150" y="316" width="100" height="52" rx="10" fill="%s"/>`, bg, accent)
		label, room = 110, 140
	case "haircare": // pump bottle
		fmt.Fprintf(&b, `<path d="M196 24 H262 V38 H214 V70 H196 Z" fill="#2b2f33"/><rect x="178" y="68" width="44" height="34" fill="%s"/>`, accent)
		fmt.Fprintf(&b, `<rect x="128" y="100" width="144" height="268" rx="30" fill="%s"/>`, bg)
		label, room = 170, 128
	case "makeup": // compact, lid open
		fmt.Fprintf(&b, `<ellipse cx="200" cy="150" rx="130" ry="100" fill="%s"/><ellipse cx="200" cy="150" rx="104" ry="78" fill="#e8ecea"/>`, accent)
		fmt.Fprintf(&b, `<ellipse cx="200" cy="292" rx="130" ry="70" fill="%s"/>`, bg)
		label, room = 250, 200
	case "masks": // sachet with a tear notch
		fmt.Fprintf(&b, `<path d="M96 44 H304 V364 H96 V92 L108 80 L96 68 Z" fill="%s"/><rect x="96" y="44" width="208" height="22" fill="%s"/>`, bg, accent)
		label, room = 140, 184
	case "fragrance": // flacon
		fmt.Fprintf(&b, `<rect x="168" y="40" width="64" height="56" rx="8" fill="%s"/><rect x="188" y="94" width="24" height="22" fill="#2b2f33"/>`, accent)
		fmt.Fprintf(&b, `<rect x="98" y="114" width="204" height="254" rx="36" fill="%s"/>`, bg)
		label, room = 190, 184
	default: // jar
		fmt.Fprintf(&b, `<rect x="104" y="136" width="192" height="64" rx="14" fill="%s"/><rect x="96" y="196" width="208" height="172" rx="28" fill="%s"/>`, accent, bg)
		label, room = 232, 188
	}
	b.WriteString(`<g fill="#fff" font-family="system-ui,sans-serif" text-anchor="middle">`)
	text := func(y, size float64, weight, s string) {
		fit := "" // a line wider than the label is squeezed to fit it
		if float64(len([]rune(s)))*0.56*size > room {
			fit = fmt.Sprintf(` textLength="%.0f" lengthAdjust="spacingAndGlyphs"`, room)
		}
		fmt.Fprintf(&b, `<text x="200" y="%.0f" font-size="%.0f"%s%s>%s</text>`, y, size, weight, fit, esc(s))
	}
	text(label+28, 22, ` font-weight="700"`, clipText(p.Brand, 18))
	for i, line := range wrap(p.Name.EN, 16, 3) {
		text(label+56+float64(i)*20, 15, "", line)
	}
	b.WriteString(`</g></svg>`)
	return b.Bytes()
}

// wrap breaks s into at most lines lines of about width characters, at
// spaces; what does not fit ends the last line with "…".
func wrap(s string, width, lines int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case len([]rune(line))+1+len([]rune(w)) <= width:
			line += " " + w
		default:
			out = append(out, line)
			line = w
		}
	}
	if line != "" {
		out = append(out, line)
	}
	if len(out) > lines {
		out = out[:lines]
		out[lines-1] = clipText(out[lines-1]+" …", width)
	}
	for i := range out {
		out[i] = clipText(out[i], width+2)
	}
	return out
}

// clipText shortens s to at most n characters, ending it with "…" when cut.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
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

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
