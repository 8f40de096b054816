package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Request headers of a delivery.
const (
	HeaderID        = "Souq-Webhook-Id"        // the event's id: the same on every retry
	HeaderTimestamp = "Souq-Webhook-Timestamp" // Unix seconds when this attempt was signed
	HeaderSignature = "Souq-Webhook-Signature" // v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
)

// DefaultTolerance is how old a signed timestamp Verify accepts.
const DefaultTolerance = 5 * time.Minute

// Sign returns the Souq-Webhook-Signature value of body sent at timestamp
// (Unix seconds) under secret.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors Verify returns.
var (
	ErrBadSignature = errors.New("webhook: signature does not match")
	ErrStale        = errors.New("webhook: timestamp outside the tolerance")
)

// Verify checks a delivery as a receiver should (docs/webhooks.md shows
// the same steps for receivers to copy): the timestamp is within
// tolerance of now, and one of the signature's v1 values is the HMAC of
// timestamp "." body under secret, compared in constant time.
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := Sign(secret, ts, body)
	for v := range strings.SplitSeq(signature, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(v)), []byte(want)) {
			return nil
		}
	}
	return ErrBadSignature
}
