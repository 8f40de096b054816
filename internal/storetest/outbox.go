package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

func testOutbox(t *testing.T, s Store) {
	checkDiff(t, "pending outbox of a new store", pending(t, s), []souq.OutboxEvent(nil))

	p := newProduct("prd_a", "SKN-001")
	createProducts(t, s, p)
	// Orders placed out of time order; the outbox is read oldest first.
	var events []souq.OutboxEvent
	for i, d := range []time.Duration{3 * time.Minute, time.Minute, 2 * time.Minute, 4 * time.Minute} {
		o := newOrder(fmt.Sprintf("ord_%d", i), d, orderLine(p, 1))
		ev := orderEvent(t, o)
		must(t, "CreateOrder", s.CreateOrder(t.Context(), o, ev, nil))
		events = append(events, ev)
	}
	oldestFirst := []souq.OutboxEvent{events[1], events[2], events[0], events[3]}
	checkDiff(t, "pending outbox", pending(t, s), oldestFirst)

	got, err := s.PendingOutbox(t.Context(), 2)
	must(t, "PendingOutbox(2)", err)
	checkDiff(t, "PendingOutbox(2)", got, oldestFirst[:2])

	must(t, "MarkOutboxPublished", s.MarkOutboxPublished(t.Context(), []souq.ID{got[0].ID, got[1].ID}, at(time.Hour)))
	checkDiff(t, "pending outbox after publishing two", pending(t, s), oldestFirst[2:])

	// Repeating a mark, or naming unknown events, is harmless.
	must(t, "MarkOutboxPublished again", s.MarkOutboxPublished(t.Context(), []souq.ID{got[0].ID, "evt_unknown"}, at(2*time.Hour)))
	must(t, "MarkOutboxPublished(none)", s.MarkOutboxPublished(t.Context(), nil, at(2*time.Hour)))
	checkDiff(t, "pending outbox after repeated marks", pending(t, s), oldestFirst[2:])

	must(t, "MarkOutboxPublished(rest)", s.MarkOutboxPublished(t.Context(), []souq.ID{events[0].ID, events[3].ID}, at(3*time.Hour)))
	checkDiff(t, "pending outbox after publishing all", pending(t, s), []souq.OutboxEvent(nil))
}
