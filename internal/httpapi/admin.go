package httpapi

import (
	"net/http"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/souq"
)

// adminProductJSON is a product as admins see it: every market's price.
type adminProductJSON struct {
	souq.Product
}

func (s *server) handleAdminProductCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[catalog.ProductInput](w, r, maxAdminBody)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p, err := s.Catalog.Create(r.Context(), in)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Location", "/api/v1/products/"+string(p.ID))
		encode(w, http.StatusCreated, adminProductJSON{p})
	})
}

func (s *server) handleAdminProductUpdate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[catalog.ProductInput](w, r, maxAdminBody)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p, err := s.Catalog.Update(r.Context(), souq.ID(r.PathValue("id")), in)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, adminProductJSON{p})
	})
}

type stockRequest struct {
	Quantity *int `json:"quantity"`
}

func (s *server) handleAdminStock() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[stockRequest](w, r, maxBody)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if in.Quantity == nil {
			s.fail(w, r, &souq.Error{Kind: souq.ErrInvalid, Detail: "quantity is required",
				Fields: []souq.FieldError{{Field: "quantity", Reason: "is required"}}})
			return
		}
		p, err := s.Catalog.SetStock(r.Context(), souq.ID(r.PathValue("id")), *in.Quantity)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, adminProductJSON{p})
	})
}

func (s *server) handleAdminOrderList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		page, err := queryInt(q, "page")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		size, err := queryInt(q, "page_size")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		page, size = max(page, 1), cmpOr(size, 50)
		orders, total, err := s.Checkout.Orders(r.Context(), page, size)
		if err != nil {
			s.fail(w, r, asBadRequest(err))
			return
		}
		out := listJSON[orderJSON]{Items: make([]orderJSON, 0, len(orders)), Total: total, Page: page, PageSize: size}
		for _, o := range orders {
			out.Items = append(out.Items, orderView(o))
		}
		encode(w, http.StatusOK, out)
	})
}

func cmpOr(v, fallback int) int {
	if v == 0 {
		return fallback
	}
	return v
}

func (s *server) handleAdminOrderGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := s.Checkout.AdminOrder(r.Context(), souq.ID(r.PathValue("id")))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, orderView(o))
	})
}

func (s *server) handleAdminOrderCancel() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := s.Checkout.AdminCancel(r.Context(), souq.ID(r.PathValue("id")))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, orderView(o))
	})
}

func (s *server) handleAdminSaleList() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sales, err := s.Catalog.Sales(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		now := s.now()
		out := make([]saleJSON, 0, len(sales))
		for _, sale := range sales {
			out = append(out, saleView(sale, now, true))
		}
		encode(w, http.StatusOK, map[string]any{"items": out})
	})
}

func (s *server) handleAdminSaleCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := decode[catalog.SaleInput](w, r, maxAdminBody)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sale, err := s.Catalog.ScheduleSale(r.Context(), in)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		encode(w, http.StatusCreated, saleView(sale, s.now(), true))
	})
}

func (s *server) handleAdminSaleDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Catalog.CancelSale(r.Context(), souq.ID(r.PathValue("id"))); err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
