package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/souq-commerce/souq/internal/forwarded"
)

// SessionCookie is the cookie TokenAuth's sign-in sets.
const SessionCookie = "souq_dashboard"

// sessionMaxAge is how long a browser keeps the session cookie.
const sessionMaxAge = 12 * time.Hour

// TokenAuth admits requests that carry the admin token: as
// "Authorization: Bearer <token>" (scripts, curl), or as the session
// cookie its sign-in form sets (browsers, whose page loads and
// EventSource cannot send that header). The cookie holds an HMAC of the
// token, not the token itself, so it opens the dashboard and its JSON but
// not the admin API; it is HttpOnly and SameSite=Strict, and stays valid
// until the token changes. Serve it as Deps.Login (POST /dashboard/login).
type TokenAuth struct {
	token   []byte
	session string
}

// NewTokenAuth returns a TokenAuth for token. With an empty token it
// admits nobody.
func NewTokenAuth(token string) *TokenAuth {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("souq dashboard session v1"))
	return &TokenAuth{token: []byte(token), session: base64.RawURLEncoding.EncodeToString(mac.Sum(nil))}
}

// Authorize reports whether r carries the token or the session cookie.
func (a *TokenAuth) Authorize(r *http.Request) bool {
	if len(a.token) == 0 {
		return false
	}
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), a.token) == 1
	}
	c, err := r.Cookie(SessionCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(a.session)) == 1
}

// ServeHTTP signs a browser in: it takes the form field "token" and, when
// it is the admin token, sets the session cookie and sends the browser to
// /dashboard (303); otherwise it answers 401 with the form again.
func (a *TokenAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		writeUnauthorizedPage(w, true, "The sign-in form could not be read; try again.")
		return
	}
	given := []byte(r.PostForm.Get("token"))
	if len(a.token) == 0 || subtle.ConstantTimeCompare(given, a.token) != 1 {
		writeUnauthorizedPage(w, true, "That is not the admin token.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: a.session, Path: "/",
		MaxAge: int(sessionMaxAge / time.Second), HttpOnly: true, Secure: forwarded.HTTPS(r), SameSite: http.SameSiteStrictMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}
