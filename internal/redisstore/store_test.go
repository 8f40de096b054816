package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/hotstoretest"
	"github.com/souq-commerce/souq/internal/souq"
)

// urlVar names the environment variable that points the tests at a Redis
// server they may write to (under random key prefixes, deleted after).
const urlVar = "SOUQ_TEST_REDIS_URL"

// testURL returns the test server's URL, or skips t.
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(urlVar)
	if u == "" {
		t.Skipf("%s is not set (e.g. %s=redis://127.0.0.1:6379/0): skipping tests against Redis", urlVar, urlVar)
	}
	return u
}

// randomPrefix returns a key prefix no other test uses.
func randomPrefix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "souqtest:" + hex.EncodeToString(b)
}

// openTest opens a Store on the test server under opts.Prefix (a fresh
// random one when empty) and deletes every key starting with the prefix
// when t ends, failing t if any is left.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	u := testURL(t)
	if opts.Prefix == "" {
		opts.Prefix = randomPrefix()
	}
	s, err := Open(t.Context(), u, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	t.Cleanup(func() {
		deleteKeys(t, s, "{"+opts.Prefix+"}:*")
		s.Close()
	})
	return s
}

// deleteKeys deletes every key matching pattern (Store.DeleteKeys) and
// checks that none is left.
func deleteKeys(t testing.TB, s *Store, pattern string) {
	t.Helper()
	if err := s.DeleteKeys(context.Background(), pattern); err != nil { // t.Context() is done during cleanup
		t.Errorf("delete test keys: %v", err)
	}
	if left := scanKeys(t, s.client, pattern); len(left) > 0 {
		t.Errorf("after deleting test keys %s: %d left", pattern, len(left))
	}
}

