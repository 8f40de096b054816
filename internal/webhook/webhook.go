// Package webhook owns the webhooks Souq sends to the merchant's own
// systems (ERP, warehouse, SMS gateway): the endpoints registered through
// the admin API, the deliveries the event stream feeds (Feed), and the
// worker that signs and sends them, retrying with backoff for a day
// (Worker). A delivery is stored before the stream message that caused it
// is acknowledged, so a process that dies loses none; a delivery may be
// sent more than once (a worker that dies after the receiver answered and
// before the outcome is stored), so receivers deduplicate by the
// Souq-Webhook-Id header.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

// Event types an endpoint may subscribe to.
const (
	TypeOrderCreated   = "order.created"
	TypeOrderCancelled = "order.cancelled"
	TypeStockLow       = "stock.low"
)

// Types lists the event types, in the order the documentation gives them.
var Types = []string{TypeOrderCreated, TypeOrderCancelled, TypeStockLow}

// Identifier prefixes.
const (
	EndpointPrefix = "whk_"
	DeliveryPrefix = "dlv_"
	SecretPrefix   = "whsec_"
)

// Limits on what an endpoint may be registered with.
const (
	maxURLLength         = 2048
	maxDescriptionLength = 200
	minSecretLength      = 24
	maxSecretLength      = 200
	// MaxEndpoints is the most endpoints a shop may register: each event
	// is written once per subscribed endpoint.
	MaxEndpoints = 50
)

// Endpoint is a URL of the merchant's that receives the event types it
// subscribed to. Secret signs every delivery; it is shown once, when the
// endpoint is registered.
type Endpoint struct {
	ID          souq.ID
	URL         string
	Events      []string // a subset of Types, in Types' order
	Description string
	Secret      string
	CreatedAt   time.Time
}

// Wants reports whether the endpoint subscribed to typ.
func (e Endpoint) Wants(typ string) bool { return slices.Contains(e.Events, typ) }

// Status is where a delivery stands.
type Status string

// Delivery statuses.
const (
	StatusPending   Status = "pending"   // waiting for its next attempt (or being sent)
	StatusDelivered Status = "delivered" // the endpoint answered 2xx
	StatusFailed    Status = "failed"    // every attempt for MaxAge failed
)

// Delivery is one event for one endpoint, and the record of its attempts.
type Delivery struct {
	ID         souq.ID
	EndpointID souq.ID
	EventID    string // the event's id, the same for every endpoint and every attempt
	EventType  string
	Payload    json.RawMessage // the request body, fixed when the delivery is made
	CreatedAt  time.Time
	Status     Status
	Attempts   int
	// NextAttemptAt is when the delivery is due (pending), or until when
	// a worker holds it while sending.
	NextAttemptAt time.Time
	LastStatus    int    // the HTTP status of the last attempt; 0 if none came back
	LastError     string // why the last attempt failed; "" if it did not
	DeliveredAt   time.Time
}

// Claim is a due delivery a worker holds until Until, with where to send
// it and the key that signs it.
type Claim struct {
	Delivery
	URL    string
	Secret string
}

