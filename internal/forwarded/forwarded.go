// Package forwarded decides what a request behind a load balancer really
// was: the client's address and whether it came over HTTPS. TLS usually
// ends at the balancer, which says so in X-Forwarded-For and
// X-Forwarded-Proto; those headers are believed only when the request's
// direct peer is a configured trusted proxy, since any client can send
// them.
package forwarded

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the trusted proxies' networks. The zero value trusts none.
type Proxies struct {
	nets []netip.Prefix
}

// Parse reads a comma-separated list of CIDRs ("10.0.0.0/8, 192.168.1.7/32")
// or bare addresses; "" trusts none.
func Parse(list string) (Proxies, error) {
	var p Proxies
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return Proxies{}, fmt.Errorf("%q is not an IP address or CIDR", f)
			}
			p.nets = append(p.nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		n, err := netip.ParsePrefix(f)
		if err != nil {
			return Proxies{}, fmt.Errorf("%q is not an IP address or CIDR", f)
		}
		p.nets = append(p.nets, n.Masked())
	}
	return p, nil
}

// trusted reports whether addr is one of the proxies.
func (p Proxies) trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, n := range p.nets {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

type httpsKey struct{}

// Handler rewrites each request that comes from a trusted proxy: its
// RemoteAddr becomes the client's address from X-Forwarded-For (the
// nearest address that is not a trusted proxy), and X-Forwarded-Proto
// "https" marks it as having come over HTTPS (see HTTPS). Requests from
// anyone else are passed on as they are, their forwarding headers
// ignored.
func (p Proxies) Handler(next http.Handler) http.Handler {
	if len(p.nets) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, ok := hostAddr(r.RemoteAddr)
		if !ok || !p.trusted(peer) {
			next.ServeHTTP(w, r)
			return
		}
		r = r.Clone(r.Context())
		if client, ok := p.client(r.Header.Values("X-Forwarded-For")); ok {
			r.RemoteAddr = net.JoinHostPort(client.String(), "0")
		}
		if strings.EqualFold(strings.TrimSpace(lastValue(r.Header.Values("X-Forwarded-Proto"))), "https") {
			r = r.WithContext(context.WithValue(r.Context(), httpsKey{}, true))
		}
		next.ServeHTTP(w, r)
	})
}

// client walks X-Forwarded-For from the nearest hop back and returns the
// first address that is not a trusted proxy (the leftmost when all are).
func (p Proxies) client(headers []string) (netip.Addr, bool) {
	var hops []string
	for _, h := range headers {
		hops = append(hops, strings.Split(h, ",")...)
	}
	var last netip.Addr
	found := false
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a hop that is not an address: trust nothing further
		}
		last, found = a.Unmap(), true
		if !p.trusted(a) {
			return last, true
		}
	}
	return last, found
}

// lastValue is the nearest proxy's value of a header that proxies append
// to ("https, http" when two proxies each added one).
func lastValue(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return v
}

func hostAddr(hostport string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, err := netip.ParseAddr(host)
	return a, err == nil
}

// HTTPS reports whether r came over HTTPS: to this server directly, or to
// a trusted proxy that said so.
func HTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	v, _ := r.Context().Value(httpsKey{}).(bool)
	return v
}
