package dashboard

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/souq"
)

// TestQueryShape checks what every query must hold whether or not an
// engine runs here: the partitions and the event-time bounds, quoted
// "timestamp", the filters, each dialect's own JSON functions, and
// literals quoted against injection.
func TestQueryShape(t *testing.T) {
	from := time.Date(2026, 3, 13, 23, 30, 0, 0, time.UTC)
	to := time.Date(2026, 3, 14, 0, 30, 0, 0, time.UTC)
	q := productQuery(from, to, "AE", "Dubai's", []string{"prd_a"})
	for _, tc := range []struct {
		name, sql string
		want      []string
	}{
		{"duckdb", q.DuckDB, []string{
			"read_parquet('archive/events/*/*/*.parquet', hive_partitioning = true)",
			"dt BETWEEN DATE '2026-03-13' AND DATE '2026-03-14'",
			`"timestamp" >= TIMESTAMPTZ '2026-03-13 23:30:00.000000+00' AND "timestamp" < TIMESTAMPTZ '2026-03-14 00:30:00.000000+00'`,
			"(properties->>'$.market')", "= 'AE'", "= 'Dubai''s'", "product_id IN ('prd_a')",
			"unnest(json_extract(properties, '$.products[*]'))", "* 1469 / 1500", "* 19097 / 16000",
		}},
		{"athena", q.Athena, []string{
			"FROM souq_events", "dt BETWEEN '2026-03-13' AND '2026-03-14'",
			`"timestamp" >= TIMESTAMP '2026-03-13 23:30:00.000000' AND "timestamp" < TIMESTAMP '2026-03-14 00:30:00.000000'`,
			"json_extract_scalar(properties, '$.market')", "= 'Dubai''s'",
			"UNNEST(CAST(json_extract(properties, '$.products') AS ARRAY(JSON)))",
		}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.sql, w) {
				t.Errorf("%s: got SQL without %q:\n%s", tc.name, w, tc.sql)
			}
		}
	}
	// Each message id once, blank ids and cancellations no visitor, in
	// every query and both dialects.
	spans := []namedSpan{{"hour", from, to}}
	for name, sql := range map[string]string{
		"products duckdb": q.DuckDB, "products athena": q.Athena,
		"totals duckdb": totalsQuery(spans, false).DuckDB, "totals athena": totalsQuery(spans, false).Athena,
		"alerts duckdb": alertQuery(from, to).DuckDB, "alerts athena": alertQuery(from, to).Athena,
	} {
		if w := "row_number() OVER (PARTITION BY message_id ORDER BY stream_seq) AS copy_rank"; !strings.Contains(sql, w) ||
			!strings.Contains(sql, "WHERE copy_rank = 1") {
			t.Errorf("%s: got SQL that does not keep the first copy of each message id:\n%s", name, sql)
		}
		if strings.HasPrefix(name, "totals") {
			if w := "CASE WHEN event <> 'Order Cancelled' THEN coalesce(nullif(trim(user_id), ''), nullif(trim(anonymous_id), '')) END AS visitor"; !strings.Contains(sql, w) {
				t.Errorf("%s: got SQL without %q:\n%s", name, w, sql)
			}
		}
	}
	if strings.Contains(q.Athena, "->>") || strings.Contains(q.DuckDB, "json_extract_scalar") {
		t.Errorf("a dialect uses the other's JSON operator")
	}
	// A span that ends on midnight does not reach the next day's partition.
	if got := duckdb.span(from, time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)); !strings.Contains(got, "AND DATE '2026-03-13'\n") {
		t.Errorf("span to midnight: got %s, want the 13th only", got)
	}
}

