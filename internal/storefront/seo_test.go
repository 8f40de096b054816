package storefront

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Offline, Lighthouse-style checks of what search engines and link
// previews read: favicon, meta description, absolute hreflang links, Open
// Graph, the home page's largest image, JSON-LD, robots.txt, sitemap.xml.

// headTags returns the attributes of each <tag> element of the page.
func headTags(t *testing.T, body, tag string) []map[string]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			a := map[string]string{}
			for _, at := range n.Attr {
				a[at.Key] = at.Val
			}
			if n.FirstChild != nil && n.FirstChild.Type == html.TextNode {
				a["#text"] = n.FirstChild.Data
			}
			out = append(out, a)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// find returns the first element whose attribute key has the value val.
func find(els []map[string]string, key, val string) map[string]string {
	for _, e := range els {
		if e[key] == val {
			return e
		}
	}
	return nil
}

func TestHeadForSearchEngines(t *testing.T) {
	f := newFixture(t)
	descriptions := map[string]string{}
	for _, lang := range []string{"ar", "en"} {
		for _, path := range []string{"/", "/p/glow-serum", "/c/skincare", "/search?q=serum", "/cart"} {
			what := "/" + lang + path
			status, body, _ := f.get(f.client, what)
			if status != 200 {
				t.Fatalf("GET %s: %d", what, status)
			}
			links, metas := headTags(t, body, "link"), headTags(t, body, "meta")
			icon := find(links, "rel", "icon")
			if icon == nil || icon["type"] != "image/svg+xml" {
				t.Errorf("%s: no SVG icon link: %v", what, icon)
			} else if status, svg, resp := f.get(f.client, icon["href"]); status != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" ||
				!strings.Contains(resp.Header.Get("Cache-Control"), "max-age=31536000") || !strings.Contains(svg, "<svg") {
				t.Errorf("%s: icon %s: got %d %q %q", what, icon["href"], status, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
			}
			d := find(metas, "name", "description")
			if d == nil || d["content"] == "" || len([]rune(d["content"])) > 160 {
				t.Errorf("%s: meta description %v, want 1 to 160 characters", what, d)
			} else {
				descriptions[what] = d["content"]
			}
			rest := strings.TrimPrefix(what, "/"+lang)
			for hl, want := range map[string]string{"ar": f.url + "/ar" + rest, "en": f.url + "/en" + rest, "x-default": f.url + "/en" + rest} {
				var got string
				for _, l := range links {
					if l["rel"] == "alternate" && l["hreflang"] == hl {
						got = l["href"]
					}
				}
				if got != want {
					t.Errorf("%s: hreflang %s: got %q, want %q", what, hl, got, want)
				}
			}
			if c := find(links, "rel", "canonical"); c == nil || c["href"] != f.url+what {
				t.Errorf("%s: canonical %v, want %s", what, c, f.url+what)
			}
			for _, p := range []string{"og:title", "og:description", "og:url", "og:type", "og:site_name", "og:locale"} {
				if m := find(metas, "property", p); m == nil || m["content"] == "" {
					t.Errorf("%s: no %s", what, p)
				}
			}
			if m := find(metas, "property", "og:url"); m != nil && m["content"] != f.url+what {
				t.Errorf("%s: og:url %q, want %q", what, m["content"], f.url+what)
			}
		}
	}
	if descriptions["/en/"] == descriptions["/en/p/glow-serum"] || descriptions["/ar/"] == descriptions["/ar/p/glow-serum"] {
		t.Errorf("the product page's description is the home page's: %v", descriptions)
	}
	_, body, _ := f.get(f.client, "/en/p/glow-serum")
	metas := headTags(t, body, "meta")
	if m := find(metas, "property", "og:type"); m == nil || m["content"] != "product" {
		t.Errorf("product page og:type %v, want product", m)
	}
	if m := find(metas, "property", "og:image"); m == nil || m["content"] != f.url+"/images/products/glow-serum.svg" {
		t.Errorf("product page og:image %v, want the absolute image address", m)
	}

	// Forwarded headers from a client that is not a trusted proxy change
	// nothing.
	_, body, _ = f.get(f.client, "/en/", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example")
	if c := find(headTags(t, body, "link"), "rel", "canonical"); c == nil || c["href"] != f.url+"/en/" {
		t.Errorf("canonical with untrusted forwarded headers: %v, want %s", c, f.url+"/en/")
	}

	status, _, resp := f.get(f.client, "/favicon.ico")
	if status != http.StatusMovedPermanently || !strings.HasPrefix(resp.Header.Get("Location"), "/assets/favicon.") {
		t.Errorf("/favicon.ico: got %d to %q, want a redirect to the SVG icon", status, resp.Header.Get("Location"))
	}
}

func TestHomeLargestImageNotLazy(t *testing.T) {
	f := newFixture(t)
	_, body, _ := f.get(f.client, "/en/")
	imgs := headTags(t, body, "img")
	if len(imgs) < 2 {
		t.Fatalf("home page: %d images, want the featured products'", len(imgs))
	}
	if imgs[0]["loading"] == "lazy" || imgs[0]["fetchpriority"] != "high" {
		t.Errorf("home page's first product image: %v, want loaded at once with fetchpriority=high", imgs[0])
	}
	if imgs[len(imgs)-1]["loading"] != "lazy" {
		t.Errorf("home page's last product image: %v, want lazy", imgs[len(imgs)-1])
	}
}

func TestProductJSONLD(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct{ path, price, currency, availability string }{
		{"/en/p/glow-serum", "89.00", "AED", "https://schema.org/InStock"},
		{"/ar/p/sold-out-mask", "12.00", "AED", "https://schema.org/OutOfStock"},
	} {
		_, body, _ := f.get(f.client, tt.path)
		ld := find(headTags(t, body, "script"), "type", "application/ld+json")
		if ld == nil {
			t.Fatalf("%s: no JSON-LD", tt.path)
		}
		var p struct {
			Context string `json:"@context"`
			Type    string `json:"@type"`
			Name    string `json:"name"`
			SKU     string `json:"sku"`
			Image   string `json:"image"`
			Brand   struct {
				Type string `json:"@type"`
				Name string `json:"name"`
			} `json:"brand"`
			Offers struct {
				Type          string `json:"@type"`
				Price         string `json:"price"`
				PriceCurrency string `json:"priceCurrency"`
				Availability  string `json:"availability"`
				URL           string `json:"url"`
			} `json:"offers"`
		}
		if err := json.Unmarshal([]byte(ld["#text"]), &p); err != nil {
			t.Fatalf("%s: JSON-LD: %v\n%s", tt.path, err, ld["#text"])
		}
		if p.Context != "https://schema.org" || p.Type != "Product" || p.Name == "" || p.SKU == "" || p.Brand.Name == "" ||
			!strings.HasPrefix(p.Image, f.url+"/") || p.Offers.Type != "Offer" || p.Offers.Price != tt.price ||
			p.Offers.PriceCurrency != tt.currency || p.Offers.Availability != tt.availability || p.Offers.URL != f.url+tt.path {
			t.Errorf("%s: JSON-LD %+v; want price %s %s, %s", tt.path, p, tt.price, tt.currency, tt.availability)
		}
	}
}

func TestRobotsAndSitemap(t *testing.T) {
	f := newFixture(t)
	status, robots, resp := f.get(f.client, "/robots.txt")
	if status != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/robots.txt: got %d %q", status, resp.Header.Get("Content-Type"))
	}
	mustContain(t, "robots.txt", robots, "User-agent: *", "Disallow: /en/checkout", "Disallow: /ar/cart", "Disallow: /api/",
		"Sitemap: "+f.url+"/sitemap.xml")

	status, body, resp := f.get(f.client, "/sitemap.xml")
	if status != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("/sitemap.xml: got %d %q", status, resp.Header.Get("Content-Type"))
	}
	var set struct {
		URLs []struct {
			Loc   string `xml:"loc"`
			Links []struct {
				Hreflang string `xml:"hreflang,attr"`
				Href     string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(body), &set); err != nil {
		t.Fatalf("sitemap: %v\n%s", err, body)
	}
	locs := map[string]int{}
	for _, u := range set.URLs {
		locs[u.Loc] = len(u.Links)
	}
	for _, lang := range []string{"ar", "en"} {
		for _, p := range []string{"/", "/p/glow-serum", "/p/uae-toner", "/p/sold-out-mask", "/c/skincare", "/c/suncare"} {
			if n, ok := locs[f.url+"/"+lang+p]; !ok || n != 3 {
				t.Errorf("sitemap: %s/%s%s: present %v with %d alternates, want 3 (ar, en, x-default)", f.url, lang, p, ok, n)
			}
		}
	}
	if len(set.URLs) != 2*(1+4+3) {
		t.Errorf("sitemap: %d addresses, want %d", len(set.URLs), 2*(1+4+3))
	}
}
