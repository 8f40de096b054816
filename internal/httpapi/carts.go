package httpapi

import (
	"net/http"

	"github.com/souq-commerce/souq/internal/souq"
)

type cartCreateRequest struct {
	Market string `json:"market"`
}

type cartItemRequest struct {
	ProductID souq.ID `json:"product_id"`
	Quantity  int     `json:"quantity"`
}

type cartQuantityRequest struct {
	Quantity *int `json:"quantity"`
}

func (s *server) handleCartCreate() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		req := cartCreateRequest{Market: string(defaultMarket)}
		if r.ContentLength != 0 {
			var err error
			if req, err = decode[cartCreateRequest](w, r, maxBody); err != nil {
				return err
			}
		}
		if req.Market == "" {
			req.Market = string(defaultMarket)
		}
		v, err := s.Carts.Create(r.Context(), req.Market)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/carts/"+string(v.ID))
		return s.writeCart(w, r, http.StatusCreated, v)
	})
}

func (s *server) handleCartGet() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		v, err := s.Carts.Get(r.Context(), souq.ID(r.PathValue("id")))
		if err != nil {
			return err
		}
		return s.writeCart(w, r, http.StatusOK, v)
	})
}

func (s *server) handleCartUpdate() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[cartCreateRequest](w, r, maxBody)
		if err != nil {
			return err
		}
		v, err := s.Carts.SetMarket(r.Context(), souq.ID(r.PathValue("id")), req.Market)
		if err != nil {
			return err
		}
		return s.writeCart(w, r, http.StatusOK, v)
	})
}

func (s *server) handleCartItemAdd() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[cartItemRequest](w, r, maxBody)
		if err != nil {
			return err
		}
		if req.ProductID == "" {
			return &souq.Error{Kind: souq.ErrInvalid, Detail: "product_id is required",
				Fields: []souq.FieldError{{Field: "product_id", Reason: "is required"}}}
		}
		v, err := s.Carts.AddItem(r.Context(), souq.ID(r.PathValue("id")), req.ProductID, req.Quantity)
		if err != nil {
			return err
		}
		return s.writeCart(w, r, http.StatusOK, v)
	})
}

func (s *server) handleCartItemSet() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		req, err := decode[cartQuantityRequest](w, r, maxBody)
		if err != nil {
			return err
		}
		if req.Quantity == nil {
			return &souq.Error{Kind: souq.ErrInvalid, Detail: "quantity is required (0 removes the product)",
				Fields: []souq.FieldError{{Field: "quantity", Reason: "is required"}}}
		}
		v, err := s.Carts.SetItem(r.Context(), souq.ID(r.PathValue("id")), souq.ID(r.PathValue("product_id")), *req.Quantity)
		if err != nil {
			return err
		}
		return s.writeCart(w, r, http.StatusOK, v)
	})
}

func (s *server) handleCartItemDelete() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		v, err := s.Carts.SetItem(r.Context(), souq.ID(r.PathValue("id")), souq.ID(r.PathValue("product_id")), 0)
		if err != nil {
			return err
		}
		return s.writeCart(w, r, http.StatusOK, v)
	})
}
