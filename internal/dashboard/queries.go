package dashboard

import (
	"fmt"
	"strings"
	"time"
)

// Query is the SQL that computes a figure from the Parquet archive
// (docs/archive.md): for DuckDB run from the directory that holds
// archive/, and for Athena over the souq_events table that document
// creates. Each query counts as the live aggregates do: each message id
// once, the first copy by stream sequence (the archive may hold a
// republished order twice, and a glob over the files also reads any
// orphan file a failed upload left); a visitor is the trimmed userId, else
// the trimmed anonymousId, and a cancellation is no visit.
// Money comes out in fils (AED minor units), converted per order line or
// order at the fixed rates of analytics.ToAED, as the aggregates are;
// floating-point rounding can move a sum by a fils now and then.
type Query struct {
	DuckDB string `json:"duckdb"`
	Athena string `json:"athena"`
}

// dialect is what differs between DuckDB and Athena (Trino).
type dialect struct {
	table string
	// text extracts a JSON path of a column as text.
	text func(col, path string) string
	ts   func(time.Time) string
	date func(time.Time) string
	// lines is the FROM item that turns each order's products into rows
	// named l (a JSON object each).
	lines string
	// units is the sum of an order's line quantities.
	units string
}

var duckdb = dialect{
	table: "read_parquet('archive/events/*/*/*.parquet', hive_partitioning = true)",
	text:  func(col, path string) string { return "(" + col + "->>'" + path + "')" },
	ts: func(t time.Time) string {
		return "TIMESTAMPTZ '" + t.UTC().Format("2006-01-02 15:04:05.000000") + "+00'"
	},
	date:  func(t time.Time) string { return "DATE '" + t.UTC().Format(time.DateOnly) + "'" },
	lines: "unnest(json_extract(properties, '$.products[*]')) AS t(l)",
	units: "list_sum(CAST(json_extract(properties, '$.products[*].quantity') AS BIGINT[]))",
}

