package webhook

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTruncateKeepsUTF8: a receiver's error text cut to length stays valid
// UTF-8 (PostgreSQL refuses anything else, and the attempt would never be
// recorded).
func TestTruncateKeepsUTF8(t *testing.T) {
	long := strings.Repeat("خطأ في الخادم ", 40) + "\xff"
	for n := 290; n <= 310; n++ {
		got := truncate(long, n)
		if !utf8.ValidString(got) || len(got) > n {
			t.Fatalf("truncate(…, %d): %d bytes, valid UTF-8 %v", n, len(got), utf8.ValidString(got))
		}
	}
	if got := truncate("bad \xff byte", 300); !utf8.ValidString(got) {
		t.Errorf("truncate of a short invalid string: %q is not valid UTF-8", got)
	}
}
