package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/notify"
	"github.com/souq-commerce/souq/internal/notify/smtptest"
	"github.com/souq-commerce/souq/internal/souq"
)

// rig is a worker's world: an embedded NATS stream (ack wait one second,
// so a killed worker's event comes again soon), the orders it reads, and a
// loopback SMTP server.
type rig struct {
	t      *testing.T
	stream *natsstream.Stream
	marks  *natsstream.Marks
	smtp   *smtptest.Server
	orders *orderTable

	mu     sync.Mutex
	sleeps []time.Duration // backoffs the workers waited
}

// orderTable is the database as the worker sees it.
type orderTable struct {
	mu sync.Mutex
	m  map[souq.ID]souq.Order
}

func (o *orderTable) Order(_ context.Context, id souq.ID) (souq.Order, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ord, ok := o.m[id]
	if !ok {
		return souq.Order{}, souq.ErrNotFound
	}
	return ord, nil
}

func newRig(t *testing.T, configure func(*smtptest.Server)) *rig {
	t.Helper()
	s, err := natsstream.Open(t.Context(), natsstream.Options{StoreDir: filepath.Join(t.TempDir(), "nats"), AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	marks, err := s.Marks(t.Context(), notify.MarksName, notify.MarksTTL)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, stream: s, marks: marks, smtp: smtptest.Start(t, configure), orders: &orderTable{m: map[souq.ID]souq.Order{}}}
}

// worker starts a worker on the shared durable; it stops when the
// returned function is called (which waits for it) or the test ends.
func (r *rig) worker() (*prometheus.Registry, func()) {
	r.t.Helper()
	return r.workerWith(nil)
}

// workerWith is worker with the SMTP mailer wrapped by wrap (nil: as it
// is), which is given the function that stops the worker's context.
func (r *rig) workerWith(wrap func(notify.Mailer, context.CancelFunc) notify.Mailer) (*prometheus.Registry, func()) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.t.Context()))
	c, err := r.stream.SubjectConsumer(ctx, notify.Durable, notify.OrderSubject)
	if err != nil {
		r.t.Fatal(err)
	}
	smtp, err := notify.ParseSMTP(r.smtp.URL())
	if err != nil {
		r.t.Fatal(err)
	}
	var mailer notify.Mailer = smtp
	if wrap != nil {
		mailer = wrap(smtp, cancel)
	}
	w, err := notify.New(notify.Config{Consumer: c, Orders: r.orders, Marks: r.marks, Mailer: mailer,
		From: "Souq <orders@shop.example>", Now: func() time.Time { return time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC) },
		MinBackoff: time.Second, MaxBackoff: 3 * time.Second, KeepAlive: 200 * time.Millisecond,
		Sleep: func(_ context.Context, d time.Duration) {
			r.mu.Lock()
			r.sleeps = append(r.sleeps, d)
			r.mu.Unlock()
		},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		r.t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	w.Register(reg)
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	stop := func() { cancel(); <-done }
	r.t.Cleanup(stop)
	return reg, stop
}

// order stores an order and publishes its "Order Completed" event, and
// returns the order and the event's id.
func (r *rig) order(number string, lang souq.Lang, email string) (souq.Order, string) {
	r.t.Helper()
	o := souq.Order{ID: souq.NewID(souq.OrderPrefix), Number: number, Language: lang, Status: souq.StatusPlaced,
		Market: souq.SA, Currency: souq.SAR,
		Lines: []souq.OrderLine{{ProductID: "prd_1", SKU: "GLOW-1", Name: souq.Localized{EN: "Glow Serum SPF50+", AR: "سيروم التوهج SPF50+"},
			Quantity: 2, UnitPrice: 8900, LineTotal: 17800, VAT: 2322, VATBasisPoints: 1500}},
		Total: 17800, VAT: 2322,
		Customer:        souq.Customer{Name: "Mariam Al Qahtani", Email: email, Phone: "+966501234567"},
		ShippingAddress: souq.Address{Line1: "Building 7, King Fahd Road", Line2: "Call on arrival", Area: "Al Olaya", City: "Riyadh", Country: souq.SA},
		Payment:         souq.Payment{Method: souq.PayCashOnDelivery},
		CreatedAt:       time.Date(2026, 12, 6, 9, 29, 0, 0, time.UTC),
	}
	r.orders.mu.Lock()
	r.orders.m[o.ID] = o
	r.orders.mu.Unlock()
	ob, err := souq.NewOrderEvent(souq.EventOrderCompleted, o, o.CreatedAt)
	if err != nil {
		r.t.Fatal(err)
	}
	r.publish(ob.Payload, string(ob.ID))
	return o, string(ob.ID)
}

