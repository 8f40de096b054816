package waitroom

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// MinSecretLength is the shortest secret Keys accepts, in bytes.
const MinSecretLength = 32

// Token errors, each a reason an admission is refused (403).
var (
	ErrTokenMalformed = errors.New("admission token malformed")
	ErrTokenForged    = errors.New("admission token signature invalid")
	ErrTokenExpired   = errors.New("admission token expired")
	ErrTokenOtherSale = errors.New("admission token is for another sale")
	ErrTokenOtherCart = errors.New("admission token is for another cart")
	ErrTokenUsed      = errors.New("admission token already used")
)

// Admission is what a token says: this cart may check out once in this
// sale until Expires.
type Admission struct {
	Sale    souq.ID
	Cart    souq.ID
	Nonce   string
	Expires time.Time
	// Admitted is when the queue reached the visitor's place, to the
	// millisecond (zero when the issuing replica did not see it): checkout
	// measures from it how long admitted shoppers take to order, the
	// admission controller's dead time.
	Admitted time.Time
}

// Keys sign and verify admission tokens with HMAC-SHA256. The first secret
// signs; every secret verifies, so a secret is rotated by putting the new
// one first and dropping the old one once the tokens it signed have
// expired (an admission window). Every api replica must hold the same
// secrets.
type Keys struct {
	keys []key // keys[0] signs
	// version is the token version Issue writes: TokenVersion, or 1 while
	// replicas that take only v1 tokens still serve (WithVersion).
	version int
}

// TokenVersion is the version of the tokens Keys issue unless told
// otherwise. Verify takes it and the version before it (1).
const TokenVersion = 2

// WithVersion returns keys with the same secrets that issue tokens of
// version v: 1 (without the admission time) during the first step of a
// rolling upgrade from a release that verifies only v1, so that its
// replicas still take the admissions the new ones give; TokenVersion once
// every replica runs this release. Both verify either version.
func (ks *Keys) WithVersion(v int) (*Keys, error) {
	if v != 1 && v != TokenVersion {
		return nil, fmt.Errorf("waiting room: token version %d: want 1 or %d", v, TokenVersion)
	}
	return &Keys{keys: ks.keys, version: v}, nil
}

type key struct {
	id  string // names the secret in a token without revealing it
	mac []byte // derived from the secret, used for admissions only
}

// NewKeys returns keys from secrets, the first of which signs.
func NewKeys(secrets ...[]byte) (*Keys, error) {
	if len(secrets) == 0 {
		return nil, errors.New("waiting room: no signing secret")
	}
	ks := &Keys{version: TokenVersion}
	for i, s := range secrets {
		if len(s) < MinSecretLength {
			return nil, fmt.Errorf("waiting room: secret %d is %d bytes; it must be at least %d", i+1, len(s), MinSecretLength)
		}
		sum := sha256.Sum256(s)
		ks.keys = append(ks.keys, key{id: hex.EncodeToString(sum[:4]), mac: derive(s, "souq admission v1")})
	}
	return ks, nil
}

// derive returns HMAC-SHA256(secret, label): a key for one purpose.
func derive(secret []byte, label string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label))
	return h.Sum(nil)
}

// Seed returns the draw seed of a sale: fixed by the first secret and the
// sale, so every replica draws alike, and unknown to anyone without the
// secret until it is published at the start.
func (ks *Keys) Seed(sale souq.ID) []byte {
	return derive(ks.keys[0].mac, "souq draw v1 "+string(sale))
}

// Ticket returns the queue ticket (26 base32 characters, 130 bits) for an
// app's join key: the same key always gets the same ticket, and with it
// the same place, so an app whose join's answer was lost on the way (a
// dropped connection during a held join) joins again with its key and
// finds its place. Without the first secret no one can tell a key's
// ticket; a key is as secret as the ticket it stands for.
func (ks *Keys) Ticket(key string) string {
	return base32.StdEncoding.EncodeToString(derive(ks.keys[0].mac, "souq ticket v1 "+key))[:26]
}

// Issue returns a new signed token for a.
func (ks *Keys) Issue(a Admission) string {
	if a.Nonce == "" {
		var b [16]byte
		rand.Read(b[:])
		a.Nonce = base64.RawURLEncoding.EncodeToString(b[:])
	}
	fields := []string{"v2", ks.keys[0].id, string(a.Sale), string(a.Cart), a.Nonce, strconv.FormatInt(a.Expires.Unix(), 10)}
	if ks.version == 1 {
		// The last release's format: no admission time, so checkout
		// measures no dead time from these tokens.
		fields[0] = "v1"
	} else {
		admitted := int64(0)
		if !a.Admitted.IsZero() {
			admitted = a.Admitted.UnixMilli()
		}
		fields = append(fields, strconv.FormatInt(admitted, 10))
	}
	body := strings.Join(fields, ".")
	return body + "." + sign(ks.keys[0].mac, body)
}

func sign(k []byte, body string) string {
	h := hmac.New(sha256.New, k)
	h.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// Verify checks a token's signature and expiry at now and returns what it
// says. It does not check the sale, the cart or whether it was used. It
// takes the tokens of this version (v2) and of the one before (v1,
// without Admitted), so that tokens issued by replicas of the last
// release still admit during a rolling upgrade.
func (ks *Keys) Verify(token string, now time.Time) (Admission, error) {
	parts := strings.Split(token, ".")
	if len(token) > 512 || !(len(parts) == 7 && parts[0] == "v1" || len(parts) == 8 && parts[0] == "v2") {
		return Admission{}, ErrTokenMalformed
	}
	exp, err := strconv.ParseInt(parts[5], 10, 64)
	if err != nil {
		return Admission{}, ErrTokenMalformed
	}
	admitted := int64(0)
	if parts[0] == "v2" {
		// An admission is given before its token, which expires a window
		// later: a time past the expiry is no admission time.
		if admitted, err = strconv.ParseInt(parts[6], 10, 64); err != nil || admitted < 0 || admitted > exp*1000 {
			return Admission{}, ErrTokenMalformed
		}
	}
	sig := parts[len(parts)-1]
	body := token[:len(token)-len(sig)-1]
	valid := false
	for _, k := range ks.keys {
		if k.id == parts[1] && hmac.Equal([]byte(sign(k.mac, body)), []byte(sig)) {
			valid = true
		}
	}
	if !valid {
		return Admission{}, ErrTokenForged
	}
	a := Admission{Sale: souq.ID(parts[2]), Cart: souq.ID(parts[3]), Nonce: parts[4], Expires: time.Unix(exp, 0).UTC()}
	if admitted > 0 {
		a.Admitted = time.UnixMilli(admitted).UTC()
	}
	if !now.Before(a.Expires) {
		return a, ErrTokenExpired
	}
	return a, nil
}
