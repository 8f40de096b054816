package analytics

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Snapshot is what the live dashboard shows, as JSON. "The last N minutes"
// means the N minute buckets ending with the one that contains At (so the
// newest is still filling); "today" means the hour buckets from midnight in
// Config.Day up to and including the one that contains At.
type Snapshot struct {
	At         time.Time       `json:"at"`
	Watermark  time.Time       `json:"watermark"` // newest ReceivedAt applied: how current the figures are
	MaxSeq     uint64          `json:"max_seq"`
	LastHour   Row             `json:"last_hour"` // the last 60 minutes, every event
	TodayFrom  time.Time       `json:"today_from"`
	Today      Row             `json:"today"`
	Minutes    []MinutePoint   `json:"minutes"`    // the last 60 minutes, oldest first
	Markets    []MarketFigures `json:"markets"`    // the six markets in display order, then "unknown" if it has any
	Trending   []Trending      `json:"trending"`   // the last 5, 15 and 60 minutes
	Funnel     Funnel          `json:"funnel"`     // the last 60 minutes
	Categories []Row           `json:"categories"` // the last 60 minutes, by revenue, then views
	Brands     []Row           `json:"brands"`     // the last 60 minutes, by revenue, then views
	Cities     []Row           `json:"cities"`     // the last 60 minutes, by revenue, then views
}

// Row is the counters of one member over a period.
type Row struct {
	Name string `json:"name"`
	Counters
	NetRevenueAED int64 `json:"net_revenue_aed"`
}

func newRow(name string, c *Counters) Row {
	return Row{Name: name, Counters: *c, NetRevenueAED: c.NetAED()}
}

// MinutePoint is one minute of the dashboard's running chart.
type MinutePoint struct {
	Start        time.Time `json:"start"`
	Views        int64     `json:"views"`
	AddUnits     int64     `json:"add_units"`
	Checkouts    int64     `json:"checkouts"`
	Orders       int64     `json:"orders"`
	Units        int64     `json:"units"`
	RevenueAED   int64     `json:"revenue_aed"`
	CancelledAED int64     `json:"cancelled_aed"`
	// Cancellations, Searches and ZeroResultSearches let the dashboard
	// judge its alerts over the last few minutes.
	Cancellations      int64 `json:"cancellations"`
	Searches           int64 `json:"searches"`
	ZeroResultSearches int64 `json:"zero_result_searches"`
}

// MarketFigures is one market's figures today and in the last hour.
type MarketFigures struct {
	Market   string        `json:"market"`
	Currency souq.Currency `json:"currency,omitempty"` // empty for "unknown"
	Today    MarketPeriod  `json:"today"`
	LastHour MarketPeriod  `json:"last_hour"`
}

// MarketPeriod is a market's counters over a period, with its revenue in
// its own currency spelled out.
type MarketPeriod struct {
	Counters
	NetRevenueAED int64 `json:"net_revenue_aed"`
	// RevenueLocal is Revenue in the market's currency as a decimal
	// ("1234.500" for KWD); empty for "unknown".
	RevenueLocal string `json:"revenue_local,omitempty"`
}

// Trending is the top products over one window.
type Trending struct {
	Window   string            `json:"window"` // "5m", "15m" or "60m"
	From     time.Time         `json:"from"`   // start of the oldest minute bucket counted
	Products []TrendingProduct `json:"products"`
}

// TrendScore is how trending products are ranked: views + 3 × add-to-cart
// events + 10 × orders containing the product, over the window. Events
// rather than units count, so that one bulk order does not outrank a
// product many shoppers are buying; ties go to the smaller product id.
func TrendScore(c Counters) int64 { return c.Views + 3*c.AddEvents + 10*c.Orders }

// TrendingProduct is one product of a trending list. The dashboard looks
// up its name and image in the catalogue.
type TrendingProduct struct {
	Rank       int    `json:"rank"`
	ProductID  string `json:"product_id"`
	Score      int64  `json:"score"`
	Views      int64  `json:"views"`
	AddEvents  int64  `json:"add_events"`
	AddUnits   int64  `json:"add_units"`
	Orders     int64  `json:"orders"`
	Units      int64  `json:"units"`
	RevenueAED int64  `json:"revenue_aed"`
}

// Funnel is the shopping funnel over a period, counted in events: product
// views → add-to-cart events → checkouts started → orders completed. Each
// rate is a stage over the one before it (0 when that is 0); shoppers are
// not deduplicated, so a rate can exceed 1.
type Funnel struct {
	Views           int64   `json:"views"`
	AddToCart       int64   `json:"add_to_cart"`
	Checkouts       int64   `json:"checkouts"`
	Orders          int64   `json:"orders"`
	ViewToCart      float64 `json:"view_to_cart"`
	CartToCheckout  float64 `json:"cart_to_checkout"`
	CheckoutToOrder float64 `json:"checkout_to_order"`
	ViewToOrder     float64 `json:"view_to_order"`
}

// FunnelOf returns the funnel of c.
func FunnelOf(c Counters) Funnel {
	rate := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	return Funnel{
		Views: c.Views, AddToCart: c.AddEvents, Checkouts: c.Checkouts, Orders: c.Orders,
		ViewToCart: rate(c.AddEvents, c.Views), CartToCheckout: rate(c.Checkouts, c.AddEvents),
		CheckoutToOrder: rate(c.Orders, c.Checkouts), ViewToOrder: rate(c.Orders, c.Views),
	}
}

