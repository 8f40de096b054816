package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/souq"
)

// Alerts are judged at every push from figures every replica shares (the
// checkout outcomes, the snapshot's counters, the sale's stock, the
// pipeline's health), so the active set is the same on every replica.
// The raised and cleared events are kept in memory, the last maxAlertEvents
// of them, per replica.

// maxAlertEvents is how many raised and cleared events are kept.
const maxAlertEvents = 200

// Alert kinds.
const (
	kindCheckoutErrors = "checkout_errors"
	kindOutOfStock     = "out_of_stock"
	kindCancellations  = "cancellations"
	kindZeroResults    = "zero_result_searches"
	kindSoldOut        = "sold_out"
	kindPipelineLag    = "pipeline_lag"
)

// measure is one alert's figure at one push.
type measure struct {
	id, kind  string
	subject   souq.ID
	value     float64
	threshold float64
	since     time.Time // when the condition started, as the data says
	message   souq.Localized
}

// level is value over threshold: 1 or more raises the alert.
func (m measure) level() float64 {
	if m.threshold <= 0 {
		return 0
	}
	return m.value / m.threshold
}

// severity is "critical" at twice the threshold, else "warning"; a
// sold-out item is a warning.
func (m measure) severity() string {
	if m.kind != kindSoldOut && m.level() >= 2 {
		return "critical"
	}
	return "warning"
}

// activeAlert is a raised alert and, while its level is under the clear
// level, since when.
type activeAlert struct {
	alert Alert
	below time.Time
}

// alertBook holds the active alerts and the last events. Its mutex is
// taken alone.
type alertBook struct {
	mu       sync.Mutex
	active   map[string]*activeAlert
	events   []AlertEvent // oldest first, at most maxAlertEvents
	judgedAt time.Time    // by the dashboard's clock
	last     []Alert      // the active alerts as last judged
}

// lastJudged returns the active alerts of the last judgement and when it
// was made.
func (b *alertBook) lastJudged() ([]Alert, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last, b.judgedAt
}

func newAlertBook() *alertBook { return &alertBook{active: map[string]*activeAlert{}} }

// apply judges the measures of the kinds in judged at now: an alert whose
// level reaches 1 is raised; a raised one clears once its level (0 when
// it was not measured) has stayed under clearRatio for clearAfter. Kinds
// not judged this time (their source failed) keep their alerts as they
// are. It returns the active alerts, critical first, then oldest.
func (b *alertBook) apply(now time.Time, judged map[string]bool, ms []measure, clearRatio float64, clearAfter time.Duration) []Alert {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.judgedAt = now
	seen := map[string]bool{}
	for _, m := range ms {
		seen[m.id] = true
		a, ok := b.active[m.id]
		if !ok {
			if m.level() >= 1 {
				al := Alert{ID: m.id, Kind: m.kind, Severity: m.severity(), Subject: m.subject, Value: m.value,
					Threshold: m.threshold, Since: m.since, Message: m.message}
				b.active[m.id] = &activeAlert{alert: al}
				b.record(AlertEvent{State: "raised", At: now, Alert: al})
			}
			continue
		}
		a.alert.Value, a.alert.Threshold, a.alert.Message = m.value, m.threshold, m.message
		if m.level() >= 1 {
			a.alert.Severity = m.severity()
		}
		b.settle(now, m.id, a, m.level() < clearRatio, clearAfter)
	}
	for id, a := range b.active {
		if !seen[id] && judged[a.alert.Kind] {
			b.settle(now, id, a, true, clearAfter)
		}
	}
	out := make([]Alert, 0, len(b.active))
	for _, a := range b.active {
		out = append(out, a.alert)
	}
	slices.SortFunc(out, func(x, y Alert) int {
		return cmp.Or(cmp.Compare(severityRank(x.Severity), severityRank(y.Severity)), x.Since.Compare(y.Since), cmp.Compare(x.ID, y.ID))
	})
	b.last = out
	return out
}

func severityRank(s string) int {
	if s == "critical" {
		return 0
	}
	return 1
}

// settle clears an active alert once it has been under its clear level
// for clearAfter.
func (b *alertBook) settle(now time.Time, id string, a *activeAlert, under bool, clearAfter time.Duration) {
	if !under {
		a.below = time.Time{}
		return
	}
	if a.below.IsZero() {
		a.below = now
	}
	if now.Sub(a.below) >= clearAfter {
		delete(b.active, id)
		b.record(AlertEvent{State: "cleared", At: now, Alert: a.alert})
	}
}

func (b *alertBook) record(e AlertEvent) {
	if len(b.events) == maxAlertEvents {
		b.events = slices.Delete(b.events, 0, 1)
	}
	b.events = append(b.events, e)
}

// eventsAfter returns the events after since (all with a zero since),
// newest first.
func (b *alertBook) eventsAfter(since time.Time) []AlertEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []AlertEvent{}
	for i := len(b.events) - 1; i >= 0; i-- {
		if since.IsZero() || b.events[i].At.After(since) {
			out = append(out, b.events[i])
		}
	}
	return out
}

