package souq

import (
	"errors"
	"fmt"
)

// Error kinds. Every error a client may see wraps exactly one of these; the
// HTTP layer maps kinds to status codes in one table.
var (
	ErrInvalid      = errors.New("invalid request")         // 400 / 422: the input breaks a rule
	ErrNotFound     = errors.New("not found")               // 404
	ErrConflict     = errors.New("conflict")                // 409: state does not allow it now
	ErrOutOfStock   = errors.New("out of stock")            // 409: not enough units left
	ErrUnauthorized = errors.New("unauthorized")            // 401: missing or wrong credentials
	ErrPayment      = errors.New("payment declined")        // 402
	ErrKeyReused    = errors.New("idempotency key reused")  // 422: same key, different request
	ErrKeyInFlight  = errors.New("request in progress")     // 409: same key still being served
	ErrUnavailable  = errors.New("temporarily unavailable") // 503: the database is too busy or unreachable just now; retry
	ErrQueued       = errors.New("admission required")      // 429: a protected sale's checkout is reached through the waiting room
	ErrForbidden    = errors.New("forbidden")               // 403: credentials given but refused (an admission token forged, used or for another cart)
)

// Error is an error whose Detail is safe to show to a client. Kind is one of
// the sentinel kinds above; Fields lists per-field problems for validation
// errors; Extra carries machine-readable members (such as the product that
// ran out of stock) for the problem document.
type Error struct {
	Kind   error
	Detail string
	Fields []FieldError
	Extra  map[string]any
}

// FieldError names one invalid input field and why it is invalid.
type FieldError struct {
	Field  string `json:"name"`
	Reason string `json:"reason"`
}

// Error returns the client-safe detail.
func (e *Error) Error() string { return e.Detail }

// Unwrap returns the kind, so errors.Is(err, ErrNotFound) works.
func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns an *Error of the given kind with a formatted detail.
func Errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// Problems collects field errors during validation.
type Problems []FieldError

// Add records a problem with a field.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

// Err returns nil when there are no problems, or an ErrInvalid *Error that
// lists them all.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	detail := p[0].Field + ": " + p[0].Reason
	if len(p) > 1 {
		detail += fmt.Sprintf(" (and %d more problems)", len(p)-1)
	}
	return &Error{Kind: ErrInvalid, Detail: detail, Fields: p}
}

// OutOfStockError reports a product that cannot fill a requested quantity.
// Storage adapters return it from the order transaction; it is an
// ErrOutOfStock kind.
type OutOfStockError struct {
	ProductID ID
	SKU       string
	Requested int
	Available int
}

func (e *OutOfStockError) Error() string {
	return fmt.Sprintf("product %s (%s) is out of stock: %d requested, %d available", e.ProductID, e.SKU, e.Requested, e.Available)
}

// Unwrap returns ErrOutOfStock.
func (e *OutOfStockError) Unwrap() error { return ErrOutOfStock }
