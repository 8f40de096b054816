package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
)

// handleOrderCreate places an order. With an Idempotency-Key header, the
// first response is stored with the order and replayed for the same key and
// body; the body is compared in its decoded, canonical form, so whitespace
// and key order do not matter.
func (s *server) handleOrderCreate() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[checkout.OrderRequest](w, r, maxBody)
		if err != nil {
			return err
		}
		var idem *checkout.Idempotency
		if _, sent := r.Header["Idempotency-Key"]; sent {
			if key := r.Header.Get("Idempotency-Key"); key == "" || len(key) > checkout.MaxKeyLength {
				return souq.Errorf(errBadRequest, "the Idempotency-Key header must be 1 to %d characters", checkout.MaxKeyLength)
			}
			canonical, err := json.Marshal(req)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(canonical)
			idem = &checkout.Idempotency{Key: r.Header.Get("Idempotency-Key"), Hash: hex.EncodeToString(sum[:]), Render: renderCreated}
		}
		res, err := s.Checkout.PlaceOrder(r.Context(), req, idem)
		switch {
		case errors.Is(err, souq.ErrOutOfStock):
			s.metrics.outOfStock.Inc()
			return err
		case err != nil:
			return err
		case res.Replay != nil:
			s.metrics.replays.Inc()
			w.Header().Set("Idempotent-Replayed", "true")
			var first struct{ ID string }
			if json.Unmarshal(res.Replay.Body, &first) == nil && first.ID != "" {
				w.Header().Set("Location", "/api/v1/orders/"+first.ID)
			}
			httpjson.Write(w, res.Replay.Status, "application/json", res.Replay.Body)
			return nil
		}
		o := res.Placed.Order
		s.metrics.ordersCreated.WithLabelValues(string(o.Market), string(o.Payment.Method)).Inc()
		var (
			status int
			body   []byte
		)
		if r := res.Response; r != nil { // rendered already, to be stored for replays
			status, body = r.Status, r.Body
		} else if status, body, err = renderCreated(res.Placed); err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/orders/"+string(o.ID))
		httpjson.Write(w, status, "application/json", body)
		return nil
	})
}

// renderCreated is the response to a newly placed order, stored for
// idempotent replays.
func renderCreated(p checkout.Placed) (int, []byte, error) {
	v := orderView(p.Order)
	v.AccessToken = p.AccessToken
	v.StatusURL = "/api/v1/orders/" + string(p.Order.ID) + "?token=" + url.QueryEscape(p.AccessToken)
	body, err := json.Marshal(v)
	return http.StatusCreated, body, err
}

// orderToken reads an order's access token from ?token= or the
// Authorization bearer header.
func orderToken(r *http.Request) string {
	if t := r.URL.Query().Get("token"); t != "" {
		return t
	}
	t, _ := bearer(r)
	return t
}

func (s *server) handleOrderGet() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		o, err := s.Checkout.Order(r.Context(), souq.ID(r.PathValue("id")), orderToken(r))
		if err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusOK, orderView(o))
		return nil
	})
}

func (s *server) handleOrderCancel() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		o, err := s.Checkout.Cancel(r.Context(), souq.ID(r.PathValue("id")), orderToken(r))
		if err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusOK, orderView(o))
		return nil
	})
}
