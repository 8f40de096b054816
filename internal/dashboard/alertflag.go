package dashboard

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// alertSettings are the names ParseAlertConfig accepts, each with what it
// sets and the form of its value.
var alertSettings = []struct {
	name, form string
	set        func(c *AlertConfig, v string) error
}{
	{"checkout-errors", "a share such as 5%", func(c *AlertConfig, v string) (err error) {
		c.CheckoutErrorRate, err = parseShare(v)
		return
	}},
	{"min-checkouts", "a count", func(c *AlertConfig, v string) (err error) {
		c.MinCheckouts, err = parseCount(v)
		return
	}},
	{"out-of-stock", "refusals a minute such as 10/min", func(c *AlertConfig, v string) (err error) {
		c.OutOfStockPerMinute, err = parsePerMinute(v)
		return
	}},
	{"cancellations", "cancellations a minute such as 5/min", func(c *AlertConfig, v string) (err error) {
		c.CancellationsPerMinute, err = parsePerMinute(v)
		return
	}},
	{"cancellation-share", "a share of orders such as 20%", func(c *AlertConfig, v string) (err error) {
		c.CancellationShare, err = parseShare(v)
		return
	}},
	{"zero-results", "a share of searches such as 30%", func(c *AlertConfig, v string) (err error) {
		c.ZeroResultShare, err = parseShare(v)
		return
	}},
	{"min-searches", "a count", func(c *AlertConfig, v string) (err error) {
		c.MinSearches, err = parseCount(v)
		return
	}},
	{"lag", "a duration such as 30s", func(c *AlertConfig, v string) error {
		d, err := parseDuration(v)
		c.PipelineLagSeconds = d.Seconds()
		return err
	}},
	{"low-stock", "a count of units", func(c *AlertConfig, v string) error {
		n, err := parseCount(v)
		c.LowStock = int(n)
		return err
	}},
	{"window", "a duration of whole minutes from 1m to 59m such as 5m", func(c *AlertConfig, v string) error {
		d, err := parseDuration(v)
		switch {
		case err != nil:
		case d%time.Minute != 0:
			err = fmt.Errorf("%q is not whole minutes", v)
		case d > MaxAlertWindow:
			// the snapshot holds 59 complete minutes: a longer window
			// would divide their counts by minutes it does not hold
			err = fmt.Errorf("%q is longer than %v", v, MaxAlertWindow)
		}
		c.Window = d
		return err
	}},
	{"clear-after", "a duration such as 30s", func(c *AlertConfig, v string) (err error) {
		c.ClearAfter, err = parseDuration(v)
		return
	}},
}

// MaxAlertWindow is the longest alert window: the snapshot's 60 minute
// buckets less the one still filling.
const MaxAlertWindow = 59 * time.Minute

// ParseAlertConfig reads alert thresholds written as comma-separated
// name=value pairs, for example "checkout-errors=2%,lag=10s,low-stock=3";
// settings not named keep DefaultAlertConfig's values. An empty string
// gives the defaults. A bad name or value is an error wrapping
// souq.ErrInvalid that names it and the form expected.
func ParseAlertConfig(s string) (AlertConfig, error) {
	c := DefaultAlertConfig()
	if strings.TrimSpace(s) == "" {
		return c, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return AlertConfig{}, souq.Errorf(souq.ErrInvalid, "alert setting %q: write name=value", part)
		}
		i := alertSettingIndex(name)
		if i < 0 {
			return AlertConfig{}, souq.Errorf(souq.ErrInvalid, "unknown alert setting %q; known: %s", name, alertSettingNames())
		}
		if seen[name] {
			return AlertConfig{}, souq.Errorf(souq.ErrInvalid, "alert setting %q given twice", name)
		}
		seen[name] = true
		if err := alertSettings[i].set(&c, value); err != nil {
			return AlertConfig{}, souq.Errorf(souq.ErrInvalid, "alert setting %s=%s: want %s (%v)", name, value, alertSettings[i].form, err)
		}
	}
	return c, nil
}

func alertSettingIndex(name string) int {
	for i, s := range alertSettings {
		if s.name == name {
			return i
		}
	}
	return -1
}

func alertSettingNames() string {
	names := make([]string, len(alertSettings))
	for i, s := range alertSettings {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// parseShare reads "5%" or "0.05" as 0.05: more than 0, at most 1.
func parseShare(v string) (float64, error) {
	pct := strings.HasSuffix(v, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("not a number")
	}
	if pct {
		f /= 100
	}
	if !(f > 0 && f <= 1) {
		return 0, fmt.Errorf("out of range (0, 100%%]")
	}
	return f, nil
}

// parsePerMinute reads "10/min" or "10" as 10: more than 0.
func parsePerMinute(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "/min"), 64)
	if err != nil {
		return 0, fmt.Errorf("not a number")
	}
	if !(f > 0) || f > 1e9 {
		return 0, fmt.Errorf("must be more than 0")
	}
	return f, nil
}

// parseCount reads a whole number of at least 1.
func parseCount(v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("not a whole number of at least 1")
	}
	return n, nil
}

// parseDuration reads a positive Go duration of at most a day.
func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("not a duration")
	}
	if d <= 0 || d > 24*time.Hour {
		return 0, fmt.Errorf("out of range (0, 24h]")
	}
	return d, nil
}
