package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHSTSOverTLS: HSTS is sent when the request came over TLS, and only then
// (TestEdge checks plain HTTP).
func TestHSTSOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(NewServer(Deps{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/livez")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
		t.Errorf("Strict-Transport-Security over TLS: got %q, want max-age=…", got)
	}
}
