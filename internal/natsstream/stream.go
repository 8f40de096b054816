package natsstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	json "github.com/segmentio/encoding/json"

	"github.com/souq-commerce/souq/internal/souq"
)

// Defaults applied by Open to zero Options fields.
const (
	DefaultStream           = "SOUQ_EVENTS"
	DefaultDeadLetterStream = "SOUQ_DEADLETTERS"
	DefaultMaxAge           = 7 * 24 * time.Hour
	DefaultMaxBytes         = int64(10 << 30) // 10 GiB
	DefaultDuplicateWindow  = 10 * time.Minute
	DefaultAckWait          = 30 * time.Second
)

// DeadLetterPrefix is the subject dead letters are published under:
// souq.deadletters.<suffix>.
const DeadLetterPrefix = "souq.deadletters"

// ReasonHeader is the header of a dead letter that says why it was rejected.
const ReasonHeader = "Souq-Reason"

// Tuning that callers have no reason to change.
const (
	asyncMaxPending = 16384            // async publishes awaiting an ack, per connection
	asyncStallWait  = 5 * time.Second  // how long an async publish waits for room
	asyncAckTimeout = 30 * time.Second // an async ack not received by then fails
	apiTimeout      = 10 * time.Second // JetStream API calls without a deadline
	startTimeout    = 30 * time.Second // embedded server readiness without a deadline
	consumerMaxAck  = 20000            // a consumer's unacknowledged messages
)

// Errors returned by this package; check them with errors.Is.
var (
	// ErrNoMessageID: an event or message without an id cannot be
	// deduplicated, so it is not published.
	ErrNoMessageID = errors.New("natsstream: no message id")
	// ErrInvalidSubject: a subject or subject suffix that NATS would
	// reject or read as a wildcard.
	ErrInvalidSubject = errors.New("natsstream: invalid subject")
	// ErrInvalidEvent: a message whose data is not a souq.Event.
	ErrInvalidEvent = errors.New("natsstream: invalid event")
	// ErrInvalidOptions: Options that Open cannot use.
	ErrInvalidOptions = errors.New("natsstream: invalid options")
	// ErrStoreDirInUse: another embedded server holds the store directory.
	ErrStoreDirInUse = errors.New("natsstream: store directory in use by another Souq")
)

// Options configure Open. Zero values take the defaults named on each field.
type Options struct {
	// URL of an external NATS server or cluster ("nats://host:4222", or
	// several separated by commas); "" starts an embedded server.
	URL string
	// StoreDir is the embedded server's JetStream directory (required when
	// URL is ""). Open locks it (ErrStoreDirInUse while another Stream
	// holds it) until Close.
	StoreDir string
	// Stream is the events stream's name; default "SOUQ_EVENTS", or
	// "<NAMESPACE>_SOUQ_EVENTS" with a Namespace.
	Stream string
	// DeadLetterStream is the dead-letter stream's name; default
	// "SOUQ_DEADLETTERS", or "<NAMESPACE>_SOUQ_DEADLETTERS".
	DeadLetterStream string
	// Namespace, when set, isolates this Souq from others sharing a NATS
	// server: every subject gets the prefix "<namespace>." (so the events
	// stream holds "staging.souq.events.>") and the default stream names
	// the prefix "<NAMESPACE>_". Msg.Subject is reported without it.
	// Letters, digits, '-' and '_'.
	Namespace string
	// MaxAge is how long a message is kept; default 7 days, negative for
	// no limit.
	MaxAge time.Duration
	// MaxBytes is the size a stream may reach before its oldest messages
	// are discarded; default 10 GiB, -1 for no limit. Creating the stream
	// fails if the server cannot reserve it.
	MaxBytes int64
	// DuplicateWindow is how long the stream remembers message ids to drop
	// duplicates; default 10 minutes (at most MaxAge; the default is
	// lowered to MaxAge, a larger explicit value is an error).
	DuplicateWindow time.Duration
	// AckWait is how long a consumer waits for an ack before redelivering
	// a message; default 30 seconds.
	AckWait time.Duration
	// Replicas is the number of copies of each stream on an external
	// cluster; default 1. The embedded server supports only 1. Open
	// creates the streams with it, or updates existing ones to it (the
	// cluster moves the data; going from 1 to 3 needs three servers).
	Replicas int
	// CredsFile (external only) is a NATS credentials file (a user JWT
	// and its NKey seed) to connect with.
	CredsFile string
	// RootCAs (external only) are PEM files of the certificate
	// authorities that sign the servers' TLS certificates; set, the
	// connection requires TLS. ClientCert and ClientKey are a client
	// certificate and key for servers that verify clients.
	RootCAs               []string
	ClientCert, ClientKey string
	// SyncAlways (embedded only) makes the server fsync every message
	// before acknowledging it; see the package documentation for what
	// each choice survives.
	SyncAlways bool
	// SyncInterval (embedded only), when SyncAlways is off, is how often
	// the server flushes the stream's files to the disk; zero keeps the
	// server's default (2 minutes). A power loss can lose at most about
	// this much of acknowledged messages; a process crash loses none.
	SyncInterval time.Duration
	// Listen (embedded only) is "host:port" on which the embedded server
	// accepts clients (port 0 picks a free port); "" opens no port.
	Listen string
	// Logger receives the embedded server's warnings and errors and this
	// package's messages; nil discards them.
	Logger *slog.Logger
}

