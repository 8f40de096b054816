package httpapi

import (
	"context"
	_ "embed"
	"html/template"
	"net/http"
	"time"

	"github.com/souq-commerce/souq/internal/httpjson"
	"github.com/souq-commerce/souq/internal/souq"
)

//go:embed openapi.json
var openAPIDocument []byte

func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(openAPIDocument)
	})
}

func handleLive() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	})
}

func (s *server) handleReady() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := s.Ready(ctx); err != nil {
				s.log.Warn("not ready", "err", err)
				w.Header().Set("Retry-After", "1")
				httpjson.WriteProblem(w, httpjson.Problem{Status: http.StatusServiceUnavailable, Detail: "not ready; see the server log", Instance: r.URL.Path})
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ready\n"))
	})
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Souq</title></head>
<body>
<h1>Souq</h1>
<p>{{.Banner}}</p>
<ul>
<li><a href="/api/v1/products?market=AE">Products (UAE)</a> · {{range .Markets}}<a href="/api/v1/products?market={{.Code}}">{{.Code}}</a> {{end}}</li>
<li><a href="/api/v1/sales/current">Current flash sale</a></li>
<li><a href="/api/openapi.json">OpenAPI document</a></li>
<li><a href="/metrics">Metrics</a> · <a href="/readyz">Readiness</a></li>
</ul>
</body></html>
`))

func (s *server) handleIndex() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = indexPage.Execute(w, map[string]any{"Banner": s.Banner, "Markets": souq.Markets()})
	})
}
