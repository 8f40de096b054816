package dashboard

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/souq"
)

func TestParseAlertConfig(t *testing.T) {
	def := DefaultAlertConfig()
	with := func(f func(*AlertConfig)) AlertConfig {
		c := def
		f(&c)
		return c
	}
	tests := []struct {
		in   string
		want AlertConfig
	}{
		{"", def},
		{"  ", def},
		{"checkout-errors=2%", with(func(c *AlertConfig) { c.CheckoutErrorRate = 0.02 })},
		{"checkout-errors=0.1, min-checkouts=50", with(func(c *AlertConfig) { c.CheckoutErrorRate, c.MinCheckouts = 0.1, 50 })},
		{"out-of-stock=25/min,cancellations=3", with(func(c *AlertConfig) { c.OutOfStockPerMinute, c.CancellationsPerMinute = 25, 3 })},
		{"cancellation-share=10%,zero-results=45%,min-searches=100", with(func(c *AlertConfig) {
			c.CancellationShare, c.ZeroResultShare, c.MinSearches = 0.1, 0.45, 100
		})},
		{"lag=1m30s,low-stock=12,window=10m,clear-after=1m", with(func(c *AlertConfig) {
			c.PipelineLagSeconds, c.LowStock, c.Window, c.ClearAfter = 90, 12, 10*time.Minute, time.Minute
		})},
	}
	for _, tt := range tests {
		got, err := ParseAlertConfig(tt.in)
		if err != nil {
			t.Errorf("ParseAlertConfig(%q): %v", tt.in, err)
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("ParseAlertConfig(%q) (-want +got):\n%s", tt.in, d)
		}
	}
}

func TestParseAlertConfigRefuses(t *testing.T) {
	tests := []struct{ in, want string }{
		{"lag", `alert setting "lag": write name=value`},
		{"lag=", `alert setting "lag=": write name=value`},
		{"speed=3", `unknown alert setting "speed"; known: checkout-errors, min-checkouts`},
		{"lag=30s,lag=1m", `alert setting "lag" given twice`},
		{"checkout-errors=150%", "checkout-errors=150%: want a share such as 5% (out of range"},
		{"checkout-errors=0", "out of range"},
		{"checkout-errors=lots", "not a number"},
		{"out-of-stock=-1/min", "must be more than 0"},
		{"min-checkouts=2.5", "not a whole number of at least 1"},
		{"low-stock=0", "not a whole number of at least 1"},
		{"lag=30", "not a duration"},
		{"lag=-5s", "out of range (0, 24h]"},
		{"window=90s", `"90s" is not whole minutes`},
		{"window=1h", `"1h" is longer than 59m0s`},
	}
	for _, tt := range tests {
		_, err := ParseAlertConfig(tt.in)
		if err == nil || !errors.Is(err, souq.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseAlertConfig(%q) = %v, want an ErrInvalid saying %q", tt.in, err, tt.want)
		}
	}
}
