package httpx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies is the set of networks whose X-Forwarded-For and
// X-Forwarded-Proto headers are believed. A nil *TrustedProxies trusts no one:
// the client address is the TCP peer.
//
// The client address is found with the standard right-to-left walk: start
// from the TCP peer; while the current hop is a trusted proxy, step to the
// next X-Forwarded-For entry from the right. The first untrusted address is
// the client. Entries left of it were written by the client itself and are
// ignored, so a client cannot pick its own address by sending a header.
type TrustedProxies struct {
	nets []netip.Prefix
}

// ParseTrustedProxies reads a comma-separated list of CIDR ranges or single
// addresses ("10.0.0.0/8, 192.168.1.10, ::1"). An empty list returns nil.
func ParseTrustedProxies(list string) (*TrustedProxies, error) {
	var p TrustedProxies
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			pfx, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q is not a CIDR range (e.g. 10.0.0.0/8)", f)
			}
			p.nets = append(p.nets, pfx.Masked())
			continue
		}
		addr, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not an IP address or CIDR range", f)
		}
		addr = addr.Unmap()
		p.nets = append(p.nets, netip.PrefixFrom(addr, addr.BitLen()))
	}
	if len(p.nets) == 0 {
		return nil, nil
	}
	return &p, nil
}

// String lists the ranges, for logs.
func (p *TrustedProxies) String() string {
	if p == nil {
		return ""
	}
	s := make([]string, len(p.nets))
	for i, n := range p.nets {
		s[i] = n.String()
	}
	return strings.Join(s, ",")
}

// Trusts reports whether addr lies in a trusted range.
func (p *TrustedProxies) Trusts(addr netip.Addr) bool {
	if p == nil || !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	for _, n := range p.nets {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

func peerAddr(r *http.Request) (netip.Addr, string) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, host
	}
	return a.Unmap(), a.Unmap().String()
}

// ClientAddr is the client's IP address (without port): the TCP peer, or,
// when the peer is a trusted proxy, the rightmost X-Forwarded-For entry that
// is not itself a trusted proxy.
func (p *TrustedProxies) ClientAddr(r *http.Request) string {
	peer, peerText := peerAddr(r)
	if !p.Trusts(peer) {
		return peerText
	}
	hops := forwardedFor(r)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			// Garbage where an address should be: the last trusted hop is
			// the most we can vouch for.
			break
		}
		client = a.Unmap()
		if !p.Trusts(client) {
			break
		}
	}
	return client.String()
}

// IsHTTPS reports whether the client reached us over TLS: directly, or
// through a trusted proxy that says so in X-Forwarded-Proto.
func (p *TrustedProxies) IsHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	peer, _ := peerAddr(r)
	if !p.Trusts(peer) {
		return false
	}
	proto := r.Header.Get("X-Forwarded-Proto")
	if i := strings.LastIndexByte(proto, ','); i >= 0 {
		proto = proto[i+1:] // the nearest proxy's word counts
	}
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// forwardedFor returns every X-Forwarded-For entry, in order, across
// repeated headers. Entries may carry a port ("1.2.3.4:5678", "[::1]:80").
func forwardedFor(r *http.Request) []string {
	var out []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, e := range strings.Split(h, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if host, _, err := net.SplitHostPort(e); err == nil {
				e = host
			}
			out = append(out, strings.Trim(e, "[]"))
		}
	}
	return out
}
