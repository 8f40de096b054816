package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
	"github.com/souq-commerce/souq/internal/webhook"
)

// endpointJSON is a webhook endpoint as the admin API shows it; the
// secret only in the answer to its registration.
type endpointJSON struct {
	ID          souq.ID   `json:"id"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	Description string    `json:"description"`
	Secret      string    `json:"secret,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

func endpointView(e webhook.Endpoint, withSecret bool) endpointJSON {
	v := endpointJSON{ID: e.ID, URL: e.URL, Events: e.Events, Description: e.Description, CreatedAt: e.CreatedAt}
	if withSecret {
		v.Secret = e.Secret
	}
	return v
}

// deliveryJSON is one entry of an endpoint's delivery log.
type deliveryJSON struct {
	ID          souq.ID         `json:"id"`
	EventID     string          `json:"event_id"`
	EventType   string          `json:"event_type"`
	Status      webhook.Status  `json:"status"`
	Attempts    int             `json:"attempts"`
	StatusCode  int             `json:"status_code,omitempty"`
	Error       string          `json:"error,omitempty"`
	NextRetryAt *time.Time      `json:"next_retry_at,omitempty"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	Payload     json.RawMessage `json:"payload"`
}

func deliveryView(d webhook.Delivery) deliveryJSON {
	v := deliveryJSON{ID: d.ID, EventID: d.EventID, EventType: d.EventType, Status: d.Status, Attempts: d.Attempts,
		StatusCode: d.LastStatus, Error: d.LastError, CreatedAt: d.CreatedAt, Payload: d.Payload}
	if d.Status == webhook.StatusPending {
		next := d.NextAttemptAt
		v.NextRetryAt = &next
	}
	if !d.DeliveredAt.IsZero() {
		at := d.DeliveredAt
		v.DeliveredAt = &at
	}
	return v
}

// webhooks returns the webhook service, or why there is none.
func (s *server) webhooks() (*webhook.Service, error) {
	if s.Webhooks == nil {
		return nil, souq.Errorf(souq.ErrNotFound, "webhooks are not available on this server")
	}
	return s.Webhooks, nil
}

func (s *server) handleAdminWebhookCreate() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		svc, err := s.webhooks()
		if err != nil {
			return err
		}
		in, err := decode[webhook.EndpointInput](w, r, maxBody)
		if err != nil {
			return err
		}
		e, err := svc.Register(r.Context(), in)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/admin/webhooks/"+string(e.ID))
		httpjson.Encode(w, http.StatusCreated, endpointView(e, true))
		return nil
	})
}

func (s *server) handleAdminWebhookList() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		svc, err := s.webhooks()
		if err != nil {
			return err
		}
		es, err := svc.Endpoints(r.Context())
		if err != nil {
			return err
		}
		out := make([]endpointJSON, 0, len(es))
		for _, e := range es {
			out = append(out, endpointView(e, false))
		}
		httpjson.Encode(w, http.StatusOK, map[string]any{"items": out})
		return nil
	})
}

func (s *server) handleAdminWebhookGet() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		svc, err := s.webhooks()
		if err != nil {
			return err
		}
		e, err := svc.Endpoint(r.Context(), souq.ID(r.PathValue("id")))
		if err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusOK, endpointView(e, false))
		return nil
	})
}

func (s *server) handleAdminWebhookDelete() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		svc, err := s.webhooks()
		if err != nil {
			return err
		}
		if err := svc.Delete(r.Context(), souq.ID(r.PathValue("id"))); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *server) handleAdminWebhookDeliveries() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		svc, err := s.webhooks()
		if err != nil {
			return err
		}
		page, size, err := queryPage(r.URL.Query(), 50)
		if err != nil {
			return err
		}
		ds, total, err := svc.Deliveries(r.Context(), souq.ID(r.PathValue("id")), page, size)
		if err != nil {
			return asBadRequest(err)
		}
		out := listJSON[deliveryJSON]{Items: make([]deliveryJSON, 0, len(ds)), Total: total, Page: page, PageSize: size}
		for _, d := range ds {
			out.Items = append(out.Items, deliveryView(d))
		}
		httpjson.Encode(w, http.StatusOK, out)
		return nil
	})
}
