package redisstore

import (
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/outcomes/outcomestest"
)

// TestOutcomes runs the outcomes contract against Redis, each replica on
// its own connections under one fresh prefix.
func TestOutcomes(t *testing.T) {
	outcomestest.Run(t, func(t *testing.T, n int) []outcomes.Store {
		prefix := randomPrefix()
		out := make([]outcomes.Store, n)
		for i := range out {
			out[i] = NewOutcomes(openTest(t, Options{Prefix: prefix}), prefix)
		}
		return out
	})
}

// TestOutcomesExpire checks that a minute's key expires within
// outcomes.Retention of its last write.
func TestOutcomesExpire(t *testing.T) {
	prefix := randomPrefix()
	s := openTest(t, Options{Prefix: prefix})
	o := NewOutcomes(s, prefix)
	start := time.Now().UTC().Truncate(time.Minute)
	if err := o.Add(t.Context(), []outcomes.Minute{{Start: start, Counts: outcomes.Counts{Checkouts: 1, Errors: 1}}}); err != nil {
		t.Fatal(err)
	}
	ttl, err := s.client.TTL(t.Context(), o.key(start)).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= outcomes.Retention-time.Minute || ttl > outcomes.Retention {
		t.Errorf("TTL of a minute's key: got %s, want within a minute under %s", ttl, outcomes.Retention)
	}
}
