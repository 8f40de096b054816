package archive

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Bucket is the blob store the archive lives in: fileblob.Dir locally, S3
// at scale. Put must be atomic (a reader sees the old value or the new one,
// whole) and durable when it returns; Get of a missing key returns an error
// wrapping fs.ErrNotExist; List returns the keys starting with prefix in
// byte order; Delete of a missing key succeeds.
type Bucket interface {
	Put(ctx context.Context, key string, data []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
	List(ctx context.Context, prefix string) ([]string, error)
	Delete(ctx context.Context, key string) error
}

var (
	// ErrArchived reports that Add was given a sequence at or below the
	// highest committed one: the message is already in the archive, and the
	// consumer should acknowledge it without archiving it again.
	ErrArchived = errors.New("already archived")
	// ErrGap reports a sequence after the next one the Writer expects
	// (Writer.Next): the messages between them have not been added. The
	// consumer must read the stream again from Next, or, when the stream
	// no longer holds those sequences, record them with Writer.Skip. A
	// Writer never commits a range it does not hold whole.
	ErrGap = errors.New("stream sequence gap")
	// ErrRejected reports a redelivery of a sequence already pending as
	// rejected: the consumer dead-lettered it the first time, and holds
	// it for the acknowledgement after the next Flush, like any pending
	// message, without dead-lettering it again.
	ErrRejected = errors.New("rejected before, pending")
	// ErrOutOfOrder reports a sequence below Next that is neither
	// committed nor pending: one that Skip recorded as absent from the
	// stream.
	ErrOutOfOrder = errors.New("stream sequence out of order")
	// ErrInvalidEvent reports an event the archive cannot store (no message
	// id, no type, no event time, JSON fields that are not JSON). The
	// consumer should dead-letter it.
	ErrInvalidEvent = errors.New("invalid event")
	// ErrNotRecovered is returned by Add until Recover has succeeded.
	ErrNotRecovered = errors.New("archive writer not recovered")
	// ErrCorrupt reports an archive file or manifest that does not match
	// what its manifest promises.
	ErrCorrupt = errors.New("archive corrupt")
)

// Defaults for Options (and for souq serve's --archive-max-age and
// --archive-max-rows). With MaxAge at 10s an event reaches the archive
// within about ten seconds plus one flush, well inside the stream's
// default ack wait (30 s), so a pending message is not redelivered.
// MaxRows must not exceed the number of unacknowledged messages the stream
// lets the consumer hold (natsstream allows 20,000), or batches can only
// end by age.
const (
	DefaultMaxRows  = 10_000
	DefaultMaxBytes = 32 << 20
	DefaultMaxAge   = 10 * time.Second
)

// Options bound a batch: the Writer is Due when any bound is reached, like
// Firehose's buffering hints. Zero values take the defaults.
type Options struct {
	MaxRows  int              // rows per batch
	MaxBytes int              // approximate bytes per batch before compression (files are several times smaller)
	MaxAge   time.Duration    // age of the oldest pending event
	Now      func() time.Time // the clock; time.Now if nil
}

// Writer batches events and writes each batch as Parquet files plus a
// manifest. It is safe for concurrent use; Flush holds the Writer (and
// blocks Add) while it writes.
//
// One Writer, in one process, writes an archive at a time (see the package
// documentation).
//
// The consumer's loop: call Recover once at start; Add each delivered
// message (nil: acknowledge it after the next successful Flush; ErrArchived:
// acknowledge it now; ErrInvalidEvent: dead-letter it; any other error: do
// not acknowledge); call Flush whenever Due reports true (or at shutdown),
// and acknowledge the pending messages once it returns nil.
//
// A redelivered pending message is harmless (Add stores its sequence once),
// but to avoid redeliveries the consumer's ack wait should exceed MaxAge
// plus one flush. The consumer must be allowed at least MaxRows
// unacknowledged messages (its max ack pending), or batches only end by age.
type Writer struct {
	bucket Bucket
	opt    Options

	// beforeManifest, if set, runs after a batch's data files are written
	// and before its manifest: a test seam to simulate a crash there.
	beforeManifest func() error

	// The pending batch covers the sequences committed+1 … next-1 whole:
	// each is a row, rejected (not an event the archive can store) or
	// missing (not in the stream).
	mu        sync.Mutex
	recovered bool
	committed uint64     // highest committed sequence
	next      uint64     // the sequence Add accepts next
	pending   []row      // sorted by StreamSeq
	rejected  []uint64   // pending sequences that were invalid events, ascending
	missing   []SeqRange // pending sequences the stream did not hold, ascending
	bytes     int        // approximate size of pending
	since     time.Time  // when the oldest pending sequence was added
	failed    *attempt   // the last Flush that failed, if any
}

// attempt is a Flush that failed after it may have written files.
type attempt struct {
	r    seqRange
	keys []string
}

// New returns a Writer for bucket. Call Recover before Add.
func New(bucket Bucket, opt Options) *Writer {
	if opt.MaxRows <= 0 {
		opt.MaxRows = DefaultMaxRows
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.MaxAge <= 0 {
		opt.MaxAge = DefaultMaxAge
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Writer{bucket: bucket, opt: opt}
}

// Recover reads the archive's manifests to find the highest committed
// stream sequence, deletes orphan data files (files of a batch that has no
// manifest, left by a crash before its commit) and discards anything
// pending. It returns the highest committed sequence (0 for an empty
// archive); from then on Add reports sequences at or below it with
// ErrArchived.
func (w *Writer) Recover(ctx context.Context) (lastSeq uint64, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	keys, err := w.bucket.List(ctx, rootPrefix)
	if err != nil {
		return 0, fmt.Errorf("archive recover: %w", err)
	}
	committed := make(map[seqRange]bool)
	for _, k := range keys {
		if r, ok := parseManifestKey(k); ok {
			committed[r] = true
			lastSeq = max(lastSeq, r.last)
		}
	}
	for _, k := range keys {
		if r, _, ok := parseDataKey(k); ok && !committed[r] {
			if err := w.bucket.Delete(ctx, k); err != nil {
				return 0, fmt.Errorf("archive recover: delete orphan: %w", err)
			}
		}
	}
	w.recovered = true
	w.committed = lastSeq
	w.next = lastSeq + 1
	w.pending, w.rejected, w.missing = nil, nil, nil
	w.bytes = 0
	w.failed = nil
	return lastSeq, nil
}

// Next returns the sequence the Writer accepts next: the one after the
// highest sequence pending, or committed when nothing is pending.
func (w *Writer) Next() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next
}

// Add appends the message with stream sequence seq to the pending batch.
// It takes sequences in order without holes: seq must be Next (ErrGap when
// it is beyond), or one already pending, which is accepted again (a
// redelivery) and stored once (ErrRejected for one pending as rejected).
// An invalid event (ErrInvalidEvent) still
// takes its place in the sequence, as a rejected one the manifest lists,
// so the consumer can dead-letter it and go on. See Writer for what each
// error means to the consumer.
//
// Add keeps ev's JSON slices until the batch is flushed; the caller must
// not modify them.
func (w *Writer) Add(seq uint64, ev souq.Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if again, err := w.place(seq); again || err != nil {
		return err
	}
	r, err := newRow(seq, ev)
	w.take(1)
	if err != nil {
		w.rejected = append(w.rejected, seq)
		return err
	}
	w.pending = append(w.pending, r)
	w.bytes += r.size()
	return nil
}

// Reject records sequence seq, whose message is not an event at all (its
// data cannot be decoded), as rejected, as Add does for an invalid event.
// The ordering rules and errors are Add's; nil means the consumer should
// dead-letter the message.
func (w *Writer) Reject(seq uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	again, err := w.place(seq)
	switch {
	case again && errors.Is(err, ErrRejected):
		return err
	case again:
		return fmt.Errorf("seq %d is pending as an event: %w", seq, ErrOutOfOrder)
	case err != nil:
		return err
	}
	w.take(1)
	w.rejected = append(w.rejected, seq)
	return nil
}

// place checks that seq is the next sequence (nil), or one already
// pending (again, with pendingAgain's answer), or returns why it cannot be
// taken: ErrNotRecovered, ErrInvalidEvent for 0, ErrArchived, ErrGap.
func (w *Writer) place(seq uint64) (again bool, err error) {
	if !w.recovered {
		return false, ErrNotRecovered
	}
	switch {
	case seq == 0:
		return false, fmt.Errorf("%w: stream sequence 0", ErrInvalidEvent)
	case seq <= w.committed:
		return false, fmt.Errorf("seq %d (committed up to %d): %w", seq, w.committed, ErrArchived)
	case seq > w.next:
		return false, fmt.Errorf("seq %d, expected %d: %w", seq, w.next, ErrGap)
	case seq < w.next:
		return true, w.pendingAgain(seq)
	}
	return false, nil
}

// Skip records the sequences first … last as absent from the stream (it
// no longer holds them: expired, or deleted), so that the batch holding
// them can be committed; its manifest lists them as missing. first must be
// Next.
func (w *Writer) Skip(first, last uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.recovered {
		return ErrNotRecovered
	}
	if first != w.next || last < first {
		return fmt.Errorf("archive skip %d–%d: expected a range from %d: %w", first, last, w.next, ErrOutOfOrder)
	}
	w.take(last - first + 1)
	if n := len(w.missing); n > 0 && w.missing[n-1].Last+1 == first {
		w.missing[n-1].Last = last
		return nil
	}
	w.missing = append(w.missing, SeqRange{first, last})
	return nil
}

// take takes the n sequences from Next on into the pending batch.
func (w *Writer) take(n uint64) {
	if w.next == w.committed+1 {
		w.since = w.opt.Now()
	}
	w.next += n
}

// pendingAgain answers Add for a sequence already pending.
func (w *Writer) pendingAgain(seq uint64) error {
	if _, found := slices.BinarySearchFunc(w.pending, int64(seq), bySeq); found {
		return nil
	}
	if _, found := slices.BinarySearch(w.rejected, seq); found {
		return fmt.Errorf("seq %d: %w", seq, ErrRejected)
	}
	return fmt.Errorf("seq %d is recorded as not in the stream: %w", seq, ErrOutOfOrder)
}

func bySeq(r row, seq int64) int { return cmp.Compare(r.StreamSeq, seq) }

// Due reports whether the pending batch has reached MaxRows, MaxBytes or
// MaxAge.
func (w *Writer) Due() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := int(w.next - w.committed - 1)
	if n == 0 {
		return false
	}
	// A clock that went back since the batch began makes its age
	// negative: due at once rather than after the jump is made up.
	age := w.opt.Now().Sub(w.since)
	return n >= w.opt.MaxRows || w.bytes >= w.opt.MaxBytes || age >= w.opt.MaxAge || age < 0
}

// Pending returns the number of pending sequences: events, rejected ones
// and missing ones.
func (w *Writer) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return int(w.next - w.committed - 1)
}

