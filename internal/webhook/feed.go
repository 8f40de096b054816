package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Source is the event stream as a Feed reads it: a durable consumer that
// delivers each event at least once (cmd/souq adapts the NATS stream's).
type Source interface {
	// Next returns the next events, waiting a little for some (none is
	// not an error), and ack, which acknowledges them.
	Next(ctx context.Context) (evs []souq.Event, ack func(context.Context) error, err error)
}

// Stocks reads products' stock levels (the catalog's store).
type Stocks interface {
	Stocks(ctx context.Context, ids []souq.ID) (map[souq.ID]int, error)
}

// DefaultStockLow is the stock level at or under which stock.low is sent.
const DefaultStockLow = 5

// Feed turns the order events of the stream into deliveries: "Order
// Completed" into order.created, "Order Cancelled" into order.cancelled,
// and, when an order leaves one of its products at or under the
// threshold, stock.low (once per crossing: the mark is cleared when an
// order event finds the product above the threshold again). The
// deliveries are stored before the messages are acknowledged, and a
// message delivered twice makes no second delivery.
type Feed struct {
	source    Source
	store     Store
	stocks    Stocks
	threshold int
	log       *slog.Logger
}

// NewFeed returns a feed reading source into store; threshold is the
// stock.low level.
func NewFeed(source Source, store Store, stocks Stocks, threshold int, log *slog.Logger) *Feed {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feed{source: source, store: store, stocks: stocks, threshold: threshold, log: log.With("component", "webhook-feed")}
}

// Run reads the stream until ctx ends, in the caller's goroutine. A batch
// whose deliveries could not be stored is not acknowledged: the stream
// delivers it again.
func (f *Feed) Run(ctx context.Context) error {
	wait := time.Duration(0)
	for ctx.Err() == nil {
		evs, ack, err := f.source.Next(ctx)
		if err == nil {
			err = f.Handle(ctx, evs)
		}
		if err == nil && ack != nil {
			err = ack(ctx)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			f.log.Warn("webhook feed", "err", err)
			wait = min(max(2*wait, 100*time.Millisecond), 5*time.Second)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		wait = 0
	}
	return nil
}

// body is a delivery's JSON request body.
type body struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// StockLowData is the data of a stock.low event.
type StockLowData struct {
	ProductID string `json:"product_id"`
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Stock     int    `json:"stock"`
	Threshold int    `json:"threshold"`
	OrderID   string `json:"order_id"` // the order whose event found the stock low
}

// Handle stores the deliveries evs call for; it returns nil once every
// one is stored. Events of no interest (behaviour events, refunds) call
// for none, and with no endpoint registered nothing is written. The order
// deliveries of the whole batch are written in one transaction; stock is
// read once for the batch.
func (f *Feed) Handle(ctx context.Context, evs []souq.Event) error {
	var orders []souq.Event
	for _, ev := range evs {
		if ev.Type == "track" && (ev.Event == souq.EventOrderCompleted || ev.Event == souq.EventOrderCancelled) {
			orders = append(orders, ev)
		}
	}
	if len(orders) == 0 {
		return nil
	}
	endpoints, err := f.store.WebhookEndpoints(ctx)
	if err != nil || len(endpoints) == 0 {
		return err
	}
	var (
		ds    []Delivery
		lines []orderLine // the products of the orders, for stock.low
	)
	for _, ev := range orders {
		var props souq.OrderEventProperties
		if err := json.Unmarshal(ev.Properties, &props); err != nil {
			f.log.Warn("order event without readable properties: no webhook", "event", ev.MessageID, "err", err)
			continue
		}
		typ := TypeOrderCreated
		if ev.Event == souq.EventOrderCancelled {
			typ = TypeOrderCancelled
		}
		evDs, err := deliveries(ev.MessageID, typ, ev.Timestamp, ev.Properties, endpoints)
		if err != nil {
			return err
		}
		ds = append(ds, evDs...)
		for _, p := range props.Products {
			lines = append(lines, orderLine{p, props.OrderID, ev.Timestamp})
		}
	}
	if len(ds) > 0 {
		if _, err := f.store.EnqueueWebhookDeliveries(ctx, ds); err != nil {
			return fmt.Errorf("store %d order deliveries: %w", len(ds), err)
		}
	}
	return f.stockLow(ctx, lines, endpoints)
}

// orderLine is a product of an order event, with the order and when the
// event happened.
type orderLine struct {
	souq.OrderEventProduct
	order string
	at    time.Time
}

// stockLow reads the stock of the orders' products and marks those at or
// under the threshold, with a stock.low delivery for each endpoint that
// wants it, the first time; those above it are rearmed. Nothing is marked
// while no endpoint wants stock.low, so that an endpoint registered later
// hears of the next order that finds the product low.
func (f *Feed) stockLow(ctx context.Context, lines []orderLine, endpoints []Endpoint) error {
	if f.stocks == nil || len(lines) == 0 || !slices.ContainsFunc(endpoints, func(e Endpoint) bool { return e.Wants(TypeStockLow) }) {
		return nil
	}
	ids := make([]souq.ID, 0, len(lines))
	for _, l := range lines {
		if !slices.Contains(ids, souq.ID(l.ProductID)) {
			ids = append(ids, souq.ID(l.ProductID))
		}
	}
	levels, err := f.stocks.Stocks(ctx, ids)
	if err != nil {
		return fmt.Errorf("read stock for stock.low: %w", err)
	}
	var above []souq.ID
	done := map[souq.ID]bool{}
	for _, l := range lines {
		id := souq.ID(l.ProductID)
		level, ok := levels[id]
		if !ok || done[id] {
			continue // deleted since, or seen in this batch
		}
		done[id] = true
		if level > f.threshold {
			above = append(above, id)
			continue
		}
		data, err := json.Marshal(StockLowData{ProductID: l.ProductID, SKU: l.SKU, Name: l.Name, Stock: level, Threshold: f.threshold, OrderID: l.order})
		if err != nil {
			return err
		}
		ds, err := deliveries(string(souq.NewID(souq.EventPrefix)), TypeStockLow, l.at, data, endpoints)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			continue // the endpoints that want it came after the order
		}
		if _, err := f.store.EnqueueStockLow(ctx, id, l.at, ds); err != nil {
			return fmt.Errorf("store stock.low of %s: %w", id, err)
		}
	}
	if len(above) > 0 {
		if err := f.store.RearmStockLow(ctx, above); err != nil {
			return fmt.Errorf("rearm stock.low: %w", err)
		}
	}
	return nil
}

// deliveries makes the deliveries of one event for the endpoints that
// want its type and were registered when it happened.
func deliveries(eventID, typ string, at time.Time, data json.RawMessage, endpoints []Endpoint) ([]Delivery, error) {
	at = at.UTC().Truncate(time.Microsecond)
	payload, err := json.Marshal(body{ID: eventID, Type: typ, CreatedAt: at, Data: data})
	if err != nil {
		return nil, err
	}
	var ds []Delivery
	for _, e := range endpoints {
		if !e.Wants(typ) || e.CreatedAt.After(at) {
			continue
		}
		ds = append(ds, Delivery{ID: souq.NewID(DeliveryPrefix), EndpointID: e.ID, EventID: eventID, EventType: typ,
			Payload: payload, CreatedAt: at, Status: StatusPending, NextAttemptAt: at})
	}
	return ds, nil
}