// TestQueriesInDuckDB runs the queries against an archive written by the
// archive package from a fixed event sequence, and checks each figure
// against values computed by hand. It needs Node.js and DuckDB's
// @duckdb/node-api, a devDependency in package.json (npm ci): it looks in
// the node_modules directory SOUQ_TEST_DUCKDB_NODE names, else in the
// repository's own. With SOUQ_TEST_DUCKDB_NODE or CI set (.ci/run sets
// the first), a missing node or module fails the test; otherwise it skips,
// saying why. The Athena dialect has no engine here: TestQueryShape
// checks its text.
func TestQueriesInDuckDB(t *testing.T) {
	nodeModules, required := os.LookupEnv("SOUQ_TEST_DUCKDB_NODE")
	required = required || os.Getenv("CI") != ""
	missing := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf(format, args...)
		}
		t.Skipf(format+" (npm ci installs it; set SOUQ_TEST_DUCKDB_NODE or CI to make this a failure)", args...)
	}
	if nodeModules == "" {
		nodeModules = filepath.Join("..", "..", "node_modules")
	}
	nodeModules, err := filepath.Abs(nodeModules)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(nodeModules, "@duckdb", "node-api", "package.json")); err != nil {
		missing("no @duckdb/node-api in %s: %v", nodeModules, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed: %v", err)
	}
	script, err := filepath.Abs("testdata/duckdb.mjs")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeQueryArchive(t, filepath.Join(root, "archive"))
	run := func(t *testing.T, sql string) []map[string]any {
		t.Helper()
		file := filepath.Join(root, "q.sql")
		if err := os.WriteFile(file, []byte(sql), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(node, script, file)
		cmd.Dir, cmd.Env = root, append(os.Environ(), "NODE_PATH="+nodeModules)
		out, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("duckdb: %v\n%s\nSQL:\n%s", err, stderr, sql)
		}
		var rows []map[string]any
		if err := json.Unmarshal(out, &rows); err != nil {
			t.Fatalf("decode %s: %v", out, err)
		}
		return rows
	}
	from, to := qt(10, 0), qt(11, 0)
	row := func(cells ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(cells); i += 2 {
			m[cells[i].(string)] = cells[i+1]
		}
		return m
	}
	prod := func(id, views, adds, orders, units, aed string) map[string]any {
		return row("product_id", id, "views", views, "add_events", adds, "orders", orders, "units", units, "revenue_aed", aed)
	}
	for _, tc := range []struct {
		name string
		sql  string
		want []map[string]any
	}{
		// prd_b: 1,000 fils in AE, 300.00 SAR = 30,000 halalas × 1469/1500 = 29,380 fils in SA.
		{"products", productQuery(from, to, "", "", nil).DuckDB, []map[string]any{
			prod("prd_b", "1", "0", "2", "4", "30380"), prod("prd_a", "2", "1", "1", "2", "2500")}},
		{"products in AE", productQuery(from, to, "AE", "", nil).DuckDB, []map[string]any{
			prod("prd_a", "2", "1", "1", "2", "2500"), prod("prd_b", "0", "0", "1", "1", "1000")}},
		{"products in Dubai (browsing has no city)", productQuery(from, to, "", "Dubai", nil).DuckDB, []map[string]any{
			prod("prd_a", "0", "0", "1", "2", "2500"), prod("prd_b", "0", "0", "1", "1", "1000")}},
		{"one product", productQuery(from, to, "", "", []string{"prd_a"}).DuckDB, []map[string]any{
			prod("prd_a", "2", "1", "1", "2", "2500")}},
		{"no product", productQuery(from, to, "", "", []string{}).DuckDB, []map[string]any{}},
		// Visitors: v1, v2, v3, u1 (the order's userId), v5 (a search); not
		// v7 (a cancellation only), " " or "  " (blank ids); the order m5
		// counted once.
		{"totals", totalsQuery([]namedSpan{{"hour", from, to}, {"early", from, qt(10, 5)}}, true).DuckDB, []map[string]any{
			row("span", "early", "market", "AE", "visitors", "2", "buyers", "0", "views", "2", "orders", "0", "units", "0", "revenue_aed", "0"),
			row("span", "early", "market", "SA", "visitors", "1", "buyers", "0", "views", "1", "orders", "0", "units", "0", "revenue_aed", "0"),
			row("span", "early", "market", "all", "visitors", "3", "buyers", "0", "views", "3", "orders", "0", "units", "0", "revenue_aed", "0"),
			row("span", "hour", "market", "AE", "visitors", "4", "buyers", "1", "views", "2", "orders", "1", "units", "3", "revenue_aed", "3500"),
			row("span", "hour", "market", "SA", "visitors", "1", "buyers", "1", "views", "1", "orders", "1", "units", "3", "revenue_aed", "29380"),
			row("span", "hour", "market", "all", "visitors", "5", "buyers", "2", "views", "3", "orders", "2", "units", "6", "revenue_aed", "32880"),
		}},
		{"alerts", alertQuery(from, to).DuckDB, []map[string]any{
			row("minute", "2026-03-14 10:05:00+00", "orders", "1", "cancellations", "0", "searches", "0", "zero_result_searches", "0"),
			row("minute", "2026-03-14 10:06:00+00", "orders", "1", "cancellations", "0", "searches", "0", "zero_result_searches", "0"),
			row("minute", "2026-03-14 10:07:00+00", "orders", "0", "cancellations", "0", "searches", "2", "zero_result_searches", "1"),
			row("minute", "2026-03-14 10:08:00+00", "orders", "0", "cancellations", "2", "searches", "0", "zero_result_searches", "0"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := gocmp.Diff(tc.want, run(t, tc.sql)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func qt(h, m int) time.Time { return time.Date(2026, 3, 14, h, m, 0, 0, time.UTC) }

// writeQueryArchive archives the queries' fixed event sequence in dir.
func writeQueryArchive(t *testing.T, dir string) {
	t.Helper()
	ev := func(id, name string, at time.Time, user, anon, market, props string) souq.Event {
		e := souq.Event{MessageID: id, Type: "track", Event: name, Timestamp: at, ReceivedAt: at.Add(time.Second),
			UserID: user, AnonymousID: anon, Properties: json.RawMessage(props)}
		if market != "" {
			e.Context = json.RawMessage(`{"market":"` + market + `"}`)
		}
		return e
	}
	order := `{"order_id":"o1","currency":"AED","total_minor":3500,"market":"AE","city":"Dubai","products":[` +
		`{"product_id":"prd_a","price":"12.50","quantity":2},{"product_id":"prd_b","price":"10.00","quantity":1}]}`
	events := []souq.Event{
		ev("m1", "Product Viewed", qt(10, 1), "", "v1", "AE", `{"product_id":"prd_a"}`),
		ev("m2", "Product Viewed", qt(10, 2), "", "v2", "AE", `{"product_id":"prd_a"}`),
		ev("m3", "Product Viewed", qt(10, 3), "", "v3", "SA", `{"product_id":"prd_b"}`),
		ev("m4", "Product Added", qt(10, 4), "", "v1", "AE", `{"product_id":"prd_a","quantity":2}`),
		ev("m5", "Order Completed", qt(10, 5), "u1", "v1", "AE", order),
		ev("m6", "Order Completed", qt(10, 6), "", "v3", "", `{"order_id":"o2","currency":"SAR","total_minor":30000,"market":"SA","city":"Riyadh","products":[`+
			`{"product_id":"prd_b","price":"100.00","quantity":3}]}`),
		ev("m7", "Products Searched", qt(10, 7), "", "v5", "AE", `{"query":"oud","result_count":0}`),
		ev("m8", "Products Searched", qt(10, 7).Add(30*time.Second), "", "v5", "AE", `{"query":"rose","result_count":4}`),
		ev("m9", "Order Cancelled", qt(10, 8), "u1", "v1", "AE", order),
		ev("m10", "Product Viewed", qt(11, 30), "", "v9", "AE", `{"product_id":"prd_a"}`),
		{MessageID: "m11", Type: "page", Name: "Home", Timestamp: qt(10, 9), ReceivedAt: qt(10, 9), AnonymousID: "v8"},
		// What the live code does not count as a figure: the order m5
		// republished (the same message id under a later sequence), a
		// cancellation by someone who did nothing else in the span (not a
		// visit), a blank userId (its anonymousId is the visitor) and an
		// event with neither id set (no visitor).
		ev("m5", "Order Completed", qt(10, 5), "u1", "v1", "AE", order),
		ev("m12", "Order Cancelled", qt(10, 8).Add(10*time.Second), "", "v7", "AE",
			`{"order_id":"o9","currency":"AED","total_minor":100,"market":"AE","city":"Dubai","products":[{"product_id":"prd_a","price":"1.00","quantity":1}]}`),
		ev("m13", "Cart Viewed", qt(10, 9), " ", "v1", "AE", `{}`),
		ev("m14", "Cart Viewed", qt(10, 9), "", "  ", "AE", `{}`),
	}
	bucket, err := fileblob.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := archive.New(bucket, archive.Options{})
	ctx := context.Background()
	if _, err := w.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		if err := w.Add(uint64(i+1), e); err != nil {
			t.Fatalf("add %s: %v", e.MessageID, err)
		}
	}
	if _, err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// An orphan: a copy of the 10:00 file under a name no manifest lists,
	// as an upload whose manifest was never written leaves; DuckDB's glob
	// reads it too.
	files, err := filepath.Glob(filepath.Join(dir, "events", "dt=2026-03-14", "hour=10", "*.parquet"))
	if err != nil || len(files) == 0 {
		t.Fatalf("the 10:00 file: %v %v", files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(files[0]), "events-orphan.parquet"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}
