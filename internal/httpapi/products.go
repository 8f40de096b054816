package httpapi

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
)

// defaultMarket is the market used when a request names none.
const defaultMarket = souq.AE

// queryMarket reads ?market=, defaulting to the UAE.
func queryMarket(q url.Values) (souq.Market, error) {
	code := q.Get("market")
	if code == "" {
		return souq.MustMarket(defaultMarket), nil
	}
	m, err := souq.LookupMarket(code)
	if err != nil {
		return souq.Market{}, &souq.Error{Kind: errBadRequest, Detail: err.Error(),
			Fields: []souq.FieldError{{Field: "market", Reason: "unknown market"}}}
	}
	return m, nil
}

// queryInt reads an optional positive integer query parameter; 0 means it
// was not given.
func queryInt(q url.Values, name string) (int, error) {
	if !q.Has(name) {
		return 0, nil
	}
	n, err := strconv.Atoi(q.Get(name))
	if err != nil || n < 1 {
		return 0, &souq.Error{Kind: errBadRequest, Detail: "query parameter " + name + " must be a whole number of at least 1",
			Fields: []souq.FieldError{{Field: name, Reason: "must be a whole number of at least 1"}}}
	}
	return n, nil
}

// queryPage reads ?page= (default 1) and ?page_size= (default size) of an
// admin listing.
func queryPage(q url.Values, size int) (page, pageSize int, err error) {
	if page, err = queryInt(q, "page"); err != nil {
		return 0, 0, err
	}
	if pageSize, err = queryInt(q, "page_size"); err != nil {
		return 0, 0, err
	}
	return max(page, 1), cmp.Or(pageSize, size), nil
}

func (s *server) handleMarkets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.Encode(w, http.StatusOK, map[string]any{"items": souq.Markets()})
	})
}

func (s *server) handleProductList() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		m, err := queryMarket(q)
		if err != nil {
			return err
		}
		page, err := queryInt(q, "page")
		if err != nil {
			return err
		}
		size, err := queryInt(q, "page_size")
		if err != nil {
			return err
		}
		sale := false
		if v := q.Get("sale"); v != "" {
			if sale, err = strconv.ParseBool(v); err != nil {
				return &souq.Error{Kind: errBadRequest, Detail: "query parameter sale must be true or false",
					Fields: []souq.FieldError{{Field: "sale", Reason: "must be true or false"}}}
			}
		}
		res, err := s.Catalog.List(r.Context(), catalog.ListInput{
			Market: m, Category: q.Get("category"), Brand: q.Get("brand"), Search: q.Get("q"),
			Sort: catalog.Sort(q.Get("sort")), Page: page, PageSize: size, Cursor: q.Get("cursor"), Sale: sale,
		})
		if err != nil {
			return asBadRequest(err)
		}
		out := productPageJSON{Items: make([]productJSON, 0, len(res.Items)), Total: res.Total, TotalExact: res.TotalExact,
			Page: res.Page, PageSize: res.PageSize}
		if res.NextCursor != "" {
			out.NextCursor = &res.NextCursor
		}
		for _, o := range res.Items {
			out.Items = append(out.Items, productView(o, m))
		}
		httpjson.Encode(w, http.StatusOK, out)
		return nil
	})
}

func (s *server) handleProductGet() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		m, err := queryMarket(r.URL.Query())
		if err != nil {
			return err
		}
		o, err := s.Catalog.Get(r.Context(), r.PathValue("id"), m)
		if err != nil {
			return err
		}
		if !o.Sold {
			return souq.Errorf(souq.ErrNotFound, "product %q is not sold in %s", r.PathValue("id"), m.Code)
		}
		httpjson.Encode(w, http.StatusOK, productView(o, m))
		return nil
	})
}

func (s *server) handleFacets() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		m, err := queryMarket(r.URL.Query())
		if err != nil {
			return err
		}
		f, err := s.Catalog.Facets(r.Context(), m)
		if err != nil {
			return err
		}
		type category struct {
			catalog.Facet
			Name souq.Localized `json:"name"`
		}
		cats := make([]category, 0, len(f.Categories))
		for _, c := range f.Categories {
			cats = append(cats, category{Facet: c, Name: catalog.CategoryName(c.Value)})
		}
		httpjson.Encode(w, http.StatusOK, map[string]any{"categories": cats, "brands": f.Brands})
		return nil
	})
}

func (s *server) handleCurrentSale() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		sale, ok, err := s.Catalog.CurrentSale(r.Context())
		if err != nil {
			return err
		}
		if !ok {
			return souq.Errorf(souq.ErrNotFound, "no sale is running or scheduled")
		}
		httpjson.Encode(w, http.StatusOK, saleView(sale, s.now(), true))
		return nil
	})
}

// handleCurrentSaleProducts lists the current sale's products priced in
// ?market=, optionally narrowed to ?category= and ?brand=: the items in
// stock first, by discount.
func (s *server) handleCurrentSaleProducts() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		m, err := queryMarket(q)
		if err != nil {
			return err
		}
		offers, ok, err := s.Catalog.CurrentSaleOffers(r.Context(), m, catalog.SaleFilter{Category: q.Get("category"), Brand: q.Get("brand")})
		if err != nil {
			return err
		}
		if !ok {
			return souq.Errorf(souq.ErrNotFound, "no sale is running or scheduled")
		}
		items := make([]saleProductJSON, 0, len(offers.Items))
		for _, it := range offers.Items {
			items = append(items, saleProductView(it, m))
		}
		httpjson.Encode(w, http.StatusOK, map[string]any{"sale": saleView(offers.Sale, s.now(), false),
			"max_discount_percent": offers.MaxDiscount, "items": items})
		return nil
	})
}

// asBadRequest turns validation errors about query parameters into 400s.
func asBadRequest(err error) error {
	if e, ok := err.(*souq.Error); ok && e.Kind == souq.ErrInvalid {
		c := *e
		c.Kind = errBadRequest
		return &c
	}
	return err
}
