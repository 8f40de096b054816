package postgres

import (
	"testing"

	"github.com/souq-commerce/souq/internal/storetest"
)

// TestStore runs the storage contract suite, each subtest on a fresh
// schema of the test server.
func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return openTest(t, testURL(t), Options{MaxConns: 8})
	})
}
