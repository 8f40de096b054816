package audit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/souq"
)

// DefaultGrace is how long an event may wait at a hop (unpublished in the
// outbox, unarchived in the stream) before the audit counts it as stalled
// rather than pending.
const DefaultGrace = time.Minute

// ErrInvalidRange: a range that does not end after it starts.
var ErrInvalidRange = errors.New("audit: invalid range")

// Order is what the audit needs of an order.
type Order struct {
	ID     souq.ID
	Status souq.OrderStatus
	// CompletedAt is when the order was confirmed ("Order Completed"),
	// CancelledAt when it was cancelled ("Order Cancelled" if it had been
	// completed), RefundedAt when its payment was given back ("Order
	// Refunded"); zero for what did not happen.
	CompletedAt, CancelledAt, RefundedAt time.Time
}

// OutboxRow is one row of the transactional outbox.
type OutboxRow struct {
	ID      souq.ID // the event id, which the relay publishes as the stream's message id
	Name    string  // e.g. souq.EventOrderCompleted
	OrderID souq.ID // properties.order_id of the payload; "" when it has none
	// CreatedAt is when the row was written (the event time); PublishedAt
	// when the relay marked it published, zero while it is not.
	CreatedAt, PublishedAt time.Time
}

// Database reads the orders and the outbox. sqlite.DB implements it.
type Database interface {
	// OrdersAndOutboxBetween returns, from one consistent snapshot of the
	// database, the orders created in [from, to), the orders cancelled in
	// [from, to), and the outbox rows created in [from, to).
	OrdersAndOutboxBetween(ctx context.Context, from, to time.Time) ([]Order, []OutboxRow, error)
}

// Inputs are what Run reads.
type Inputs struct {
	Database Database
	Stream   *natsstream.Stream
	Archive  archive.Bucket
	// LiveURL is the base URL of a running `souq serve`
	// ("http://127.0.0.1:8080"); "" skips the live comparison.
	LiveURL string
	// AdminToken is sent as a bearer token to LiveURL, if set.
	AdminToken string
	// HTTPClient fetches the live snapshot; nil uses one with a 10 second
	// timeout.
	HTTPClient *http.Client
	// Grace is how long an event may wait at a hop before it is stalled
	// (souq audit uses DefaultGrace).
	Grace time.Duration
	// Analytics configures the recomputations; it should be the server's
	// (the zero value, as souq serve uses).
	Analytics analytics.Config
	// OutboxRetention is how long the server keeps published outbox rows
	// (souq serve --outbox-retention); 0 means forever. Orders and stream
	// events older than that are not reported for a missing outbox row:
	// it may have been deleted (the report warns how many).
	OutboxRetention time.Duration
	// Now is the clock the grace period is measured with; nil is time.Now.
	Now func() time.Time
}

