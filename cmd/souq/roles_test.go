package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/archive/buckettest"
	"github.com/souq-commerce/souq/internal/fileblob"
	"github.com/souq-commerce/souq/internal/natsstream"
	"github.com/souq-commerce/souq/internal/outcomes"
	"github.com/souq-commerce/souq/internal/redisstore"
	"github.com/souq-commerce/souq/internal/s3blob"
	"github.com/souq-commerce/souq/internal/souq"
)

// TestServeRoles runs the shop as separate servers (each its own souq
// serve, in this test's process) on the machine's NATS server and Redis:
// the api with the relay, a second api, the collector, two processors and
// two archivers (one archive: on the S3-compatible server when
// SOUQ_TEST_S3_URL names one, else a directory). Orders and behaviour
// events reach the dashboards' figures exactly once, both replicas showing
// the same; the archive holds each event once; every server answers
// /readyz and names its roles in /metrics; and the processors make one
// round trip to Redis per batch.
func TestServeRoles(t *testing.T) {
	natsURL, redisURL := os.Getenv("SOUQ_TEST_NATS_URL"), os.Getenv("SOUQ_TEST_REDIS_URL")
	if natsURL == "" || redisURL == "" {
		t.Skip("SOUQ_TEST_NATS_URL and SOUQ_TEST_REDIS_URL not set: skipping the test of separate roles on NATS and Redis")
	}
	ns := "roles_" + string(souq.NewID(""))[:10]
	arch, bucket := testArchive(t, ns)
	const writeKey, token = "roles-test-key", "roles-test-token"
	common := []string{"--addr", "127.0.0.1:0", "--nats-url", natsURL, "--namespace", ns, "--hot", redisURL,
		"--waitroom-secret", "a waiting room secret shared by the replicas", "--write-key", writeKey, "--admin-token", token, "--archive", arch, "--archive-max-age", "200ms"}
	start := func(roles string, extra ...string) (string, *syncBuffer) {
		t.Helper()
		args := append(append([]string{"--roles", roles, "--data", t.TempDir()}, common...), extra...)
		base, stdout, _ := startServe(t, args, nil)
		return base, stdout
	}
	api, _ := start("api,relay", "--demo", "--shoppers", "0")
	api2, _ := start("api", "--demo", "--shoppers", "0") // a second dashboard replica
	coll, _ := start("collector")
	procs := []string{}
	for range 2 {
		base, _ := start("processor")
		procs = append(procs, base)
	}
	var archivers []string
	for range 2 {
		base, _ := start("archiver")
		archivers = append(archivers, base)
	}
	t.Cleanup(func() { cleanNamespace(t, natsURL, redisURL, ns) })

	var list productList
	getJSON(t, api+"/api/v1/products?market=AE&page_size=50", &list)
	product := list.inStock(t)
	const orders, views = 3, 120
	for i := range orders {
		body := fmt.Sprintf(`{"market":"AE","items":[{"product_id":%q,"quantity":1}],
			"customer":{"name":"Mariam","email":"mariam%d@example.ae","phone":"+971501234567"},
			"shipping_address":{"line1":"Villa 12","area":"Jumeirah","city":"Dubai","country":"AE"},
			"payment":{"method":"cod"}}`, product, i)
		resp, err := http.Post(api+"/api/v1/orders", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("order %d: got %d", i, resp.StatusCode)
		}
	}
	checkOutcomes(t, redisURL, ns, api2, product, orders)
	var events []string
	for i := range views {
		events = append(events, fmt.Sprintf(`{"type":"track","event":"Product Viewed","messageId":"roles-view-%d","anonymousId":"a%d","properties":{"product_id":%q},"context":{"market":"SA"}}`, i, i%9, product))
	}
	req, _ := http.NewRequest(http.MethodPost, coll+"/v1/batch", strings.NewReader(`{"batch":[`+strings.Join(events, ",")+`]}`))
	req.SetBasicAuth(writeKey, "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("collector: got %d", resp.StatusCode)
	}

	type snapshot struct {
		Today struct {
			Orders int64 `json:"orders"`
			Views  int64 `json:"views"`
		} `json:"today"`
	}
	var snap snapshot
	deadline := time.Now().Add(30 * time.Second)
	for {
		getJSON(t, api+"/api/v1/analytics/snapshot", &snap) // open: --demo on loopback
		if snap.Today.Orders >= orders && snap.Today.Views >= views {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard did not reach %d orders and %d views: %+v", orders, views, snap.Today)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if snap.Today.Orders != orders || snap.Today.Views != views {
		t.Errorf("dashboard today: got %d orders, %d views; want %d and %d, each counted once", snap.Today.Orders, snap.Today.Views, orders, views)
	}
	// The other replica reads the same Redis: the same figures, once its
	// cached snapshot is renewed.
	var snap2 snapshot
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		getJSON(t, api2+"/api/v1/analytics/snapshot", &snap2)
		if snap2.Today == snap.Today {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second dashboard replica shows %+v, the first %+v", snap2.Today, snap.Today)
		}
	}

	var recs []archive.Record
	deadline = time.Now().Add(30 * time.Second)
	for len(recs) < orders+views {
		if recs, err = archive.ReadAll(t.Context(), bucket, time.Time{}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("archive: got %d events, want %d", len(recs), orders+views)
		}
		time.Sleep(50 * time.Millisecond)
	}
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.Event.MessageID]++
	}
	if len(recs) != orders+views || len(seen) != orders+views {
		t.Errorf("archive: got %d events, %d distinct; want %d, each once", len(recs), len(seen), orders+views)
	}

	leaders := 0
	for _, base := range append(append([]string{api, api2, coll}, procs...), archivers...) {
		body := getText(t, base+"/metrics")
		if !regexp.MustCompile(`(?m)^souq_role\{role="\w+"\} 1$`).MatchString(body) {
			t.Errorf("%s/metrics names no role:\n%s", base, body)
		}
		if regexp.MustCompile(`(?m)^souq_archiver_leader 1$`).MatchString(body) {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("archiver replicas leading: got %d, want 1", leaders)
	}
	// Each batch a processor applies is one round trip to Redis (two more
	// when the server lost the commit script), whatever its size.
	var batches, commits float64
	for _, base := range procs {
		body := getText(t, base+"/metrics")
		batches += metricIn(t, body, "souq_pipeline_processor_batches_total")
		commits += metricIn(t, body, `souq_redis_round_trips_total{op="commit"}`)
	}
	if batches < 1 || commits < batches || commits > batches+4 {
		t.Errorf("processors: %v commit round trips to Redis for %v batches, want one per batch (and the script loaded once per replica)", commits, batches)
	}
	if code := getStatus(t, procs[0]+"/api/v1/products?market=AE"); code != http.StatusNotFound {
		t.Errorf("the shop API on a processor replica: got %d, want 404", code)
	}
}

