package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/souq-commerce/souq/internal/checkout"
	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
)

// placeOrder places an order through the waiting room: during a protected
// sale the request's admission token must admit the order's cart, and an
// attempt that placed nothing gives the admission back. Checkout's latency
// and failures feed the room's admission controller.
func (s *server) placeOrder(r *http.Request, req checkout.OrderRequest, idem *checkout.Idempotency) (checkout.Result, error) {
	if s.Room == nil {
		return s.Checkout.PlaceOrder(r.Context(), req, idem)
	}
	key := ""
	if idem != nil {
		key = idem.Key
	}
	var (
		res checkout.Result
		ran bool
	)
	err := s.Room.Checkout(r.Context(), r.Header.Get(AdmissionHeader), req.CartID, key, func() (bool, error) {
		var err error
		ran = true
		res, err = s.Checkout.PlaceOrder(r.Context(), req, idem)
		return checkout.OrderPlaced(res, err), err
	})
	if !ran { // the room refused: checkout never counted the attempt
		s.Checkout.Refused(err)
	}
	return res, err
}

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
		key, sent, err := idempotencyKey(r)
		if err != nil {
			return err
		}
		if sent {
			canonical, err := json.Marshal(req)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(canonical)
			idem = &checkout.Idempotency{Key: key, Hash: hex.EncodeToString(sum[:]), Render: renderCreated}
		}
		res, err := s.placeOrder(r, req, idem)
		var notStarted *souq.Error
		if errors.As(err, &notStarted) && errors.Is(err, souq.ErrUnavailable) && res.Placed.Order.ID != "" {
			// Placed, its stock held, but the payment provider could not be
			// reached: the client gets the order and its token, to pay it
			// later with POST /api/v1/orders/{id}/payment.
			o := res.Placed.Order
			s.metrics.ordersCreated.WithLabelValues(string(o.Market), string(o.Payment.Method)).Inc()
			v := createdView(res.Placed, nil)
			v.PaymentError = notStarted.Detail
			w.Header().Set("Location", "/api/v1/orders/"+string(o.ID))
			httpjson.Encode(w, http.StatusCreated, v)
			return nil
		}
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
		switch r := res.Response; {
		case o.Payment.Method == souq.PayCard:
			// Stored pending payment; answered as it stands now, with the
			// shopper's next step.
			if status, body, err = renderCreatedWith(res.Placed, res.Action); err != nil {
				return err
			}
		case r != nil: // rendered already, to be stored for replays
			status, body = r.Status, r.Body
		default:
			if status, body, err = renderCreated(res.Placed); err != nil {
				return err
			}
		}
		w.Header().Set("Location", "/api/v1/orders/"+string(o.ID))
		httpjson.Write(w, status, "application/json", body)
		return nil
	})
}

// renderCreated is the response to a newly placed order, stored for
// idempotent replays.
func renderCreated(p checkout.Placed) (int, []byte, error) {
	return renderCreatedWith(p, nil)
}

// renderCreatedWith is renderCreated with a payment's next step.
func renderCreatedWith(p checkout.Placed, action *checkout.PaymentAction) (int, []byte, error) {
	body, err := json.Marshal(createdView(p, action))
	return http.StatusCreated, body, err
}

// createdView is a newly placed order as its creation answers it: with
// its access token, the path that reads it, and a payment's next step.
func createdView(p checkout.Placed, action *checkout.PaymentAction) orderJSON {
	v := orderView(p.Order)
	v.AccessToken, v.PaymentAction = p.AccessToken, action
	v.StatusURL = "/api/v1/orders/" + string(p.Order.ID) + "?token=" + url.QueryEscape(p.AccessToken)
	return v
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

// handleOrderPay starts or resumes the card payment of an order still
// pending payment, for the holder of its access token, and answers the
// order with the shopper's next step.
func (s *server) handleOrderPay() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		var req checkout.PaymentRequest
		if r.ContentLength != 0 {
			var err error
			if req, err = decode[checkout.PaymentRequest](w, r, maxBody); err != nil {
				return err
			}
		}
		o, action, err := s.Checkout.Pay(r.Context(), souq.ID(r.PathValue("id")), orderToken(r), req)
		if err != nil {
			return err
		}
		v := orderView(o)
		v.PaymentAction = action
		httpjson.Encode(w, http.StatusOK, v)
		return nil
	})
}

// maxWebhookBody bounds a payment provider's notification (Stripe's are a
// few KiB).
const maxWebhookBody = 256 << 10

// handlePaymentWebhook takes the payment provider's signed notifications.
// A verified one that was handled, or that concerns nothing Souq has,
// answers 200; a bad signature 401; a failure to record it 5xx, so the
// provider sends it again.
func (s *server) handlePaymentWebhook() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.metrics.webhooks.WithLabelValues("refused").Inc()
			return souq.Errorf(errTooLarge, "the notification is larger than %d bytes", maxWebhookBody)
		}
		if err != nil {
			return souq.Errorf(errBadRequest, "could not read the notification: %v", err)
		}
		err = s.Checkout.PaymentWebhook(r.Context(), r.Header, body)
		switch {
		case errors.Is(err, souq.ErrUnauthorized):
			s.metrics.webhooks.WithLabelValues("refused").Inc()
			return err
		case err != nil:
			s.metrics.webhooks.WithLabelValues("failed").Inc()
			return err
		}
		s.metrics.webhooks.WithLabelValues("handled").Inc()
		httpjson.Encode(w, http.StatusOK, map[string]bool{"received": true})
		return nil
	})
}

// idempotencyKey reads the Idempotency-Key header: whether it was sent,
// and a 400 when it was sent empty or longer than checkout.MaxKeyLength.
func idempotencyKey(r *http.Request) (key string, sent bool, err error) {
	if _, sent = r.Header["Idempotency-Key"]; !sent {
		return "", false, nil
	}
	if key = r.Header.Get("Idempotency-Key"); key == "" || len(key) > checkout.MaxKeyLength {
		return "", true, souq.Errorf(errBadRequest, "the Idempotency-Key header must be 1 to %d characters", checkout.MaxKeyLength)
	}
	return key, true, nil
}
