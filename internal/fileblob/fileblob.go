// Package fileblob is a blob store kept in a local directory: the embedded
// default behind the archive, where the scale-out deployment uses S3. Keys are
// slash-separated relative paths ("events/dt=2025-11-28/hour=21/x.parquet")
// mapped onto files under the directory.
//
// Put is atomic and durable: the data is written to a temporary file in the
// key's directory, flushed to the disk, renamed over the key and the
// directory is flushed too, so after Put returns the blob survives a power
// loss, and a reader (or a crash) never sees a partly written blob.
// Temporary files start with '.', which keys may not, so they never show up
// in List and never collide with a key.
//
// Create is Put that refuses to replace a value (the archive writes
// create-only, so two writers cannot both commit one name).
//
// A Dir is safe for concurrent use. Two concurrent Puts of the same key leave
// one of the two values, whole.
package fileblob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// ErrInvalidKey is returned for a key (or List prefix) that is not a clean
// relative slash-separated path.
var ErrInvalidKey = errors.New("invalid blob key")

// Dir is a blob store rooted at a local directory.
type Dir struct {
	root string
}

// Open returns the blob store rooted at dir, creating the directory if needed.
func Open(dir string) (*Dir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fileblob open %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("fileblob open %s: %w", dir, err)
	}
	return &Dir{root: abs}, nil
}

// Root returns the absolute path of the directory.
func (d *Dir) Root() string { return d.root }

// Put stores data under key, replacing any previous value, atomically and
// durably (see the package documentation).
func (d *Dir) Put(ctx context.Context, key string, data []byte) error {
	return d.store(ctx, "put", key, data, os.Rename)
}

// Create stores data under key only if nothing is stored there yet,
// atomically and durably; when the key exists it fails with an error
// wrapping fs.ErrExist and leaves the stored value alone. Of two
// concurrent Creates of one key, one succeeds. The blob is linked into
// place (a hard link fails if the name exists), so the directory's file
// system must support hard links, as every local Linux one does.
func (d *Dir) Create(ctx context.Context, key string, data []byte) error {
	return d.store(ctx, "create", key, data, func(tmp, final string) error {
		err := os.Link(tmp, final)
		if rerr := os.Remove(tmp); err == nil {
			err = rerr
		}
		return err
	})
}

// store writes data to a temporary file in key's directory, flushes it,
// moves it into place with place(temporary, final) and flushes the
// directory.
func (d *Dir) store(ctx context.Context, op, key string, data []byte, place func(tmp, final string) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	rel, base := splitKey(key)
	dir, err := d.ensureDir(rel)
	if err != nil {
		return fmt.Errorf("fileblob %s %s: %w", op, key, err)
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("fileblob %s %s: %w", op, key, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("fileblob %s %s: %w", op, key, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("fileblob %s %s: sync: %w", op, key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("fileblob %s %s: %w", op, key, err)
	}
	if err := place(tmp.Name(), filepath.Join(dir, base)); err != nil {
		return fmt.Errorf("fileblob %s %s: %w", op, key, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("fileblob %s %s: sync directory: %w", op, key, err)
	}
	return nil
}

// Get returns the value stored under key. A missing key gives an error
// wrapping fs.ErrNotExist.
func (d *Dir) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(d.path(key))
	if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) {
		// A key below a file's key, or one naming a directory (the prefix
		// of other keys): neither is there.
		return nil, fmt.Errorf("fileblob get %s: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("fileblob get %s: %w", key, err)
	}
	return data, nil
}

// List returns, in byte order, every key that starts with prefix (a plain
// string prefix, as in S3: "events/dt=2025-11" matches every day of that
// month). The empty prefix lists every key.
func (d *Dir) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	// Walk the deepest directory the prefix names in full.
	start := d.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = filepath.Join(d.root, filepath.FromSlash(prefix[:i]))
	}
	var keys []string
	err := filepath.WalkDir(start, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // the prefix names no directory (yet), or a file went away
			}
			return err
		}
		if e.Name()[0] == '.' && path != start {
			if e.IsDir() {
				return fs.SkipDir
			}
			return nil // a temporary file of a Put in progress
		}
		if !e.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(d.root, path)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fileblob list %q: %w", prefix, err)
	}
	slices.Sort(keys)
	return keys, nil
}

// Delete removes key. Deleting a missing key is not an error (as in S3), so
// a retried Delete succeeds.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	p := d.path(key)
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return fmt.Errorf("fileblob delete %s: %w", key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("fileblob delete %s: sync directory: %w", key, err)
	}
	return nil
}

func (d *Dir) path(key string) string {
	return filepath.Join(d.root, filepath.FromSlash(key))
}

// ensureDir creates the directories of rel (a slash-separated relative
// directory, possibly empty) under the root and returns its path. Each
// directory it creates is made durable by flushing its parent.
func (d *Dir) ensureDir(rel string) (string, error) {
	dir := d.root
	if rel == "" {
		return dir, nil
	}
	// Fast path: the directory is already there.
	full := filepath.Join(dir, filepath.FromSlash(rel))
	if fi, err := os.Stat(full); err == nil && fi.IsDir() {
		return full, nil
	}
	for seg := range strings.SplitSeq(rel, "/") {
		parent := dir
		dir = filepath.Join(dir, seg)
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if err := syncDir(parent); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// splitKey splits a checked key into its directory part ("" at the root)
// and its base name.
func splitKey(key string) (dir, base string) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return "", key
	}
	return key[:i], key[i+1:]
}

// checkKey accepts a relative slash-separated path whose segments are
// non-empty and do not start with '.' (which rules out "." and "..", and
// keeps names starting with '.' free for temporary files).
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if err := checkChars(key); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := checkSegment(key, seg); err != nil {
			return err
		}
	}
	return nil
}

// checkPrefix accepts the empty prefix and any prefix of a valid key: every
// segment but the last must be valid, the last may be empty (a prefix ending
// in '/') but may not start with '.'.
func checkPrefix(prefix string) error {
	if err := checkChars(prefix); err != nil {
		return err
	}
	segs := strings.Split(prefix, "/")
	for i, seg := range segs {
		if i == len(segs)-1 && seg == "" {
			break
		}
		if err := checkSegment(prefix, seg); err != nil {
			return err
		}
	}
	return nil
}

func checkChars(s string) error {
	if strings.HasPrefix(s, "/") || filepath.IsAbs(s) {
		return fmt.Errorf("%w: %q is absolute", ErrInvalidKey, s)
	}
	if strings.ContainsAny(s, "\\\x00") {
		return fmt.Errorf("%w: %q holds a backslash or NUL", ErrInvalidKey, s)
	}
	return nil
}

func checkSegment(key, seg string) error {
	switch {
	case seg == "":
		return fmt.Errorf("%w: %q has an empty segment", ErrInvalidKey, key)
	case seg[0] == '.':
		return fmt.Errorf("%w: %q has a segment starting with '.'", ErrInvalidKey, key)
	}
	return nil
}
