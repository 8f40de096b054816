package chartaxis

import "testing"

func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{
		{-3, 1}, {0, 1}, {0.3, 0.5}, {1, 1}, {1.01, 2}, {3, 5}, {12, 20}, {50, 50}, {51, 100}, {590, 1000}, {1.5e6, 2e6},
	} {
		if got := NiceCeil(tc.in); got != tc.want {
			t.Errorf("NiceCeil(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
