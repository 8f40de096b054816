package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/souq"
)

// OrderSubject is the stream subject of the events the worker reads.
var OrderSubject = souq.Event{Type: "track", Event: souq.EventOrderCompleted}.Subject()

// Durable is the worker's consumer; replicas share it. Marks is its
// bucket of e-mails sent.
const (
	Durable   = "notifier-email"
	MarksName = "email-sent"
	// MarksTTL is how long a sent e-mail is remembered: beyond the
	// stream's default retention (7 days), so no event the stream still
	// holds is sent twice.
	MarksTTL = 30 * 24 * time.Hour
)

// Defaults of Config.
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Minute
	DefaultKeepAlive  = 10 * time.Second
	fetchBatch        = 1 // Fetch waits for a full batch: one, so each e-mail goes as soon as its event arrives
	fetchWait         = 2 * time.Second
	ackTimeout        = 5 * time.Second
)

// Mailer sends a message: SMTP, or a test's.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// Orders reads an order with its lines (the database: checkout.Store).
type Orders interface {
	Order(ctx context.Context, id souq.ID) (souq.Order, error)
}

// Marks remember the events whose e-mail was sent (natsstream.Marks).
type Marks interface {
	Has(ctx context.Context, key string) (bool, error)
	Mark(ctx context.Context, key string, value []byte) error
}

// Config is what a Worker needs.
type Config struct {
	Consumer *natsstream.Consumer // a SubjectConsumer of OrderSubject
	Orders   Orders
	Marks    Marks
	Mailer   Mailer
	// From is the sender, an RFC 5322 address ("Souq <orders@shop.example>").
	From string
	Now  func() time.Time
	// MinBackoff and MaxBackoff bound the wait between tries of one
	// e-mail: doubled from MinBackoff after each failure, at most
	// MaxBackoff; defaults DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// KeepAlive is how often the event being worked on is reported in
	// progress, so the stream does not give it to another replica; well
	// under the stream's ack wait (default DefaultKeepAlive).
	KeepAlive time.Duration
	// Sleep waits d or until ctx ends (default a timer); tests record the
	// backoff through it.
	Sleep func(ctx context.Context, d time.Duration)
	Log   *slog.Logger
}

// Worker sends the order confirmation e-mails. Run it in one goroutine;
// replicas share its consumer.
type Worker struct {
	c Config

	sent    prometheus.Counter
	failed  *prometheus.CounterVec
	retries prometheus.Counter
	skipped *prometheus.CounterVec
}

// New returns a worker; register its metrics with Register.
func New(c Config) (*Worker, error) {
	if _, err := parseFrom(c.From); err != nil {
		return nil, err
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(DefaultMaxBackoff, c.MinBackoff)
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.Log = c.Log.With("component", "notify")
	return &Worker{c: c,
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "souq_email_sent_total",
			Help: "Order confirmation e-mails the SMTP server accepted."}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "souq_email_failed_total",
			Help: "Failed tries to send an order confirmation, by reason (the SMTP step and reply class, order_read, mark, gave_up)."}, []string{"reason"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "souq_email_retries_total",
			Help: "Tries of an order confirmation after a failed one."}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "souq_email_skipped_total",
			Help: "Order events that sent no e-mail, by reason (already_sent, no_email, reserved_domain, cancelled, order_not_found, malformed)."}, []string{"reason"}),
	}, nil
}

// parseFrom checks the sender address.
func parseFrom(from string) (string, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return "", fmt.Errorf("notify: sender %q: %w", from, err)
	}
	return a.Address, nil
}

// Register exports the worker's counters on reg.
func (w *Worker) Register(reg prometheus.Registerer) {
	reg.MustRegister(w.sent, w.failed, w.retries, w.skipped)
}

// Run sends e-mails until ctx ends. Each event is acknowledged once its
// e-mail is sent or there is none to send; an event whose e-mail cannot be
// sent yet is tried again with backoff, and while it is, the events behind
// it wait (e-mails go out in order).
func (w *Worker) Run(ctx context.Context) {
	backoff := w.c.MinBackoff
	for ctx.Err() == nil {
		msgs, err := w.c.Consumer.Fetch(ctx, fetchBatch, fetchWait)
		if err != nil {
			if ctx.Err() == nil {
				w.c.Log.Warn("fetch order events", "err", err, "retry_in", backoff)
				w.c.Sleep(ctx, backoff)
				backoff = min(2*backoff, w.c.MaxBackoff)
			}
			continue
		}
		backoff = w.c.MinBackoff
		for _, m := range msgs {
			if ctx.Err() != nil {
				return // the rest come again after the ack wait
			}
			if w.handle(ctx, m) {
				// Done with, even if ctx ended meanwhile: acknowledged still.
				actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
				err := m.Ack(actx)
				cancel()
				if err != nil {
					w.c.Log.Warn("ack order event (it comes again; its mark keeps the e-mail from going twice)", "seq", m.Seq, "err", err)
				}
			}
		}
	}
}