// Store keeps endpoints and deliveries; both storage adapters implement
// it, and storetest checks their promises.
type Store interface {
	// CreateWebhookEndpoint stores a new endpoint.
	CreateWebhookEndpoint(ctx context.Context, e Endpoint) error
	// WebhookEndpoints returns every endpoint, oldest first.
	WebhookEndpoints(ctx context.Context) ([]Endpoint, error)
	// WebhookEndpoint returns one endpoint; souq.ErrNotFound if none.
	WebhookEndpoint(ctx context.Context, id souq.ID) (Endpoint, error)
	// DeleteWebhookEndpoint removes an endpoint and its deliveries;
	// souq.ErrNotFound if none.
	DeleteWebhookEndpoint(ctx context.Context, id souq.ID) error
	// EnqueueWebhookDeliveries stores new pending deliveries, skipping any
	// whose endpoint already has a delivery of the same event (a stream
	// message delivered twice) or no longer exists; it returns how many it
	// stored.
	EnqueueWebhookDeliveries(ctx context.Context, ds []Delivery) (int, error)
	// EnqueueStockLow marks product as low on stock and stores ds, in one
	// transaction, unless the product is marked already: then it stores
	// nothing and returns false.
	EnqueueStockLow(ctx context.Context, product souq.ID, at time.Time, ds []Delivery) (bool, error)
	// RearmStockLow removes the low-stock marks of products, so that the
	// next time their stock falls to the threshold counts again.
	RearmStockLow(ctx context.Context, products []souq.ID) error
	// ClaimWebhookDeliveries takes up to limit pending deliveries due at
	// now (NextAttemptAt <= now), oldest due first, and sets their
	// NextAttemptAt to until, so that no other worker takes them before
	// then. Workers on several replicas never take the same delivery in
	// the same claim window.
	ClaimWebhookDeliveries(ctx context.Context, now, until time.Time, limit int) ([]Claim, error)
	// RecordWebhookAttempt stores the outcome of an attempt: d's Status,
	// Attempts, NextAttemptAt, LastStatus, LastError and DeliveredAt. It
	// does so only if the stored delivery is still pending with attempts
	// attempts (the claim this attempt was made under), and reports
	// whether it did.
	RecordWebhookAttempt(ctx context.Context, d Delivery, attempts int) (bool, error)
	// WebhookDeliveries returns page (from 1) of an endpoint's deliveries,
	// newest first, and how many it has in all.
	WebhookDeliveries(ctx context.Context, endpoint souq.ID, page, size int) ([]Delivery, int, error)
	// PendingWebhookDeliveries returns how many deliveries are pending and
	// when the oldest of them was made (zero when none).
	PendingWebhookDeliveries(ctx context.Context) (int, time.Time, error)
}

// EndpointInput is what the admin API registers an endpoint from.
type EndpointInput struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description,omitempty"`
	// Secret, when given, is used instead of a generated one (to rotate an
	// endpoint keeping the receiver's key, register it again).
	Secret string `json:"secret,omitempty"`
}

