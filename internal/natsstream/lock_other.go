//go:build !unix

package natsstream

import (
	"fmt"
	"os"
)

// lockDir creates dir. Where flock is not available the store directory
// is not locked: run one Souq per directory.
func lockDir(dir string) (unlock func() error, err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("natsstream: store directory: %w", err)
	}
	return func() error { return nil }, nil
}