var athena = dialect{
	table: "souq_events",
	text:  func(col, path string) string { return "json_extract_scalar(" + col + ", '" + path + "')" },
	ts:    func(t time.Time) string { return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.000000") + "'" },
	date:  func(t time.Time) string { return "'" + t.UTC().Format(time.DateOnly) + "'" },
	lines: "UNNEST(CAST(json_extract(properties, '$.products') AS ARRAY(JSON))) AS t(l)",
	units: "reduce(CAST(json_extract(properties, '$.products') AS ARRAY(JSON)), BIGINT '0', (s, x) -> s + CAST(json_extract_scalar(x, '$.quantity') AS BIGINT), s -> s)",
}

// both builds a query in each dialect.
func both(build func(dialect) string) *Query {
	return &Query{DuckDB: build(duckdb), Athena: build(athena)}
}

// sqlString quotes s as an SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// span filters rows to event times in [from, to), with the partitions
// that hold them (dt is the UTC date of the event time).
func (d dialect) span(from, to time.Time) string {
	last := to.Add(-time.Microsecond)
	if last.Before(from) {
		last = from
	}
	return fmt.Sprintf("dt BETWEEN %s AND %s\n    AND \"timestamp\" >= %s AND \"timestamp\" < %s",
		d.date(from), d.date(last), d.ts(from), d.ts(to))
}

// events is the FROM item of the archive's rows with event times in
// [from, to) that also meet cond, each message id once: the first copy by
// stream sequence.
func (d dialect) events(from, to time.Time, cond string) string {
	return `(
    SELECT * FROM (
      SELECT *, row_number() OVER (PARTITION BY message_id ORDER BY stream_seq) AS copy_rank
      FROM ` + d.table + `
      WHERE ` + d.span(from, to) + `
        AND ` + cond + `
    ) AS copies
    WHERE copy_rank = 1
  ) AS e`
}

// visitor is who a row came from as the live aggregates count visits: the
// userId when it is not blank, else the anonymousId when it is not blank;
// NULL for neither, and for a cancellation (no visit).
func (d dialect) visitor() string {
	return "CASE WHEN event <> 'Order Cancelled' THEN coalesce(nullif(trim(user_id), ''), nullif(trim(anonymous_id), '')) END"
}

// aed converts an amount in minor units of the currency cur to fils.
func (d dialect) aed(amount, cur string) string {
	a := "CAST(" + amount + " AS DOUBLE)"
	return "round(CASE " + cur +
		" WHEN 'AED' THEN " + a +
		" WHEN 'SAR' THEN " + a + " * 1469 / 1500" +
		" WHEN 'QAR' THEN " + a + " * 1469 / 1456" +
		" WHEN 'BHD' THEN " + a + " * 1469 / 1504" +
		" WHEN 'OMR' THEN " + a + " * 1469 / 1538" +
		" WHEN 'KWD' THEN " + a + " * 19097 / 16000 END)"
}

// minor converts a decimal amount (text) of the currency cur to minor
// units.
func (d dialect) minor(amount, cur string) string {
	return "round(CAST(" + amount + " AS DOUBLE) * CASE WHEN " + cur + " IN ('KWD', 'BHD', 'OMR') THEN 1000 ELSE 100 END)"
}

// orderMarket is the market the aggregates count an event under: an
// order's properties.market, else the archive's market column (the
// event's context.market, else properties.market), else "unknown".
func (d dialect) orderMarket() string {
	return "coalesce(CASE WHEN event IN ('Order Completed', 'Order Cancelled') THEN " + d.text("properties", "$.market") + " END, market, 'unknown')"
}

// city is the city the aggregates count an event under.
func (d dialect) city() string {
	return "coalesce(CASE WHEN event IN ('Order Completed', 'Order Cancelled') THEN " + d.text("properties", "$.city") + " END, " +
		d.text("context", "$.city") + ", 'unknown')"
}

// productQuery is the SQL of the per-product counters over [from, to):
// views, add-to-cart events, orders containing the product, units and
// revenue in fils, optionally in one market or city, or for some
// products only; by revenue, then views, then product id.
func productQuery(from, to time.Time, market, city string, ids []string) *Query {
	return both(func(d dialect) string {
		var filter strings.Builder
		if market != "" {
			filter.WriteString("\n    AND " + d.orderMarket() + " = " + sqlString(market))
		}
		if city != "" {
			filter.WriteString("\n    AND " + d.city() + " = " + sqlString(city))
		}
		browseIDs, lineIDs := "", ""
		switch {
		case ids == nil:
		case len(ids) == 0: // no product: an empty answer, still valid SQL
			browseIDs, lineIDs = "\n    AND FALSE", "\n    AND FALSE"
		default:
			quoted := make([]string, len(ids))
			for i, id := range ids {
				quoted[i] = sqlString(id)
			}
			list := "(" + strings.Join(quoted, ", ") + ")"
			browseIDs = "\n    AND product_id IN " + list
			lineIDs = "\n    AND " + d.text("l", "$.product_id") + " IN " + list
		}
		cur := d.text("properties", "$.currency")
		qty := "CAST(" + d.text("l", "$.quantity") + " AS BIGINT)"
		return `-- per product: views, add-to-cart events, orders, units, revenue (fils)
WITH ev AS (
  SELECT event, product_id, properties
  FROM ` + d.events(from, to, "event IN ('Product Viewed', 'Product Added', 'Order Completed')") + `
  WHERE TRUE` + filter.String() + `
),
browse AS (
  SELECT product_id,
         sum(CASE WHEN event = 'Product Viewed' THEN 1 ELSE 0 END) AS views,
         sum(CASE WHEN event = 'Product Added' THEN 1 ELSE 0 END) AS add_events
  FROM ev
  WHERE event <> 'Order Completed'` + browseIDs + `
  GROUP BY product_id
),
lines AS (
  SELECT ` + d.text("l", "$.product_id") + ` AS product_id,
         ` + d.text("properties", "$.order_id") + ` AS order_id,
         ` + cur + ` AS currency,
         ` + qty + ` AS quantity,
         ` + d.minor(d.text("l", "$.price"), cur) + ` * ` + qty + ` AS amount
  FROM ev CROSS JOIN ` + d.lines + `
  WHERE event = 'Order Completed'` + lineIDs + `
),
sold AS (
  SELECT product_id, count(DISTINCT order_id) AS orders, sum(quantity) AS units,
         CAST(sum(` + d.aed("amount", "currency") + `) AS BIGINT) AS revenue_aed
  FROM lines
  GROUP BY product_id
)
SELECT coalesce(b.product_id, s.product_id) AS product_id,
       coalesce(b.views, 0) AS views, coalesce(b.add_events, 0) AS add_events,
       coalesce(s.orders, 0) AS orders, coalesce(s.units, 0) AS units,
       coalesce(s.revenue_aed, 0) AS revenue_aed
FROM browse b FULL OUTER JOIN sold s ON b.product_id = s.product_id
ORDER BY revenue_aed DESC, views DESC, product_id`
	})
}

// namedSpan is one period of a totals query.
type namedSpan struct {
	name     string
	from, to time.Time
}

// countedEvents are the track calls the aggregates count; a visitor is
// anyone with one of them.
const countedEvents = "('Product Viewed', 'Product Added', 'Product Removed', 'Cart Viewed', 'Checkout Started', 'Products Searched', 'Order Completed', 'Order Cancelled')"

// totalsQuery is the SQL of the headline totals of each span, per market
// too when byMarket (market "all" is the total): distinct visitors and
// buyers (the trimmed user_id, else the trimmed anonymous_id; a
// cancellation is no visit), views, orders, units and revenue
// in fils.
func totalsQuery(spans []namedSpan, byMarket bool) *Query {
	return both(func(d dialect) string {
		if len(spans) == 0 {
			return ""
		}
		from, to := spans[0].from, spans[0].to
		values := make([]string, len(spans))
		for i, s := range spans {
			if s.from.Before(from) {
				from = s.from
			}
			if s.to.After(to) {
				to = s.to
			}
			values[i] = "(" + sqlString(s.name) + ", " + d.ts(s.from) + ", " + d.ts(s.to) + ")"
		}
		group, market := "w.name", "'all'"
		if byMarket {
			group = "GROUPING SETS ((w.name), (w.name, ev.mkt))"
			market = "CASE WHEN grouping(ev.mkt) = 1 THEN 'all' ELSE ev.mkt END"
		}
		cur := d.text("properties", "$.currency")
		return `-- per span` + map[bool]string{true: " and market", false: ""}[byMarket] + `: visitors, buyers, views, orders, units, revenue (fils)
WITH w (name, from_ts, to_ts) AS (
  VALUES ` + strings.Join(values, ",\n         ") + `
),
ev AS (
  SELECT "timestamp" AS ts, event, ` + d.visitor() + ` AS visitor, ` + d.orderMarket() + ` AS mkt,
         CASE WHEN event = 'Order Completed' THEN ` + d.units + ` END AS units,
         CASE WHEN event = 'Order Completed' THEN ` + d.aed("CAST("+d.text("properties", "$.total_minor")+" AS BIGINT)", cur) + ` END AS revenue_aed
  FROM ` + d.events(from, to, "type = 'track' AND event IN "+countedEvents) + `
)
SELECT w.name AS span, ` + market + ` AS market,
       count(DISTINCT ev.visitor) AS visitors,
       count(DISTINCT CASE WHEN ev.event = 'Order Completed' THEN ev.visitor END) AS buyers,
       sum(CASE WHEN ev.event = 'Product Viewed' THEN 1 ELSE 0 END) AS views,
       sum(CASE WHEN ev.event = 'Order Completed' THEN 1 ELSE 0 END) AS orders,
       coalesce(sum(ev.units), 0) AS units,
       CAST(coalesce(sum(ev.revenue_aed), 0) AS BIGINT) AS revenue_aed
FROM ev JOIN w ON ev.ts >= w.from_ts AND ev.ts < w.to_ts
GROUP BY ` + group + `
ORDER BY 1, 2`
	})
}

// alertQuery is the SQL of what the event-based alerts are judged from,
// per minute over [from, to): orders, cancellations, searches and
// searches that found nothing. Checkout errors and refusals for stock are
// answers, not events: the archive does not hold them.
func alertQuery(from, to time.Time) *Query {
	return both(func(d dialect) string {
		return `-- per minute: orders, cancellations, searches, zero-result searches
-- (checkout errors and out-of-stock refusals are not events: not in the archive)
SELECT date_trunc('minute', "timestamp") AS minute,
       sum(CASE WHEN event = 'Order Completed' THEN 1 ELSE 0 END) AS orders,
       sum(CASE WHEN event = 'Order Cancelled' THEN 1 ELSE 0 END) AS cancellations,
       sum(CASE WHEN event = 'Products Searched' THEN 1 ELSE 0 END) AS searches,
       sum(CASE WHEN event = 'Products Searched' AND CAST(` + d.text("properties", "$.result_count") + ` AS BIGINT) = 0 THEN 1 ELSE 0 END) AS zero_result_searches
FROM ` + d.events(from, to, "event IN ('Order Completed', 'Order Cancelled', 'Products Searched')") + `
GROUP BY 1
ORDER BY 1`
	})
}