// judgeAlerts measures every alert from the update's figures (and the
// checkout outcomes) and applies them to the book.
func (d *Dashboard) judgeAlerts(ctx context.Context, now time.Time, u *Update) []Alert {
	cfg := d.alertCfg
	judged := map[string]bool{}
	var ms []measure
	if d.outcomes != nil {
		end := now.UTC().Truncate(time.Minute)
		minutes, err := d.outcomes.Minutes(ctx, end.Add(-cfg.Window), end)
		d.noteFailure(&d.outcomesFailing, "checkout outcomes", err)
		if err == nil {
			judged[kindCheckoutErrors], judged[kindOutOfStock] = true, true
			ms = append(ms, outcomeMeasures(cfg, minutes, end)...)
		}
	}
	judged[kindCancellations], judged[kindZeroResults] = true, true
	ms = append(ms, snapshotMeasures(cfg, u)...)
	if u.Health != nil {
		judged[kindPipelineLag] = true
		ms = append(ms, lagMeasure(cfg, now, u))
	}
	switch {
	case u.Sale != nil:
		judged[kindSoldOut] = true
		ms = append(ms, soldOutMeasures(now, u.Sale)...)
	case d.catalog != nil:
		// No panel: judge (and so clear) sold-out alerts only when that is
		// because there is no sale, not because a source failed.
		if sales, ok := d.sales(ctx, now); ok {
			_, any := pickSale(sales, now)
			judged[kindSoldOut] = !any
		}
	}
	return d.alerts.apply(now, judged, ms, cfg.ClearRatio, cfg.ClearAfter)
}

// outcomeMeasures judge the checkout error rate (errors over the attempts
// checkout answered, outcomes.Counts.ErrorRate) and the refusals for
// stock over the complete minutes before end.
func outcomeMeasures(cfg AlertConfig, minutes []outcomes.Minute, end time.Time) []measure {
	var sum outcomes.Counts
	for _, m := range minutes {
		sum.Add(m.Counts)
	}
	window := cfg.Window.Minutes()
	rate := 0.0
	// Attempts the waiting room or validation refused are not checkouts
	// here: they would dilute the rate and could reach MinCheckouts alone.
	if sum.Attempted() >= cfg.MinCheckouts {
		rate = sum.ErrorRate()
	}
	refusals := float64(sum.OutOfStock+sum.CartOutOfStock) / window
	// Since: the first minute of the run of minutes, up to the last, that
	// were over the threshold on their own.
	sinceRun := func(over func(outcomes.Counts) bool) time.Time {
		since := end.Add(-time.Minute)
		for i := len(minutes) - 1; i >= 0 && over(minutes[i].Counts); i-- {
			since = minutes[i].Start
		}
		return since
	}
	mins := strconv.Itoa(int(window))
	return []measure{
		{id: kindCheckoutErrors, kind: kindCheckoutErrors, value: rate, threshold: cfg.CheckoutErrorRate,
			since: sinceRun(func(c outcomes.Counts) bool { return c.Attempted() > 0 && c.ErrorRate() >= cfg.CheckoutErrorRate }),
			message: souq.Localized{
				EN: fmt.Sprintf("Checkout errors: %s of checkouts failed in the last %s minutes (threshold %s)", pct(rate), mins, pct(cfg.CheckoutErrorRate)),
				AR: fmt.Sprintf("أخطاء الدفع: فشل %s من عمليات الدفع في آخر %s دقائق (الحد %s)", pct(rate), mins, pct(cfg.CheckoutErrorRate)),
			}},
		{id: kindOutOfStock, kind: kindOutOfStock, value: refusals, threshold: cfg.OutOfStockPerMinute,
			since: sinceRun(func(c outcomes.Counts) bool {
				return float64(c.OutOfStock+c.CartOutOfStock) >= cfg.OutOfStockPerMinute
			}),
			message: souq.Localized{
				EN: fmt.Sprintf("Out-of-stock refusals: %s a minute over the last %s minutes (threshold %s)", dec1(refusals), mins, dec1(cfg.OutOfStockPerMinute)),
				AR: fmt.Sprintf("رفض لنفاد المخزون: %s في الدقيقة خلال آخر %s دقائق (الحد %s)", dec1(refusals), mins, dec1(cfg.OutOfStockPerMinute)),
			}},
	}
}

