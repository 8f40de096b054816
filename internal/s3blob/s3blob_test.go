package s3blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/souq-commerce/souq/internal/archive"
	"github.com/souq-commerce/souq/internal/archive/buckettest"
	"github.com/souq-commerce/souq/internal/souq"
)

// envURL names the S3-compatible server the tests run against.
const envURL = "SOUQ_TEST_S3_URL"

func TestParseURL(t *testing.T) {
	tests := []struct {
		url           string
		bucket        string
		prefix        string
		query         url.Values
		wantErrSaying string // "" for success
	}{
		{url: "s3://archive?region=me-central-1", bucket: "archive", query: url.Values{"region": {"me-central-1"}}},
		{url: "s3://archive", bucket: "archive", query: url.Values{}},
		{url: "s3://archive/?region=me-central-1", bucket: "archive", query: url.Values{"region": {"me-central-1"}}},
		{url: "s3://archive/souq/prod/?region=me-central-1", bucket: "archive", prefix: "souq/prod/", query: url.Values{"region": {"me-central-1"}}},
		{url: "s3://souq-test/run1?region=us-east-1&endpoint=http://127.0.0.1:7070&use_path_style=true", bucket: "souq-test", prefix: "run1/",
			query: url.Values{"region": {"us-east-1"}, "endpoint": {"http://127.0.0.1:7070"}, "use_path_style": {"true"}}},
		{url: "s3://b?region=me-central-1&ssetype=aws:kms&kmskeyid=alias/souq", bucket: "b",
			query: url.Values{"region": {"me-central-1"}, "ssetype": {"aws:kms"}, "kmskeyid": {"alias/souq"}}},

		{url: "s3://AKIAEXAMPLE:SECRETVALUE@archive?region=me-central-1", wantErrSaying: "carries credentials"},
		{url: "s3://AKIAEXAMPLE@archive", wantErrSaying: "carries credentials"},
		{url: "s3://archive?region=me-central-1&access_key_id=AKIAEXAMPLE&secret_access_key=SECRETVALUE", wantErrSaying: "credential chain"},
		{url: "s3://archive?aws_secret_access_key=SECRETVALUE", wantErrSaying: "looks like a credential"},
		{url: "s3://archive?session_token=SECRETVALUE", wantErrSaying: "looks like a credential"},
		{url: "s3://archive?profile=prod", wantErrSaying: "AWS_PROFILE"},
		{url: "s3://archive?role=arn:aws:iam::1:role/x", wantErrSaying: "AWS_ROLE_ARN"},
		{url: "s3://archive?web_identity_token_file=/var/run/token", wantErrSaying: "AWS_WEB_IDENTITY_TOKEN_FILE"},
		{url: "s3://archive?anonymous=true", wantErrSaying: "picks credentials"},
		{url: "s3://archive?prefix=souq/", wantErrSaying: "URL's path"},
		{url: "s3://archive?regoin=me-central-1", wantErrSaying: `unknown query parameter "regoin"`},
		{url: "s3://archive?region=a&region=b", wantErrSaying: "given 2 times"},
		{url: "s3://archive:7070", wantErrSaying: "?endpoint="},
		{url: "s3:///prefix", wantErrSaying: "no bucket"},
		{url: "s3:archive", wantErrSaying: "no bucket"},
		{url: "gs://archive", wantErrSaying: `scheme "gs"`},
		{url: "/var/lib/souq/archive", wantErrSaying: `scheme ""`},
		{url: "s3://archive/a/../b", wantErrSaying: "not a clean path"},
		{url: "s3://archive/a//b", wantErrSaying: "not a clean path"},
		{url: "s3://archive/a/./b", wantErrSaying: "not a clean path"},
		{url: "s3://archive#x", wantErrSaying: "fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			bucket, prefix, q, err := parseURL(tt.url)
			if tt.wantErrSaying != "" {
				if !errors.Is(err, ErrInvalidURL) || !strings.Contains(err.Error(), tt.wantErrSaying) {
					t.Fatalf("parseURL: got %v, want ErrInvalidURL saying %q", err, tt.wantErrSaying)
				}
				if strings.Contains(err.Error(), "SECRETVALUE") || strings.Contains(err.Error(), "AKIAEXAMPLE") {
					t.Errorf("parseURL: the error %q quotes the credentials", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseURL: %v", err)
			}
			if bucket != tt.bucket || prefix != tt.prefix {
				t.Errorf("parseURL: got bucket %q, prefix %q; want %q, %q", bucket, prefix, tt.bucket, tt.prefix)
			}
			if diff := cmp.Diff(tt.query, q); diff != "" {
				t.Errorf("parseURL query (-want +got):\n%s", diff)
			}
		})
	}
}

// isolateAWS points the AWS SDK's default chain at nothing: no region, no
// shared config, no instance metadata.
func isolateAWS(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	none := path.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestOpenWithoutRegion(t *testing.T) {
	isolateAWS(t)
	_, err := Open(context.Background(), "s3://archive/souq?endpoint=http://127.0.0.1:1&use_path_style=true")
	if !errors.Is(err, ErrInvalidURL) || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Fatalf("Open without a region: got %v, want ErrInvalidURL naming AWS_REGION", err)
	}
}

func TestOpenRefusesCredentials(t *testing.T) {
	isolateAWS(t)
	_, err := Open(context.Background(), "s3://AKIAEXAMPLE:SECRETVALUE@archive?region=me-central-1")
	if !errors.Is(err, ErrInvalidURL) {
		t.Fatalf("Open: got %v, want ErrInvalidURL", err)
	}
	if strings.Contains(err.Error(), "SECRETVALUE") {
		t.Errorf("Open: the error %q quotes the secret", err)
	}
}

func TestContentType(t *testing.T) {
	for key, want := range map[string]string{
		"events/dt=2025-11-28/hour=21/events-1-9.parquet": "application/vnd.apache.parquet",
		"events/_manifests/00000000000000000001.json":     "application/json",
		"events/_probe/X": "application/octet-stream",
	} {
		if got := contentType(key); got != want {
			t.Errorf("contentType(%q): got %q, want %q", key, got, want)
		}
	}
}

// The tests below need an S3-compatible server: SOUQ_TEST_S3_URL names a
// bucket on it (created if missing), and credentials come from the AWS
// chain, as in production. .ci/s3.sh starts Versity Gateway and prints
// the variables.

// server returns SOUQ_TEST_S3_URL, the bucket made sure to exist, or skips
// the test.
func server(t *testing.T) string {
	t.Helper()
	raw := os.Getenv(envURL)
	if raw == "" {
		t.Skipf("%s is not set: skipping the tests against an S3-compatible server (.ci/s3.sh starts one and prints the variables)", envURL)
	}
	ensureBucket(t, raw)
	return raw
}

var bucketOnce sync.Map // URL → error from creating its bucket

// ensureBucket creates the bucket of rawURL unless it exists.
func ensureBucket(t *testing.T, raw string) {
	t.Helper()
	v, _ := bucketOnce.LoadOrStore(raw, sync.OnceValue(func() error {
		ctx := context.Background()
		bucket, _, q, err := parseURL(raw)
		if err != nil {
			return err
		}
		b, client, err := openBucket(ctx, bucket, q)
		if err != nil {
			return err
		}
		defer b.Close()
		if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
			return nil
		}
		in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
		if region := client.Options().Region; region != "us-east-1" {
			in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}
		}
		_, err = client.CreateBucket(ctx, in)
		var owned *types.BucketAlreadyOwnedByYou
		if errors.As(err, &owned) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", bucket, err)
		}
		return nil
	}))
	if err := v.(func() error)(); err != nil {
		t.Fatalf("%s: %v", envURL, err)
	}
}