// Flush writes the pending events: one Parquet file per event-time
// partition, then the manifest that commits them. When it returns nil,
// every event added before the call is in the archive (an empty Batch means
// there was nothing to write). When it fails, the events stay pending and
// Flush may be called again; a later Flush removes what a failed one left
// behind, and recognises a failed Flush whose manifest was in fact written.
func (w *Writer) Flush(ctx context.Context) (Batch, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		b, done, err := w.resolveFailed(ctx)
		if err != nil {
			return Batch{}, fmt.Errorf("archive flush: %w", err)
		}
		if done {
			return b, nil
		}
	}
	if w.next == w.committed+1 {
		return Batch{}, nil
	}
	b, files, err := encodeBatch(seqRange{w.committed + 1, w.next - 1}, w.pending, w.rejected, w.missing)
	if err != nil {
		return Batch{}, fmt.Errorf("archive flush: %w", err)
	}
	keys := make([]string, len(files))
	for i, f := range files {
		keys[i] = f.Key
	}
	if w.failed != nil {
		// Files of the failed attempt that this batch will not overwrite.
		for _, k := range w.failed.keys {
			if !slices.Contains(keys, k) {
				if err := w.bucket.Delete(ctx, k); err != nil {
					return Batch{}, fmt.Errorf("archive flush: delete stale %s: %w", k, err)
				}
			}
		}
	}
	w.failed = &attempt{r: b.seqRange(), keys: keys}
	for _, f := range files {
		if err := w.bucket.Put(ctx, f.Key, f.data); err != nil {
			return Batch{}, fmt.Errorf("archive flush: %w", err)
		}
	}
	if w.beforeManifest != nil {
		if err := w.beforeManifest(); err != nil {
			return Batch{}, fmt.Errorf("archive flush: %w", err)
		}
	}
	manifest, err := encodeManifest(b)
	if err != nil {
		return Batch{}, fmt.Errorf("archive flush: %w", err)
	}
	if err := w.bucket.Put(ctx, manifestKey(b.seqRange()), manifest); err != nil {
		return Batch{}, fmt.Errorf("archive flush: manifest: %w", err)
	}
	w.commit(b.LastSeq)
	return b, nil
}

