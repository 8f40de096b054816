package shopper

import (
	stdjson "encoding/json"
	"os"
	"testing"

	json "github.com/segmentio/encoding/json"
)

// BenchmarkDecodeListing decodes a 24-product listing of the demo shop
// (GET /api/v1/products?market=AE&limit=24, 26 KB) into what a shopper
// reads of it, with the decoder the simulator uses and with
// encoding/json for comparison: listings are a quarter of a session's
// requests and the largest answers.
func BenchmarkDecodeListing(b *testing.B) {
	data, err := os.ReadFile("testdata/listing-ae.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, dec := range []struct {
		name      string
		unmarshal func([]byte, any) error
	}{{"segmentio", json.Unmarshal}, {"encoding-json", stdjson.Unmarshal}} {
		b.Run(dec.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var p productPageJSON
				if err := dec.unmarshal(data, &p); err != nil {
					b.Fatal(err)
				}
				if len(p.Items) != 24 {
					b.Fatalf("%d products, want 24", len(p.Items))
				}
			}
		})
	}
}