var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// resolve returns the options with defaults applied, or an error naming
// the first invalid value.
func (o Options) resolve() (Options, error) {
	if o.Namespace != "" && !namespacePattern.MatchString(o.Namespace) {
		return o, fmt.Errorf("%w: namespace %q: letters, digits, '-' and '_' only", ErrInvalidOptions, o.Namespace)
	}
	prefix := ""
	if o.Namespace != "" {
		prefix = strings.ToUpper(o.Namespace) + "_"
	}
	if o.Stream == "" {
		o.Stream = prefix + DefaultStream
	}
	if o.DeadLetterStream == "" {
		o.DeadLetterStream = prefix + DefaultDeadLetterStream
	}
	if o.Stream == o.DeadLetterStream {
		return o, fmt.Errorf("%w: events and dead letters need two streams, both are named %q", ErrInvalidOptions, o.Stream)
	}
	switch {
	case o.MaxAge == 0:
		o.MaxAge = DefaultMaxAge
	case o.MaxAge < 0:
		o.MaxAge = 0 // NATS: no limit
	}
	switch {
	case o.MaxBytes == 0:
		o.MaxBytes = DefaultMaxBytes
	case o.MaxBytes < -1:
		return o, fmt.Errorf("%w: max bytes %d: want -1 (no limit) or more than 0", ErrInvalidOptions, o.MaxBytes)
	}
	switch {
	case o.DuplicateWindow < 0:
		return o, fmt.Errorf("%w: negative duplicate window %s", ErrInvalidOptions, o.DuplicateWindow)
	case o.DuplicateWindow == 0:
		o.DuplicateWindow = DefaultDuplicateWindow
		if o.MaxAge > 0 {
			o.DuplicateWindow = min(o.DuplicateWindow, o.MaxAge)
		}
	case o.MaxAge > 0 && o.DuplicateWindow > o.MaxAge:
		return o, fmt.Errorf("%w: duplicate window %s exceeds max age %s", ErrInvalidOptions, o.DuplicateWindow, o.MaxAge)
	}
	switch {
	case o.AckWait == 0:
		o.AckWait = DefaultAckWait
	case o.AckWait < 0:
		return o, fmt.Errorf("%w: negative ack wait %s", ErrInvalidOptions, o.AckWait)
	}
	switch {
	case o.Replicas == 0:
		o.Replicas = 1
	case o.Replicas < 0 || o.Replicas > 5:
		return o, fmt.Errorf("%w: replicas %d: want 1 to 5", ErrInvalidOptions, o.Replicas)
	}
	if o.URL == "" {
		if o.StoreDir == "" {
			return o, fmt.Errorf("%w: the embedded server needs a store directory", ErrInvalidOptions)
		}
		if o.Replicas != 1 {
			return o, fmt.Errorf("%w: the embedded server keeps one replica, not %d", ErrInvalidOptions, o.Replicas)
		}
		if o.CredsFile != "" || len(o.RootCAs) > 0 || o.ClientCert != "" || o.ClientKey != "" {
			return o, fmt.Errorf("%w: credentials and TLS apply to an external server only", ErrInvalidOptions)
		}
	} else if o.Listen != "" || o.SyncAlways {
		return o, fmt.Errorf("%w: Listen and SyncAlways apply to the embedded server only; configure the server at %s", ErrInvalidOptions, o.URL)
	}
	if (o.ClientCert == "") != (o.ClientKey == "") {
		return o, fmt.Errorf("%w: a client certificate and its key go together", ErrInvalidOptions)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Stream is a connection to Souq's two streams. It is safe for concurrent
// use.
type Stream struct {
	opts   Options // resolved
	log    *slog.Logger
	prefix string // "<namespace>." or ""

	srv    *server.Server // the embedded server; nil when external
	unlock func() error   // releases the store directory's lock
	nc     *nats.Conn
	js     jetstream.JetStream

	closed    chan struct{} // closed by the connection's ClosedHandler
	closeOnce sync.Once
	closeErr  error
}

// Ack is the stream's acknowledgement of a published message.
type Ack struct {
	// Seq is the message's stream sequence; for a duplicate, the sequence
	// of the copy already stored.
	Seq uint64
	// Duplicate reports that a message with the same id was stored within
	// the duplicate window, so this one was dropped.
	Duplicate bool
}

// Info describes the events stream.
type Info struct {
	Msgs     uint64 // messages held
	Bytes    uint64 // their size
	FirstSeq uint64 // sequence of the oldest message held
	LastSeq  uint64 // sequence of the newest message ever stored
	// DeadLetters is the number of messages in the dead-letter stream.
	DeadLetters uint64
}

// Open connects to the streams (starting the embedded server when
// opt.URL is ""), creating them or updating their limits, and returns the
// connection. The caller must Close it.
func Open(ctx context.Context, opt Options) (*Stream, error) {
	o, err := opt.resolve()
	if err != nil {
		return nil, err
	}
	s := &Stream{opts: o, log: o.Logger.With("component", "natsstream"), closed: make(chan struct{})}
	if o.Namespace != "" {
		s.prefix = o.Namespace + "."
	}
	url := o.URL
	nopts := []nats.Option{
		nats.Name("souq"),
		nats.MaxReconnects(-1),
		nats.ClosedHandler(func(*nats.Conn) { close(s.closed) }),
	}
	if o.CredsFile != "" {
		nopts = append(nopts, nats.UserCredentials(o.CredsFile))
	}
	if len(o.RootCAs) > 0 {
		nopts = append(nopts, nats.RootCAs(o.RootCAs...))
	}
	if o.ClientCert != "" {
		nopts = append(nopts, nats.ClientCert(o.ClientCert, o.ClientKey))
	}
	if o.URL == "" {
		if s.srv, s.unlock, err = startServer(ctx, o, o.Logger); err != nil {
			return nil, err
		}
		url = s.srv.ClientURL()
		nopts = append(nopts, nats.InProcessServer(s.srv))
	}
	if s.nc, err = nats.Connect(url, nopts...); err != nil {
		return nil, errors.Join(fmt.Errorf("natsstream: connect: %w", err), s.stopServer())
	}
	s.js, err = jetstream.New(s.nc,
		jetstream.WithPublishAsyncMaxPending(asyncMaxPending),
		jetstream.WithPublishAsyncTimeout(asyncAckTimeout),
		jetstream.WithDefaultTimeout(apiTimeout))
	if err == nil {
		err = s.createStreams(ctx)
	}
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.log.Info("stream open", "embedded", s.srv != nil, "stream", o.Stream,
		"sync_always", o.SyncAlways, "max_age", o.MaxAge, "max_bytes", o.MaxBytes)
	return s, nil
}

// createStreams creates the events and dead-letter streams or updates
// them to the configured limits.
func (s *Stream) createStreams(ctx context.Context) error {
	for _, c := range []struct{ name, subject string }{
		{s.opts.Stream, souq.SubjectPrefix},
		{s.opts.DeadLetterStream, DeadLetterPrefix},
	} {
		cfg := jetstream.StreamConfig{
			Name:        c.name,
			Description: "Souq " + c.subject,
			Subjects:    []string{s.prefix + c.subject + ".>"},
			Storage:     jetstream.FileStorage,
			Retention:   jetstream.LimitsPolicy,
			Discard:     jetstream.DiscardOld,
			MaxAge:      s.opts.MaxAge,
			MaxBytes:    s.opts.MaxBytes,
			MaxMsgs:     -1,
			Duplicates:  s.opts.DuplicateWindow,
			Replicas:    s.opts.Replicas,
			PersistMode: jetstream.DefaultPersistMode,
		}
		if _, err := s.js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("natsstream: create stream %s: %w", c.name, err)
		}
	}
	return nil
}

// ClientURL is the URL other processes can connect to the embedded server
// at when Options.Listen is set, else "".
func (s *Stream) ClientURL() string {
	if s.srv == nil || s.opts.Listen == "" {
		return ""
	}
	return s.srv.ClientURL()
}

// Publish publishes ev on ev.Subject() with ev.MessageID as the message id
// and waits for the stream's ack.
func (s *Stream) Publish(ctx context.Context, ev souq.Event) (Ack, error) {
	m, err := eventMsg(ev)
	if err != nil {
		return Ack{}, err
	}
	return s.PublishRaw(ctx, m.Subject, m.MsgID, m.Data)
}

// PublishRaw publishes already-encoded data (a souq.Event in JSON) on
// subject with msgID as the message id and waits for the stream's ack.
func (s *Stream) PublishRaw(ctx context.Context, subject, msgID string, data []byte) (Ack, error) {
	m, err := s.natsMsg(RawMsg{Subject: subject, MsgID: msgID, Data: data})
	if err != nil {
		return Ack{}, err
	}
	pa, err := s.js.PublishMsg(ctx, m, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(s.opts.Stream))
	if err != nil {
		return Ack{}, fmt.Errorf("natsstream: publish %s: %w", msgID, err)
	}
	return Ack{Seq: pa.Sequence, Duplicate: pa.Duplicate}, nil
}

// RawMsg is an encoded event to publish.
type RawMsg struct {
	Subject string // under souq.events
	MsgID   string // the event id
	Data    []byte // the souq.Event in JSON
}

// PublishResult is the outcome of one message of a batch: an Ack, or the
// error that kept it from being acknowledged. A message with an error may
// still have been stored (its ack was lost); publishing it again with the
// same id within the duplicate window stores it at most once.
type PublishResult struct {
	Ack Ack
	Err error
}

// PublishEvents is PublishBatch for callers that need to know only which
// events failed: nil and nil when every event was acknowledged; else one
// error per event (nil for those acknowledged) and nil, or, when the batch
// failed as a whole, nil and the error.
func (s *Stream) PublishEvents(ctx context.Context, evs []souq.Event) ([]error, error) {
	res, err := s.PublishBatch(ctx, evs)
	if err == nil {
		return nil, nil
	}
	if len(res) != len(evs) {
		return nil, err
	}
	errs := make([]error, len(res))
	for i, r := range res {
		errs[i] = r.Err
	}
	return errs, nil
}

// PublishBatch publishes the events without waiting between them and then
// waits for every ack, so a batch costs about one round trip. It returns
// one result per event, in order, when each is acknowledged or has failed,
// and an error when at least one failed.
func (s *Stream) PublishBatch(ctx context.Context, evs []souq.Event) ([]PublishResult, error) {
	msgs := make([]RawMsg, len(evs))
	bad := make([]error, len(evs))
	for i, ev := range evs {
		msgs[i], bad[i] = eventMsg(ev)
	}
	return s.publishBatch(ctx, msgs, bad)
}

// PublishRawBatch is PublishBatch for already-encoded events.
func (s *Stream) PublishRawBatch(ctx context.Context, msgs []RawMsg) ([]PublishResult, error) {
	return s.publishBatch(ctx, msgs, make([]error, len(msgs)))
}

// publishBatch publishes msgs[i] unless bad[i] is set.
func (s *Stream) publishBatch(ctx context.Context, msgs []RawMsg, bad []error) ([]PublishResult, error) {
	results := make([]PublishResult, len(msgs))
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, rm := range msgs {
		if bad[i] != nil {
			results[i].Err = bad[i]
			continue
		}
		m, err := s.natsMsg(rm)
		if err == nil {
			futures[i], err = s.js.PublishMsgAsync(m, jetstream.WithMsgID(rm.MsgID),
				jetstream.WithExpectStream(s.opts.Stream), jetstream.WithStallWait(asyncStallWait))
		}
		if err != nil {
			results[i].Err = fmt.Errorf("natsstream: publish %s: %w", rm.MsgID, err)
		}
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case pa := <-f.Ok():
			results[i].Ack = Ack{Seq: pa.Sequence, Duplicate: pa.Duplicate}
		case err := <-f.Err():
			results[i].Err = fmt.Errorf("natsstream: publish %s: %w", msgs[i].MsgID, err)
		case <-ctx.Done():
			results[i].Err = fmt.Errorf("natsstream: publish %s: %w", msgs[i].MsgID, context.Cause(ctx))
		}
	}
	var (
		failed int
		first  error
	)
	for _, r := range results {
		if r.Err != nil {
			if failed == 0 {
				first = r.Err
			}
			failed++
		}
	}
	if failed > 0 {
		return results, fmt.Errorf("%d of %d messages not acknowledged, first: %w", failed, len(msgs), first)
	}
	return results, nil
}

