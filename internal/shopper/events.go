package shopper

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Segment e-commerce events the simulator sends, each with a schema in
// internal/collector/schemas. "Order Completed" is not among them: the
// server records it from the checkout transaction, and the collector
// rejects a client copy.
const (
	eventProductsSearched  = "Products Searched"
	eventProductListViewed = "Product List Viewed"
	eventProductViewed     = "Product Viewed"
	eventProductAdded      = "Product Added"
	eventCartViewed        = "Cart Viewed"
	eventCheckoutStarted   = "Checkout Started"
)

// EventNames lists the track events a session may send.
func EventNames() []string {
	return []string{eventProductsSearched, eventProductListViewed, eventProductViewed,
		eventProductAdded, eventCartViewed, eventCheckoutStarted}
}

// message is one Segment track call.
type message struct {
	Type        string        `json:"type"`
	Event       string        `json:"event"`
	MessageID   string        `json:"messageId"`
	AnonymousID string        `json:"anonymousId"`
	Timestamp   string        `json:"timestamp"`
	Properties  any           `json:"properties"`
	Context     *eventContext `json:"context"`
}

// eventContext is what an analytics SDK in the shopper's browser would
// report; the aggregates read market and city.
type eventContext struct {
	Market    souq.MarketCode `json:"market"`
	City      string          `json:"city"`
	Locale    string          `json:"locale"`
	Timezone  string          `json:"timezone"`
	UserAgent string          `json:"userAgent"`
	Library   library         `json:"library"`
}

type library struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// eventProduct is a product in an event: the Segment product fields, money
// in major units.
type eventProduct struct {
	ProductID string  `json:"product_id"`
	SKU       string  `json:"sku,omitempty"`
	Name      string  `json:"name,omitempty"`
	Brand     string  `json:"brand,omitempty"`
	Category  string  `json:"category,omitempty"`
	Price     float64 `json:"price"`
	Quantity  int     `json:"quantity,omitempty"`
	Position  int     `json:"position,omitempty"`
}

type (
	searchedProps struct {
		Query       string `json:"query"`
		ResultCount int    `json:"result_count"`
	}
	listProps struct {
		ListID   string         `json:"list_id"`
		Category string         `json:"category,omitempty"`
		Products []eventProduct `json:"products"`
	}
	viewedProps struct {
		eventProduct
		Currency souq.Currency `json:"currency"`
		Value    float64       `json:"value"`
	}
	addedProps struct {
		eventProduct
		CartID   souq.ID       `json:"cart_id"`
		Currency souq.Currency `json:"currency"`
	}
	cartProps struct {
		CartID   souq.ID        `json:"cart_id"`
		Currency souq.Currency  `json:"currency"`
		Value    float64        `json:"value"`
		Products []eventProduct `json:"products"`
	}
	checkoutProps struct {
		Currency souq.Currency  `json:"currency"`
		Value    float64        `json:"value"`
		Revenue  float64        `json:"revenue"`
		Tax      float64        `json:"tax"`
		Products []eventProduct `json:"products"`
	}
)

// toEventProduct describes a product as the shopper saw it, named in the
// shopper's language.
func (sess *Session) toEventProduct(p productJSON) eventProduct {
	return eventProduct{ProductID: string(p.ID), SKU: p.SKU, Name: p.Name.In(sess.Lang), Brand: p.Brand,
		Category: p.Category, Price: p.Price.major()}
}

// track queues an event for the next batch; without a write key it does
// nothing.
func (sess *Session) track(event string, props any) {
	if sess.sim.cfg.WriteKey == "" {
		return
	}
	sess.pending = append(sess.pending, message{
		Type: "track", Event: event, MessageID: newMessageID(), AnonymousID: sess.AnonymousID,
		Timestamp: sess.sim.now().UTC().Format(time.RFC3339Nano), Properties: props, Context: sess.context,
	})
}

// batchAnswer is the collector's 200 answer.
type batchAnswer struct {
	Accepted int `json:"accepted"`
	Rejected []struct {
		Reason string `json:"reason"`
	} `json:"rejected"`
}

// flush sends the queued events in one POST /v1/batch, as analytics SDKs
// do, authenticated with the write key as the Basic username and an empty
// password. Failures are counted and logged, never returned: a shopper's
// visit does not depend on its analytics.
func (sess *Session) flush(ctx context.Context) {
	if len(sess.pending) == 0 {
		return
	}
	s := sess.sim
	batch := sess.pending
	sess.pending = nil
	h := http.Header{}
	h.Set("Authorization", "Basic "+basicKey(s.cfg.WriteKey))
	body := struct {
		Batch  []message `json:"batch"`
		SentAt string    `json:"sentAt"`
	}{batch, s.now().UTC().Format(time.RFC3339Nano)}
	var ans batchAnswer
	err := s.call(ctx, "POST /v1/batch", http.MethodPost, "/v1/batch", body, h, &ans)
	var ae *apiError
	switch {
	case err == nil:
		s.stats.events.Add(int64(ans.Accepted))
		if n := len(ans.Rejected); n > 0 {
			s.stats.eventsRejected.Add(int64(n))
			s.log.Debug("collector rejected events", "rejected", n, "first_reason", ans.Rejected[0].Reason)
		}
	case ctx.Err() != nil:
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		s.stats.errors.Add(1)
		sess.res.Errors++
		s.warnOnce(&s.warnedKey, "the collector refused the write key; behaviour events are not recorded", "detail", ae.Detail)
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
		// Every message was rejected (the reasons are in the problem).
		s.stats.eventsRejected.Add(int64(len(batch)))
		s.log.Debug("collector rejected a batch", "events", len(batch), "detail", ae.Detail)
	default:
		s.failed(err)
		sess.res.Errors++
	}
}

// basicKey is the Basic credentials "key:" in base64: the write key as the
// username with an empty password, as Segment's SDKs send it.
func basicKey(key string) string {
	return base64.StdEncoding.EncodeToString([]byte(key + ":"))
}

// newMessageID returns a random message id: 128 bits in hex. It must be
// unique across runs (the stream drops a message whose id it has seen),
// so it comes from crypto/rand, never from the seeded generator.
func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "sim-" + hex.EncodeToString(b[:])
}

// newAnonymousID returns a random UUID (version 4), the form analytics.js
// uses for anonymousId.
func newAnonymousID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return strings.Join([]string{h[0:8], h[8:12], h[12:16], h[16:20], h[20:32]}, "-")
}

// newIdempotencyKey returns a random Idempotency-Key for one order: keys
// live for a day on the server, so they must not repeat across runs.
func newIdempotencyKey() string { return rand.Text() }
