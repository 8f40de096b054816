package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"path"
	"time"

	"github.com/souq-commerce/souq/internal/souq"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var (
	pageTemplate = template.Must(template.New("dashboard.html").
			ParseFS(templateFS, "templates/dashboard.html"))
	unauthorizedTemplate = template.Must(template.ParseFS(templateFS, "templates/unauthorized.html"))
)

// asset is one embedded static file.
type asset struct {
	body        []byte
	contentType string
	version     string // a hash of body: the ?v= of the page's links and the ETag
}

var assets = loadAssets()

func loadAssets() map[string]asset {
	types := map[string]string{
		".css": "text/css; charset=utf-8",
		".js":  "text/javascript; charset=utf-8",
		".svg": "image/svg+xml",
	}
	entries, err := staticFS.ReadDir("static")
	if err != nil {
		panic(err)
	}
	out := map[string]asset{}
	for _, e := range entries {
		body, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		ct, ok := types[path.Ext(e.Name())]
		if !ok {
			panic("dashboard: no content type for static/" + e.Name())
		}
		sum := sha256.Sum256(body)
		out[e.Name()] = asset{body: body, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	return out
}

// staticURL is the address of an embedded file, versioned so that it can
// be cached for good.
func staticURL(name string) string {
	return "/dashboard/static/" + name + "?v=" + assets[name].version
}

// handleStatic serves the embedded style sheet and script. A request with
// the current ?v= may be cached for a year; any other is revalidated with
// the ETag.
func handleStatic() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.PathValue("file")]
		if !ok {
			writeProblem(w, r, http.StatusNotFound, "not-found", "no such dashboard file")
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", `"`+a.version+`"`)
		if r.URL.Query().Get("v") == a.version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}

// guardPage is guard for the HTML page: a 401 answer is a short page
// with the sign-in form (when Login is set).
func (d *Dashboard) guardPage(next http.Handler) http.Handler {
	if d.authorize == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.authorize(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="souq"`)
			writeUnauthorizedPage(w, d.login != nil, "")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeUnauthorizedPage(w http.ResponseWriter, login bool, message string) {
	var buf bytes.Buffer
	_ = unauthorizedTemplate.Execute(&buf, map[string]any{"CSS": staticURL("dashboard.css"), "Login": login, "Message": message})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write(buf.Bytes())
}

// handlePage renders the dashboard with the figures of now, in the
// language pageLang picks, so that it shows numbers before (and without)
// the script. When they cannot be read it renders the page empty with a
// notice and status 503; the script fills it in once they can.
func (d *Dashboard) handlePage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := d.sharedUpdate(r.Context()) // page loads at once share one computation
		d.writePage(w, r, u, err != nil)
	})
}

// switchURL is the page r asks for, filters and all, in the other
// language.
func switchURL(r *http.Request, lang souq.Lang) string {
	q := r.URL.Query()
	q.Set("lang", "ar")
	if lang == souq.Arabic {
		q.Set("lang", "en")
	}
	return "/dashboard?" + q.Encode()
}

// writePage renders u as the page r asks for (language, product filters).
func (d *Dashboard) writePage(w http.ResponseWriter, r *http.Request, u Update, unavailable bool) {
	status := http.StatusOK
	if unavailable {
		status = http.StatusServiceUnavailable
	}
	lang := pageLang(r)
	v := d.view(u, unavailable, lang)
	var api http.Handler
	if tableQueryOf(r).filtered() {
		api = d.productRoute()
	}
	v.Products = productTable(r, u, lang, api)
	v.SwitchURL = switchURL(r, lang)
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, v); err != nil {
		d.log.Error("render dashboard", "err", err)
		writeProblem(w, r, http.StatusInternalServerError, "", "the page could not be rendered; it has been logged")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(lang))
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