// snapshotMeasures judge the cancellations and the searches that found
// nothing over the complete minutes of the snapshot's last Window (the
// filling minute is left out, as for the checkout outcomes).
func snapshotMeasures(cfg AlertConfig, u *Update) []measure {
	minutes := u.Snapshot.Minutes
	if n := len(minutes); n > 0 {
		minutes = minutes[:n-1] // the minute still filling
	}
	if n := int(cfg.Window / time.Minute); len(minutes) > n {
		minutes = minutes[len(minutes)-n:]
	}
	var cancels, orders, searches, zeros int64
	for _, m := range minutes {
		cancels += m.Cancellations
		orders += m.Orders
		searches += m.Searches
		zeros += m.ZeroResultSearches
	}
	window := cfg.Window.Minutes()
	mins := strconv.Itoa(int(window))
	perMinute := float64(cancels) / window
	share := 0.0
	if orders >= 20 {
		share = float64(cancels) / float64(orders)
	}
	// Since: the first minute of the trailing run of minutes with
	// cancellations, or with searches that found nothing.
	sinceRun := func(some func(analytics.MinutePoint) bool) time.Time {
		since := u.Snapshot.At.UTC().Truncate(time.Minute).Add(-time.Minute)
		for i := len(minutes) - 1; i >= 0 && some(minutes[i]); i-- {
			since = minutes[i].Start
		}
		return since
	}
	cancel := measure{id: kindCancellations, kind: kindCancellations, value: perMinute, threshold: cfg.CancellationsPerMinute,
		since: sinceRun(func(m analytics.MinutePoint) bool { return m.Cancellations > 0 }),
		message: souq.Localized{
			EN: fmt.Sprintf("Cancellations: %s a minute over the last %s minutes (threshold %s)", dec1(perMinute), mins, dec1(cfg.CancellationsPerMinute)),
			AR: fmt.Sprintf("الإلغاءات: %s في الدقيقة خلال آخر %s دقائق (الحد %s)", dec1(perMinute), mins, dec1(cfg.CancellationsPerMinute)),
		}}
	if share/cfg.CancellationShare > perMinute/cfg.CancellationsPerMinute {
		cancel.value, cancel.threshold = share, cfg.CancellationShare
		cancel.message = souq.Localized{
			EN: fmt.Sprintf("Cancellations: %s of orders over the last %s minutes (threshold %s)", pct(share), mins, pct(cfg.CancellationShare)),
			AR: fmt.Sprintf("الإلغاءات: %s من الطلبات خلال آخر %s دقائق (الحد %s)", pct(share), mins, pct(cfg.CancellationShare)),
		}
	}
	zero := 0.0
	if searches >= cfg.MinSearches {
		zero = float64(zeros) / float64(searches)
	}
	return []measure{cancel, {id: kindZeroResults, kind: kindZeroResults, value: zero, threshold: cfg.ZeroResultShare,
		since: sinceRun(func(m analytics.MinutePoint) bool { return m.ZeroResultSearches > 0 }),
		message: souq.Localized{
			EN: fmt.Sprintf("Searches that found nothing: %s of searches over the last %s minutes (threshold %s)", pct(zero), mins, pct(cfg.ZeroResultShare)),
			AR: fmt.Sprintf("عمليات بحث بلا نتائج: %s من عمليات البحث خلال آخر %s دقائق (الحد %s)", pct(zero), mins, pct(cfg.ZeroResultShare)),
		}}}
}

// lagMeasure judges how far behind the aggregates are; the condition
// started at the watermark (the newest event applied).
func lagMeasure(cfg AlertConfig, now time.Time, u *Update) measure {
	lag := u.Health.ProcessingDelay.Seconds()
	since := u.Snapshot.Watermark
	if since.IsZero() {
		since = now.Add(-u.Health.ProcessingDelay)
	}
	return measure{id: kindPipelineLag, kind: kindPipelineLag, value: lag, threshold: cfg.PipelineLagSeconds, since: since,
		message: souq.Localized{
			EN: fmt.Sprintf("Pipeline lag: the figures are %s s behind (bound %s s)", dec1(lag), dec1(cfg.PipelineLagSeconds)),
			AR: fmt.Sprintf("تأخر خط البيانات: الأرقام متأخرة %s ثانية (الحد %s ثانية)", dec1(lag), dec1(cfg.PipelineLagSeconds)),
		}}
}

// soldOutMeasures flag the running sale's items that have sold out. The
// store does not say when stock reached 0: Since is the push that first
// saw it.
func soldOutMeasures(now time.Time, sale *SalePanel) []measure {
	if !sale.Running {
		return nil
	}
	var ms []measure
	for _, it := range sale.Items {
		if it.Offered == 0 && !it.SoldOut {
			continue
		}
		v := 0.0
		if it.SoldOut {
			v = 1
		}
		name := it.Name
		if name.EN == "" {
			name.EN = string(it.ProductID)
		}
		if name.AR == "" {
			name.AR = name.EN
		}
		ms = append(ms, measure{id: kindSoldOut + ":" + string(it.ProductID), kind: kindSoldOut, subject: it.ProductID,
			value: v, threshold: 1, since: now.UTC().Truncate(time.Second),
			message: souq.Localized{
				EN: fmt.Sprintf("Sold out: %s (%s, %d units offered)", name.EN, sale.Name.EN, it.Offered),
				AR: fmt.Sprintf("نفدت الكمية: %s (%s، %d وحدة معروضة)", name.AR, cmp.Or(sale.Name.AR, sale.Name.EN), it.Offered),
			}})
	}
	return ms
}

// pct writes a fraction as a percentage with one decimal: 0.075 → 7.5%.
func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" }

// dec1 writes a number with one decimal.
func dec1(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
