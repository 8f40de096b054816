package dashboard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/analytics"
	"github.com/souq-commerce/souq/internal/chartaxis"
	"github.com/souq-commerce/souq/internal/souq"
)

// The page's language-aware formats and its charts. static/dashboard.js
// draws the same charts and writes the same formats; change both
// together.

// fmtAgeIn is fmtAge with the units in lang: 42 s, 3 min 5 s, 2 h 10 min.
func fmtAgeIn(d time.Duration, lang souq.Lang) string {
	s := int64(max(d, 0) / time.Second)
	sec, mins, hours := tr(lang, "sec"), tr(lang, "min"), tr(lang, "hour")
	switch {
	case s < 60:
		return fmt.Sprintf("%d %s", s, sec)
	case s < 3600:
		return fmt.Sprintf("%d %s %d %s", s/60, mins, s%60, sec)
	default:
		return fmt.Sprintf("%d %s %d %s", s/3600, hours, s%3600/60, mins)
	}
}

// fmtSignedPct writes a relative change with its sign: +12.3%, -4.0%,
// 0.0%.
func fmtSignedPct(rate float64) string {
	switch s := fmtPct(rate); {
	case s == "-0.0%" || s == "0.0%":
		return "0.0%"
	case rate > 0:
		return "+" + s
	default:
		return s
	}
}

// fmtCompact writes an axis label: 950, 1.2k, 35k, 1.5M.
func fmtCompact(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return trimZero(strconv.FormatFloat(v/1e6, 'f', 1, 64)) + "M"
	case a >= 1e3:
		return trimZero(strconv.FormatFloat(v/1e3, 'f', 1, 64)) + "k"
	default:
		return trimZero(strconv.FormatFloat(v, 'f', 1, 64))
	}
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }

// niceTop is the smallest of 1, 2 or 5 × 10ⁿ at or above v (at least 1):
// the top of a chart's y axis.
func niceTop(v float64) float64 { return chartaxis.NiceCeil(max(v, 1)) }

// The charts' geometry (viewBox units): the plot area runs from plotL to
// plotR and from plotT (the top of the y axis) down to plotB (zero).
const (
	chartW, chartH = 480.0, 240.0
	plotL, plotR   = 56.0, 468.0
	plotT, plotB   = 34.0, 190.0
	// xTicks are the minutes, counted from the oldest shown, that the
	// x axis labels.
	xTickEvery = 15
)

type (
	chartView struct {
		ID, Title, Unit  string
		Line, Area       string
		Label            string
		Peak, Latest     string
		YTicks           []tick
		XTicks           []tick
		XTitle, W, H     string
		PlotL, PlotR     string
		PlotT, PlotB     string
		YTitleX, YTitleY string
		YLabelX, XLabelY string
		XTitleX, XTitleY string
	}
	// tick is one labelled point of an axis, at Pos on it.
	tick struct {
		ID, Pos, Label string
		Last           bool
	}
)

// chartSeries are the running charts: which figure of a minute each
// draws, how it is written, and the unit of its y axis (revenue is drawn
// in dirhams, not fils).
var chartSeries = []struct {
	id     string
	value  func(analytics.MinutePoint) int64
	format func(int64) string
	scale  float64 // axis units per value unit
}{
	{"views", func(m analytics.MinutePoint) int64 { return m.Views }, fmtInt, 1},
	{"orders", func(m analytics.MinutePoint) int64 { return m.Orders }, fmtInt, 1},
	{"revenue", func(m analytics.MinutePoint) int64 { return m.RevenueAED }, fmtAED, 0.01},
}

func charts(minutes []analytics.MinutePoint, loc *time.Location, zone string, lang souq.Lang) []chartView {
	out := make([]chartView, 0, len(chartSeries))
	for _, c := range chartSeries {
		values := make([]int64, len(minutes))
		var total, peak int64
		for i, m := range minutes {
			values[i] = c.value(m)
			total += values[i]
			peak = max(peak, values[i])
		}
		var latest int64
		if len(values) > 0 {
			latest = values[len(values)-1]
		}
		top := niceTop(float64(peak) * c.scale)
		line, area := chartPoints(values, top/c.scale)
		title := tr(lang, "c_"+c.id)
		cv := chartView{
			ID: c.id, Title: title, Unit: tr(lang, "u_"+c.id), Line: line, Area: area,
			Peak: c.format(peak), Latest: c.format(latest),
			Label:  fmt.Sprintf(tr(lang, "chart_label"), title, c.format(total), c.format(peak), c.format(latest)),
			XTitle: tr(lang, "minute") + " (" + zone + ")",
			W:      coord(chartW), H: coord(chartH), PlotL: coord(plotL), PlotR: coord(plotR),
			PlotT: coord(plotT), PlotB: coord(plotB), YTitleX: coord(plotL), YTitleY: coord(plotT - 14),
			YLabelX: coord(plotL - 6), XLabelY: coord(plotB + 20), XTitleX: coord((plotL + plotR) / 2), XTitleY: coord(chartH - 6),
		}
		for i, f := range []float64{0, 0.5, 1} {
			cv.YTicks = append(cv.YTicks, tick{ID: fmt.Sprintf("c-%s-y%d", c.id, i),
				Pos: coord(plotB - f*(plotB-plotT)), Label: fmtCompact(top * f)})
		}
		cv.XTicks = xTicks(c.id, minutes, loc)
		out = append(out, cv)
	}
	return out
}

// xTicks labels every xTickEvery-th minute of the chart, and the newest,
// with its clock time.
func xTicks(id string, minutes []analytics.MinutePoint, loc *time.Location) []tick {
	n := len(minutes)
	var out []tick
	for i := 0; i < n; i += xTickEvery {
		if n-1-i < xTickEvery/2 && i != n-1 {
			continue // too close to the newest, labelled below
		}
		out = append(out, tick{ID: fmt.Sprintf("c-%s-x%d", id, len(out)), Pos: coord(xAt(i, n)),
			Label: minutes[i].Start.In(loc).Format("15:04")})
	}
	if n > 0 && (n-1)%xTickEvery != 0 {
		out = append(out, tick{ID: fmt.Sprintf("c-%s-x%d", id, len(out)), Pos: coord(xAt(n-1, n)),
			Label: minutes[n-1].Start.In(loc).Format("15:04")})
	}
	if len(out) > 1 {
		out[len(out)-1].Last = true // anchored at its end, so it stays inside the chart
	}
	return out
}

// xAt is where the i-th of n points sits on the x axis.
func xAt(i, n int) float64 {
	if n <= 1 {
		return plotL
	}
	return plotL + float64(i)*(plotR-plotL)/float64(n-1)
}

// chartPoints returns the SVG points of a line through values, scaled so
// that top is the top of the plot, and of the area under it.
func chartPoints(values []int64, top float64) (line, area string) {
	if len(values) == 0 {
		return "", ""
	}
	top = max(top, 1)
	pts := make([]string, len(values))
	for i, v := range values {
		y := plotB - min(float64(max(v, 0))/top, 1)*(plotB-plotT)
		pts[i] = coord(xAt(i, len(values))) + "," + coord(y)
	}
	line = strings.Join(pts, " ")
	base := coord(plotB)
	return line, coord(plotL) + "," + base + " " + line + " " + coord(xAt(len(values)-1, len(values))) + "," + base
}

func coord(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