// scanKeys returns every key matching pattern.
func scanKeys(t testing.TB, c *redis.Client, pattern string) []string {
	t.Helper()
	var all []string
	iter := c.Scan(context.Background(), 0, pattern, 1000).Iterator()
	for iter.Next(context.Background()) {
		all = append(all, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scan %s: %v", pattern, err)
	}
	return all
}

func TestHotStore(t *testing.T) {
	testURL(t)
	hotstoretest.Run(t, func(t *testing.T) analytics.HotStore { return openTest(t, Options{}) })
}

// viewBatch returns a batch of one view of product p at at, as the
// contract suite builds them.
func viewBatch(id string, seq uint64, at time.Time, p string) *analytics.Batch {
	c := analytics.Counters{Views: 1}
	return &analytics.Batch{
		ID: id, Seq: seq, Minute: at.Truncate(time.Minute), Hour: at.Truncate(time.Hour), Watermark: at,
		Deltas: []analytics.Delta{
			{Dim: analytics.Total, Member: analytics.All, Counters: c},
			{Dim: analytics.Market, Member: "AE", Counters: c},
			{Dim: analytics.Product, Member: p, Counters: c},
		},
	}
}

// TestRoundTrips checks the round trips promised: CommitMany is one
// whatever the number of batches, Read at most two whatever the number of
// buckets and members, Progress one.
func TestRoundTrips(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	const n, minutes, products = 500, 120, 50
	var bs []*analytics.Batch
	for i := range n {
		at := t0.Add(time.Duration(i%minutes) * time.Minute).Add(time.Duration(i) * time.Millisecond)
		bs = append(bs, viewBatch(fmt.Sprintf("e%d", i), uint64(i+1), at, fmt.Sprintf("prd_%02d", i%products)))
	}
	// check runs do and checks it made want round trips, all of them
	// counted as commits or as reads.
	check := func(what string, commit bool, want uint64, do func() error) {
		t.Helper()
		before := s.RoundTrips()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		after := s.RoundTrips()
		wantRT := before
		if commit {
			wantRT.Commit += want
		} else {
			wantRT.Read += want
		}
		if after != wantRT {
			t.Errorf("%s: got %d round trips (%+v), want %d (%+v)", what, after.Total()-before.Total(), after, want, wantRT)
		}
	}
	check("CommitMany of 500 batches", true, 1, func() error {
		applied, err := s.CommitMany(ctx, bs)
		for i, ok := range applied {
			if !ok {
				t.Errorf("batch %d: not applied", i)
			}
		}
		return err
	})
	var views int64
	cells := 0
	sum := func(_ time.Time, _ string, c *analytics.Counters) { views += c.Views; cells++ }
	check("Read of 120 minutes × 50 products", false, 2, func() error {
		return s.Read(ctx, analytics.Range{Res: analytics.Minute, Dim: analytics.Product}, sum)
	})
	if views != n || cells != n {
		t.Errorf("Read: got %d views in %d cells, want %d in %d", views, cells, n, n)
	}
	views, cells = 0, 0
	check("Read of one member over 120 minutes", false, 2, func() error {
		return s.Read(ctx, analytics.Range{Res: analytics.Minute, Dim: analytics.Product, Member: "prd_07"}, sum)
	})
	if views != n/products || cells != n/products {
		t.Errorf("Read of prd_07: got %d views in %d cells, want %d in %d", views, cells, n/products, n/products)
	}
	check("Read of an empty range", false, 1, func() error {
		return s.Read(ctx, analytics.Range{Res: analytics.Hour, Dim: analytics.Total, From: t0.Add(24 * time.Hour)}, sum)
	})
	check("Progress", false, 1, func() error { _, err := s.Progress(ctx); return err })
}

// TestNoScript commits with a script the server has never seen, as after
// a restart or failover: the store loads it and retries only the batches
// refused.
func TestNoScript(t *testing.T) {
	s := openTest(t, Options{})
	// A script unique to this run, not loaded by Open.
	s.commit = redis.NewScript(commitSource("noscript test " + randomPrefix()))
	bs := []*analytics.Batch{viewBatch("a", 1, t0, "p"), viewBatch("b", 2, t0, "p"), viewBatch("a", 3, t0, "p")}
	before := s.RoundTrips().Total()
	applied, err := s.CommitMany(t.Context(), bs)
	if err != nil {
		t.Fatalf("CommitMany: %v", err)
	}
	if got, want := fmt.Sprint(applied), "[true true false]"; got != want {
		t.Errorf("applied: got %s, want %s", got, want)
	}
	if got := s.RoundTrips().Total() - before; got != 3 {
		t.Errorf("first CommitMany: got %d round trips, want 3 (EVALSHA, SCRIPT LOAD, EVALSHA)", got)
	}
	before = s.RoundTrips().Total()
	if _, err := s.Commit(t.Context(), viewBatch("c", 4, t0, "p")); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got := s.RoundTrips().Total() - before; got != 1 {
		t.Errorf("Commit once loaded: got %d round trips, want 1", got)
	}
	p, err := s.Progress(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if p.Applied != 3 || p.Duplicates != 1 {
		t.Errorf("progress: got applied %d, duplicates %d; want 3, 1", p.Applied, p.Duplicates)
	}
}

// TestExpiry checks that every key a Commit writes has a TTL, no longer
// than its retention and the margin.
func TestExpiry(t *testing.T) {
	s := openTest(t, Options{MinuteRetention: 2 * time.Hour, HourRetention: 48 * time.Hour})
	ctx := t.Context()
	late := viewBatch("late", 2, t0.Add(5*time.Minute), "prd_b")
	late.Minute = time.Time{}
	e1 := viewBatch("e1", 1, t0, "prd_a")
	e1.Visitor = "v1"
	e1.Visits = []analytics.Visit{{Dim: analytics.Total, Member: analytics.All}, {Dim: analytics.Market, Member: "AE"}}
	for _, b := range []*analytics.Batch{e1, late} {
		if _, err := s.Commit(ctx, b); err != nil {
			t.Fatalf("Commit(%s): %v", b.ID, err)
		}
	}
	keys := scanKeys(t, s.client, s.keys.base+":*")
	// progress, 2 indexes, minute versions, minute ids, hour ids, 3 minute
	// hashes, 3 hour hashes, 2 minute sketches, 2 hour sketches
	if len(keys) != 16 {
		t.Errorf("got %d keys, want 16: %v", len(keys), keys)
	}
	for _, k := range keys {
		ttl, err := s.client.TTL(ctx, k).Result()
		if err != nil {
			t.Fatalf("TTL %s: %v", k, err)
		}
		limit := 48*time.Hour + expiryMargin
		if strings.Contains(k, ":m:") || strings.HasSuffix(k, ":buckets:m") || strings.HasSuffix(k, ":versions:m") {
			limit = 2*time.Hour + expiryMargin
		}
		if ttl <= 0 || ttl > limit {
			t.Errorf("TTL of %s: got %v, want in (0, %v]", k, ttl, limit)
		}
	}
}

// TestUnreachable checks that a server that cannot be reached, or that
// accepts connections and never answers, gives ErrUnavailable errors
// within the timeouts, from Open and from every method.
func TestUnreachable(t *testing.T) {
	closed := func() string { // a port nothing listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	opts := Options{DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond}
	const quick = 5 * time.Second // generous: the point is "not hanging"
	for name, addr := range map[string]string{"refused": closed, "silent": silent.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url := "redis://" + addr + "/0"
			start := time.Now()
			s, err := Open(t.Context(), url, opts)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s): got no error", url)
			}
			if !errors.Is(err, souq.ErrUnavailable) || time.Since(start) > quick {
				t.Errorf("Open(%s): got %v after %v; want ErrUnavailable within %v", url, err, time.Since(start), quick)
			}

			// Without the client's retries, to keep the test short: Open
			// above had them.
			ro, _ := redis.ParseURL(url + "?max_retries=-1")
			setTimeouts(ro, opts)
			s, err = newStore(redis.NewClient(ro), opts)
			if err != nil {
				t.Fatal(err)
			}
			b := viewBatch("e1", 1, t0, "p")
			calls := map[string]func(ctx context.Context) error{
				"Commit":     func(ctx context.Context) error { _, err := s.Commit(ctx, b); return err },
				"CommitMany": func(ctx context.Context) error { _, err := s.CommitMany(ctx, []*analytics.Batch{b, b}); return err },
				"Read": func(ctx context.Context) error {
					return s.Read(ctx, analytics.Range{Res: analytics.Minute, Dim: analytics.Total}, func(time.Time, string, *analytics.Counters) {})
				},
				"Progress": func(ctx context.Context) error { _, err := s.Progress(ctx); return err },
				"Ping":     func(ctx context.Context) error { return s.Ping(ctx) },
			}
			for name, call := range calls {
				start := time.Now()
				err := call(t.Context())
				if !errors.Is(err, souq.ErrUnavailable) || time.Since(start) > quick {
					t.Errorf("%s on %s: got %v after %v; want ErrUnavailable within %v", name, addr, err, time.Since(start), quick)
				}
			}
			s.Close()
		})
	}
}

