package souq

import (
	"regexp"
	"testing"
)

func TestNewOrderNumber(t *testing.T) {
	shape := regexp.MustCompile(`^SQ-[0-9A-HJKMNP-TV-Z]{6}$`)
	seen := map[string]bool{}
	for range 1000 {
		n := NewOrderNumber()
		if !shape.MatchString(n) {
			t.Fatalf("NewOrderNumber: got %q, want SQ- and six Crockford base32 characters", n)
		}
		if got, ok := ParseOrderNumber(n); !ok || got != n {
			t.Fatalf("ParseOrderNumber(%q): got %q, %v; want it back", n, got, ok)
		}
		seen[n] = true
	}
	if len(seen) < 990 {
		t.Errorf("NewOrderNumber: got %d distinct numbers in 1000, want them random", len(seen))
	}
}

func TestParseOrderNumber(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"SQ-7K4M2Q", "SQ-7K4M2Q", true},
		{"sq-7k4m2q", "SQ-7K4M2Q", true},
		{" 7K4M2Q ", "SQ-7K4M2Q", true},
		{"SQ 7K4-M2Q", "SQ-7K4M2Q", true},
		{"SQ-O1IL00", "SQ-011100", true},
		{"sqab12", "SQ-SQAB12", true}, // a number that itself starts with SQ, typed without the prefix
		{"SQ-SQAB12", "SQ-SQAB12", true},
		{"SQ-7K4M2", "", false},
		{"SQ-7K4M2QQ", "", false},
		{"SQ-7K4M2U", "", false},
		{"ord_abcdefghijklmnopqrst", "", false},
		{"SQ-٧K4M2Q", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseOrderNumber(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ParseOrderNumber(%q): got %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