// publish appends an event's payload to the stream under message id msgID.
func (r *rig) publish(payload []byte, msgID string) {
	r.t.Helper()
	var ev souq.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.stream.PublishRaw(r.t.Context(), ev.Subject(), msgID, payload); err != nil {
		r.t.Fatal(err)
	}
}

// parts decodes a received message's plain-text and HTML parts.
func parts(t *testing.T, m smtptest.Received) (plain, html string) {
	t.Helper()
	_, params, err := mime.ParseMediaType(m.Msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(strings.NewReader(string(m.Body)), params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain"):
			plain = string(b)
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/html"):
			html = string(b)
		}
	}
	if plain == "" || html == "" {
		t.Fatalf("message: got plain %d bytes, html %d bytes; want both parts", len(plain), len(html))
	}
	return plain, html
}

func mustContain(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s: missing %q in\n%s", what, w, s)
		}
	}
}

// TestConfirmationSent: one e-mail per order, in the shopper's language,
// with its number, lines, totals and address; Arabic right to left.
func TestConfirmationSent(t *testing.T) {
	r := newRig(t, nil)
	reg, _ := r.worker()
	tests := []struct {
		lang                souq.Lang
		subject             string
		wantPlain, wantHTML []string
	}{
		{souq.English, "Your order SQ-7K4M2Q is confirmed",
			[]string{"Hello Mariam Al Qahtani,", "Thank you! Your order is confirmed.", "Order number: SQ-7K4M2Q", "Glow Serum SPF50+ (GLOW-1) × 2: SAR 178.00",
				"Order total: SAR 178.00", "VAT included (15%): SAR 23.22", "Cash on delivery", "Building 7, King Fahd Road", "Al Olaya, Riyadh", "Saudi Arabia", "Call on arrival"},
			[]string{`<html lang="en" dir="ltr">`, `<bdi dir="ltr" id="order-number">SQ-7K4M2Q</bdi>`}},
		{souq.Arabic, "تم تأكيد طلبك SQ-7K4M2R",
			[]string{"مرحبًا Mariam Al Qahtani،", "شكرًا لك! تم تأكيد طلبك.", "رقم الطلب: \u2068SQ-7K4M2R\u2069", "سيروم التوهج \u2066SPF50+\u2069 (\u2068GLOW-1\u2069) × ٢",
				"\u2068١٧٨٫٠٠ ر.س.\u2069", "(١٥٪)", "الدفع عند الاستلام", "Al Olaya، الرياض", "المملكة العربية السعودية"},
			[]string{`<html lang="ar" dir="rtl">`, `<body dir="rtl"`, `<bdi dir="ltr" id="order-number">SQ-7K4M2R</bdi>`, `سيروم التوهج <bdi dir="ltr">SPF50+</bdi>`, "<bdi>١٧٨٫٠٠ ر.س.</bdi>"}},
	}
	for i, tt := range tests {
		t.Run(string(tt.lang), func(t *testing.T) {
			number := []string{"SQ-7K4M2Q", "SQ-7K4M2R"}[i]
			_, evID := r.order(number, tt.lang, "mariam@example.sa")
			m := r.smtp.Wait()
			if m.From != "orders@shop.example" || m.To != "mariam@example.sa" {
				t.Errorf("envelope: got %s → %s, want orders@shop.example → mariam@example.sa", m.From, m.To)
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(m.Msg.Header.Get("Subject"))
			if err != nil || subject != tt.subject {
				t.Errorf("subject: got %q (%v), want %q", subject, err, tt.subject)
			}
			if got, want := m.Msg.Header.Get("Message-ID"), "<order-confirmation."+evID+"@shop.example>"; got != want {
				t.Errorf("Message-ID: got %q, want %q", got, want)
			}
			if got := m.Msg.Header.Get("Content-Language"); got != string(tt.lang) {
				t.Errorf("Content-Language: got %q, want %s", got, tt.lang)
			}
			plain, html := parts(t, m)
			mustContain(t, "plain text", plain, tt.wantPlain...)
			mustContain(t, "html", html, tt.wantHTML...)
		})
	}
	waitMetric(t, reg, "souq_email_sent_total", "", 2)
}

// metric reads a counter from reg: the series whose reason label is reason
// ("" for a counter without labels); 0 when there is none.
func metric(t *testing.T, reg *prometheus.Registry, name, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					got = l.GetValue()
				}
			}
			if got == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// waitMetric waits until a counter reaches want (the worker counts an
