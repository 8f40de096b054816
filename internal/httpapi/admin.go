package httpapi

import (
	"net/http"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
)

// Admin answers carry the whole product: every market's price and the stock.
func (s *server) handleAdminProductCreate() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[catalog.ProductInput](w, r, maxAdminBody)
		if err != nil {
			return err
		}
		p, err := s.Catalog.Create(r.Context(), in)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/products/"+string(p.ID))
		httpjson.Encode(w, http.StatusCreated, p)
		return nil
	})
}

func (s *server) handleAdminProductUpdate() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[catalog.ProductInput](w, r, maxAdminBody)
		if err != nil {
			return err
		}
		p, err := s.Catalog.Update(r.Context(), souq.ID(r.PathValue("id")), in)
		if err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusOK, p)
		return nil
	})
}

type stockRequest struct {
	Quantity *int `json:"quantity"`
}

func (s *server) handleAdminStock() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[stockRequest](w, r, maxBody)
		if err != nil {
			return err
		}
		if in.Quantity == nil {
			return &souq.Error{Kind: souq.ErrInvalid, Detail: "quantity is required",
				Fields: []souq.FieldError{{Field: "quantity", Reason: "is required"}}}
		}
		p, err := s.Catalog.SetStock(r.Context(), souq.ID(r.PathValue("id")), *in.Quantity)
		if err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusOK, p)
		return nil
	})
}

func (s *server) handleAdminOrderList() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		page, size, err := queryPage(r.URL.Query(), 50)
		if err != nil {
			return err
		}
		orders, total, err := s.Checkout.Orders(r.Context(), page, size)
		if err != nil {
			return asBadRequest(err)
		}
		out := listJSON[orderJSON]{Items: make([]orderJSON, 0, len(orders)), Total: total, Page: page, PageSize: size}
		for _, o := range orders {
			out.Items = append(out.Items, orderView(o))
		}
		httpjson.Encode(w, http.StatusOK, out)
		return nil
	})
}

func (s *server) handleAdminOrderGet() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		o, err := s.Checkout.AdminLookup(r.Context(), r.PathValue("id")) // an id or a number
		if err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusOK, orderView(o))
		return nil
	})
}

func (s *server) handleAdminOrderCancel() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		o, err := s.Checkout.AdminCancel(r.Context(), souq.ID(r.PathValue("id")))
		if err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusOK, orderView(o))
		return nil
	})
}

// handleAdminOrderCapture captures an order's authorised card payment,
// when it is dispatched (manual capture).
func (s *server) handleAdminOrderCapture() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		o, err := s.Checkout.Capture(r.Context(), souq.ID(r.PathValue("id")))
		if err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusOK, orderView(o))
		return nil
	})
}

func (s *server) handleAdminSaleList() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		sales, err := s.Catalog.Sales(r.Context())
		if err != nil {
			return err
		}
		now := s.now()
		out := make([]saleJSON, 0, len(sales))
		for _, sale := range sales {
			out = append(out, saleView(sale, now, true))
		}
		httpjson.Encode(w, http.StatusOK, map[string]any{"items": out})
		return nil
	})
}

func (s *server) handleAdminSaleCreate() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		in, err := decode[catalog.SaleInput](w, r, maxAdminBody)
		if err != nil {
			return err
		}
		sale, err := s.Catalog.ScheduleSale(r.Context(), in)
		if err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusCreated, saleView(sale, s.now(), true))
		return nil
	})
}

func (s *server) handleAdminSaleDelete() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if err := s.Catalog.CancelSale(r.Context(), souq.ID(r.PathValue("id"))); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
