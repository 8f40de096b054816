package archive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
)

// ErrNotCreateOnly reports a store that replaces a value Bucket.Create
// should have refused to touch: writers there could overwrite each
// other's files and manifests, so the archive refuses to use it.
var ErrNotCreateOnly = errors.New("the archive store accepted an overwrite of a create-only write: it does not honour If-None-Match; refusing to archive there")

// probePrefix holds CheckCreateOnly's probe keys: under events/ (the
// archive's own prefix, which its credentials may be limited to), in a
// directory starting with '_' that readers and globs pass over, and that
// no manifest or data file name matches.
const probePrefix = rootPrefix + "_probe/"

// CheckCreateOnly verifies that bucket honours Create: it creates a probe
// key under events/_probe/, creates it again, requires the second Create
// to fail with fs.ErrExist and the first value to be intact, and deletes
// the probe. An S3-compatible server that ignores If-None-Match fails it
// with ErrNotCreateOnly. The archiver runs it at start: the archive's
// exactly-once rule rests on create-only writes.
func CheckCreateOnly(ctx context.Context, bucket Bucket) (err error) {
	token := rand.Text()
	key := probePrefix + token
	first := []byte("create-only probe " + token + ": first write, must stay\n")
	second := []byte("create-only probe " + token + ": second write, must be refused\n")
	if err := bucket.Create(ctx, key, first); err != nil {
		return fmt.Errorf("archive create-only check: create %s: %w", key, err)
	}
	defer func() {
		if derr := bucket.Delete(ctx, key); derr != nil {
			err = errors.Join(err, fmt.Errorf("archive create-only check: delete probe: %w", derr))
		}
	}()
	err = bucket.Create(ctx, key, second)
	switch {
	case err == nil:
		return fmt.Errorf("%w (a second Create of %s succeeded)", ErrNotCreateOnly, key)
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("archive create-only check: second create %s: got %w, want an error wrapping fs.ErrExist", key, err)
	}
	got, err := bucket.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("archive create-only check: %w", err)
	}
	if !bytes.Equal(got, first) {
		return fmt.Errorf("%w (a second Create of %s reported the key as existing, yet replaced its value)", ErrNotCreateOnly, key)
	}
	return nil
}
