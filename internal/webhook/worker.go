package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Worker defaults.
const (
	// MaxAge is how long a delivery is retried before it is marked failed.
	MaxAge = 24 * time.Hour
	// DefaultTimeout bounds one attempt: connecting, sending and reading
	// the answer's status.
	DefaultTimeout = 10 * time.Second
	// firstRetry and maxRetry bound the wait between attempts, which
	// doubles from firstRetry (with jitter) up to maxRetry.
	firstRetry = 30 * time.Second
	maxRetry   = time.Hour
	// claimBatch is the most deliveries one pass takes; sendParallel how
	// many of them are sent at once.
	claimBatch   = 64
	sendParallel = 8
	// maxErrorLength bounds the error text kept with an attempt.
	maxErrorLength = 300
)

// WorkerOptions configure a Worker; zero values take the defaults.
type WorkerOptions struct {
	Client   *http.Client     // default: NewClient(DefaultTimeout)
	Now      func() time.Time // default time.Now
	Interval time.Duration    // how often Run looks for due deliveries (default 1s)
	// Jitter returns a number in [0, 1) spreading retries (default
	// math/rand/v2).
	Jitter func() float64
	Logger *slog.Logger
}

// Worker sends due deliveries. Workers on several replicas may share one
// store: a delivery is claimed for longer than an attempt may take, so
// only one worker sends it at a time. A worker stopped mid-attempt leaves
// the delivery pending; it is sent again when the claim lapses.
type Worker struct {
	store  Store
	client *http.Client
	now    func() time.Time
	every  time.Duration
	jitter func() float64
	log    *slog.Logger
	lease  time.Duration

	delivered, retried, failed atomic.Uint64
}

// NewWorker returns a worker sending the deliveries in store.
func NewWorker(store Store, o WorkerOptions) *Worker {
	w := &Worker{store: store, client: o.Client, now: o.Now, every: o.Interval, jitter: o.Jitter, log: o.Logger}
	if w.client == nil {
		w.client = NewClient(DefaultTimeout)
	}
	timeout := w.client.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	w.lease = 2*timeout + 30*time.Second // longer than any attempt, with room for recording it
	if w.now == nil {
		w.now = time.Now
	}
	if w.every <= 0 {
		w.every = time.Second
	}
	if w.jitter == nil {
		w.jitter = rand.Float64
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	w.log = w.log.With("component", "webhooks")
	return w
}

// NewClient returns the HTTP client deliveries are sent with: each
// attempt bounded by timeout, redirects not followed (a 3xx is a failed
// attempt, so a delivery never goes anywhere but the registered URL).
func NewClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Lease is how long a claimed delivery is held before another worker may
// take it.
func (w *Worker) Lease() time.Duration { return w.lease }

// Stats counts attempts by outcome since the worker started.
type Stats struct {
	Delivered uint64 // answered 2xx
	Retried   uint64 // failed, another attempt scheduled
	Failed    uint64 // failed for the last time: MaxAge has passed
}

// Stats returns the worker's counters.
func (w *Worker) Stats() Stats {
	return Stats{Delivered: w.delivered.Load(), Retried: w.retried.Load(), Failed: w.failed.Load()}
}

// Run sends due deliveries until ctx ends, looking for them every
// Interval; it runs in the caller's goroutine and returns nil when ctx
// ends, after the attempts in progress have been abandoned.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			n, err := w.Pass(ctx)
			if err != nil && ctx.Err() == nil {
				w.log.Warn("send webhooks", "err", err)
			}
			if n < claimBatch || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass claims the deliveries due now and sends them, a few at a time; it
// returns how many it claimed. When ctx ends mid-attempt, the attempt is
// abandoned without being recorded and the delivery stays pending.
func (w *Worker) Pass(ctx context.Context) (int, error) {
	now := w.now()
	claims, err := w.store.ClaimWebhookDeliveries(ctx, now, now.Add(w.lease), claimBatch)
	if err != nil {
		return 0, fmt.Errorf("claim deliveries: %w", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	sem := make(chan struct{}, sendParallel)
	for _, c := range claims {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := w.attempt(ctx, c); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(claims), errors.Join(errs...)
}

// attempt sends one claimed delivery and records the outcome.
func (w *Worker) attempt(ctx context.Context, c Claim) error {
	code, sendErr := w.send(ctx, c)
	if ctx.Err() != nil {
		return nil // stopped: the claim lapses and the delivery is sent again
	}
	now := w.now().UTC().Truncate(time.Microsecond)
	d := c.Delivery
	d.Attempts++
	d.LastStatus, d.LastError = code, ""
	switch {
	case sendErr == nil:
		d.Status, d.DeliveredAt = StatusDelivered, now
	default:
		d.LastError = truncate(sendErr.Error(), maxErrorLength)
		next := now.Add(w.backoff(d.Attempts))
		if next.Sub(d.CreatedAt) > MaxAge {
			d.Status = StatusFailed
		} else {
			d.NextAttemptAt = next
		}
	}
	// The outcome is stored even if ctx ends now: the attempt happened.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	ok, err := w.store.RecordWebhookAttempt(rctx, d, c.Attempts)
	if err != nil {
		return fmt.Errorf("record delivery %s: %w", d.ID, err)
	}
	if !ok {
		w.log.Warn("delivery changed while it was being sent (its claim lapsed and another worker took it, or its endpoint was deleted): outcome not recorded", "delivery", d.ID)
		return nil
	}
	switch d.Status {
	case StatusDelivered:
		w.delivered.Add(1)
	case StatusFailed:
		w.failed.Add(1)
		w.log.Warn("webhook delivery failed for good", "delivery", d.ID, "endpoint", d.EndpointID, "attempts", d.Attempts, "err", d.LastError)
	default:
		w.retried.Add(1)
	}
	return nil
}

// send POSTs the delivery, signed now, and returns the answer's status;
// anything but 2xx is an error.
func (w *Worker) send(ctx context.Context, c Claim) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Payload))
	if err != nil {
		return 0, err
	}
	ts := w.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Souq-Webhooks/1")
	req.Header.Set(HeaderID, c.EventID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(c.Secret, ts, c.Payload))
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the endpoint answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// backoff is the wait after the attempts-th failed attempt: doubling from
// firstRetry up to maxRetry, each drawn between half and all of it.
func (w *Worker) backoff(attempts int) time.Duration {
	d := maxRetry
	if attempts < 20 {
		d = min(maxRetry, firstRetry<<(attempts-1))
	}
	return d/2 + time.Duration(w.jitter()*float64(d/2))
}

func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) { // cut before a character, not inside it
		n--
	}
	return s[:n]
}
