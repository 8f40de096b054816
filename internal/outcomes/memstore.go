package outcomes

import (
	"context"
	"sync"
	"time"
)

// MemStore is a Store in this process: the embedded default, where one
// process answers every checkout. It keeps each minute for Retention of
// its clock. It is safe for concurrent use.
type MemStore struct {
	now func() time.Time

	mu      sync.Mutex
	minutes map[int64]Counts // by the minute's start, Unix seconds
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore whose retention follows now.
func NewMemStore(now func() time.Time) *MemStore {
	return &MemStore{now: now, minutes: map[int64]Counts{}}
}

// Add implements Store. It drops the minutes that are past Retention,
// those given and those kept.
func (m *MemStore) Add(_ context.Context, minutes []Minute) error {
	floor := m.floor()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mn := range minutes {
		start := mn.Start.Truncate(time.Minute).Unix()
		if start < floor {
			continue
		}
		c := m.minutes[start]
		c.Add(mn.Counts)
		m.minutes[start] = c
	}
	for start := range m.minutes {
		if start < floor {
			delete(m.minutes, start)
		}
	}
	return nil
}

// Minutes implements Reader.
func (m *MemStore) Minutes(_ context.Context, from, to time.Time) ([]Minute, error) {
	starts, err := Starts(from, to)
	if err != nil {
		return nil, err
	}
	floor := m.floor()
	out := make([]Minute, len(starts))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, t := range starts {
		out[i].Start = t
		if s := t.Unix(); s >= floor {
			out[i].Counts = m.minutes[s]
		}
	}
	return out, nil
}

// floor is the start of the oldest minute kept, Unix seconds.
func (m *MemStore) floor() int64 {
	return m.now().Add(-Retention).Truncate(time.Minute).Unix()
}
