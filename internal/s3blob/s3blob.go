// Package s3blob is the archive's blob store on Amazon S3 or an
// S3-compatible server, through gocloud.dev/blob and its s3blob driver (AWS
// SDK v2). It owns the mapping from an s3:// URL to a bucket, and from S3's
// answers to the archive.Bucket promises: Create is a conditional write
// (If-None-Match: *) whose refusal wraps fs.ErrExist, Get of a missing key
// wraps fs.ErrNotExist, List pages through every key, Delete of a missing
// key succeeds.
//
// Credentials come only from the AWS SDK's default chain: the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE),
// the shared config and credentials files, web identity (AWS_ROLE_ARN with
// AWS_WEB_IDENTITY_TOKEN_FILE, as IRSA sets them), the container credentials
// endpoint (EKS Pod Identity, ECS) and the instance metadata service. A URL
// that carries credentials, or picks them (profile, role), is refused: a URL
// ends up in flags, logs and process listings.
//
// A Bucket is safe for concurrent use.
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"gocloud.dev/blob"
	gcs3blob "gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"
)

// ErrInvalidURL reports an archive URL Open cannot use.
var ErrInvalidURL = errors.New("invalid s3 url")

// urlParams are the query parameters Open passes on to gocloud's s3blob
// URL opener (gocloud.dev/blob/s3blob.URLOpener and
// gocloud.dev/aws.V2ConfigFromURLParams): everything that picks the
// endpoint or shapes the requests, nothing that picks credentials.
var urlParams = []string{
	"region",                       // the AWS region, e.g. me-central-1
	"endpoint",                     // an S3-compatible server, e.g. http://127.0.0.1:7070
	"use_path_style",               // true: bucket in the path, not the host name
	"disable_https",                // true: plain HTTP to the region's endpoint
	"hostname_immutable",           // true: use endpoint's host name as it is
	"dualstack",                    // true: IPv4 and IPv6 endpoints
	"fips",                         // true: FIPS endpoints
	"accelerate",                   // true: S3 Transfer Acceleration
	"ssetype",                      // server-side encryption: AES256, aws:kms, aws:kms:dsse
	"kmskeyid",                     // the KMS key for aws:kms
	"request_checksum_calculation", // when_supported (default) or when_required
	"response_checksum_validation", // when_supported (default) or when_required
	"rate_limiter_capacity",        // client-side retry token bucket
}

// credentialParams are gocloud URL parameters that pick credentials; the
// environment does that here.
var credentialParams = map[string]string{
	"anonymous":               "unsigned requests are not supported",
	"profile":                 "set AWS_PROFILE instead",
	"role":                    "set AWS_ROLE_ARN (with AWS_WEB_IDENTITY_TOKEN_FILE for web identity) or a profile's role_arn instead",
	"role_session_name":       "set AWS_ROLE_SESSION_NAME instead",
	"role_external_id":        "use a profile's external_id instead",
	"role_duration":           "use a profile's duration_seconds instead",
	"web_identity_token_file": "set AWS_WEB_IDENTITY_TOKEN_FILE instead",
}

// credentialChain names the places credentials come from, for errors.
const credentialChain = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws, web identity (IRSA), EKS Pod Identity or the instance role"

// Bucket is an S3 bucket, or a key prefix in one, holding the archive.
type Bucket struct {
	b        *blob.Bucket
	pageSize int // keys per List request; S3 returns at most 1000
}

// Open opens the bucket named by rawURL:
//
//	s3://bucket[/prefix]?region=me-central-1[&endpoint=http://127.0.0.1:7070][&use_path_style=true]
//
// A path after the bucket is a key prefix: s3://b/souq/prod keeps the key
// events/x under souq/prod/events/x. The query parameters are gocloud's
// (see urlParams); region may instead come from AWS_REGION or the shared
// config. Credentials come from the AWS default chain (see the package
// documentation); a URL carrying them is refused. Open lists one key to
// check that the bucket exists and the credentials can read it.
func Open(ctx context.Context, rawURL string) (*Bucket, error) {
	bucket, prefix, q, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	where := "s3://" + bucket + "/" + prefix // no query: nothing secret, but long
	b, client, err := openBucket(ctx, bucket, q)
	if err != nil {
		return nil, fmt.Errorf("s3blob open %s: %w", where, err)
	}
	if client.Options().Region == "" {
		b.Close()
		return nil, fmt.Errorf("s3blob open %s: %w: no region: add ?region=… to the URL or set AWS_REGION", where, ErrInvalidURL)
	}
	if prefix != "" {
		b = blob.PrefixedBucket(b, prefix)
	}
	ok, err := b.IsAccessible(ctx)
	if err == nil && !ok {
		err = errors.New("no such bucket")
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("s3blob open %s: %w", where, err)
	}
	return &Bucket{b: b, pageSize: 1000}, nil
}

