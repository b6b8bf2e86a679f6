package httpx

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestParseTrustedProxies(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0", "1.2.3.4/abc"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) accepted", bad)
		}
	}
	p, err := ParseTrustedProxies(" 10.0.0.0/8, 192.168.1.10 ,::1,")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "10.0.0.0/8,192.168.1.10/32,::1/128" {
		t.Errorf("String() = %q", got)
	}
	if p, _ := ParseTrustedProxies(" , "); p != nil {
		t.Errorf("empty list gave %v", p)
	}
}

func TestClientAddr(t *testing.T) {
	lb, _ := ParseTrustedProxies("10.0.0.0/8,::1")
	cases := []struct {
		name    string
		proxies *TrustedProxies
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies: peer, header ignored", nil, "203.0.113.7:5000", []string{"1.1.1.1"}, "203.0.113.7"},
		{"untrusted peer: header ignored", lb, "203.0.113.7:5000", []string{"1.1.1.1"}, "203.0.113.7"},
		{"trusted peer, one hop", lb, "10.0.0.2:443", []string{"198.51.100.9"}, "198.51.100.9"},
		{"client cannot choose its address", lb, "10.0.0.2:443", []string{"1.2.3.4, 198.51.100.9"}, "198.51.100.9"},
		{"chain of trusted proxies", lb, "10.0.0.2:443", []string{"198.51.100.9, 10.1.1.1, 10.2.2.2"}, "198.51.100.9"},
		{"repeated headers in order", lb, "10.0.0.2:443", []string{"6.6.6.6, 198.51.100.9", "10.9.9.9"}, "198.51.100.9"},
		{"entries with ports", lb, "10.0.0.2:443", []string{"198.51.100.9:1234"}, "198.51.100.9"},
		{"IPv6 client", lb, "[::1]:443", []string{"[2001:db8::1]:80"}, "2001:db8::1"},
		{"all trusted: the leftmost", lb, "10.0.0.2:443", []string{"10.3.3.3, 10.4.4.4"}, "10.3.3.3"},
		{"garbage stops the walk", lb, "10.0.0.2:443", []string{"1.2.3.4, not-an-ip, 10.4.4.4"}, "10.4.4.4"},
		{"no header: the proxy itself", lb, "10.0.0.2:443", nil, "10.0.0.2"},
		{"IPv4-mapped peer", lb, "[::ffff:10.0.0.2]:443", []string{"198.51.100.9"}, "198.51.100.9"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, h := range c.xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := c.proxies.ClientAddr(r); got != c.want {
			t.Errorf("%s: ClientAddr = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestIsHTTPS(t *testing.T) {
	lb, _ := ParseTrustedProxies("10.0.0.0/8")
	cases := []struct {
		name    string
		proxies *TrustedProxies
		peer    string
		proto   string
		tls     bool
		want    bool
	}{
		{"direct TLS", nil, "203.0.113.7:1", "", true, true},
		{"header from untrusted peer ignored", lb, "203.0.113.7:1", "https", false, false},
		{"header without proxies ignored", nil, "10.0.0.2:1", "https", false, false},
		{"trusted proxy says https", lb, "10.0.0.2:1", "https", false, true},
		{"trusted proxy says http", lb, "10.0.0.2:1", "http", false, false},
		{"nearest proxy's word counts", lb, "10.0.0.2:1", "https, http", false, false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := c.proxies.IsHTTPS(r); got != c.want {
			t.Errorf("%s: IsHTTPS = %v, want %v", c.name, got, c.want)
		}
	}
}
