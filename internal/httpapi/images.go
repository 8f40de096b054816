package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"

	"github.com/souq-commerce/souq/internal/catalog"
	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/media"
	"github.com/souq-commerce/souq/internal/souq"
)

// handleAdminImageAdd adds a photo to a product: the body is the JPEG or
// PNG itself (Content-Type image/jpeg or image/png), at most
// media.MaxBytes. The answer (201) is the product, its images last the new
// one. The same photo twice is stored once.
func (s *server) handleAdminImageAdd() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if s.Media == nil {
			return souq.Errorf(souq.ErrUnavailable, "this server has no media store (see --archive)")
		}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "image/jpeg" && ct != "image/png" {
			return &souq.Error{Kind: media.ErrType, Detail: fmt.Sprintf("Content-Type %q: send the photo as image/jpeg or image/png", r.Header.Get("Content-Type"))}
		}
		id := souq.ID(r.PathValue("id"))
		p, err := s.Catalog.Product(r.Context(), string(id))
		if err != nil {
			return err
		}
		if p.ID != id {
			return souq.Errorf(souq.ErrNotFound, "product %q not found", id)
		}
		if len(p.Images) >= catalog.MaxImages { // checked again when the photo is added
			return souq.Errorf(souq.ErrConflict, "product %s has %d images already, the most it may have; delete one first", id, len(p.Images))
		}
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, media.MaxBytes))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &souq.Error{Kind: media.ErrTooLarge, Detail: fmt.Sprintf("the photo is larger than %d bytes", media.MaxBytes)}
		}
		if err != nil {
			return &souq.Error{Kind: errBadRequest, Detail: "the request body could not be read"}
		}
		img, err := s.Media.Store(r.Context(), id, data)
		if err != nil {
			return err
		}
		if p, err = s.Catalog.AddImage(r.Context(), id, img); err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusCreated, p)
		return nil
	})
}

// handleAdminImageDelete removes a product's n-th photo (0 the first);
// its renditions stay in the store: pages and browsers that cached their
// addresses keep working (docs/media.md).
func (s *server) handleAdminImageDelete() http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		id := souq.ID(r.PathValue("id"))
		p, err := s.Catalog.Product(r.Context(), string(id))
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 || n >= len(p.Images) {
			return souq.Errorf(souq.ErrNotFound, "product %s has no image %q (it has %d, numbered from 0)", id, r.PathValue("n"), len(p.Images))
		}
		images := slices.Delete(slices.Clone(p.Images), n, n+1)
		if p, err = s.Catalog.SetImages(r.Context(), id, images); err != nil {
			return err
		}
		httpjson.Encode(w, http.StatusOK, p)
		return nil
	})
}