// parseURL checks rawURL and splits it into the bucket name, the key
// prefix ("" or ending in '/') and the query parameters for gocloud.
func parseURL(rawURL string) (bucket, prefix string, q url.Values, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse quotes the URL, credentials and all, in its error.
		return "", "", nil, fmt.Errorf("%w: it does not parse as a URL", ErrInvalidURL)
	}
	if u.User != nil {
		return "", "", nil, fmt.Errorf("%w: it carries credentials (user info before '@'); take them from the AWS credential chain instead: %s", ErrInvalidURL, credentialChain)
	}
	if u.Scheme != "s3" {
		return "", "", nil, fmt.Errorf("%w: scheme %q, want s3://bucket[/prefix]?region=…", ErrInvalidURL, u.Scheme)
	}
	if u.Host == "" || u.Opaque != "" {
		return "", "", nil, fmt.Errorf("%w: no bucket: want s3://bucket[/prefix]?region=…", ErrInvalidURL)
	}
	if u.Port() != "" {
		return "", "", nil, fmt.Errorf("%w: bucket %q has a port: name the server with ?endpoint=http://host:port", ErrInvalidURL, u.Host)
	}
	if u.Fragment != "" {
		return "", "", nil, fmt.Errorf("%w: it has a fragment ('#')", ErrInvalidURL)
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if p != path.Clean(p) || slices.Contains(strings.Split(p, "/"), "..") {
			return "", "", nil, fmt.Errorf("%w: key prefix %q is not a clean path", ErrInvalidURL, p)
		}
		prefix = p + "/"
	}
	q, err = url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", "", nil, fmt.Errorf("%w: its query does not parse", ErrInvalidURL)
	}
	for name, values := range q {
		if err := checkParam(name); err != nil {
			return "", "", nil, err
		}
		if len(values) > 1 {
			return "", "", nil, fmt.Errorf("%w: query parameter %q is given %d times", ErrInvalidURL, name, len(values))
		}
	}
	return u.Host, prefix, q, nil
}

// checkParam accepts the query parameters of urlParams and explains why
// any other one is refused, without quoting its value.
func checkParam(name string) error {
	if slices.Contains(urlParams, name) {
		return nil
	}
	if hint, ok := credentialParams[name]; ok {
		return fmt.Errorf("%w: query parameter %q picks credentials, which come from the AWS credential chain only (%s): %s", ErrInvalidURL, name, credentialChain, hint)
	}
	lower := strings.ToLower(name)
	for _, word := range []string{"key", "secret", "token", "password", "credential", "session", "signature", "access"} {
		if strings.Contains(lower, word) {
			return fmt.Errorf("%w: query parameter %q looks like a credential; credentials come from the AWS credential chain only: %s", ErrInvalidURL, name, credentialChain)
		}
	}
	if name == "prefix" || name == "key" {
		return fmt.Errorf("%w: query parameter %q: give a key prefix as the URL's path, s3://bucket/prefix", ErrInvalidURL, name)
	}
	return fmt.Errorf("%w: unknown query parameter %q (known: %s)", ErrInvalidURL, name, strings.Join(urlParams, ", "))
}