func TestOpenOptions(t *testing.T) {
	for _, tt := range []struct {
		url  string
		opts Options
	}{
		{"http://127.0.0.1:6379", Options{}},
		{"redis://127.0.0.1:6379/x", Options{}},
		{"redis://127.0.0.1:6379/0", Options{Prefix: "a{b}"}},
	} {
		if s, err := Open(t.Context(), tt.url, tt.opts); err == nil {
			s.Close()
			t.Errorf("Open(%s, %+v): got no error", tt.url, tt.opts)
		}
	}
	ro, err := redis.ParseURL("rediss://user:pw@cache.example:6380/2?dial_timeout=3s")
	if err != nil {
		t.Fatal(err)
	}
	setTimeouts(ro, Options{ReadTimeout: 250 * time.Millisecond})
	if ro.TLSConfig == nil || ro.DB != 2 || ro.Username != "user" ||
		ro.DialTimeout != 3*time.Second || ro.ReadTimeout != 250*time.Millisecond || ro.WriteTimeout != DefaultWriteTimeout {
		t.Errorf("rediss URL: got tls %v, db %d, user %q, timeouts %v %v %v; want tls, 2, user, 3s 250ms %v",
			ro.TLSConfig != nil, ro.DB, ro.Username, ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout, DefaultWriteTimeout)
	}
}

// TestArgs checks the script's arguments for an hour-only batch: no
// minute, a field per non-zero counter, a member with only zero counters
// still present, a dimension the store does not know left out, and the
// visitor with its visits (a dimension without sketches left out).
func TestArgs(t *testing.T) {
	s, err := newStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), Options{Prefix: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := t0.Add(90 * time.Second)
	b := &analytics.Batch{ID: "e1", Seq: 7, Hour: t0, Watermark: at,
		Floors: analytics.Floors{Minutes: t0.Add(-time.Hour + time.Nanosecond), Hours: time.Time{}},
		Deltas: []analytics.Delta{
			{Dim: analytics.City, Member: "Umm Al Quwain: {x}", Counters: analytics.Counters{Units: 2, Revenue: analytics.Amounts{AED: 300}}},
			{Dim: analytics.Total, Member: analytics.All},
			{Dim: "colour", Member: "red", Counters: analytics.Counters{Views: 1}},
		},
		Visitor: "anon_7",
		Visits: []analytics.Visit{{Dim: analytics.Total, Member: analytics.All, Buyer: true},
			{Dim: analytics.City, Member: "Dubai"}, {Dim: analytics.Market, Member: "AE"}},
	}
	keys, argv := s.args([]*analytics.Batch{b})
	h := fmt.Sprint(t0.Unix())
	wantKeys := []string{"{p}:progress", "{p}:buckets:m", "{p}:buckets:h", "{p}:versions:m"}
	if fmt.Sprint(keys) != fmt.Sprint(wantKeys) {
		t.Errorf("keys: got %q, want %q", keys, wantKeys)
	}
	city, total := fmt.Sprint(dimIndex(analytics.City)+1), fmt.Sprint(dimIndex(analytics.Total)+1)
	wantArgv := []any{s.minuteTTL, s.hourTTL, "{p}", "1",
		idHash("e1"), "7", "", h, fmt.Sprint(at.Unix()), "0",
		fmt.Sprint(t0.Add(-time.Hour).Unix() + 1), "-62135596800", "3", "anon_7", "2",
		city, "Umm Al Quwain: {x}\x1frevenue.AED", "300", city, "Umm Al Quwain: {x}\x1funits", "2",
		total, "all\x1f" + counterNames[0], "0",
		"total:all", "1", "market:AE", "0"}
	if fmt.Sprintf("%q", argv) != fmt.Sprintf("%q", wantArgv) {
		t.Errorf("argv:\n got %q\nwant %q", argv, wantArgv)
	}
	if len(idHash("e1")) != 12 || idHash("e1") == idHash("e2") {
		t.Errorf("idHash: got %d bytes", len(idHash("e1")))
	}
	members := map[string]*analytics.Counters{}
	err = decodeBucket(map[string]string{"a:b{c}\x1fviews": "3", "a:b{c}\x1frevenue.KWD": "-4", "x\x1fnot_a_counter": "1"}, members)
	if err != nil {
		t.Fatal(err)
	}
	if c := members["a:b{c}"]; c == nil || c.Views != 3 || c.Revenue.KWD != -4 || len(members) != 2 {
		t.Errorf("decodeBucket: got %v", members)
	}
}
