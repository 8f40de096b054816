package archive

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Two writers given the same stream, cutting their batches at different
// sequences, commit each event once: the second to reach a first sequence
// takes the other's batch as committed and goes on from its end.
func TestTwoWritersTakeTurns(t *testing.T) {
	ctx := context.Background()
	evs := events(40, base)
	bucket := newBucket(t)
	w1, _ := newWriter(t, bucket, Options{})
	w2, _ := newWriter(t, bucket, Options{})

	addAll(t, w1, 1, evs[:10])
	flush(t, w1) // 1–10
	addAll(t, w2, 1, evs[:15])
	b := flush(t, w2) // finds 1–10, commits 11–15
	if b.FirstSeq != 11 || b.LastSeq != 15 {
		t.Errorf("w2's flush: got batch %d-%d, want 11-15", b.FirstSeq, b.LastSeq)
	}
	if n := w2.TakenOver(); n != 1 {
		t.Errorf("w2 taken over: got %d, want 1", n)
	}
	// w1 goes on from 11 as if alone: 11–15 are committed by w2.
	addAll(t, w1, 11, evs[10:30])
	b = flush(t, w1)
	if b.FirstSeq != 16 || b.LastSeq != 30 {
		t.Errorf("w1's flush: got batch %d-%d, want 16-30", b.FirstSeq, b.LastSeq)
	}
	// w2 now sees 16–30 as archived and takes the rest.
	for seq := uint64(16); seq <= 30; seq++ {
		if err := w2.Add(seq, evs[seq-1]); err != nil {
			t.Fatalf("w2.Add(%d) before its flush: %v", seq, err)
		}
	}
	addAll(t, w2, 31, evs[30:])
	if b = flush(t, w2); b.FirstSeq != 31 || b.LastSeq != 40 {
		t.Errorf("w2's last flush: got batch %d-%d, want 31-40", b.FirstSeq, b.LastSeq)
	}
	if err := w2.Add(12, evs[11]); !errors.Is(err, ErrArchived) {
		t.Errorf("w2.Add(12) after its flush: got %v, want ErrArchived", err)
	}
	got := readAll(t, bucket)
	checkOnce(t, got, evs)
	if diff := cmp.Diff(records(1, evs), got); diff != "" {
		t.Errorf("ReadAll (-want +got):\n%s", diff)
	}
	checkNoOrphans(t, bucket)
	cov, err := NewIndex(bucket).Coverage(ctx)
	if err != nil || !cov.OK() || cov.LastSeq != 40 {
		t.Errorf("coverage: got %+v, %v; want complete to 40", cov, err)
	}
}

// Writers racing on one archive, each fed the whole stream and flushing
// whenever it likes, commit every event exactly once, with no overlap.
func TestWritersRace(t *testing.T) {
	ctx := context.Background()
	const n, writers = 600, 3
	evs := events(n, base)
	bucket := newBucket(t)
	var wg sync.WaitGroup
	for i := range writers {
		w, _ := newWriter(t, bucket, Options{})
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		wg.Go(func() {
			for seq := uint64(1); seq <= n; seq++ {
				err := w.Add(seq, evs[seq-1])
				if err != nil && !errors.Is(err, ErrArchived) {
					t.Errorf("writer %d: Add(%d): %v", i, seq, err)
					return
				}
				if rng.IntN(40) == 0 || seq == n {
					if _, err := w.Flush(ctx); err != nil {
						t.Errorf("writer %d: Flush: %v", i, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	checkOnce(t, readAll(t, bucket), evs)
	cov, err := NewIndex(bucket).Coverage(ctx)
	if err != nil || !cov.OK() || cov.LastSeq != n {
		t.Errorf("coverage: got %+v, %v; want complete to %d without overlaps", cov, err, n)
	}
	checkNoOrphans(t, bucket)
}

// Recover deletes an orphan only when a manifest with another range holds
// its first sequence; one ahead of the archive may be another writer's.
func TestRecoverDeletesOnlyDeadOrphans(t *testing.T) {
	evs := events(30, base)
	bucket := newBucket(t)
	loser := New(bucket, Options{})
	if _, err := loser.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	addAll(t, loser, 1, evs[:15])
	loser.beforeManifest = func() error { return errCrash } // dies with files 1–15 written
	if _, err := loser.Flush(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("Flush: got %v, want errCrash", err)
	}
	ahead := New(bucket, Options{})
	if _, err := ahead.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	addAll(t, ahead, 1, evs[:10])
	flush(t, ahead) // commits 1–10: the name of 1–15's manifest is taken
	later := New(bucket, Options{})
	if _, err := later.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	addAll(t, later, 11, evs[10:20])
	later.beforeManifest = func() error { return errCrash } // files 11–20, ahead of the archive
	if _, err := later.Flush(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("Flush: got %v, want errCrash", err)
	}
	if _, last := newWriter(t, bucket, Options{}); last != 10 {
		t.Errorf("Recover: got %d, want 10", last)
	}
	var dead, kept int
	for _, k := range listKeys(t, bucket, "events/dt=") {
		r, _, _ := parseDataKey(k)
		switch r {
		case seqRange{1, 15}:
			dead++
		case seqRange{11, 20}:
			kept++
		}
	}
	if dead != 0 || kept == 0 {
		t.Errorf("after Recover: %d files of 1-15 (want 0: nothing can commit them), %d of 11-20 (want kept)", dead, kept)
	}
}