// handle sends the e-mail of one event and reports whether the event is
// done with (to be acknowledged); false when ctx ended first.
func (w *Worker) handle(ctx context.Context, m natsstream.Msg) bool {
	ev, err := m.Event()
	var props souq.OrderEventProperties
	if err == nil {
		err = json.Unmarshal(ev.Properties, &props)
	}
	if err != nil || ev.MessageID == "" || props.OrderID == "" {
		w.c.Log.Error("order event without an event or order id: no e-mail", "seq", m.Seq, "err", err)
		w.skipped.WithLabelValues("malformed").Inc()
		return true
	}
	if ev.Event != souq.EventOrderCompleted {
		return true
	}
	log := w.c.Log.With("event", ev.MessageID, "order", props.OrderID)
	alive := w.keepAlive(ctx, m)
	defer alive()

	var o souq.Order
	err = w.retry(ctx, log, func() (string, bool, error) {
		sent, err := w.c.Marks.Has(ctx, ev.MessageID)
		if err != nil {
			return "mark", false, err
		}
		if sent {
			return "", false, errAlreadySent
		}
		o, err = w.c.Orders.Order(ctx, souq.ID(props.OrderID))
		if errors.Is(err, souq.ErrNotFound) {
			return "order_read", true, err
		}
		return "order_read", false, err
	})
	switch {
	case ctx.Err() != nil:
		return false
	case errors.Is(err, errAlreadySent):
		w.skipped.WithLabelValues("already_sent").Inc()
		return true
	case errors.Is(err, souq.ErrNotFound):
		log.Error("the order of an order event is not in the database: no e-mail")
		w.skipped.WithLabelValues("order_not_found").Inc()
		return true
	case o.Customer.Email == "":
		w.skipped.WithLabelValues("no_email").Inc()
		return true
	case reserved(o.Customer.Email):
		w.skipped.WithLabelValues("reserved_domain").Inc()
		return true
	case o.Status == souq.StatusCancelled:
		w.skipped.WithLabelValues("cancelled").Inc()
		return true
	}
	msg, err := Compose(o, ev.MessageID, w.c.From, w.c.Now())
	if err != nil {
		log.Error("compose the order confirmation: no e-mail", "err", err)
		w.failed.WithLabelValues("compose").Inc()
		return true
	}
	err = w.retry(ctx, log, func() (string, bool, error) {
		err := w.c.Mailer.Send(ctx, msg)
		var se *SendError
		if errors.As(err, &se) {
			return se.Reason(), se.Permanent(), err
		}
		return "send", false, err
	})
	switch {
	case err == nil:
		// Sent: marked and acknowledged even when ctx ended just after,
		// or the next replica would send it again.
	case ctx.Err() != nil:
		return false // not sent, or not known to be: the event comes again
	default:
		log.Error("the SMTP server refused the order confirmation for good: not sent", "err", err)
		w.failed.WithLabelValues("gave_up").Inc()
		return true
	}
	w.sent.Inc()
	log.Info("order confirmation sent", "message_id", msg.ID, "lang", o.Language)
	// The mark is what keeps a redelivery from sending again: tried hard,
	// but the e-mail is out, so the event is done with even without it.
	if err := w.retryN(ctx, 5, func() error {
		return w.c.Marks.Mark(context.WithoutCancel(ctx), ev.MessageID, []byte(msg.ID))
	}); err != nil {
		log.Error("mark the order confirmation sent (a redelivery of the event would send it again)", "err", err)
		w.failed.WithLabelValues("mark").Inc()
	}
	return true
}

// reserved reports whether addr is at a domain reserved for examples and
// tests (RFC 2606, RFC 6761), where no mail is ever sent: the demo's
// simulated shoppers order with such addresses.
func reserved(addr string) bool {
	domain := strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
	switch domain {
	case "example.com", "example.net", "example.org":
		return true
	}
	for _, tld := range []string{".example", ".invalid", ".test", ".localhost"} {
		if strings.HasSuffix(domain, tld) || domain == tld[1:] {
			return true
		}
	}
	return false
}

// errAlreadySent ends the retries of an event whose e-mail was sent.
var errAlreadySent = errors.New("already sent")

// retry calls try until it succeeds, says its error is permanent, or ctx
// ends, waiting with capped exponential backoff between failures, each of
// which is counted by its reason. errAlreadySent is returned at once.
func (w *Worker) retry(ctx context.Context, log *slog.Logger, try func() (reason string, permanent bool, err error)) error {
	backoff := w.c.MinBackoff
	for attempt := 1; ; attempt++ {
		reason, permanent, err := try()
		if err == nil || errors.Is(err, errAlreadySent) || ctx.Err() != nil {
			return err
		}
		if permanent {
			if reason != "order_read" {
				w.failed.WithLabelValues(reason).Inc()
			}
			return err
		}
		w.failed.WithLabelValues(reason).Inc()
		log.Warn("order confirmation: try failed", "attempt", attempt, "reason", reason, "err", err, "retry_in", backoff)
		w.c.Sleep(ctx, backoff)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.retries.Inc()
		backoff = min(2*backoff, w.c.MaxBackoff)
	}
}

// retryN calls try up to n times, with the backoff between.
func (w *Worker) retryN(ctx context.Context, n int, try func() error) error {
	backoff := w.c.MinBackoff
	var err error
	for i := range n {
		if err = try(); err == nil {
			return nil
		}
		if i < n-1 {
			w.c.Sleep(ctx, backoff)
			backoff = min(2*backoff, w.c.MaxBackoff)
		}
	}
	return err
}

// keepAlive reports m in progress every KeepAlive until the returned
// function is called (it waits for the reporting goroutine to end).
func (w *Worker) keepAlive(ctx context.Context, m natsstream.Msg) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(w.c.KeepAlive)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := m.InProgress(ctx); err != nil {
					w.c.Log.Warn("report an order event in progress", "seq", m.Seq, "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
