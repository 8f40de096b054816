package storefront

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

//go:embed static
var staticFS embed.FS

// asset is one static file, fingerprinted and precompressed once at start.
type asset struct {
	name        string // fingerprinted: site.<hash>.css
	contentType string
	etag        string
	raw, gz, br []byte
}

// assetSet holds the static files by fingerprinted name and by source name.
type assetSet struct {
	byName   map[string]*asset // "site.1a2b3c4d5e6f.css" → asset
	bySource map[string]*asset // "site.css" → asset
}

var assetTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

func loadAssets() (*assetSet, error) {
	entries, err := staticFS.ReadDir("static")
	if err != nil {
		return nil, err
	}
	set := &assetSet{byName: map[string]*asset{}, bySource: map[string]*asset{}}
	for _, e := range entries {
		raw, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, err
		}
		ext := path.Ext(e.Name())
		ct, ok := assetTypes[ext]
		if !ok {
			return nil, fmt.Errorf("storefront: no content type for static/%s", e.Name())
		}
		sum := sha256.Sum256(raw)
		hash := hex.EncodeToString(sum[:6])
		a := &asset{name: strings.TrimSuffix(e.Name(), ext) + "." + hash + ext, contentType: ct, etag: `"` + hash + `"`, raw: raw}
		if a.gz, err = gzipBytes(raw, gzip.BestCompression); err != nil {
			return nil, err
		}
		if a.br, err = brotliBytes(raw, brotli.BestCompression); err != nil {
			return nil, err
		}
		set.byName[a.name], set.bySource[e.Name()] = a, a
	}
	return set, nil
}

// url is the fingerprinted address of a static file.
func (s *assetSet) url(source string) string {
	a, ok := s.bySource[source]
	if !ok {
		panic("storefront: no static file " + source)
	}
	return "/assets/" + a.name
}

// handleAsset serves a fingerprinted static file: cached for a year, as
// its name changes with its contents.
func (s *Storefront) handleAsset() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.assets.byName[r.PathValue("file")]
		if !ok {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("ETag", a.etag)
		h.Set("Vary", "Accept-Encoding")
		if r.Header.Get("If-None-Match") == a.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := a.raw
		switch negotiateEncoding(r.Header.Get("Accept-Encoding"), "br") {
		case "br":
			body = a.br
			h.Set("Content-Encoding", "br")
		case "gzip":
			body = a.gz
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Type", a.contentType)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}

// negotiateEncoding picks br, gzip or "" (identity) from Accept-Encoding,
// by q-value, preferring prefer ("br" or "gzip") when they tie.
func negotiateEncoding(header, prefer string) string {
	var brQ, gzQ, starQ float64 = -1, -1, -1
	for _, part := range strings.Split(header, ",") {
		v, q := parseQ(part)
		switch strings.ToLower(v) {
		case "br":
			brQ = q
		case "gzip", "x-gzip":
			gzQ = q
		case "*":
			starQ = q
		}
	}
	if brQ < 0 {
		brQ = starQ
	}
	if gzQ < 0 {
		gzQ = starQ
	}
	switch {
	case brQ > 0 && (brQ > gzQ || brQ == gzQ && prefer == "br"):
		return "br"
	case gzQ > 0:
		return "gzip"
	case brQ > 0:
		return "br"
	}
	return ""
}

// writeBody answers with body, compressed as the client accepts. Static
// files were compressed once at start, brotli preferred. Pages are
// compressed per response, gzip preferred: on a 7 KB page gzip's default
// level is about twice as fast as brotli's level 4 and as small (see
// docs/storefront.md).
func writeBody(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Add("Vary", "Accept-Encoding")
	if e := negotiateEncoding(r.Header.Get("Accept-Encoding"), "gzip"); e != "" && len(body) > 512 {
		compress := gzipFast
		if e == "br" {
			compress = brotliFast
		}
		if enc, err := compress(body); err == nil {
			h.Set("Content-Encoding", e)
			body = enc
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// Writers for pages are pooled: a new compressor allocates its tables (about
// 0.8 MB for gzip, 1.2 MB for brotli) and setting them up cost more than
// compressing a page; a reset one reuses them.
var (
	gzipPool   = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}
	brotliPool = sync.Pool{New: func() any { return brotli.NewWriterLevel(nil, 4) }}
)

func gzipFast(b []byte) ([]byte, error) {
	zw := gzipPool.Get().(*gzip.Writer)
	defer gzipPool.Put(zw)
	return compressWith(zw, b)
}

func brotliFast(b []byte) ([]byte, error) {
	bw := brotliPool.Get().(*brotli.Writer)
	defer brotliPool.Put(bw)
	return compressWith(bw, b)
}

// compressWith compresses b with a pooled writer, reset onto a new buffer.
func compressWith[W interface {
	io.WriteCloser
	Reset(io.Writer)
}](w W, b []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(b) / 3)
	w.Reset(&buf)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gzipBytes and brotliBytes compress with a new writer at level: for the
// static files, compressed once at start.
func gzipBytes(b []byte, level int) ([]byte, error) {
	zw, err := gzip.NewWriterLevel(nil, level)
	if err != nil {
		return nil, err
	}
	return compressWith(zw, b)
}

func brotliBytes(b []byte, level int) ([]byte, error) {
	return compressWith(brotli.NewWriterLevel(nil, level), b)
}
