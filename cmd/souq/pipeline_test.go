package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCachedReusesWithinTTL(t *testing.T) {
	now := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	reads := 0
	var fail error
	c := &cached[int]{ttl: time.Second, now: func() time.Time { return now },
		read: func(context.Context) (int, error) {
			if fail != nil {
				return 0, fail
			}
			reads++
			return reads, nil
		}}
	steps := []struct {
		name    string
		advance time.Duration
		fail    error
		want    int
		wantErr bool
	}{
		{"first call reads", 0, nil, 1, false},
		{"within the TTL: reused", 999 * time.Millisecond, nil, 1, false},
		{"a TTL after the read: read again", time.Millisecond, nil, 2, false},
		{"a failed read is not kept", time.Second, errors.New("stream down"), 0, true},
		{"the next call reads", 0, nil, 3, false},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		fail = s.fail
		got, err := c.get(t.Context())
		if (err != nil) != s.wantErr || got != s.want {
			t.Errorf("%s: got %d, %v; want %d (error %v)", s.name, got, err, s.want, s.wantErr)
		}
	}
}
