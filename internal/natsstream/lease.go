package natsstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// LeaseTTL is how long a lease outlives its holder's last renewal: the
// longest a role that runs in one replica at a time (the archiver) stays
// unrun after its holder dies without letting go. Holders renew every
// third of it.
const LeaseTTL = 10 * time.Second

// Lead runs fn in one process at a time among all that call Lead with the
// same name on the same stream (the same NATS server or cluster and
// namespace): it waits until it holds the lease called name, runs fn with
// a context that ends when the lease is lost or ctx ends, waits for fn to
// return, lets the lease go and, unless ctx has ended, waits for the lease
// again. It returns when ctx ends (nil), or an error when the lease store
// cannot be opened.
//
// The lease is a key in the key-value bucket SOUQ_LEASES (or
// <NAMESPACE>_SOUQ_LEASES), created with Create (which fails while the key
// exists) and renewed with Update against the revision this process wrote
// (which fails once another took it); the bucket's entries expire LeaseTTL
// after they were written, so a holder that died or stalled loses it. A
// stalled holder learns of the loss only when it runs again, so fn must
// stay correct when, for a moment, two run: Lead saves work, the callee's
// own writes keep the guarantees (the archiver creates its files, never
// replaces them).
func (s *Stream) Lead(ctx context.Context, name string, fn func(ctx context.Context)) error {
	if !namespacePattern.MatchString(name) {
		return fmt.Errorf("%w: lease name %q: letters, digits, '-' and '_' only", ErrInvalidOptions, name)
	}
	kv, err := s.leases(ctx)
	if err != nil {
		return err
	}
	holder := []byte(nuid.Next())
	for ctx.Err() == nil {
		rev, err := kv.Create(ctx, name, holder)
		if err != nil {
			if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
				s.log.Warn("take lease", "lease", name, "err", err)
			}
			wait(ctx, LeaseTTL/3)
			continue
		}
		s.log.Info("lease taken", "lease", name)
		s.hold(ctx, kv, name, holder, rev, fn)
	}
	return nil
}

// hold runs fn while renewing the lease at revision rev, then lets it go.
func (s *Stream) hold(ctx context.Context, kv jetstream.KeyValue, name string, holder []byte, rev uint64, fn func(context.Context)) {
	held, lost := context.WithCancel(ctx)
	defer lost()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(held)
	}()
	t := time.NewTicker(LeaseTTL / 3)
	defer t.Stop()
	for held.Err() == nil {
		select {
		case <-held.Done():
		case <-done:
			lost()
		case <-t.C:
			next, err := kv.Update(held, name, holder, rev)
			if err != nil {
				if held.Err() == nil {
					s.log.Warn("lease lost", "lease", name, "err", err)
				}
				lost()
				break
			}
			rev = next
		}
	}
	<-done
	// Let it go at once, unless another process has it already.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), apiTimeout)
	defer cancel()
	if err := kv.Delete(rctx, name, jetstream.LastRevision(rev)); err == nil {
		s.log.Info("lease let go", "lease", name)
	}
}

// leases opens the lease bucket, creating it if needed.
func (s *Stream) leases(ctx context.Context) (jetstream.KeyValue, error) {
	bucket := s.leaseBucket()
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, Description: "Souq leases: which replica runs a one-at-a-time role",
		History: 1, TTL: LeaseTTL, Storage: jetstream.FileStorage, Replicas: s.opts.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("natsstream: lease bucket %s: %w", bucket, err)
	}
	return kv, nil
}

func (s *Stream) leaseBucket() string {
	if s.opts.Namespace == "" {
		return "SOUQ_LEASES"
	}
	return strings.ToUpper(s.opts.Namespace) + "_SOUQ_LEASES"
}

// wait waits for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
