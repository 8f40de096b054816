package overload

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// shedCount reads souq_shed_requests_total{class} from reg.
func shedCount(t *testing.T, reg *prometheus.Registry, class string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "souq_shed_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "class" && l.GetValue() == class {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
