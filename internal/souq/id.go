package souq

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
)

// ID identifies a product, order, sale or event. IDs carry a short prefix
// naming what they identify ("prd_", "ord_", …) followed by 20 characters of
// lower-case base32 (100 random bits), so they are neither sequential nor
// guessable.
type ID string

// Prefixes of the identifiers Souq issues.
const (
	ProductPrefix = "prd_"
	OrderPrefix   = "ord_"
	SalePrefix    = "sale_"
	EventPrefix   = "evt_"
	CartPrefix    = "cart_"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a new random identifier with the given prefix.
func NewID(prefix string) ID {
	var b [15]byte // 120 bits; the first 20 base32 characters carry 100 of them
	_, _ = rand.Read(b[:])
	return ID(prefix + idEncoding.EncodeToString(b[:])[:20])
}

// NewCartID returns an unguessable cart identifier: 256 random bits. A cart
// id is a capability, so whoever holds it may read and change the cart.
func NewCartID() ID {
	return ID(CartPrefix + NewToken())
}

// NewToken returns a random 256-bit secret in URL-safe base64.
func NewToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken returns the hex SHA-256 of a secret token. Only hashes of access
// tokens are stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenMatches reports, in constant time, whether token hashes to hash.
func TokenMatches(token, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashToken(token)), []byte(hash)) == 1
}

// String returns the identifier.
func (id ID) String() string { return string(id) }
