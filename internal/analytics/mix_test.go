package analytics_test

import "github.com/souq-commerce/souq/internal/analytics/analyticstest"

// newMix returns the realistic mix of shop events over products products
// in 60 brands and the shop's twelve categories; its browser events name
// no city.
func newMix(seed uint64, products int) *analyticstest.Mix {
	return analyticstest.NewMix(seed, analyticstest.MixConfig{Products: products, Brands: 60})
}
