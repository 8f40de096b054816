//go:build unix

package natsstream

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on dir (creating it) for the embedded
// server's lifetime, since the server does not lock its store directory
// and two servers writing one directory would corrupt it. The lock is
// released by the returned function, or by the operating system when the
// process ends.
func lockDir(dir string) (unlock func() error, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("natsstream: store directory: %w", err)
	}
	path := filepath.Join(dir, "souq-stream.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("natsstream: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrStoreDirInUse, dir)
		}
		return nil, fmt.Errorf("natsstream: lock %s: %w", path, err)
	}
	return f.Close, nil // closing the file releases the lock
}
