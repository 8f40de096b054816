package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/demo"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/souq"
)

// saleEvents returns n events of a flash sale's last minutes, shaped like
// Segment e-commerce events: about 75% Product Viewed, 18% Product Added and
// 7% Order Completed, from a few thousand shoppers across the six markets,
// 4,000 events a second. The same n gives the same events.
func saleEvents(tb testing.TB, n int) []souq.Event {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	products := demo.Products()
	markets := souq.Markets()
	id := func(prefix string) string {
		const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
		b := []byte(prefix + "00000000000000000000")
		for i := len(prefix); i < len(b); i++ {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	shoppers := make([]string, 3000)
	for i := range shoppers {
		shoppers[i] = fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()>>16)
	}
	agents := []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	}
	start := time.Date(2025, 11, 28, 21, 55, 0, 0, time.UTC)
	mustJSON := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	evs := make([]souq.Event, n)
	for i := range evs {
		shopper := rng.IntN(len(shoppers))
		m := markets[shopper%len(markets)]
		p := products[rng.IntN(len(products))]
		price := souq.M(p.Prices[m.Code], m.Currency)
		slug := "/products/" + p.Slug
		locale := "ar-" + string(m.Code)
		if shopper%3 == 0 {
			locale = "en-" + string(m.Code)
		}
		at := start.Add(time.Duration(i) * 250 * time.Microsecond)
		ev := souq.Event{
			MessageID:   id(souq.EventPrefix),
			Type:        "track",
			Timestamp:   at,
			ReceivedAt:  at.Add(time.Duration(50+rng.IntN(350)) * time.Millisecond),
			AnonymousID: shoppers[shopper],
			Context: mustJSON(map[string]any{
				"market": m.Code, "locale": locale, "ip": fmt.Sprintf("94.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256)),
				"userAgent": agents[shopper%len(agents)],
				"page":      map[string]any{"path": slug, "url": "https://shop.example" + slug, "referrer": "https://www.instagram.com/"},
				"library":   map[string]any{"name": "souq.js", "version": "1.0.0"},
			}),
		}
		if shopper%4 == 0 {
			ev.UserID = fmt.Sprintf("usr_%06d", shopper)
		}
		product := map[string]any{
			"product_id": "prd_" + p.Slug[:min(20, len(p.Slug))], "sku": p.SKU, "category": p.Category, "name": p.Name.EN,
			"brand": p.Brand, "price": price.Decimal(), "currency": m.Currency, "url": "https://shop.example" + slug,
			"image_url": p.Image, "market": m.Code,
		}
		switch r := rng.IntN(100); {
		case r < 75:
			ev.Event = "Product Viewed"
			product["position"] = 1 + rng.IntN(24)
			ev.Properties = mustJSON(product)
		case r < 93:
			ev.Event = "Product Added"
			product["cart_id"] = id(souq.CartPrefix)
			product["quantity"] = 1 + rng.IntN(3)
			ev.Properties = mustJSON(product)
		default:
			ev.Event = souq.EventOrderCompleted
			var lines []souq.OrderEventProduct
			var total int64
			for range 1 + rng.IntN(4) {
				q := products[rng.IntN(len(products))]
				qty := 1 + rng.IntN(2)
				unit := q.Prices[m.Code]
				total += unit * int64(qty)
				lines = append(lines, souq.OrderEventProduct{
					ProductID: "prd_" + q.Slug[:min(20, len(q.Slug))], SKU: q.SKU, Name: q.Name.EN, Brand: q.Brand,
					Category: q.Category, Price: souq.M(unit, m.Currency).Decimal(), Quantity: qty,
				})
			}
			tax := souq.VATIncluded(total, m.VATBasisPoints)
			ev.Properties = mustJSON(souq.OrderEventProperties{
				OrderID: id(souq.OrderPrefix), Total: souq.M(total, m.Currency).Decimal(),
				Revenue: souq.M(total-tax, m.Currency).Decimal(), Tax: souq.M(tax, m.Currency).Decimal(),
				Currency: m.Currency, TotalMinor: total, TaxMinor: tax, Market: m.Code, City: m.Cities[shopper%len(m.Cities)],
				PaymentMethod: "card", Products: lines,
			})
		}
		evs[i] = ev
	}
	return evs
}

// BenchmarkArchiveBytesPerEvent archives batches of 10,000 sale events to a
// local directory (with fsync) and reports the Parquet bytes per event next
// to the event's JSON size, and the events archived per second (adding,
// encoding and writing).
func BenchmarkArchiveBytesPerEvent(b *testing.B) {
	const batch = 10_000
	evs := saleEvents(b, 4*batch)
	var jsonBytes int
	for _, ev := range evs {
		data, err := json.Marshal(ev)
		if err != nil {
			b.Fatal(err)
		}
		jsonBytes += len(data)
	}
	bucket, err := fileblob.Open(filepath.Join(b.TempDir(), "archive"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	w := New(bucket, Options{MaxRows: batch})
	if _, err := w.Recover(ctx); err != nil {
		b.Fatal(err)
	}
	var seq uint64
	var fileBytes, events int
	for b.Loop() {
		for range batch {
			seq++
			if err := w.Add(seq, evs[int(seq-1)%len(evs)]); err != nil {
				b.Fatal(err)
			}
		}
		if !w.Due() {
			b.Fatal("Due: got false after MaxRows events, want true")
		}
		bt, err := w.Flush(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range bt.Files {
			fileBytes += f.Bytes
		}
		events += bt.Rows
	}
	b.ReportMetric(float64(fileBytes)/float64(events), "bytes/event")
	b.ReportMetric(float64(jsonBytes)/float64(len(evs)), "json-bytes/event")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
