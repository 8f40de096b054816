package storefront

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/collector"
	"github.com/souq-commerce/souq/internal/souq"
)

// The message and batch track.js builds, field for field (the test below
// checks the script uses these names).
type (
	jsMessage struct {
		Type        string          `json:"type"`
		Event       string          `json:"event,omitempty"`
		Name        string          `json:"name,omitempty"`
		Properties  json.RawMessage `json:"properties"`
		MessageID   string          `json:"messageId"`
		AnonymousID string          `json:"anonymousId"`
		Timestamp   string          `json:"timestamp"`
		Context     jsContext       `json:"context"`
	}
	jsContext struct {
		Market string `json:"market"`
		Locale string `json:"locale"`
		Page   struct {
			Path string `json:"path"`
		} `json:"page"`
	}
	jsBatch struct {
		Batch    []jsMessage `json:"batch"`
		SentAt   string      `json:"sentAt"`
		WriteKey string      `json:"writeKey"`
	}
	jsConfig struct {
		WriteKey string `json:"writeKey"`
		URL      string `json:"url"`
		Market   string `json:"market"`
		Lang     string `json:"lang"`
		Consent  bool   `json:"consent"`
		Events   []struct {
			Event      string          `json:"event"`
			Properties json.RawMessage `json:"properties"`
		} `json:"events"`
		Product json.RawMessage `json:"product"`
		Page    *struct {
			Name       string          `json:"name"`
			Properties json.RawMessage `json:"properties"`
		} `json:"page"`
		AnonymousID string `json:"anonymousId"`
	}
)

var trackBlock = regexp.MustCompile(`<script type="application/json" id="souq-track">(.*?)</script>`)

func rid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type memPublisher struct {
	mu     sync.Mutex
	events []souq.Event
}

func (p *memPublisher) PublishBatch(_ context.Context, evs []souq.Event) ([]error, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, evs...)
	return nil, nil
}

type memDeadLetters struct{ reasons []string }

func (d *memDeadLetters) DeadLetter(_ context.Context, reason string, _ []byte) error {
	d.reasons = append(d.reasons, reason)
	return nil
}