// Service is the admin side of webhooks: registering and inspecting
// endpoints.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns the admin service over store.
func NewService(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

// Register validates in and stores a new endpoint; the returned endpoint
// carries its secret, which is not shown again.
func (s *Service) Register(ctx context.Context, in EndpointInput) (Endpoint, error) {
	e, err := in.endpoint()
	if err != nil {
		return Endpoint{}, err
	}
	have, err := s.store.WebhookEndpoints(ctx)
	if err != nil {
		return Endpoint{}, err
	}
	if len(have) >= MaxEndpoints {
		return Endpoint{}, &souq.Error{Kind: souq.ErrConflict,
			Detail: fmt.Sprintf("at most %d webhook endpoints may be registered; delete one first", MaxEndpoints)}
	}
	e.ID, e.CreatedAt = souq.NewID(EndpointPrefix), s.now().UTC().Truncate(time.Microsecond)
	if err := s.store.CreateWebhookEndpoint(ctx, e); err != nil {
		return Endpoint{}, err
	}
	return e, nil
}

// Endpoints returns every endpoint, oldest first.
func (s *Service) Endpoints(ctx context.Context) ([]Endpoint, error) {
	return s.store.WebhookEndpoints(ctx)
}

// Endpoint returns one endpoint; a souq.ErrNotFound error if none.
func (s *Service) Endpoint(ctx context.Context, id souq.ID) (Endpoint, error) {
	e, err := s.store.WebhookEndpoint(ctx, id)
	return e, notFound(err, id)
}

// Delete removes an endpoint and its delivery log.
func (s *Service) Delete(ctx context.Context, id souq.ID) error {
	return notFound(s.store.DeleteWebhookEndpoint(ctx, id), id)
}

// MaxPageSize bounds a page of the delivery log.
const MaxPageSize = 200

// Deliveries returns page (from 1) of an endpoint's delivery log, newest
// first, and its length.
func (s *Service) Deliveries(ctx context.Context, id souq.ID, page, size int) ([]Delivery, int, error) {
	if page < 1 {
		return nil, 0, &souq.Error{Kind: souq.ErrInvalid, Detail: "page must be at least 1",
			Fields: []souq.FieldError{{Field: "page", Reason: "must be at least 1"}}}
	}
	if size < 1 || size > MaxPageSize {
		return nil, 0, &souq.Error{Kind: souq.ErrInvalid, Detail: fmt.Sprintf("page_size must be between 1 and %d", MaxPageSize),
			Fields: []souq.FieldError{{Field: "page_size", Reason: fmt.Sprintf("must be between 1 and %d", MaxPageSize)}}}
	}
	if _, err := s.Endpoint(ctx, id); err != nil {
		return nil, 0, err
	}
	return s.store.WebhookDeliveries(ctx, id, page, size)
}

// notFound makes a store's ErrNotFound a client-facing error naming id.
func notFound(err error, id souq.ID) error {
	if err != nil && errors.Is(err, souq.ErrNotFound) {
		return &souq.Error{Kind: souq.ErrNotFound, Detail: fmt.Sprintf("no webhook endpoint %q", id)}
	}
	return err
}

// endpoint checks the input and returns the endpoint it describes, with a
// generated secret unless one was given.
func (in EndpointInput) endpoint() (Endpoint, error) {
	var fields []souq.FieldError
	bad := func(field, reason string) { fields = append(fields, souq.FieldError{Field: field, Reason: reason}) }
	if reason := checkURL(in.URL); reason != "" {
		bad("url", reason)
	}
	var events []string
	if len(in.Events) == 0 {
		bad("events", "must name at least one of "+strings.Join(Types, ", "))
	}
	for _, ev := range in.Events {
		if !slices.Contains(Types, ev) {
			bad("events", fmt.Sprintf("unknown event type %q (want %s)", ev, strings.Join(Types, ", ")))
		}
	}
	for _, t := range Types { // Types' order, without repeats
		if slices.Contains(in.Events, t) {
			events = append(events, t)
		}
	}
	if len(in.Description) > maxDescriptionLength {
		bad("description", fmt.Sprintf("must be at most %d bytes", maxDescriptionLength))
	}
	secret := in.Secret
	switch {
	case secret == "":
		secret = SecretPrefix + souq.NewToken()
	case len(secret) < minSecretLength || len(secret) > maxSecretLength:
		bad("secret", fmt.Sprintf("must be between %d and %d characters (omit it to have one generated)", minSecretLength, maxSecretLength))
	case strings.ContainsFunc(secret, func(r rune) bool { return r <= ' ' || r > '~' }):
		bad("secret", "must be printable ASCII without spaces")
	}
	if len(fields) > 0 {
		return Endpoint{}, &souq.Error{Kind: souq.ErrInvalid, Detail: "the webhook endpoint is invalid", Fields: fields}
	}
	return Endpoint{URL: in.URL, Events: events, Description: in.Description, Secret: secret}, nil
}

// checkURL returns why u cannot be an endpoint's URL, or "". Endpoints are
// https; plain http is accepted only on the loopback interface
// (127.0.0.1, ::1, localhost), for development and tests. Other schemes
// are refused, as are URLs carrying credentials or a fragment.
func checkURL(u string) string {
	if u == "" {
		return "is required"
	}
	if len(u) > maxURLLength {
		return fmt.Sprintf("must be at most %d bytes", maxURLLength)
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.Opaque != "" {
		return "must be an absolute https:// URL"
	}
	if p.User != nil {
		return "must not carry a user name or password"
	}
	if p.Fragment != "" {
		return "must not have a #fragment"
	}
	switch p.Scheme {
	case "https":
		return ""
	case "http":
		if isLoopbackHost(p.Hostname()) {
			return ""
		}
		return "must use https (plain http is accepted for 127.0.0.1, ::1 and localhost only)"
	default:
		return fmt.Sprintf("scheme %q is not accepted: use https", p.Scheme)
	}
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