// Run audits the range [from, to): see the package documentation for what
// each hop checks. The error is for an audit that could not be carried
// out (a source could not be read); what the audit found, differences
// included, is in the Report.
func Run(ctx context.Context, in Inputs, from, to time.Time) (Report, error) {
	from, to = from.UTC().Truncate(time.Microsecond), to.UTC().Truncate(time.Microsecond)
	if !to.After(from) {
		return Report{}, fmt.Errorf("%w: %s to %s", ErrInvalidRange, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
	}
	if in.Now == nil {
		in.Now = time.Now
	}
	if in.HTTPClient == nil {
		in.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	a := &auditor{in: in, from: from, to: to, now: in.Now()}

	var err error
	if a.orders, a.outbox, err = in.Database.OrdersAndOutboxBetween(ctx, from, to); err != nil {
		return Report{}, fmt.Errorf("audit: read orders and outbox: %w", err)
	}
	// The live snapshot is taken before the stream is read, so that the
	// stream holds every message the snapshot counts.
	live := a.fetchLive(ctx)
	if a.stream, err = ReadStream(ctx, in.Stream); err != nil {
		return Report{}, fmt.Errorf("audit: read stream: %w", err)
	}
	if a.archive, err = readArchive(ctx, in.Archive, from, to); err != nil {
		return Report{}, fmt.Errorf("audit: read archive: %w", err)
	}
	a.index()

	r := Report{From: from, To: to, At: a.now, Grace: in.Grace}
	r.Hops = append(r.Hops, a.ordersOutbox(), a.outboxStream(), a.streamArchive())
	agg, err := a.aggregates(ctx)
	if err != nil {
		return Report{}, err
	}
	r.Hops = append(r.Hops, agg)
	lh, err := a.live(ctx, live)
	if err != nil {
		return Report{}, err
	}
	r.Hops = append(r.Hops, lh)
	return r, nil
}

// auditor holds what Run read and the indexes built over it.
type auditor struct {
	in       Inputs
	from, to time.Time
	now      time.Time

	orders  []Order
	outbox  []OutboxRow
	stream  StreamContents
	archive archiveContents

	seqsByID  map[string][]uint64 // stream sequences holding each event id
	bySeq     map[uint64]*StreamMsg
	firstHeld uint64 // lowest sequence the stream still holds
	lastRead  uint64 // highest sequence read from the stream
}

func (a *auditor) inRange(t time.Time) bool { return !t.Before(a.from) && t.Before(a.to) }

// index builds the lookups over the stream.
func (a *auditor) index() {
	a.seqsByID = make(map[string][]uint64, len(a.stream.Msgs))
	a.bySeq = make(map[uint64]*StreamMsg, len(a.stream.Msgs))
	for i := range a.stream.Msgs {
		m := &a.stream.Msgs[i]
		a.bySeq[m.Seq] = m
		if m.Err == nil && m.Event.MessageID != "" {
			a.seqsByID[m.Event.MessageID] = append(a.seqsByID[m.Event.MessageID], m.Seq)
		}
	}
	a.firstHeld = a.stream.Info.FirstSeq
	if a.stream.Info.Msgs == 0 {
		a.firstHeld = a.stream.Info.LastSeq + 1
	}
	a.lastRead = a.stream.Info.LastSeq
	if n := len(a.stream.Msgs); n > 0 {
		a.lastRead = max(a.lastRead, a.stream.Msgs[n-1].Seq)
	}
}

// afterRead reports whether seq was stored after the stream was read: the
// archive, read later, may hold it, but the audit cannot check it.
func (a *auditor) afterRead(seq uint64) bool { return seq > a.lastRead }

// expired reports whether the stream has dropped messages under its
// retention limits.
func (a *auditor) expired() bool { return a.firstHeld > 1 }

// firstStored is when the oldest message the stream holds was stored (now
// when it holds none).
func (a *auditor) firstStored() time.Time {
	if len(a.stream.Msgs) == 0 {
		return a.now
	}
	return a.stream.Msgs[0].Stored
}

// waiting sorts an event that has not reached the next hop since since
// into pending or stalled.
func (a *auditor) waiting(b *hopBuilder, id string, since time.Time) {
	if a.now.Sub(since) < a.in.Grace {
		b.pending = append(b.pending, id)
	} else {
		b.stalled = append(b.stalled, id)
	}
}

// isOrderEvent reports whether name is an event the outbox writes for an
// order.
func isOrderEvent(name string) bool {
	return name == souq.EventOrderCompleted || name == souq.EventOrderCancelled || name == souq.EventOrderRefunded
}

// ordersOutbox checks that each order in the range has its outbox events,
// once, and each order event in the outbox its order.
func (a *auditor) ordersOutbox() Hop {
	b := newHop(HopOrdersOutbox)
	type want struct {
		order souq.ID
		name  string
	}
	expected := map[want]bool{}
	at := map[want]time.Time{} // when the event was written
	for _, o := range a.orders {
		if !o.CompletedAt.IsZero() && a.inRange(o.CompletedAt) {
			k := want{o.ID, souq.EventOrderCompleted}
			expected[k], at[k] = true, o.CompletedAt
			b.counts["orders"]++
		}
		// An order released unpaid never completed: no cancellation event.
		if !o.CompletedAt.IsZero() && !o.CancelledAt.IsZero() && a.inRange(o.CancelledAt) {
			k := want{o.ID, souq.EventOrderCancelled}
			expected[k], at[k] = true, o.CancelledAt
			b.counts["cancellations"]++
		}
		if !o.RefundedAt.IsZero() && a.inRange(o.RefundedAt) {
			k := want{o.ID, souq.EventOrderRefunded}
			expected[k], at[k] = true, o.RefundedAt
			b.counts["refunds"]++
		}
	}
	rows := map[want][]string{}
	for _, r := range a.outbox {
		if !isOrderEvent(r.Name) {
			b.counts["other outbox rows"]++
			continue
		}
		b.counts["order event rows"]++
		k := want{r.OrderID, r.Name}
		if !expected[k] {
			b.extra = append(b.extra, fmt.Sprintf("%s (%s of order %s)", r.ID, r.Name, orNone(r.OrderID)))
			continue
		}
		rows[k] = append(rows[k], string(r.ID))
	}
	pruned := 0
	for k := range expected {
		switch ids := rows[k]; {
		case len(ids) == 0 && a.pruned(at[k]):
			pruned++
		case len(ids) == 0:
			b.missing = append(b.missing, fmt.Sprintf("%s (%s)", k.order, k.name))
		case len(ids) > 1:
			for _, id := range ids {
				b.duplicated = append(b.duplicated, fmt.Sprintf("%s (%s of order %s)", id, k.name, k.order))
			}
		}
	}
	if pruned > 0 {
		b.warnf("%d orders are older than the outbox retention (%s); their outbox rows may have been deleted and were not checked", pruned, a.in.OutboxRetention)
	}
	return b.hop()
}

// pruned reports whether an outbox row written at t may have been deleted
// under the outbox retention by now.
func (a *auditor) pruned(t time.Time) bool {
	return a.in.OutboxRetention > 0 && t.Before(a.now.Add(-a.in.OutboxRetention))
}

func orNone(id souq.ID) string {
	if id == "" {
		return "(none)"
	}
	return string(id)
}

// outboxStream checks that each published outbox event is in the stream
// once and that nothing in the stream is held twice or is an order event
// without its outbox row.
func (a *auditor) outboxStream() Hop {
	b := newHop(HopOutboxStream)
	inOutbox := make(map[string]bool, len(a.outbox))
	expiredBefore, expired := a.firstStored(), 0
	for _, r := range a.outbox {
		id := string(r.ID)
		inOutbox[id] = true
		b.counts["outbox rows"]++
		n := len(a.seqsByID[id])
		if r.PublishedAt.IsZero() {
			b.counts["unpublished"]++
			what := fmt.Sprintf("%s (%s of order %s, unpublished since %s", id, r.Name, orNone(r.OrderID), r.CreatedAt.Format(time.RFC3339))
			if n > 0 {
				// Published but not yet marked: the relay marks or
				// republishes it on its next pass.
				what += "; in the stream, not yet marked published"
			}
			a.waiting(b, what+")", r.CreatedAt)
		} else {
			b.counts["published"]++
			if n == 0 {
				if a.expired() && r.PublishedAt.Before(expiredBefore) {
					expired++
				} else {
					b.missing = append(b.missing, id)
				}
			}
		}
	}
	if expired > 0 {
		b.warnf("%d published outbox events are older than the oldest message the stream holds (expired under its retention) and were not checked", expired)
	}
	seen, prunedRows := map[string]bool{}, 0
	for _, m := range a.stream.Msgs {
		if m.Err != nil || !a.inRange(m.Event.Timestamp) {
			continue
		}
		id := m.Event.MessageID
		b.counts["stream messages"]++
		if seqs := a.seqsByID[id]; len(seqs) > 1 && !seen[id] {
			seen[id] = true
			b.duplicated = append(b.duplicated, fmt.Sprintf("%s (stream sequences %s)", id, joinSeqs(seqs)))
		}
		if m.Event.Type == "track" && isOrderEvent(m.Event.Event) {
			b.counts["stream order events"]++
			if !inOutbox[id] && !seen[id+"\x00extra"] {
				seen[id+"\x00extra"] = true
				if a.pruned(m.Event.Timestamp) {
					prunedRows++
					continue
				}
				b.extra = append(b.extra, fmt.Sprintf("%s (%s not in the outbox)", id, m.Event.Event))
			}
		}
	}
	if prunedRows > 0 {
		b.warnf("%d order events in the stream are older than the outbox retention (%s); their outbox rows may have been deleted and were not checked", prunedRows, a.in.OutboxRetention)
	}
	return b.hop()
}

func joinSeqs(seqs []uint64) string {
	s := ""
	for i, q := range seqs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(q)
	}
	return s
}
