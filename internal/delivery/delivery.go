// Package delivery owns what delivery costs and when it arrives, per
// market: the delivery fee and its free-delivery threshold, the
// cash-on-delivery fee and limit, the daily order cut-off in the market's
// time zone and the delivery estimates by city. Quote applies them to a
// basket; checkout charges what it quotes.
package delivery

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Days is a delivery estimate: from MinDays to MaxDays days after dispatch.
type Days struct {
	MinDays int `json:"min_days"`
	MaxDays int `json:"max_days"`
}

// MaxDays bounds an estimate: a promise further out is a typing error.
const MaxDays = 60

// Settings are one market's delivery rules. Amounts are in the market's
// currency's minor units and VAT-inclusive, as shelf prices are.
type Settings struct {
	Market souq.MarketCode `json:"market"`
	// Fee is the delivery fee of an order.
	Fee int64 `json:"fee"`
	// FreeOver is the subtotal from which delivery is free; 0: never free.
	FreeOver int64 `json:"free_over"`
	// CODFee is added to an order paid cash on delivery.
	CODFee int64 `json:"cod_fee"`
	// CODLimit is the largest subtotal that may be paid cash on delivery;
	// 0: no limit.
	CODLimit int64 `json:"cod_limit"`
	// Cutoff is the time of day ("HH:MM", in the market's time zone) up to
	// which an order is dispatched the same day; later ones the next day.
	Cutoff string `json:"cutoff"`
	// Estimate is the delivery estimate for cities not in Cities.
	Estimate Days `json:"estimate"`
	// Cities holds estimates by city name, as addresses spell it
	// (souq.Market.Cities).
	Cities    map[string]Days `json:"cities,omitempty"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Store keeps the settings, one row per market.
type Store interface {
	// DeliverySettings returns every market's settings, by market code.
	DeliverySettings(ctx context.Context) ([]Settings, error)
	// PutDeliverySettings creates or replaces the settings of s.Market.
	PutDeliverySettings(ctx context.Context, s Settings) error
}

// Validate checks the settings and returns field-named problems.
func (s *Settings) Validate() error {
	var p souq.Problems
	m, err := souq.LookupMarket(string(s.Market))
	if err != nil {
		p.Add("market", "unknown market %q", s.Market)
	} else {
		s.Market = m.Code
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"fee", s.Fee}, {"free_over", s.FreeOver}, {"cod_fee", s.CODFee}, {"cod_limit", s.CODLimit}} {
		if f.v < 0 || f.v > souq.MaxAmount {
			p.Add(f.name, "must be 0 to %d minor units", souq.MaxAmount)
		}
	}
	if _, err := parseCutoff(s.Cutoff); err != nil {
		p.Add("cutoff", "must be a time of day as HH:MM (00:00 to 23:59)")
	}
	checkDays(&p, "estimate", s.Estimate)
	for city, d := range s.Cities {
		field := fmt.Sprintf("cities[%q]", city)
		if err == nil && !m.HasCity(city) {
			p.Add(field, "%q is not a city of %s: use one of %s", city, m.Code, strings.Join(m.Cities, ", "))
			continue
		}
		checkDays(&p, field, d)
	}
	return p.Err()
}

func checkDays(p *souq.Problems, field string, d Days) {
	if d.MinDays < 0 || d.MaxDays > MaxDays || d.MinDays > d.MaxDays {
		p.Add(field, "min_days and max_days must be 0 to %d, min_days at most max_days", MaxDays)
	}
}

// parseCutoff reads "HH:MM" as the time since midnight.
func parseCutoff(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("cutoff %q: want HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// estimate returns the estimate for city: its own, else the market's.
func (s Settings) estimate(city string) Days {
	for c, d := range s.Cities {
		if strings.EqualFold(c, strings.TrimSpace(city)) {
			return d
		}
	}
	return s.Estimate
}

// settingsTTL is how long the settings are served from memory: product
// pages and orders read them on every request, and they change rarely. A
// change made through this Service is seen at once here, and by other
// replicas within settingsTTL.
const settingsTTL = 5 * time.Second

// Service reads and changes the settings.
type Service struct {
	store Store
	now   func() time.Time

	mu         sync.Mutex
	cached     []Settings
	cachedAt   time.Time // wall clock
	generation uint64    // bumped by Put: a read begun before it is not kept
}

// New returns a Service over store; now stamps changes.
func New(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

// List returns every market's settings, by market code; a market with
// none is absent.
func (s *Service) List(ctx context.Context) ([]Settings, error) {
	wall := time.Now()
	s.mu.Lock()
	if s.cached != nil && wall.Sub(s.cachedAt) < settingsTTL && !wall.Before(s.cachedAt) {
		all := s.cached
		s.mu.Unlock()
		return all, nil
	}
	gen := s.generation
	s.mu.Unlock()
	all, err := s.store.DeliverySettings(ctx)
	if err != nil {
		return nil, fmt.Errorf("list delivery settings: %w", err)
	}
	if all == nil {
		all = []Settings{}
	}
	s.mu.Lock()
	if s.generation == gen {
		s.cached, s.cachedAt = all, wall
	}
	s.mu.Unlock()
	return all, nil
}

// For returns market c's settings; ok is false when it has none (its
// delivery is then free and has no estimate).
func (s *Service) For(ctx context.Context, c souq.MarketCode) (st Settings, ok bool, err error) {
	all, err := s.List(ctx)
	if err != nil {
		return Settings{}, false, err
	}
	for _, st := range all {
		if st.Market == c {
			return st, true, nil
		}
	}
	return Settings{}, false, nil
}

// Put validates and stores a market's settings, replacing any before.
func (s *Service) Put(ctx context.Context, st Settings) (Settings, error) {
	if err := st.Validate(); err != nil {
		return Settings{}, err
	}
	st.UpdatedAt = s.now().UTC().Truncate(time.Microsecond)
	err := s.store.PutDeliverySettings(ctx, st)
	s.mu.Lock()
	s.cached = nil
	s.generation++
	s.mu.Unlock()
	if err != nil {
		return Settings{}, fmt.Errorf("put delivery settings of %s: %w", st.Market, err)
	}
	return st, nil
}

// QuoteFor quotes a basket in market c with its stored settings, at the
// Service's now; ok is false when the market has none (nothing to pay, no
// estimate).
func (s *Service) QuoteFor(ctx context.Context, c souq.MarketCode, subtotal int64, method souq.PaymentMethod, city string) (q Quotation, ok bool, err error) {
	st, ok, err := s.For(ctx, c)
	if err != nil || !ok {
		return Quotation{}, false, err
	}
	q, err = Quote(st, subtotal, method, city, s.now())
	return q, err == nil, err
}