// openBucket opens the whole bucket with gocloud's URL opener, which reads
// the AWS default credential chain, and returns its S3 client too.
func openBucket(ctx context.Context, bucket string, q url.Values) (*blob.Bucket, *s3.Client, error) {
	u := &url.URL{Scheme: gcs3blob.Scheme, Host: bucket, RawQuery: q.Encode()}
	b, err := new(gcs3blob.URLOpener).OpenBucketURL(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	var client *s3.Client
	if !b.As(&client) {
		b.Close()
		return nil, nil, errors.New("gocloud's s3blob driver did not expose its S3 client")
	}
	return b, client, nil
}

// Close releases the bucket's resources.
func (b *Bucket) Close() error {
	if err := b.b.Close(); err != nil {
		return fmt.Errorf("s3blob close: %w", err)
	}
	return nil
}

// Put stores data under key, replacing any previous value. S3 makes an
// object visible whole when the request that wrote it succeeds.
func (b *Bucket) Put(ctx context.Context, key string, data []byte) error {
	if err := b.upload(ctx, key, data, false); err != nil {
		return fmt.Errorf("s3blob put %s: %w", key, err)
	}
	return nil
}

// conflictTries bounds the attempts of a Create that S3 keeps answering
// with 409 ConditionalRequestConflict: a conflicting operation on the key
// was in flight, and this write did not take effect. AWS's advice is to
// retry; the retry then succeeds or meets 412.
const conflictTries = 5

// Create stores data under key only if no object has that key, with a
// conditional write (If-None-Match: *): S3 decides atomically, so of two
// concurrent Creates of one key one succeeds. When the key exists, S3
// answers 412 Precondition Failed, the stored object is left alone and
// Create returns an error wrapping fs.ErrExist.
//
// A server that ignores If-None-Match overwrites instead;
// archive.CheckCreateOnly detects that.
func (b *Bucket) Create(ctx context.Context, key string, data []byte) error {
	var err error
	for range conflictTries {
		err = b.upload(ctx, key, data, true)
		if !hasCode(err, "ConditionalRequestConflict") {
			break
		}
	}
	switch {
	case err == nil:
		return nil
	case hasStatus(err, http.StatusPreconditionFailed) || hasCode(err, "PreconditionFailed"):
		return fmt.Errorf("s3blob create %s: %w (412 Precondition Failed)", key, fs.ErrExist)
	default:
		return fmt.Errorf("s3blob create %s: %w", key, err)
	}
}

// upload writes data under key in one request (a multipart upload above
// 16 MiB), with If-None-Match: * when ifNotExist is set.
func (b *Bucket) upload(ctx context.Context, key string, data []byte, ifNotExist bool) error {
	w, err := b.b.NewWriter(ctx, key, &blob.WriterOptions{
		ContentType: contentType(key),
		IfNotExist:  ifNotExist,
	})
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// hasStatus reports whether err is an S3 response with the HTTP status.
func hasStatus(err error, status int) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == status
}

// hasCode reports whether err is an S3 error response with the code.
func hasCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// contentType labels the archive's files for the S3 console and browsers.
func contentType(key string) string {
	switch path.Ext(key) {
	case ".parquet":
		return "application/vnd.apache.parquet"
	case ".json":
		return "application/json"
	default:
		return "application/octet-stream"
	}
}

// Get returns the value stored under key. A missing key gives an error
// wrapping fs.ErrNotExist.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	data, err := b.b.ReadAll(ctx, key)
	switch {
	case err == nil:
		return data, nil
	case isNotFound(err):
		return nil, fmt.Errorf("s3blob get %s: %w: %w", key, fs.ErrNotExist, err)
	default:
		return nil, fmt.Errorf("s3blob get %s: %w", key, err)
	}
}

// isNotFound reports whether err says the key is missing. A missing
// bucket is an error of its own, where S3 tells them apart: a HEAD
// request's 404 (Delete's) has no body to say which.
func isNotFound(err error) bool {
	return gcerrors.Code(err) == gcerrors.NotFound && !hasCode(err, "NoSuchBucket")
}

// List returns, in byte order, every key that starts with prefix (a plain
// string prefix: "events/dt=2025-11" matches every day of that month),
// reading as many pages as S3 takes to list them.
func (b *Bucket) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	opts := &blob.ListOptions{Prefix: prefix}
	for token := blob.FirstPageToken; len(token) > 0; {
		var page []*blob.ListObject
		var err error
		page, token, err = b.b.ListPage(ctx, token, b.pageSize, opts)
		if err != nil {
			return nil, fmt.Errorf("s3blob list %q: %w", prefix, err)
		}
		for _, o := range page {
			keys = append(keys, o.Key)
		}
	}
	// S3 lists in UTF-8 binary order already; an S3-compatible server
	// need not, and the archive relies on the order.
	slices.Sort(keys)
	return keys, nil
}

// Delete removes key. Deleting a missing key succeeds, so a retried Delete
// does.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	err := b.b.Delete(ctx, key)
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("s3blob delete %s: %w", key, err)
	}
	return nil
}
