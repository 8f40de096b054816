package storefront

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/demo"
)

// BenchmarkPages renders the demo catalogue's home and product pages
// through HTTP, compressed as a browser asks: go test -bench Pages.
func BenchmarkPages(b *testing.B) {
	f := newFixture(b, fixtureOptions{writeKey: testWriteKey, consent: true, empty: true})
	if _, err := demo.Seed(context.Background(), f.catalog, time.Now(), slog.New(slog.DiscardHandler)); err != nil {
		b.Fatalf("demo seed: %v", err)
	}
	for _, bc := range []struct{ name, path string }{
		{"home", "/ar/"},
		{"product", "/ar/p/" + demo.Products()[0].Slug},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", f.url+bc.path, nil)
					req.Header.Set("Accept-Encoding", "br, gzip")
					resp, err := http.DefaultTransport.RoundTrip(req)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Fatalf("GET %s: %d", bc.path, resp.StatusCode)
					}
				}
			})
		})
	}
}
