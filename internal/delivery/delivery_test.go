package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// countingStore is a store in memory that counts its reads.
type countingStore struct {
	reads int
	rows  map[souq.MarketCode]Settings
}

func (c *countingStore) DeliverySettings(context.Context) ([]Settings, error) {
	c.reads++
	var out []Settings
	for _, s := range c.rows {
		out = append(out, s)
	}
	return out, nil
}

func (c *countingStore) PutDeliverySettings(_ context.Context, s Settings) error {
	c.rows[s.Market] = s
	return nil
}

// TestSettingsServedFromMemory: the settings are read from the store once
// for the many product pages and orders that need them, and a change made
// through the service is seen at once.
func TestSettingsServedFromMemory(t *testing.T) {
	store := &countingStore{rows: map[souq.MarketCode]Settings{}}
	svc := New(store, time.Now)
	for range 100 {
		if _, ok, err := svc.For(t.Context(), souq.SA); err != nil || ok {
			t.Fatalf("For(SA) with no settings: ok %v, %v", ok, err)
		}
	}
	if store.reads != 1 {
		t.Errorf("store reads for 100 lookups: got %d, want 1", store.reads)
	}
	if _, err := svc.Put(t.Context(), saudi); err != nil {
		t.Fatal(err)
	}
	got, ok, err := svc.For(t.Context(), souq.SA)
	if err != nil || !ok || got.Fee != saudi.Fee {
		t.Errorf("For(SA) after Put: got %+v, %v, %v; want the new settings at once", got, ok, err)
	}
}