// checkOutcomes refuses an order on the second api replica (too many
// units) and checks that the checkout outcomes in Redis add up both
// replicas' answers: the first one's placed orders and this refusal.
func checkOutcomes(t *testing.T, redisURL, ns, api2, product string, placed int64) {
	t.Helper()
	body := fmt.Sprintf(`{"market":"AE","items":[{"product_id":%q,"quantity":1000}],
		"customer":{"name":"Mariam","email":"mariam@example.ae","phone":"+971501234567"},
		"shipping_address":{"line1":"Villa 12","area":"Jumeirah","city":"Dubai","country":"AE"},
		"payment":{"method":"cod"}}`, product)
	resp, err := http.Post(api2+"/api/v1/orders", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("order of 1,000 units: got %d, want 422", resp.StatusCode)
	}
	st, err := redisstore.Open(t.Context(), redisURL, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	oc := redisstore.NewOutcomes(st, "souq:"+ns+":oc")
	want := outcomes.Counts{Checkouts: placed + 1, Orders: placed, Rejected: 1}
	var sum outcomes.Counts
	for deadline := time.Now().Add(30 * time.Second); sum != want; time.Sleep(50 * time.Millisecond) {
		now := time.Now()
		ms, err := oc.Minutes(t.Context(), now.Add(-5*time.Minute), now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		sum = outcomes.Counts{}
		for _, m := range ms {
			sum.Add(m.Counts)
		}
		if time.Now().After(deadline) {
			t.Fatalf("checkout outcomes in Redis: got %+v, want %+v", sum, want)
		}
	}
}

// testArchive returns where a test's archive is, for --archive, and the
// archive's bucket: a fresh prefix on SOUQ_TEST_S3_URL's bucket, emptied
// at the end, or a temporary directory.
func testArchive(t *testing.T, prefix string) (string, archive.Bucket) {
	t.Helper()
	raw := os.Getenv("SOUQ_TEST_S3_URL")
	if raw == "" {
		dir := t.TempDir()
		b, err := fileblob.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		return dir, b
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("SOUQ_TEST_S3_URL: %v", err)
	}
	u.Path = path.Join("/", u.Path, prefix)
	b, err := s3blob.Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := errors.Join(buckettest.Empty(context.Background(), b), b.Close()); err != nil {
			t.Errorf("empty the test's archive: %v", err)
		}
	})
	return u.String(), b
}

// metricIn returns the value of the sample named name (with its labels,
// as exposed) in a /metrics body, failing t when there is none.
func metricIn(t *testing.T, body, name string) float64 {
	t.Helper()
	for line := range strings.SplitSeq(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", name, err)
			}
			return f
		}
	}
	t.Fatalf("no metric %s in:\n%s", name, body)
	return 0
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// cleanNamespace deletes what a test's namespace left on the shared NATS
// server and Redis.
func cleanNamespace(t *testing.T, natsURL, redisURL, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := natsstream.Open(ctx, natsstream.Options{URL: natsURL, Namespace: ns})
	if err == nil {
		err = errors.Join(stream.Delete(ctx), stream.Close())
	}
	if err != nil {
		t.Errorf("clean up: %v", err)
	}
	st, err := redisstore.Open(ctx, redisURL, redisstore.Options{})
	if err == nil {
		err = errors.Join(st.DeleteKeys(ctx, "*"+ns+"*"), st.Close())
	}
	if err != nil {
		t.Errorf("clean up Redis keys of %s: %v", ns, err)
	}
}
