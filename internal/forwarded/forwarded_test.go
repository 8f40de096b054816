package forwarded

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHandler(t *testing.T) {
	proxies, err := Parse("10.0.0.0/8, 192.168.1.7")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		peer       string
		xff, proto []string
		wantAddr   string
		wantHTTPS  bool
	}{
		{"direct client, headers ignored", "203.0.113.9:5000", []string{"1.2.3.4"}, []string{"https"}, "203.0.113.9:5000", false},
		{"one trusted proxy", "10.1.2.3:4000", []string{"198.51.100.20"}, []string{"https"}, "198.51.100.20:0", true},
		{"a chain of proxies", "10.1.2.3:4000", []string{"198.51.100.20, 192.168.1.7"}, []string{"https"}, "198.51.100.20:0", true},
		{"a spoofed first hop is not believed", "10.1.2.3:4000", []string{"6.6.6.6, 198.51.100.20"}, nil, "198.51.100.20:0", false},
		{"headers split over lines", "10.1.2.3:4000", []string{"6.6.6.6", "198.51.100.20"}, []string{"http"}, "198.51.100.20:0", false},
		{"all hops trusted", "10.1.2.3:4000", []string{"10.9.9.9"}, nil, "10.9.9.9:0", false},
		{"no X-Forwarded-For", "192.168.1.7:80", nil, []string{"https"}, "192.168.1.7:80", true},
		{"garbage hop stops the walk", "10.1.2.3:4000", []string{"evil, 10.0.0.5"}, nil, "10.0.0.5:0", false},
		{"IPv6 client", "10.1.2.3:4000", []string{"2001:db8::1"}, nil, "[2001:db8::1]:0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotAddr string
			var gotHTTPS bool
			h := proxies.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAddr, gotHTTPS = r.RemoteAddr, HTTPS(r)
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tt.proto {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if gotAddr != tt.wantAddr || gotHTTPS != tt.wantHTTPS {
				t.Errorf("got %s https=%t, want %s https=%t", gotAddr, gotHTTPS, tt.wantAddr, tt.wantHTTPS)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.1/8/1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): got nil error", bad)
		}
	}
	p, err := Parse("")
	if err != nil || len(p.nets) != 0 {
		t.Errorf(`Parse(""): got %v, %v; want no proxies`, p, err)
	}
}

func TestNoProxiesPassesThrough(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:4000"
	r.Header.Set("X-Forwarded-For", "1.2.3.4")
	r.Header.Set("X-Forwarded-Proto", "https")
	Proxies{}.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.RemoteAddr != "10.1.2.3:4000" || HTTPS(r) {
			t.Errorf("without trusted proxies: got %s https=%t", r.RemoteAddr, HTTPS(r))
		}
	})).ServeHTTP(httptest.NewRecorder(), r)
}