// runID keeps this run's keys apart from other runs on the same bucket.
var (
	runID    = strings.ToLower(rand.Text()[:12])
	prefixes atomic.Int64
)

// freshURL returns SOUQ_TEST_S3_URL with a fresh key prefix appended to
// its path, or skips the test.
func freshURL(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(server(t))
	if err != nil {
		t.Fatalf("%s: %v", envURL, err)
	}
	u.Path = path.Join("/", u.Path, "souq-test-"+runID, fmt.Sprint(prefixes.Add(1)))
	return u.String()
}

// openFresh opens the test server on a fresh key prefix.
func openFresh(t *testing.T) *Bucket {
	t.Helper()
	return openURL(t, freshURL(t))
}

// openURL opens raw, and empties and closes it when the test ends.
func openURL(t *testing.T, raw string) *Bucket {
	t.Helper()
	b, err := Open(context.Background(), raw)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := buckettest.Empty(context.Background(), b); err != nil {
			t.Errorf("emptying the test prefix: %v", err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func TestBucketContract(t *testing.T) {
	server(t)
	buckettest.Run(t, func(t *testing.T) archive.Bucket { return openFresh(t) })
}

func TestCheckCreateOnly(t *testing.T) {
	b := openFresh(t)
	if err := archive.CheckCreateOnly(context.Background(), b); err != nil {
		t.Fatalf("CheckCreateOnly: %v", err)
	}
	keys, err := b.List(context.Background(), "")
	if err != nil || len(keys) != 0 {
		t.Errorf("List after the check: got %q, %v; want no keys", keys, err)
	}
}

// TestListPages lists through many small pages, as List does through
// S3's pages of 1000 keys.
func TestListPages(t *testing.T) {
	ctx := context.Background()
	b := openFresh(t)
	var want []string
	for i := range 23 {
		key := fmt.Sprintf("events/dt=2025-11-28/hour=%02d/x.parquet", i)
		want = append(want, key)
		if err := b.Put(ctx, key, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, size := range []int{1, 5, 22, 23, 24, 1000} {
		b.pageSize = size
		got, err := b.List(ctx, "events/")
		if err != nil {
			t.Fatalf("List, pages of %d: %v", size, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("List, pages of %d (-want +got):\n%s", size, diff)
		}
	}
}

// TestPrefix checks that the URL's path keeps every key under it.
func TestPrefix(t *testing.T) {
	ctx := context.Background()
	raw := freshURL(t)
	outer := openURL(t, raw)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Path += "/souq/prod/"
	inner := openURL(t, u.String())
	if err := inner.Create(ctx, "events/a", []byte("x")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	got, err := outer.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"souq/prod/events/a"}; !slices.Equal(got, want) {
		t.Errorf("keys seen above the prefix: got %q, want %q", got, want)
	}
	if keys, err := inner.List(ctx, ""); err != nil || !slices.Equal(keys, []string{"events/a"}) {
		t.Errorf("List below the prefix: got %q, %v; want [events/a]", keys, err)
	}
	if got, err := outer.Get(ctx, "souq/prod/events/a"); err != nil || string(got) != "x" {
		t.Errorf("Get above the prefix: got %q, %v; want %q", got, err, "x")
	}
}

// TestCreateMultipart creates a blob large enough for a multipart upload
// (above 16 MiB), where If-None-Match rides on CompleteMultipartUpload.
func TestCreateMultipart(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 2×17 MiB; skipped with -short")
	}
	ctx := context.Background()
	b := openFresh(t)
	first := bytes.Repeat([]byte("first..."), 17<<20/8)
	if err := b.Create(ctx, "big", first); err != nil {
		t.Fatalf("Create: %v", err)
	}
	second := bytes.Repeat([]byte("second.."), 17<<20/8)
	if err := b.Create(ctx, "big", second); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Create: got %v, want an error wrapping fs.ErrExist", err)
	}
	got, err := b.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, first) {
		t.Errorf("Get after a refused Create: got %d bytes starting %q, want the first value", len(got), got[:min(len(got), 16)])
	}
}

func TestOpenMissingBucket(t *testing.T) {
	u, err := url.Parse(server(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "souq-no-such-bucket-" + runID
	_, err = Open(context.Background(), u.String())
	if err == nil || !strings.Contains(err.Error(), u.Host) {
		t.Fatalf("Open of a missing bucket: got %v, want an error naming it", err)
	}
}

// TestArchiveReplicas runs two archive writers on one S3 prefix holding
// the same stream cut into different batches (1–60 and 1–35). The one
// holding more commits first; the other must find its manifest in place,
// not replace it, and leave no file of its own behind.
func TestArchiveReplicas(t *testing.T) {
	ctx := context.Background()
	b := openFresh(t)
	start := time.Date(2025, 11, 28, 21, 59, 30, 0, time.UTC) // batches span two hours
	const n = 60
	// Both recover from the empty archive and take their events before
	// either flushes, as replicas racing do.
	var writers []*archive.Writer
	for i, held := range []uint64{n, 35} {
		w := archive.New(b, archive.Options{})
		if _, err := w.Recover(ctx); err != nil {
			t.Fatalf("writer %d: Recover: %v", i, err)
		}
		for seq := uint64(1); seq <= held; seq++ {
			ev := souq.Event{
				MessageID: fmt.Sprintf("evt_%03d", seq), Type: "track", Event: "Product Viewed",
				Timestamp: start.Add(time.Duration(seq) * time.Second), ReceivedAt: start.Add(time.Hour),
			}
			if err := w.Add(seq, ev); err != nil {
				t.Fatalf("writer %d: Add(%d): %v", i, seq, err)
			}
		}
		writers = append(writers, w)
	}
	for i, w := range writers {
		batch, err := w.Flush(ctx)
		if err != nil {
			t.Fatalf("writer %d: Flush: %v", i, err)
		}
		if batch.FirstSeq != 1 || batch.LastSeq != n {
			t.Errorf("writer %d: Flush committed %d–%d, want the first writer's batch 1–%d", i, batch.FirstSeq, batch.LastSeq, n)
		}
	}
	records, err := archive.ReadAll(ctx, b, start.Add(-time.Hour), start.Add(time.Hour))
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	seen := make(map[string]int)
	for _, r := range records {
		seen[r.Event.MessageID]++
	}
	for seq := 1; seq <= n; seq++ {
		if id := fmt.Sprintf("evt_%03d", seq); seen[id] != 1 {
			t.Errorf("%s archived %d times, want once", id, seen[id])
		}
	}
	if len(records) != n {
		t.Errorf("ReadAll: got %d records, want %d", len(records), n)
	}
	// Every data file is a committed one.
	batches, err := archive.Manifests(ctx, b)
	if err != nil {
		t.Fatalf("Manifests: %v", err)
	}
	var listed []string
	for _, bt := range batches {
		for _, f := range bt.Files {
			listed = append(listed, f.Key)
		}
	}
	slices.Sort(listed)
	files, err := b.List(ctx, "events/dt=")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(listed, files); diff != "" {
		t.Errorf("data files (-in manifests +in the bucket):\n%s", diff)
	}
}
