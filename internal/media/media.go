// Package media owns product photos: it checks an uploaded JPEG or PNG
// (size, pixel count, that it decodes), drops everything but the pixels
// (EXIF, GPS, colour profiles and comments go with the re-encoding),
// scales it down to a few widths with golang.org/x/image/draw, and keeps
// the renditions in the blob store the archive uses (a directory or S3),
// under content-addressed keys: the same photo always gets the same key,
// and a key's bytes never change, so they are served with a year-long
// cache lifetime.
package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // registers PNG for image.Decode
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/image/draw"

	"github.com/souq-commerce/souq/internal/souq"
)

// Limits on uploads.
const (
	MaxBytes  = 10 << 20   // an upload's size
	MaxPixels = 40_000_000 // width × height, checked before decoding
	MinSide   = 200        // the shorter side, in pixels
)

// Widths are the renditions made of each photo (those not above its own
// width; a photo narrower than the first gets one at its own width).
var Widths = []int{320, 640, 1024}

// quality is the renditions' JPEG quality.
const quality = 82

// Kinds of Process's errors beside souq.ErrInvalid (422): an upload
// beyond MaxBytes (413) and one that is not a JPEG or PNG (415).
var (
	ErrTooLarge = errors.New("image too large")
	ErrType     = errors.New("not a JPEG or PNG image")
)

// Bucket is the blob store the renditions live in (fileblob.Dir,
// s3blob.Bucket).
type Bucket interface {
	Put(ctx context.Context, key string, data []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
}

// Rendition is one width of a processed photo, as JPEG.
type Rendition struct {
	Width int
	Data  []byte
}

// Processed is a photo made ready to store.
type Processed struct {
	Hash          string // hex SHA-256 of the upload, the key's last part
	Width, Height int    // of the largest rendition
	Renditions    []Rendition
}

// Process checks an upload and makes its renditions. Bad input is a
// *souq.Error: 413 beyond MaxBytes, 415 for anything but JPEG and PNG, 422
// for an image that does not decode, is too small or has too many pixels.
func Process(data []byte) (Processed, error) {
	if len(data) > MaxBytes {
		return Processed{}, &souq.Error{Kind: ErrTooLarge, Detail: fmt.Sprintf("%s: %d bytes, at most %d", ErrTooLarge, len(data), MaxBytes)}
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "jpeg" && format != "png") {
		return Processed{}, &souq.Error{Kind: ErrType, Detail: ErrType.Error() + ": upload the photo as image/jpeg or image/png"}
	}
	switch {
	case cfg.Width*cfg.Height > MaxPixels || cfg.Width > 20000 || cfg.Height > 20000:
		return Processed{}, souq.Errorf(souq.ErrInvalid, "the image is %d × %d pixels; at most %d pixels in all", cfg.Width, cfg.Height, MaxPixels)
	case min(cfg.Width, cfg.Height) < MinSide:
		return Processed{}, souq.Errorf(souq.ErrInvalid, "the image is %d × %d pixels; its shorter side must be at least %d", cfg.Width, cfg.Height, MinSide)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Processed{}, souq.Errorf(souq.ErrInvalid, "the image does not decode: %v", err)
	}
	sum := sha256.Sum256(data)
	out := Processed{Hash: hex.EncodeToString(sum[:16])}
	b := src.Bounds()
	for _, w := range renditionWidths(b.Dx()) {
		h := max(1, (b.Dy()*w+b.Dx()/2)/b.Dx())
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		// Transparent pixels of a PNG land on white, as on a shop page.
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: quality}); err != nil {
			return Processed{}, fmt.Errorf("media: encode %d px: %w", w, err)
		}
		out.Renditions = append(out.Renditions, Rendition{Width: w, Data: buf.Bytes()})
		out.Width, out.Height = w, h
	}
	return out, nil
}

// renditionWidths are the widths made of a photo width px wide.
func renditionWidths(width int) []int {
	var out []int
	for _, w := range Widths {
		if w <= width {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		out = []int{width}
	}
	return out
}

// Library stores and serves photos in a bucket, under "media/".
type Library struct {
	bucket Bucket
}

// NewLibrary returns a library over bucket.
func NewLibrary(bucket Bucket) *Library { return &Library{bucket: bucket} }

// Store processes an upload for a product and stores its renditions; the
// image it returns names them.
func (l *Library) Store(ctx context.Context, product souq.ID, data []byte) (souq.Image, error) {
	p, err := Process(data)
	if err != nil {
		return souq.Image{}, err
	}
	img := souq.Image{Key: "products/" + string(product) + "/" + p.Hash, Width: p.Width, Height: p.Height}
	for _, r := range p.Renditions {
		if err := l.bucket.Put(ctx, objectKey(img.Key, r.Width), r.Data); err != nil {
			return souq.Image{}, fmt.Errorf("media: store %s: %w", img.Key, err)
		}
		img.Widths = append(img.Widths, r.Width)
	}
	return img, nil
}

// URL is the address a rendition is served at.
func URL(img souq.Image, width int) string {
	return "/media/" + img.Key + "-" + strconv.Itoa(width) + ".jpg"
}

// SrcSet is an <img srcset> of every rendition of img.
func SrcSet(img souq.Image) string {
	parts := make([]string, len(img.Widths))
	for i, w := range img.Widths {
		parts[i] = URL(img, w) + " " + strconv.Itoa(w) + "w"
	}
	return strings.Join(parts, ", ")
}

// objectKey is a rendition's key in the bucket.
func objectKey(key string, width int) string {
	return "media/" + key + "-" + strconv.Itoa(width) + ".jpg"
}

// servedPath is what /media/{path...} serves: a product photo rendition.
var servedPath = regexp.MustCompile(`^products/prd_[a-z0-9]+/[0-9a-f]{32}-[0-9]{1,5}\.jpg$`)

// cacheControl: a rendition's key names its content, so it never changes.
const cacheControl = "public, max-age=31536000, immutable"

// Handler serves GET /media/{path...}: the renditions, with an ETag (the
// key: content-addressed) and a year-long cache lifetime; 404 for any
// other path or a missing rendition.
func (l *Library) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.PathValue("path")
		if !servedPath.MatchString(p) {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		etag := `"` + strings.TrimSuffix(p[strings.LastIndexByte(p, '/')+1:], ".jpg") + `"`
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", cacheControl)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		data, err := l.bucket.Get(r.Context(), "media/"+p)
		if errors.Is(err, fs.ErrNotExist) {
			h.Del("Cache-Control")
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if err != nil {
			h.Del("Cache-Control")
			http.Error(w, "the image could not be read", http.StatusServiceUnavailable)
			return
		}
		h.Set("Content-Type", "image/jpeg")
		h.Set("Content-Length", strconv.Itoa(len(data)))
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(data)
		}
	})
}
