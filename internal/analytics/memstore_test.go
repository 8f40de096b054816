package analytics_test

import (
	"testing"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/analytics/hotstoretest"
)

func TestMemStore(t *testing.T) {
	hotstoretest.Run(t, func(t *testing.T) analytics.HotStore { return analytics.NewMemStore() })
}