// Snapshot returns the dashboard's figures as of now. Each part is read
// consistently, but events applied while a Snapshot is being computed may
// show in some parts and not yet in others. With Config.SnapshotTTL set,
// calls in the same interval share one result; its slices are shared and
// must not be modified.
func (r *Reader) Snapshot(ctx context.Context, now time.Time) (Snapshot, error) {
	if r.cfg.SnapshotTTL <= 0 {
		s, err := r.snapshot(ctx, now)
		if err != nil {
			return Snapshot{}, fmt.Errorf("analytics: snapshot: %w", err)
		}
		return s, nil
	}
	key := now.UTC().Truncate(r.cfg.SnapshotTTL)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cached != nil && r.cacheKey.Equal(key) {
		return *r.cached, nil
	}
	s, err := r.snapshot(ctx, now)
	if err != nil {
		return Snapshot{}, fmt.Errorf("analytics: snapshot: %w", err)
	}
	r.cacheKey, r.cached = key, &s
	return s, nil
}

func (r *Reader) snapshot(ctx context.Context, now time.Time) (Snapshot, error) {
	now = now.UTC()
	end := now.Truncate(time.Minute).Add(time.Minute)
	from := end.Add(-60 * time.Minute)
	local := now.In(r.cfg.Day)
	dayFrom := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, r.cfg.Day).UTC()
	dayTo := now.Truncate(time.Hour).Add(time.Hour)

	p, err := r.store.Progress(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{At: now, Watermark: p.Watermark, MaxSeq: p.MaxSeq, TodayFrom: dayFrom}

	var lastHour Counters
	var minutes [60]Counters
	err = r.store.Read(ctx, Range{Res: Minute, Dim: Total, From: from, To: end}, func(start time.Time, _ string, c *Counters) {
		lastHour.Add(c)
		minutes[start.Sub(from)/time.Minute].Add(c)
	})
	if err != nil {
		return Snapshot{}, err
	}
	s.Minutes = make([]MinutePoint, len(minutes))
	for i, c := range minutes {
		s.Minutes[i] = MinutePoint{Start: from.Add(time.Duration(i) * time.Minute), Views: c.Views, AddUnits: c.AddUnits,
			Checkouts: c.Checkouts, Orders: c.Orders, Units: c.Units, RevenueAED: c.RevenueAED, CancelledAED: c.CancelledAED,
			Cancellations: c.Cancellations, Searches: c.Searches, ZeroResultSearches: c.ZeroResultSearches}
	}
	s.LastHour = newRow(All, &lastHour)
	s.Funnel = FunnelOf(lastHour)

	today, err := r.sum(ctx, Hour, Total, dayFrom, dayTo)
	if err != nil {
		return Snapshot{}, err
	}
	s.Today = newRow(All, orZero(today[All]))

	if s.Markets, err = r.markets(ctx, end, dayFrom, dayTo); err != nil {
		return Snapshot{}, err
	}
	if s.Trending, err = r.trending(ctx, end); err != nil {
		return Snapshot{}, err
	}
	for _, part := range []struct {
		dim  Dimension
		rows *[]Row
	}{{Category, &s.Categories}, {Brand, &s.Brands}, {City, &s.Cities}} {
		sums, err := r.lastHour(ctx, part.dim, end)
		if err != nil {
			return Snapshot{}, err
		}
		*part.rows = rowsByRevenue(sums)
	}
	return s, nil
}

func orZero(c *Counters) *Counters {
	if c == nil {
		return &Counters{}
	}
	return c
}

// rowsByRevenue returns one row per member, by revenue in AED, then views
// (both descending), then name.
func rowsByRevenue(sums map[string]*Counters) []Row {
	rows := make([]Row, 0, len(sums))
	for name, c := range sums {
		rows = append(rows, newRow(name, c))
	}
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(b.RevenueAED, a.RevenueAED), cmp.Compare(b.Views, a.Views), strings.Compare(a.Name, b.Name))
	})
	return rows
}

func (r *Reader) markets(ctx context.Context, end, dayFrom, dayTo time.Time) ([]MarketFigures, error) {
	hour, err := r.lastHour(ctx, Market, end)
	if err != nil {
		return nil, err
	}
	day, err := r.sum(ctx, Hour, Market, dayFrom, dayTo)
	if err != nil {
		return nil, err
	}
	period := func(c *Counters, cur souq.Currency) MarketPeriod {
		c = orZero(c)
		p := MarketPeriod{Counters: *c, NetRevenueAED: c.NetAED()}
		if cur != "" {
			p.RevenueLocal = souq.M(c.Revenue.In(cur), cur).Decimal()
		}
		return p
	}
	var out []MarketFigures
	for _, m := range souq.Markets() {
		code := string(m.Code)
		out = append(out, MarketFigures{Market: code, Currency: m.Currency,
			Today: period(day[code], m.Currency), LastHour: period(hour[code], m.Currency)})
	}
	if day[Unknown] != nil || hour[Unknown] != nil {
		out = append(out, MarketFigures{Market: Unknown, Today: period(day[Unknown], ""), LastHour: period(hour[Unknown], "")})
	}
	return out, nil
}