// e-mail just after the server has accepted it), failing after a while.
func waitMetric(t *testing.T, reg *prometheus.Registry, name, reason string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := metric(t, reg, name, reason)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s{reason=%q}: got %v, want %v", name, reason, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRedeliveredEventSentOnce: an event that comes again (the relay
// published it twice, outside the stream's duplicate window) sends no
// second e-mail; an order without an e-mail address, or with one at a
// domain reserved for examples (the demo's shoppers), sends none.
func TestRedeliveredEventSentOnce(t *testing.T) {
	r := newRig(t, nil)
	reg, _ := r.worker()
	o, evID := r.order("SQ-AAAAAA", souq.English, "first@example.ae")
	if got := r.smtp.Wait(); got.To != "first@example.ae" {
		t.Fatalf("first e-mail: got it to %s", got.To)
	}
	ev, err := souq.NewOrderEvent(souq.EventOrderCompleted, o, o.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	// The same event (its id in the payload), under another stream id.
	payload := []byte(strings.ReplaceAll(string(ev.Payload), string(ev.ID), evID))
	r.publish(payload, "republished-"+evID)
	r.order("SQ-BBBBBB", souq.English, "")
	r.order("SQ-BBBBBC", souq.English, "simulated42@example.com")
	r.order("SQ-CCCCCC", souq.Arabic, "last@example.ae")
	if got := r.smtp.Wait(); got.To != "last@example.ae" {
		t.Fatalf("next e-mail: got it to %s, want last@example.ae (the redelivered event sent again?)", got.To)
	}
	if n := r.smtp.Count(); n != 2 {
		t.Errorf("e-mails accepted: got %d, want 2", n)
	}
	waitMetric(t, reg, "souq_email_skipped_total", "already_sent", 1)
	waitMetric(t, reg, "souq_email_skipped_total", "no_email", 1)
	waitMetric(t, reg, "souq_email_skipped_total", "reserved_domain", 1)
	waitMetric(t, reg, "souq_email_sent_total", "", 2)
}

// TestFailingServerRetried: a server that answers 451 three times is tried
// again with doubling, capped waits, and the e-mail then goes once.
func TestFailingServerRetried(t *testing.T) {
	r := newRig(t, func(s *smtptest.Server) { s.FailData = 3 })
	reg, _ := r.worker()
	r.order("SQ-DDDDDD", souq.Arabic, "retry@example.ae")
	m := r.smtp.Wait()
	if got := m.Msg.Header.Get("Content-Language"); got != "ar" {
		t.Errorf("Content-Language: got %q, want ar", got)
	}
	waitMetric(t, reg, "souq_email_sent_total", "", 1)
	if got := metric(t, reg, "souq_email_failed_total", "data_4xx"); got != 3 {
		t.Errorf("souq_email_failed_total{reason=data_4xx}: got %v, want 3", got)
	}
	if got := metric(t, reg, "souq_email_retries_total", ""); got != 3 {
		t.Errorf("souq_email_retries_total: got %v, want 3", got)
	}
	r.mu.Lock()
	got := fmt.Sprint(r.sleeps)
	r.mu.Unlock()
	if want := "[1s 2s 3s]"; got != want {
		t.Errorf("backoff: got %s, want %s (doubling, capped at 3s)", got, want)
	}
	if n := r.smtp.Count(); n != 1 {
		t.Errorf("e-mails accepted: got %d, want 1", n)
	}
}

// TestRefusedRecipient: a recipient the server refuses for good (550) is
// given up, counted, and does not hold up the e-mails behind it.
func TestRefusedRecipient(t *testing.T) {
	r := newRig(t, func(s *smtptest.Server) { s.Reject["nobody@example.ae"] = true })
	reg, _ := r.worker()
	r.order("SQ-EEEEEE", souq.English, "nobody@example.ae")
	r.order("SQ-FFFFFF", souq.English, "next@example.ae")
	if got := r.smtp.Wait(); got.To != "next@example.ae" {
		t.Fatalf("e-mail: got it to %s, want next@example.ae", got.To)
	}
	waitMetric(t, reg, "souq_email_failed_total", "gave_up", 1)
	if got := metric(t, reg, "souq_email_failed_total", "rcpt_5xx"); got != 1 {
		t.Errorf("souq_email_failed_total{reason=rcpt_5xx}: got %v, want 1", got)
	}
}

// TestWorkerKilledMidSend: a worker stopped after it sent DATA, before the
// server accepted the message, leaves its event unacknowledged; a new
// worker on the same consumer gets it again and sends the e-mail.
func TestWorkerKilledMidSend(t *testing.T) {
	r := newRig(t, func(s *smtptest.Server) { s.HoldData = true })
	_, stop := r.worker()
	_, evID := r.order("SQ-GGGGGG", souq.English, "again@example.ae")
	select {
	case <-r.smtp.DataStarted():
	case <-time.After(20 * time.Second):
		t.Fatal("the first worker never reached DATA")
	}
	stop() // its context ends mid-send: the connection is closed, nothing acknowledged
	if n := r.smtp.Count(); n != 0 {
		t.Fatalf("e-mails accepted from the stopped worker: got %d, want 0", n)
	}
	reg, _ := r.worker()
	m := r.smtp.Wait()
	if got, want := m.Msg.Header.Get("Message-ID"), "<order-confirmation."+evID+"@shop.example>"; got != want {
		t.Errorf("Message-ID: got %q, want %q", got, want)
	}
	waitMetric(t, reg, "souq_email_sent_total", "", 1)
	if n := r.smtp.Count(); n != 1 {
		t.Errorf("e-mails accepted: got %d, want 1", n)
	}
}

// stopAfterSend is a mailer whose process is told to stop the moment the
// server has accepted a message.
type stopAfterSend struct {
	notify.Mailer
	stop     context.CancelFunc
	returned chan error // the send's outcome, once the stop is given
}

func (m stopAfterSend) Send(ctx context.Context, msg notify.Message) error {
	err := m.Mailer.Send(ctx, msg)
	m.stop()
	m.returned <- err
	return err
}

// TestStoppedJustAfterSend: a worker told to stop just after the SMTP
// server accepted the e-mail still marks it sent, so the next worker does
// not send it again.
func TestStoppedJustAfterSend(t *testing.T) {
	r := newRig(t, nil)
	returned := make(chan error, 1)
	_, stop := r.workerWith(func(m notify.Mailer, cancel context.CancelFunc) notify.Mailer {
		return stopAfterSend{m, cancel, returned}
	})
	_, evID := r.order("SQ-HHHHHH", souq.English, "once@example.ae")
	r.smtp.Wait()
	if err := <-returned; err != nil {
		t.Fatalf("send: %v", err)
	}
	stop() // waits for the worker, already told to stop
	if sent, err := r.marks.Has(t.Context(), evID); err != nil || !sent {
		t.Fatalf("after a stop just after the send: marked %v (%v), want the e-mail marked sent", sent, err)
	}
	// The next worker sends the next order's e-mail, and not this one's
	// again: when it has sent that one, the server has two.
	r.worker()
	r.order("SQ-JJJJJJ", souq.English, "next@example.ae")
	if m := r.smtp.Wait(); !strings.Contains(m.Msg.Header.Get("To"), "next@example.ae") {
		t.Errorf("the next e-mail went to %q, want next@example.ae (the first sent again?)", m.Msg.Header.Get("To"))
	}
	if n := r.smtp.Count(); n != 2 {
		t.Errorf("e-mails accepted: got %d, want 2", n)
	}
}

func TestParseSMTP(t *testing.T) {
	tests := []struct {
		url, want string
		ok        bool
	}{
		{"smtp://mail.example.ae", "smtp://mail.example.ae:587", true},
		{"smtp://user%40shop:p%40ss@mail.example.ae:2525", "smtp://user%40shop@mail.example.ae:2525", true},
		{"smtps://mail.example.ae", "smtps://mail.example.ae:465", true},
		{"http://mail.example.ae", "", false},
		{"smtp://", "", false},
		{"smtp://mail.example.ae/inbox", "", false},
		{"smtp://mail.example.ae?tls=no", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s, err := notify.ParseSMTP(tt.url)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseSMTP(%q): got error %v, want ok %v", tt.url, err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, notify.ErrInvalidURL) {
					t.Errorf("error: got %v, want ErrInvalidURL", err)
				}
				return
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String: got %q, want %q (no password)", got, tt.want)
			}
		})
	}
}

// TestSMTPAuth: with a user in the URL, the worker logs in (PLAIN, allowed
// without TLS only on the loopback) and the server takes the e-mail.
func TestSMTPAuth(t *testing.T) {
	d := smtptest.Start(t, func(s *smtptest.Server) { s.User = "orders" })
	s, err := notify.ParseSMTP(d.URL())
	if err != nil {
		t.Fatal(err)
	}
	msg := notify.Message{From: "orders@shop.example", To: "a@example.ae", ID: "x@shop.example",
		Data: []byte("Subject: hi\r\n\r\nhello\r\n")}
	if err := s.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := d.Wait(); string(got.Body) != "hello\n" {
		t.Errorf("body: got %q, want hello", got.Body)
	}
	bad, _ := notify.ParseSMTP(strings.Replace(d.URL(), ":secret@", ":wrong@", 1))
	err = bad.Send(t.Context(), msg)
	var se *notify.SendError
	if !errors.As(err, &se) || se.Reason() != "auth_5xx" || se.Permanent() {
		t.Errorf("Send with a wrong password: got %v, want an auth_5xx SendError that is not permanent", err)
	}
}
