// Package chartaxis scales the axes of the charts Souq draws as SVG (the
// live dashboard's, the load generator's report).
package chartaxis

import "math"

// NiceCeil rounds v up to 1, 2 or 5 times a power of ten, a value an axis
// can end at and be read (1 for v ≤ 0).
func NiceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
