// Package httpapi is Souq's HTTP surface: the versioned JSON API under
// /api/v1, the OpenAPI document, health and metrics endpoints, and the
// middleware every response passes through (security headers, body limits,
// problem+json errors, request metrics).
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/media"
	"github.com/souq-commerce/souq/internal/overload"
	"github.com/souq-commerce/souq/internal/waitroom"
	"github.com/souq-commerce/souq/internal/webhook"
)

// Deps are what the API serves from.
type Deps struct {
	// Catalog, Carts and Checkout serve the shop's API; without a Catalog
	// the server has health and metrics only (a process running other
	// roles).
	Catalog  *catalog.Service
	Carts    *cart.Service
	Checkout *checkout.Service
	// Room, when set, is the waiting room: during a protected sale an
	// order needs its admission token (AdmissionHeader).
	Room *waitroom.Room
	// Media, when set, stores product photos uploaded through the admin
	// API (without it those routes answer 503).
	Media *media.Library
	// Shed, when set, limits the requests in progress adaptively and
	// refuses browsing first when the server slows (package overload).
	Shed *overload.Limiter
	// Webhooks registers and shows the merchant's webhook endpoints under
	// /api/v1/admin/webhooks; nil answers those routes 404.
	Webhooks *webhook.Service
	// Delivery holds the markets' delivery fees and estimates, set under
	// /api/v1/admin/delivery and shown by /api/v1/delivery and carts; nil:
	// delivery is free everywhere and cannot be configured (404).
	Delivery *delivery.Service
	// Ready reports whether the server can take traffic (database reachable,
	// migrations applied, not draining).
	Ready func(ctx context.Context) error
	// AdminToken guards /api/v1/admin; empty disables the admin API.
	AdminToken string
	// Registry receives the API's metrics and is served at /metrics.
	Registry *prometheus.Registry
	Log      *slog.Logger
	// Banner is a short HTML-safe line shown on the index page.
	Banner string
	// Extra are endpoints other packages serve on the same server (the
	// event collector, the dashboard); they get the same middleware and
	// request metrics as the API's own routes.
	Extra []Route
}

// Route is one endpoint: a net/http pattern and its handler.
type Route struct {
	Pattern string
	Handler http.Handler
}

// Body size limits.
const (
	maxBody      = 64 << 10
	maxAdminBody = 2 << 20
)

// NewServer returns the handler for the whole HTTP surface.
func NewServer(d Deps) http.Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &server{Deps: d, log: d.Log.With("component", "httpapi"), metrics: newMetrics(d.Registry)}
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, s.instrument(rt.pattern, rt.handler))
	}
	for _, rt := range d.Extra {
		mux.Handle(rt.Pattern, s.instrument(rt.Pattern, rt.Handler))
	}
	h := s.problemFallback(mux)
	if d.Shed != nil {
		h = overload.Handler(d.Shed, overload.Classify, d.Registry, h)
	}
	return securityHeaders(h)
}

type server struct {
	Deps
	log     *slog.Logger
	metrics *metrics
}

// now is the server clock, shared with the catalog.
func (s *server) now() time.Time { return s.Catalog.Now() }
