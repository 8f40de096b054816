package loadgen

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/chartaxis"
)

//go:embed templates/report.html
var templateFS embed.FS

var reportPage = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"add": func(a, b float64) float64 { return a + b },
	"sub": func(a, b float64) float64 { return a - b },
	"ms":  func(v float64) string { return fmt.Sprintf("%.2f", v) },
}).ParseFS(templateFS, "templates/report.html"))

// WriteHTML writes the report as one self-contained page: inline style,
// charts as inline SVG, no script and nothing fetched, so it opens from
// disk and can be archived with the run.
func (r *Report) WriteHTML(w io.Writer) error {
	type stepRow struct {
		StepReport
		Codes string
	}
	var steps []stepRow
	for _, st := range append(slices.Clone(r.Steps), r.All) {
		if st.Requests == 0 && st.Step != "all" {
			continue
		}
		var codes []string
		for _, k := range slices.Sorted(maps.Keys(st.Statuses)) {
			codes = append(codes, fmt.Sprintf("%s×%d", k, st.Statuses[k]))
		}
		steps = append(steps, stepRow{st, strings.Join(codes, " ")})
	}
	pick := func(f func(second) float64) []float64 {
		out := make([]float64, len(r.PerSecond))
		for i, s := range r.PerSecond {
			out[i] = f(s)
		}
		return out
	}
	charts := []chart{
		newChart("rate", "Arrivals and requests per second", "per second",
			namedSeries{"sessions arriving", pick(func(s second) float64 { return float64(s.Arrivals) })},
			namedSeries{"requests answered", pick(func(s second) float64 { return float64(s.Requests) })}),
		newChart("latency", "Latency of the requests ended each second", "ms",
			namedSeries{"p50", pick(func(s second) float64 { return s.P50 })},
			namedSeries{"p99", pick(func(s second) float64 { return s.P99 })},
			namedSeries{"max", pick(func(s second) float64 { return s.Max })}),
		newChart("errors", "Failed requests and sessions not started, per second", "per second",
			namedSeries{"failed requests", pick(func(s second) float64 { return float64(s.Failed) })},
			namedSeries{"sessions not started", pick(func(s second) float64 { return float64(s.Dropped) })}),
		newChart("queue", "Waiting room: sessions leaving the queue each second, and the longest wait among them", "sessions; seconds",
			namedSeries{"sessions leaving the queue", pick(func(s second) float64 { return float64(s.QueueExits) })},
			namedSeries{"longest wait (s)", pick(func(s second) float64 { return s.QueueWaitMax })}),
	}
	mem := fmt.Sprintf("peak %.1f MiB from the system, %d goroutines", float64(r.Memory.PeakSysBytes)/(1<<20), r.Memory.PeakGoroutines)
	if r.Memory.BytesPerSession > 0 {
		mem += fmt.Sprintf(", %.1f KiB per session in progress", r.Memory.BytesPerSession/1024)
	}
	return reportPage.Execute(w, map[string]any{"R": r, "Steps": steps, "Charts": charts, "Memory": mem,
		"Length": r.Ended.Sub(r.Started).Round(time.Millisecond)})
}

type namedSeries struct {
	name   string
	values []float64
}

// chart is a line chart drawn as SVG: one polyline per series over the
// seconds of the run, with labelled axes.
type chart struct {
	ID, Title, YLabel        string
	W, H                     float64
	Left, Right, Top, Bottom float64
	Series                   []chartSeries
	XTicks, YTicks           []tick
}

type chartSeries struct{ Name, Points string }

type tick struct {
	At    float64
	Label string
}

func newChart(id, title, yLabel string, series ...namedSeries) chart {
	c := chart{ID: "chart-" + id, Title: title, YLabel: yLabel, W: 900, H: 260, Left: 56, Right: 880, Top: 24, Bottom: 220}
	n, top := 0, 0.0
	for _, s := range series {
		n = max(n, len(s.values))
		for _, v := range s.values {
			top = max(top, v)
		}
	}
	top = chartaxis.NiceCeil(top)
	x := func(i int) float64 {
		if n <= 1 {
			return c.Left
		}
		return c.Left + (c.Right-c.Left)*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return c.Bottom - (c.Bottom-c.Top)*v/top }
	for _, s := range series {
		var b strings.Builder
		for i, v := range s.values {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(v))
		}
		c.Series = append(c.Series, chartSeries{Name: s.name, Points: strings.TrimSpace(b.String())})
	}
	for k := 0; k <= 4; k++ {
		v := top * float64(k) / 4
		c.YTicks = append(c.YTicks, tick{At: y(v), Label: trimFloat(v)})
	}
	step := max(1, n/8)
	for i := 0; i < n; i += step {
		c.XTicks = append(c.XTicks, tick{At: x(i), Label: fmt.Sprint(i)})
	}
	return c
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
