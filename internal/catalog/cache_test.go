package catalog

import (
	"testing"
	"time"
)

func TestStaleCache(t *testing.T) {
	c := staleCache[string, int]{ttl: time.Second, stale: time.Second, max: 10}
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	check := func(what string, at time.Duration, gen uint64, wantV int, wantOK, wantRefresh bool) {
		t.Helper()
		v, ok, refresh := c.get("k", gen, t0.Add(at))
		if v != wantV || ok != wantOK || refresh != wantRefresh {
			t.Errorf("%s: got (%d, %t, %t), want (%d, %t, %t)", what, v, ok, refresh, wantV, wantOK, wantRefresh)
		}
	}
	check("empty", 0, 1, 0, false, false)
	c.put("k", 1, 7, t0)
	check("fresh", 500*time.Millisecond, 1, 7, true, false)
	check("another generation", 500*time.Millisecond, 2, 0, false, false)
	check("stale: the first caller refreshes", 1500*time.Millisecond, 1, 7, true, true)
	check("stale: the others are served", 1600*time.Millisecond, 1, 7, true, false)
	c.unmark("k")
	check("after a failed refresh another caller refreshes", 1700*time.Millisecond, 1, 7, true, true)
	check("past the stale time", 2500*time.Millisecond, 1, 0, false, false)
	c.put("k", 1, 8, t0.Add(2500*time.Millisecond))
	check("refreshed", 3*time.Second, 1, 8, true, false)
	for i := range 10 { // the bound starts the cache afresh
		c.put(string(rune('a'+i)), 1, i, t0)
	}
	check("after the cache filled up", 3*time.Second, 1, 0, false, false)
}
