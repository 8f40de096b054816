//go:build chaos

package chaos

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/audit"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/sqlite"
)

// ledger is what the clients were told: the orders answered 201 and the
// event message ids a 200 from the collector accepted, plus counts of
// everything sent. It is safe for concurrent use.
type ledger struct {
	mu     sync.Mutex
	orders map[string]map[string]int // acknowledged order id → product id → quantity
	events map[string]bool           // acknowledged event message ids
	stock  map[string]int            // initial stock of the products orders buy

	eventsSent, eventsAck, ordersSent, ordersAck, outOfStock, replays int
	unresolvedOrders, unresolvedEvents                                int
	retries                                                           int      // requests sent again after no answer or a retryable one
	rejections                                                        []string // 4xx answers to requests that should have passed
}

func newLedger() *ledger {
	return &ledger{orders: map[string]map[string]int{}, events: map[string]bool{}, stock: map[string]int{}}
}

func (l *ledger) add(f func(l *ledger)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(l)
}

func (l *ledger) rejected() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.rejections)
}

func (l *ledger) firstRejection() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.rejections) == 0 {
		return ""
	}
	return l.rejections[0]
}

// fill copies the counts into r.
func (l *ledger) fill(r *result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.eventsSent, r.eventsAck = l.eventsSent, l.eventsAck
	r.ordersSent, r.ordersAck, r.outOfStock = l.ordersSent, l.ordersAck, l.outOfStock
	r.gaveUpOrders, r.gaveUpEvents = l.unresolvedOrders, l.unresolvedEvents
}

// findings is what the ledger check found.
type findings struct {
	lost       int                 // acknowledged orders and events absent somewhere downstream
	duplicated int                 // events archived (or stored) more than once
	oversold   int                 // units sold beyond the stock
	lostWhy    map[string][]string // ids of the lost items, by why they count as lost
	dupWhat    []string
	stockWhat  []string
	gaps       []string // stream messages the archive's batches leave out, by range
	other      []string // disagreements between the audit and what the suite read
}

const maxListed = 10

// report fails t for each finding, listing the first few ids.
func (f findings) report(t *testing.T) {
	t.Helper()
	list := func(what string, items []string) {
		if len(items) == 0 {
			return
		}
		shown := items[:min(len(items), maxListed)]
		more := ""
		if len(items) > len(shown) {
			more = fmt.Sprintf("\n    … and %d more", len(items)-len(shown))
		}
		t.Errorf("ledger: %s: %d\n    %s%s", what, len(items), joinLines(shown), more)
	}
	for _, why := range slices.Sorted(maps.Keys(f.lostWhy)) {
		list("acknowledged but lost: "+why, slices.Sorted(slices.Values(f.lostWhy[why])))
	}
	list("duplicated", f.dupWhat)
	list("stock", f.stockWhat)
	list("holes in the archive (stream messages below its last committed sequence that no batch holds)", f.gaps)
	list("disagreements with the audit", f.other)
}

func joinLines(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "\n    "
		}
		out += x
	}
	return out
}