// TestTrackedEventsAccepted renders the pages that carry events, builds the
// batch track.js would send from each page's configuration, and posts it to
// a real collector: every event must be accepted.
func TestTrackedEventsAccepted(t *testing.T) {
	f := newFixture(t, fixtureOptions{writeKey: testWriteKey, consent: true})
	pub, dead := &memPublisher{}, &memDeadLetters{}
	coll := collector.New(collector.Deps{Publisher: pub, DeadLetters: dead, WriteKeys: []string{testWriteKey}})
	mux := http.NewServeMux()
	for _, rt := range coll.Routes() {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	c := f.newClient()
	_, body, _ := f.get(c, "/ar/")
	f.post(c, "/ar/market", map[string][]string{"csrf": {f.csrf(body)}, "market": {"KW"}})
	f.addToCart(c, "ar", "glow-serum", "2")
	want := map[string]bool{}
	for _, path := range []string{"/ar/", "/ar/p/glow-serum", "/ar/c/skincare", "/ar/search?q=%D8%B3%D9%8A%D8%B1%D9%88%D9%85", "/ar/cart", "/ar/checkout"} {
		_, body, _ := f.get(c, path)
		m := trackBlock.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("%s: no tracking configuration", path)
		}
		var cfg jsConfig
		if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
			t.Fatalf("%s: tracking configuration: %v", path, err)
		}
		if cfg.WriteKey != testWriteKey || cfg.URL != "/v1/batch" || cfg.Market != "KW" || !cfg.Consent || len(cfg.Events) == 0 && cfg.Page == nil ||
			!validToken(cfg.AnonymousID) {
			t.Fatalf("%s: configuration %+v", path, cfg)
		}
		aid := cfg.AnonymousID
		var batch jsBatch
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		add := func(event string, props json.RawMessage) {
			msg := jsMessage{Type: "track", Event: event, Properties: props, MessageID: rid(), AnonymousID: aid, Timestamp: now}
			msg.Context.Market, msg.Context.Locale, msg.Context.Page.Path = cfg.Market, cfg.Lang, path
			batch.Batch = append(batch.Batch, msg)
			want[event] = true
		}
		if cfg.Page != nil {
			add("", cfg.Page.Properties)
			last := &batch.Batch[len(batch.Batch)-1]
			last.Type, last.Name = "page", cfg.Page.Name
			want["page "+cfg.Page.Name] = true
		}
		for _, e := range cfg.Events {
			add(e.Event, e.Properties)
		}
		batch.SentAt, batch.WriteKey = now, cfg.WriteKey
		raw, _ := json.Marshal(batch)
		req := httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8") // what sendBeacon sends for a text/plain Blob
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var res struct {
			Accepted int `json:"accepted"`
			Rejected []struct {
				Reason string `json:"reason"`
			} `json:"rejected"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &res)
		if rec.Code != http.StatusOK || res.Accepted != len(batch.Batch) || len(res.Rejected) != 0 {
			t.Errorf("%s: collector answered %d, accepted %d of %d: %s", path, rec.Code, res.Accepted, len(batch.Batch), rec.Body.String())
		}
	}
	for _, e := range []string{"page Home", "Product Viewed", "Product Added", "Product List Viewed", "Products Searched", "Cart Viewed", "Checkout Started"} {
		if !want[e] {
			t.Errorf("no page sends %q", e)
		}
	}
	if len(dead.reasons) != 0 {
		t.Errorf("dead letters: %v", dead.reasons)
	}
	var viewed map[string]any
	for _, ev := range pub.events {
		if ev.Event == "Product Viewed" {
			_ = json.Unmarshal(ev.Properties, &viewed)
		}
	}
	if viewed["product_id"] != string(f.ids["glow-serum"]) || viewed["sku"] != "GLW-01" || viewed["name"] != "Glow Serum" ||
		viewed["brand"] != "Glowlab" || viewed["category"] != "skincare" || viewed["price"] != 2.75 || viewed["currency"] != "KWD" {
		t.Errorf("Product Viewed properties: got %v", viewed)
	}

	// track.js builds the same message.
	js, err := os.ReadFile("static/track.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"type: 'track'", "messageId", "anonymousId", "timestamp", "context", "market: cfg.market", "batch:", "sentAt", "writeKey: cfg.writeKey",
		"sendBeacon", "keepalive: true", "navigator.doNotTrack === '1'", "cfg.consent", "type: 'page'", "cfg.anonymousId", "souq-track"} {
		if !strings.Contains(string(js), name) {
			t.Errorf("track.js does not contain %q", name)
		}
	}
}

// TestTrackingOff: no write key, no script; no consent, no events sent.
func TestTrackingOff(t *testing.T) {
	f := newFixture(t)
	_, body, _ := f.get(f.client, "/en/p/glow-serum")
	if strings.Contains(body, "track.") || strings.Contains(body, "souq-track") || strings.Contains(body, "consent-form") {
		t.Errorf("tracking on a site without a write key")
	}
	f = newFixture(t, fixtureOptions{writeKey: testWriteKey})
	c := f.newClient()
	_, body, _ = f.get(c, "/en/p/glow-serum")
	mustContain(t, "no consent yet", body, `"consent":false`, "Anonymous analytics are off.", `<script src="/assets/track.`)
	status, _, _ := f.post(c, "/en/consent", map[string][]string{"csrf": {f.csrf(body)}, "consent": {"yes"}, "back": {"/en/p/glow-serum"}})
	if status != http.StatusSeeOther {
		t.Fatalf("consent: got %d", status)
	}
	_, body, _ = f.get(c, "/en/p/glow-serum")
	mustContain(t, "consent given", body, `"consent":true`, "Anonymous analytics are on.")
	_, body, _ = f.get(c, "/en/p/glow-serum", "DNT", "1")
	mustContain(t, "Do Not Track", body, `"consent":false`)
}
