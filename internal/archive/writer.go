package archive

import (
	"bytes"
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
// whole) and durable when it returns; Create is Put that fails, with an
// error wrapping fs.ErrExist and without touching the stored value, when
// the key exists (of two concurrent Creates of one key, one succeeds);
// Get of a missing key returns an error wrapping fs.ErrNotExist; List
// returns the keys starting with prefix in byte order; Delete of a missing
// key succeeds.
type Bucket interface {
	Put(ctx context.Context, key string, data []byte) error
	Create(ctx context.Context, key string, data []byte) error
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
	// written are the data files this Writer created for batches from
	// sequence committed+1 whose manifest is not settled yet; once a
	// manifest takes that name (this Writer's or another's), those it
	// does not list are deleted.
	written []string
	// takenOver counts batches another writer committed first.
	takenOver uint64
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
// stream sequence, deletes the orphan data files that can never be
// committed (see below) and discards anything pending. It returns the
// highest committed sequence (0 for an empty archive); from then on Add
// reports sequences at or below it with ErrArchived.
//
// An orphan is a data file no manifest lists: left by a crash before its
// manifest, or written by a writer that lost the manifest's name to
// another. Recover deletes one only when a manifest with another range
// holds its batch's first sequence, a name nobody can take any more; an
// orphan ahead of the archive may belong to another writer about to
// commit it, and a writer that reaches its range creates it again or
// finds it there with the same bytes.
func (w *Writer) Recover(ctx context.Context) (lastSeq uint64, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	keys, err := w.bucket.List(ctx, rootPrefix)
	if err != nil {
		return 0, fmt.Errorf("archive recover: %w", err)
	}
	manifests := make(map[uint64]string) // key by first sequence
	var newest uint64
	for _, k := range keys {
		if first, _, ok := parseManifestKey(k); ok {
			manifests[first] = k
			newest = max(newest, first)
		}
	}
	read := func(first uint64) (Batch, error) {
		k := manifests[first]
		data, err := w.bucket.Get(ctx, k)
		if err != nil {
			return Batch{}, err
		}
		return decodeManifest(k, data)
	}
	if newest > 0 {
		// Batches never overlap, so the newest manifest has the highest end.
		b, err := read(newest)
		if err != nil {
			return 0, fmt.Errorf("archive recover: %w", err)
		}
		lastSeq = b.LastSeq
	}
	lasts := make(map[uint64]uint64) // manifests read for orphans, by first sequence
	for _, k := range keys {
		r, _, ok := parseDataKey(k)
		if !ok || r.first > lastSeq || manifests[r.first] == "" {
			continue
		}
		last, ok := lasts[r.first]
		if !ok {
			b, err := read(r.first)
			if err != nil {
				return 0, fmt.Errorf("archive recover: %w", err)
			}
			last, lasts[r.first] = b.LastSeq, b.LastSeq
		}
		if last != r.last {
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
	w.written = nil
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
// Flush may be called again.
//
// Every file is created, never replaced (Bucket.Create). The manifest is
// named by the batch's first sequence, so of two writers committing from
// one sequence only the first to create the name commits; the other finds
// that manifest in its place, counts the sequences it covers as archived
// (Add reports them with ErrArchived from then on) and commits the rest
// of its pending sequences, if any, as the next batch. A data file found
// in place has the same name, so it must hold the same bytes: anything
// else is ErrCorrupt. Flush returns the last batch committed.
func (w *Writer) Flush(ctx context.Context) (Batch, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b Batch
	for w.next > w.committed+1 {
		var err error
		if b, err = w.flushOnce(ctx); err != nil {
			return Batch{}, fmt.Errorf("archive flush: %w", err)
		}
	}
	return b, nil
}

// flushOnce commits the pending sequences as one batch from committed+1,
// or finds another writer's batch from there, and returns the batch
// committed.
func (w *Writer) flushOnce(ctx context.Context) (Batch, error) {
	b, files, err := encodeBatch(seqRange{w.committed + 1, w.next - 1}, w.pending, w.rejected, w.missing)
	if err != nil {
		return Batch{}, err
	}
	for _, f := range files {
		created, err := w.create(ctx, f.Key, f.data)
		if err != nil {
			return Batch{}, err
		}
		if created {
			w.written = append(w.written, f.Key)
		}
	}
	if w.beforeManifest != nil {
		if err := w.beforeManifest(); err != nil {
			return Batch{}, err
		}
	}
	manifest, err := encodeManifest(b)
	if err != nil {
		return Batch{}, err
	}
	key := manifestKey(b.FirstSeq)
	err = w.bucket.Create(ctx, key, manifest)
	if errors.Is(err, fs.ErrExist) {
		// Committed already: by this Writer in a Flush that failed after
		// the manifest was written, or by another writer.
		data, gerr := w.bucket.Get(ctx, key)
		if gerr != nil {
			return Batch{}, fmt.Errorf("manifest %s: %w", key, gerr)
		}
		if b, err = decodeManifest(key, data); err != nil {
			return Batch{}, err
		}
		if !bytes.Equal(data, manifest) {
			w.takenOver++
		}
	} else if err != nil {
		return Batch{}, fmt.Errorf("manifest: %w", err)
	}
	w.dropUnlisted(ctx, b)
	w.commit(b.LastSeq)
	return b, nil
}

// create creates key with data, or finds it holding data already. It
// reports whether it created the file.
func (w *Writer) create(ctx context.Context, key string, data []byte) (bool, error) {
	err := w.bucket.Create(ctx, key, data)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return false, err
	}
	have, err := w.bucket.Get(ctx, key)
	if err != nil {
		return false, err
	}
	if !bytes.Equal(have, data) {
		return false, fmt.Errorf("%w: %s exists with other contents (%d bytes, want %d)", ErrCorrupt, key, len(have), len(data))
	}
	return false, nil
}

// dropUnlisted deletes the files this Writer created for batches from b's
// first sequence that b does not list: b holds that name for good, so
// nothing will ever list them. A failed delete leaves an orphan for a
// later Recover.
func (w *Writer) dropUnlisted(ctx context.Context, b Batch) {
	for _, k := range w.written {
		if !slices.ContainsFunc(b.Files, func(f File) bool { return f.Key == k }) {
			_ = w.bucket.Delete(ctx, k)
		}
	}
	w.written = w.written[:0]
}

// TakenOver returns how many batches this Writer found committed by
// another writer when it came to commit them.
func (w *Writer) TakenOver() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.takenOver
}

// commit records that every sequence up to last is archived; last may be
// beyond the pending sequences, when another writer committed them.
func (w *Writer) commit(last uint64) {
	w.committed = max(w.committed, last)
	w.next = max(w.next, w.committed+1)
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