// DeadLetter stores raw, which could not be accepted, on
// souq.deadletters.<subjectSuffix> with reason in the Souq-Reason header,
// and waits for the ack. subjectSuffix is one or more subject tokens
// ("collector", "processor.decode").
func (s *Stream) DeadLetter(ctx context.Context, subjectSuffix string, raw []byte, reason string) error {
	if !validSubject(subjectSuffix) {
		return fmt.Errorf("%w: dead-letter suffix %q", ErrInvalidSubject, subjectSuffix)
	}
	m := nats.NewMsg(s.prefix + DeadLetterPrefix + "." + subjectSuffix)
	m.Data = raw
	m.Header.Set(ReasonHeader, headerValue(reason))
	if _, err := s.js.PublishMsg(ctx, m, jetstream.WithExpectStream(s.opts.DeadLetterStream)); err != nil {
		return fmt.Errorf("natsstream: dead letter %s: %w", subjectSuffix, err)
	}
	return nil
}

// Info reports the events stream's state and the number of dead letters.
func (s *Stream) Info(ctx context.Context) (Info, error) {
	st, err := s.js.Stream(ctx, s.opts.Stream)
	if err != nil {
		return Info{}, fmt.Errorf("natsstream: info %s: %w", s.opts.Stream, err)
	}
	dl, err := s.js.Stream(ctx, s.opts.DeadLetterStream)
	if err != nil {
		return Info{}, fmt.Errorf("natsstream: info %s: %w", s.opts.DeadLetterStream, err)
	}
	state := st.CachedInfo().State
	return Info{
		Msgs: state.Msgs, Bytes: state.Bytes, FirstSeq: state.FirstSeq, LastSeq: state.LastSeq,
		DeadLetters: dl.CachedInfo().State.Msgs,
	}, nil
}

