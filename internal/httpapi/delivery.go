package httpapi

import (
	"context"
	"net/http"

	"github.com/souq-commerce/souq/internal/cart"
	"github.com/souq-commerce/souq/internal/delivery"
	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
)

// deliveryInfoJSON is a market's delivery terms as shoppers see them.
type deliveryInfoJSON struct {
	Market   souq.MarketCode `json:"market"`
	Currency souq.Currency   `json:"currency"`
	// Configured is false for a market without settings: delivery is then
	// free and has no estimate.
	Configured bool       `json:"configured"`
	Fee        moneyJSON  `json:"fee"`
	FreeOver   *moneyJSON `json:"free_over,omitempty"`
	CODFee     moneyJSON  `json:"cod_fee"`
	CODLimit   *moneyJSON `json:"cod_limit,omitempty"`
	Cutoff     string     `json:"cutoff,omitempty"`
	City       string     `json:"city,omitempty"`
	// Estimate is when an order placed now arrives in City (or, without
	// one, in a city without its own estimate).
	Estimate *deliveryEstimateJSON `json:"estimate,omitempty"`
}

type deliveryEstimateJSON struct {
	MinDays       int           `json:"min_days"`
	MaxDays       int           `json:"max_days"`
	DispatchDate  string        `json:"dispatch_date"`
	Earliest      string        `json:"earliest"`
	Latest        string        `json:"latest"`
	DaysFromToday delivery.Days `json:"days_from_today"`
}

// deliveryInput is the body of PUT /api/v1/admin/delivery/{market}.
type deliveryInput struct {
	Fee      int64                    `json:"fee"`
	FreeOver int64                    `json:"free_over"`
	CODFee   int64                    `json:"cod_fee"`
	CODLimit int64                    `json:"cod_limit"`
	Cutoff   string                   `json:"cutoff"`
	Estimate delivery.Days            `json:"estimate"`
	Cities   map[string]delivery.Days `json:"cities"`
}

// deliveryService returns the delivery settings, or why there are none.
func (s *server) deliveryService() (*delivery.Service, error) {
	if s.Delivery == nil {
		return nil, souq.Errorf(souq.ErrNotFound, "delivery settings are not available on this server")
	}
	return s.Delivery, nil
}

func (s *server) handleDelivery() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		m, err := queryMarket(q)
		if err != nil {
			return err
		}
		city := q.Get("city")
		if city != "" && !m.HasCity(city) {
			return &souq.Error{Kind: errBadRequest, Detail: "unknown city " + city + " in " + string(m.Code),
				Fields: []souq.FieldError{{Field: "city", Reason: "not a city of the market (see /api/v1/markets)"}}}
		}
		out := deliveryInfoJSON{Market: m.Code, Currency: m.Currency, City: city,
			Fee: money(souq.M(0, m.Currency)), CODFee: money(souq.M(0, m.Currency))}
		var (
			st delivery.Settings
			ok bool
		)
		if s.Delivery != nil {
			if st, ok, err = s.Delivery.For(r.Context(), m.Code); err != nil {
				return err
			}
		}
		if ok {
			qt, err := delivery.Quote(st, 0, souq.PayCard, city, s.now())
			if err != nil {
				return err
			}
			out.Configured, out.Cutoff = true, st.Cutoff
			out.Fee, out.CODFee = money(souq.M(st.Fee, m.Currency)), money(souq.M(st.CODFee, m.Currency))
			if st.FreeOver > 0 {
				v := money(souq.M(st.FreeOver, m.Currency))
				out.FreeOver = &v
			}
			if st.CODLimit > 0 {
				v := money(souq.M(st.CODLimit, m.Currency))
				out.CODLimit = &v
			}
			out.Estimate = &deliveryEstimateJSON{MinDays: qt.MinDays, MaxDays: qt.MaxDays, DispatchDate: qt.DispatchDate,
				Earliest: qt.Earliest, Latest: qt.Latest, DaysFromToday: qt.DaysFromToday}
		}
		httpjson.Encode(w, http.StatusOK, out)
		return nil
	})
}

func (s *server) handleAdminDeliveryList() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		svc, err := s.deliveryService()
		if err != nil {
			return err
		}
		all, err := svc.List(r.Context())
		if err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusOK, map[string]any{"items": all})
		return nil
	})
}

func (s *server) handleAdminDeliveryPut() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		svc, err := s.deliveryService()
		if err != nil {
			return err
		}
		m, err := souq.LookupMarket(r.PathValue("market"))
		if err != nil {
			return &souq.Error{Kind: souq.ErrNotFound, Detail: err.Error()}
		}
		in, err := decode[deliveryInput](w, r, maxBody)
		if err != nil {
			return err
		}
		st, err := svc.Put(r.Context(), delivery.Settings{Market: m.Code, Fee: in.Fee, FreeOver: in.FreeOver,
			CODFee: in.CODFee, CODLimit: in.CODLimit, Cutoff: in.Cutoff, Estimate: in.Estimate, Cities: in.Cities})
		if err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusOK, st)
		return nil
	})
}

// writeCart answers with cart v and the delivery fee its order would pay.
func (s *server) writeCart(w http.ResponseWriter, r *http.Request, status int, v cart.View) error {
	fee, err := s.cartDeliveryFee(r.Context(), v)
	if err != nil {
		return err
	}
	httpjson.Encode(w, status, cartView(v, fee))
	return nil
}

// cartDeliveryFee is the delivery fee an order of cart v would pay now.
func (s *server) cartDeliveryFee(ctx context.Context, v cart.View) (int64, error) {
	if s.Delivery == nil {
		return 0, nil
	}
	q, _, err := s.Delivery.QuoteFor(ctx, v.Market.Code, v.Total.Amount, souq.PayCard, "")
	return q.Fee, err
}