// resolveFailed finds out whether the failed Flush committed after all (its
// manifest Put failed after writing). If it did, the events it covered are
// no longer pending, and done reports whether nothing else is.
func (w *Writer) resolveFailed(ctx context.Context) (b Batch, done bool, err error) {
	key := manifestKey(w.failed.r)
	data, err := w.bucket.Get(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return Batch{}, false, nil // not committed: Flush deletes its files
	}
	if err != nil {
		return Batch{}, false, err
	}
	if b, err = decodeManifest(key, data); err != nil {
		return Batch{}, false, err
	}
	w.commit(b.LastSeq)
	return b, w.next == w.committed+1, nil
}

// commit records that every sequence up to last is archived.
func (w *Writer) commit(last uint64) {
	w.committed = max(w.committed, last)
	w.failed = nil
	i, _ := slices.BinarySearchFunc(w.pending, int64(last)+1, bySeq)
	w.pending = slices.Delete(w.pending, 0, i)
	j, _ := slices.BinarySearch(w.rejected, last+1)
	w.rejected = slices.Delete(w.rejected, 0, j)
	k := 0
	for k < len(w.missing) && w.missing[k].Last <= last {
		k++
	}
	w.missing = slices.Delete(w.missing, 0, k)
	w.bytes = 0
	for i := range w.pending {
		w.bytes += w.pending[i].size()
	}
}