// eventsFilter is the subject filter of every event in the events stream.
func (s *Stream) eventsFilter() string { return s.prefix + souq.SubjectPrefix + ".>" }

// NextHeld returns the sequence of the first event the stream holds at or
// after from, and false when it holds none. A consumer that reads the
// stream in sequence uses it to tell a lost delivery (the stream holds
// the sequence it expected) from sequences the stream no longer has
// (expired under its limits, or deleted).
func (s *Stream) NextHeld(ctx context.Context, from uint64) (uint64, bool, error) {
	st, err := s.js.Stream(ctx, s.opts.Stream)
	if err != nil {
		return 0, false, fmt.Errorf("natsstream: stream %s: %w", s.opts.Stream, err)
	}
	m, err := st.GetMsg(ctx, max(from, 1), jetstream.WithGetMsgSubject(s.eventsFilter()))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("natsstream: message at or after %d: %w", from, err)
	}
	return m.Sequence, true, nil
}

// Close drains the connection (publishes in flight finish, fetches end),
// then shuts the embedded server down and waits for it, which syncs its
// files. Calls after the first return the first's result.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		if s.nc != nil {
			if err := s.nc.Drain(); err != nil {
				s.nc.Close()
			}
			<-s.closed
		}
		s.closeErr = s.stopServer()
	})
	return s.closeErr
}