// check compares the ledger with the database, the stream and the archive
// the server left (it must be stopped when the stream is the embedded one:
// natsURL ""), and with the final audit report.
func (l *ledger) check(ctx context.Context, h *harness, natsURL string, rep audit.Report) (findings, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := findings{lostWhy: map[string][]string{}}
	lost := map[string]bool{}
	lose := func(id, why string) {
		lost[id] = true
		f.lostWhy[why] = append(f.lostWhy[why], id)
	}

	// Orders: each acknowledged order is in the database as it was placed,
	// and no product sold more than its stock.
	db, err := sqlite.Open(ctx, filepath.Join(h.data, "souq.db"), sqlite.Options{})
	if err != nil {
		return f, fmt.Errorf("open the database: %w", err)
	}
	defer db.Close()
	for id, lines := range l.orders {
		o, err := db.Order(ctx, souq.ID(id))
		if errors.Is(err, souq.ErrNotFound) {
			lose(id, "order answered 201, not in the database")
			continue
		}
		if err != nil {
			return f, err
		}
		got := map[string]int{}
		for _, ln := range o.Lines {
			got[string(ln.ProductID)] += ln.Quantity
		}
		if fmt.Sprint(got) != fmt.Sprint(lines) {
			lose(fmt.Sprintf("%s (lines %v, ordered %v)", id, got, lines), "order answered 201, in the database with other lines")
		}
	}
	all, _, err := db.ListOrders(ctx, 0, 0)
	if err != nil {
		return f, err
	}
	sold := map[string]int{}
	for _, o := range all {
		if o.Status == souq.StatusCancelled {
			continue
		}
		for _, ln := range o.Lines {
			sold[string(ln.ProductID)] += ln.Quantity
		}
	}
	for _, id := range slices.Sorted(maps.Keys(l.stock)) {
		initial := l.stock[id]
		p, err := db.Product(ctx, souq.ID(id))
		if err != nil {
			return f, err
		}
		over := max(0, sold[id]-initial) + max(0, -p.Stock)
		f.oversold += over
		if over > 0 || p.Stock+sold[id] != initial {
			f.stockWhat = append(f.stockWhat, fmt.Sprintf("%s: stock %d at the start, %d sold, %d left (%d oversold)",
				id, initial, sold[id], p.Stock, over))
		}
	}

	// The stream: every acknowledged event and every acknowledged order's
	// "Order Completed" is there, once.
	stream, err := natsstream.Open(ctx, natsstream.Options{URL: natsURL, StoreDir: filepath.Join(h.data, "stream"),
		MaxAge: 7 * 24 * time.Hour, MaxBytes: 10 << 30})
	if err != nil {
		return f, fmt.Errorf("open the stream: %w", err)
	}
	defer stream.Close()
	contents, err := audit.ReadStream(ctx, stream)
	if err != nil {
		return f, fmt.Errorf("read the stream: %w", err)
	}
	inStream, orderInStream := map[string]int{}, map[string]int{}
	bySeq := map[uint64]string{}
	for _, m := range contents.Msgs {
		if m.Err != nil {
			continue
		}
		inStream[m.Event.MessageID]++
		bySeq[m.Seq] = m.Event.MessageID
		if oid := orderOf(m.Event); oid != "" {
			orderInStream[oid]++
		}
	}

	// The archive: the same, and no message id twice.
	archDir := h.archive
	if archDir == "" {
		archDir = filepath.Join(h.data, "archive")
	}
	bucket, err := fileblob.Open(archDir)
	if err != nil {
		return f, err
	}
	records, err := archive.ReadAll(ctx, bucket, time.Time{}, time.Time{})
	if err != nil {
		return f, fmt.Errorf("read the archive: %w", err)
	}
	inArchive, orderInArchive := map[string]int{}, map[string]int{}
	for _, r := range records {
		inArchive[r.Event.MessageID]++
		if oid := orderOf(r.Event); oid != "" {
			orderInArchive[oid]++
		}
	}
	batches, err := archive.Manifests(ctx, bucket)
	if err != nil {
		return f, err
	}
	f.gaps = holes(batches, bySeq)
	for _, id := range slices.Sorted(maps.Keys(l.events)) {
		switch {
		case inStream[id] == 0:
			lose(id, "event accepted by the collector, not in the stream")
		case inArchive[id] == 0:
			lose(id, "event accepted by the collector and in the stream, not in the archive")
		}
	}
	for _, id := range slices.Sorted(maps.Keys(l.orders)) {
		switch {
		case orderInStream[id] == 0:
			lose(id, "order answered 201, its Order Completed event not in the stream")
		case orderInArchive[id] == 0:
			lose(id, "order answered 201, its Order Completed event in the stream, not in the archive")
		case orderInStream[id] > 1 || orderInArchive[id] > 1:
			f.dupWhat = append(f.dupWhat, fmt.Sprintf("%s: Order Completed %d times in the stream, %d in the archive",
				id, orderInStream[id], orderInArchive[id]))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(inArchive)) {
		if n := inArchive[id]; n > 1 {
			f.dupWhat = append(f.dupWhat, fmt.Sprintf("%s: archived %d times", id, n))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(inStream)) {
		if n := inStream[id]; n > 1 {
			f.dupWhat = append(f.dupWhat, fmt.Sprintf("%s: %d times in the stream", id, n))
		}
	}
	f.lost, f.duplicated = len(lost), len(f.dupWhat)

	// The audit read the same archive.
	arch, _ := rep.Hop(audit.HopStreamArchive)
	if got := arch.Counts["archive records"]; got != len(records) {
		f.other = append(f.other, fmt.Sprintf("the audit counted %d archive records, the suite read %d", got, len(records)))
	}
	orders, _ := rep.Hop(audit.HopOrdersOutbox)
	if got := orders.Counts["orders"]; got != len(all) {
		f.other = append(f.other, fmt.Sprintf("the audit counted %d orders, the database holds %d", got, len(all)))
	}
	return f, nil
}

// holes lists what the archive's committed batches leave out of the
// stream up to the last sequence they claim: messages inside a batch's
// range that the batch does not hold, and messages between batches.
func holes(batches []archive.Batch, inStream map[uint64]string) []string {
	var out []string
	slices.SortFunc(batches, func(a, b archive.Batch) int { return cmp.Compare(a.FirstSeq, b.FirstSeq) })
	next := uint64(1) // first sequence after the previous batch
	between := func(first, last uint64) {
		n := 0
		for seq := first; seq <= last; seq++ {
			if _, ok := inStream[seq]; ok {
				n++
			}
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("sequences %d-%d: %d stream messages in no batch", first, last, n))
		}
	}
	for _, b := range batches {
		if b.FirstSeq > next {
			between(next, b.FirstSeq-1)
		}
		held := 0
		for seq := b.FirstSeq; seq <= b.LastSeq; seq++ {
			if _, ok := inStream[seq]; ok {
				held++
			}
		}
		if b.Rows < held {
			out = append(out, fmt.Sprintf("batch %d-%d: %d rows, the stream holds %d messages in that range",
				b.FirstSeq, b.LastSeq, b.Rows, held))
		}
		next = max(next, b.LastSeq+1)
	}
	return out
}

// orderOf returns the order id of an "Order Completed" event, "" for any
// other event.
func orderOf(ev souq.Event) string {
	if ev.Type != "track" || ev.Event != souq.EventOrderCompleted {
		return ""
	}
	var p struct {
		OrderID string `json:"order_id"`
	}
	_ = json.Unmarshal(ev.Properties, &p)
	return p.OrderID
}
