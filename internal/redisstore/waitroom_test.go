package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/waitroom"
	"github.com/souq-commerce/souq/internal/waitroom/waitroomtest"
)

func TestWaitingRoom(t *testing.T) {
	s := openTest(t, Options{})
	waitroomtest.Run(t, func(t *testing.T) waitroom.State {
		prefix := "wr-" + randomPrefix()
		t.Cleanup(func() { deleteKeys(t, s, "{"+prefix+":*") })
		return NewWaitingRoom(s, prefix)
	})
}

// roomShop is a protected sale running now, for rooms in tests.
type roomShop struct{ sale souq.Sale }

func (s roomShop) CurrentSale(context.Context) (souq.Sale, bool, error) { return s.sale, true, nil }
func (s roomShop) Now() time.Time                                       { return s.sale.StartsAt.Add(time.Minute) }
func (s roomShop) Stocks(context.Context, []souq.ID) (map[souq.ID]int, error) {
	return map[souq.ID]int{"prd_1": 1000}, nil
}

// TestWaitingRoomReplicas: three api replicas' rooms share one queue in
// Redis: places are given in arrival order whichever replica a shopper
// reaches, each replica's admissions move the one head, and an admission
// used through one replica is refused by another.
func TestWaitingRoomReplicas(t *testing.T) {
	s := openTest(t, Options{})
	prefix := "wr-" + randomPrefix()
	t.Cleanup(func() { deleteKeys(t, s, "{"+prefix+":*") })
	start := time.Now().Truncate(time.Second)
	shop := roomShop{souq.Sale{ID: souq.ID("sale_" + randomPrefix()), Protected: true, StartsAt: start, EndsAt: start.Add(time.Hour),
		Prices: map[souq.ID]map[souq.MarketCode]int64{"prd_1": {souq.AE: 100}}}}
	keys, err := waitroom.NewKeys([]byte("the replicas' shared waiting room secret"))
	if err != nil {
		t.Fatal(err)
	}
	var rooms []*waitroom.Room
	for range 3 {
		r, err := waitroom.New(waitroom.Config{Sales: shop, Stocks: shop.Stocks, State: NewWaitingRoom(s, prefix), Keys: keys,
			Controller: waitroom.ControllerConfig{Initial: 2, Max: 2}})
		if err != nil {
			t.Fatal(err)
		}
		rooms = append(rooms, r)
	}
	ctx := t.Context()
	for i := range 9 {
		st, err := rooms[i%3].Visit(ctx, fmt.Sprint("visitor-", i), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if st.Position != int64(i+1) {
			t.Fatalf("visitor %d through replica %d: position %d, want %d", i, i%3, st.Position, i+1)
		}
	}
	for _, r := range rooms { // each admits 2
		if _, err := r.Tick(ctx, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	var tokens []string
	for i := range 9 {
		st, err := rooms[(i+1)%3].Visit(ctx, fmt.Sprint("visitor-", i), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if admitted := st.State == waitroom.StateAdmitted; admitted != (i < 6) {
			t.Errorf("visitor %d: %s, want admitted only for the first 6 (3 replicas × 2)", i, st.State)
		}
		tokens = append(tokens, st.Token)
	}
	done, err := rooms[0].Admit(ctx, tokens[0], "", "key-a")
	if err != nil {
		t.Fatal(err)
	}
	done(true)
	if _, err := rooms[2].Admit(ctx, tokens[0], "", "key-b"); !errors.Is(err, souq.ErrForbidden) {
		t.Errorf("an admission used on replica 0 reused on replica 2: %v, want 403", err)
	}
}

// TestWaitingRoomConcurrentJoins: the joins of many concurrent visits go
// to Redis together, in far fewer round trips than joins, and each still
// gets a place of its own with nothing skipped; a join whose caller has
// given up is not sent.
func TestWaitingRoomConcurrentJoins(t *testing.T) {
	s := openTest(t, Options{})
	prefix := "wr-" + randomPrefix()
	t.Cleanup(func() { deleteKeys(t, s, "{"+prefix+":*") })
	w := NewWaitingRoom(s, prefix)
	ctx := t.Context()
	start := time.Now().Add(-time.Minute)
	const n = 2000
	rt0 := s.RoundTrips().Limit
	positions := make([]int64, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p, _, err := w.Join(ctx, "sale_1", fmt.Sprint("visitor-", i), 0, time.Now(), start, time.Minute)
			positions[i] = p.Position
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seventh := positions[7]
	slices.Sort(positions)
	for i, p := range positions {
		if p != int64(i+1) {
			t.Fatalf("positions given to %d concurrent joins: %v…, want 1…%d each once", n, positions[:min(10, len(positions))], n)
		}
	}
	trips := s.RoundTrips().Limit - rt0
	t.Logf("%d concurrent joins in %d round trips", n, trips)
	if trips >= n/4 {
		t.Errorf("%d concurrent joins took %d round trips to Redis, want them sent together (under %d)", n, trips, n/4)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := w.Join(cancelled, "sale_1", "visitor-gone", 0, time.Now(), start, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("a join whose context ended: %v, want %v", err, context.Canceled)
	}
	// A join that comes back with a place already given keeps it.
	p, q, err := w.Join(ctx, "sale_1", "visitor-7", 0, time.Now(), start, time.Minute)
	if err != nil || p.Position != seventh || q.Tail != n {
		t.Errorf("a second join of visitor-7: %+v, %+v, %v; want its place %d kept and the tail at %d", p, q, err, seventh, n)
	}
}