// stopServer shuts the embedded server down, if any, waits for it and
// releases its store directory.
func (s *Stream) stopServer() error {
	if s.srv == nil {
		return nil
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	if err := s.unlock(); err != nil {
		return fmt.Errorf("natsstream: unlock store directory: %w", err)
	}
	return nil
}

// eventMsg encodes ev for publishing.
func eventMsg(ev souq.Event) (RawMsg, error) {
	if ev.MessageID == "" {
		return RawMsg{}, fmt.Errorf("%w: %s event %q", ErrNoMessageID, ev.Type, ev.Event)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return RawMsg{}, fmt.Errorf("%w: encode %s: %w", ErrInvalidEvent, ev.MessageID, err)
	}
	return RawMsg{Subject: ev.Subject(), MsgID: ev.MessageID, Data: data}, nil
}

// natsMsg checks rm and builds the NATS message, its subject in the
// namespace.
func (s *Stream) natsMsg(rm RawMsg) (*nats.Msg, error) {
	if rm.MsgID == "" {
		return nil, fmt.Errorf("%w: message on %s", ErrNoMessageID, rm.Subject)
	}
	if !strings.HasPrefix(rm.Subject, souq.SubjectPrefix+".") || !validSubject(rm.Subject) {
		return nil, fmt.Errorf("%w: %q is not a subject under %s", ErrInvalidSubject, rm.Subject, souq.SubjectPrefix)
	}
	m := nats.NewMsg(s.prefix + rm.Subject)
	m.Data = rm.Data
	return m, nil
}

// validSubject reports whether subject is one or more non-empty tokens
// without wildcards or white space.
func validSubject(subject string) bool {
	if subject == "" {
		return false
	}
	for tok := range strings.SplitSeq(subject, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n*>") {
			return false
		}
	}
	return true
}

// headerValue makes s safe as a header value: one line, not empty.
func headerValue(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "unspecified"
	}
	return s
}

// Ready reports whether the stream can be used: the connection is up and
// the server answers for the events stream (a stream without a quorum of
// its replicas does not). It makes one round trip.
func (s *Stream) Ready(ctx context.Context) error {
	if !s.nc.IsConnected() {
		return fmt.Errorf("natsstream: not connected (%s)", s.nc.Status())
	}
	if _, err := s.js.Stream(ctx, s.opts.Stream); err != nil {
		return fmt.Errorf("natsstream: stream %s: %w", s.opts.Stream, err)
	}
	return nil
}
