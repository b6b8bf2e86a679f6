package trace_test

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// TestVerifyToken: the token is short, stable for a key, differs per code
// and per key, and only the right one verifies.
func TestVerifyToken(t *testing.T) {
	svc := func(secret string) *trace.Service {
		s := trace.NewService(nil, platform.SystemClock{}, nil, nil, nil, "https://zs.example.gov.cn/")
		s.SetVerifyKey([]byte(secret))
		return s
	}
	a, b, other := svc("secret-1"), svc("secret-1"), svc("secret-2")
	const code, code2 = "13701020000000000019", "23701020000000000014"
	tok := a.Token(code)
	if len(tok) != trace.TokenLen || strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Fatalf("token %q: want %d base32 characters", tok, trace.TokenLen)
	}
	if b.Token(code) != tok {
		t.Fatal("the same key gives another token")
	}
	if other.Token(code) == tok || a.Token(code2) == tok {
		t.Fatal("token does not depend on key and code")
	}
	for _, c := range []struct {
		code, token string
		want        bool
	}{
		{code, tok, true},
		{code, strings.ToLower(tok), true},
		{code, " " + tok + " ", true},
		{code, "", false},
		{code, tok[:trace.TokenLen-1], false},
		{code, tok + "A", false},
		{code, other.Token(code), false},
		{code2, tok, false},
		{code, strings.Repeat("A", trace.TokenLen), tok == strings.Repeat("A", trace.TokenLen)},
	} {
		if got := a.VerifyToken(c.code, c.token); got != c.want {
			t.Errorf("VerifyToken(%s, %q) = %v, want %v", c.code, c.token, got, c.want)
		}
	}
	if got, want := a.QRURL(code), "https://zs.example.gov.cn/q/"+code+"?v="+tok; got != want {
		t.Fatalf("QRURL = %q, want %q", got, want)
	}
}

// TestMissLimiter: the allowance per address and window, then a wait until
// the window ends; other addresses are not affected.
func TestMissLimiter(t *testing.T) {
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	l := trace.NewMissLimiter(3, 10*time.Minute, func() time.Time { return now })
	for i := range 3 {
		if w := l.Miss("10.0.0.1"); w != 0 {
			t.Fatalf("miss %d: wait %v within the allowance", i+1, w)
		}
	}
	now = now.Add(time.Minute)
	if w := l.Miss("10.0.0.1"); w != 9*time.Minute {
		t.Fatalf("4th miss: wait %v, want 9m", w)
	}
	if w := l.Miss("10.0.0.2"); w != 0 {
		t.Fatalf("another address waits %v", w)
	}
	now = now.Add(9 * time.Minute)
	if w := l.Miss("10.0.0.1"); w != 0 {
		t.Fatalf("after the window: wait %v", w)
	}
}

// TestPublicVerification: the label's QR (PDF and PNG) carries the token;
// with it the public JSON and page show the downstream buyers and the
// quantities, without it (a typed code, an old label, a wrong token) they
// are reduced to what a shopper needs.
func TestPublicVerification(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		origin := batch(t, w.farmC, "apple", 1000, "kg", daysAgo(2))
		sale := w.farmC.Do("POST", "/api/v1/transfers", map[string]any{"from_code": origin, "quantity": 600, "buyer_operator_code": w.coop.Code}).Expect(t, 201)
		circ := sale.Str("trace_code")
		w.coopC.Do("POST", "/api/v1/transfers/"+circ+"/confirm", map[string]any{"received_quantity": 600}).Expect(t, 200)

		tok := a.Trace.Token(origin)
		want := "http://trace.test/q/" + origin + "?v=" + tok
		pdf := w.farmC.Do("GET", "/api/v1/batches/"+origin+"/label.pdf?size=50x30", nil).Expect(t, 200)
		if got := pdfQR(t, pdf.Body); got != want {
			t.Fatalf("label PDF QR = %q, want %q", got, want)
		}
		pngR := w.farmC.Do("GET", "/api/v1/batches/"+origin+"/label.png?px=400", nil).Expect(t, 200)
		img, err := png.Decode(bytes.NewReader(pngR.Body))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := decodeQR(img); err != nil || got != want {
			t.Fatalf("label PNG QR = %q (%v), want %q", got, err, want)
		}
		if b := w.farmC.Do("GET", "/api/v1/batches/"+origin, nil).Expect(t, 200); b.Str("public_url") != want {
			t.Fatalf("batch public_url = %q, want %q", b.Str("public_url"), want)
		}

		anon := apptest.NewClient(t, w.srv)
		// full: the token from the label
		full := anon.Do("GET", "/api/v1/public/trace/"+origin+"?v="+tok, nil).Expect(t, 200)
		if full.Get("verified") != true || full.Get("batch.quantity") != float64(1000) || !strings.Contains(string(full.Body), w.coop.Name) {
			t.Fatalf("verified public trace lacks the downstream chain or quantity: %s", full.Body)
		}
		// reduced: no token, a wrong token, another code's token
		for _, q := range []string{"", "?v=AAAAAAAA", "?v=" + a.Trace.Token(circ)} {
			if q == "?v="+tok {
				continue
			}
			red := anon.Do("GET", "/api/v1/public/trace/"+origin+q, nil).Expect(t, 200)
			if red.Get("verified") != false || red.Get("batch.quantity") != nil || red.Get("batch.unit") != nil || strings.Contains(string(red.Body), w.coop.Name) {
				t.Fatalf("reduced public trace (%q) shows buyers or quantities: %s", q, red.Body)
			}
			if red.Str("operator.name") != w.farm.Name || red.Str("product.name") == "" || red.Str("batch.produced_at") != daysAgo(2) || red.Str("batch.origin_region") == "" {
				t.Fatalf("reduced public trace (%q) lacks what a shopper needs: %s", q, red.Body)
			}
		}

		// the page: full with the token, reduced with a note without it
		page := anon.Do("GET", "/q/"+origin+"?v="+tok, nil).Expect(t, 200)
		if body := string(page.Body); !strings.Contains(body, w.coop.Name) || strings.Contains(body, "扫描商品标签上的二维码") {
			t.Fatalf("verified page: buyer missing or reduced note shown:\n%s", body)
		}
		for _, lang := range []string{"zh", "en"} {
			req, _ := http.NewRequest("GET", w.srv.URL+"/q/"+origin, nil)
			req.AddCookie(&http.Cookie{Name: "lang", Value: lang})
			resp, err := w.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			resp.Body.Close()
			body := buf.String()
			note := map[string]string{"zh": "扫描商品标签上的二维码可查看完整追溯信息", "en": "Scan the QR code on the label to see the full trace"}[lang]
			if resp.StatusCode != 200 || strings.Contains(body, w.coop.Name) || !strings.Contains(body, note) || !strings.Contains(body, w.farm.Name) {
				t.Fatalf("reduced page (%s): status %d, buyer shown or note/producer missing:\n%s", lang, resp.StatusCode, body)
			}
		}
	})
}

// TestPublicMissLimit: lookups of well-formed codes that do not exist are
// 404 up to the allowance, then 429 with Retry-After (page and API share
// it); lookups of codes that exist still answer 200.
func TestPublicMissLimit(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		w := newWorld(t, a)
		lot := batch(t, w.farmC, "apple", 10, "kg", daysAgo(1))
		anon := apptest.NewClient(t, w.srv)
		missing := func(i int) string {
			body := fmt.Sprintf("1370686%012d", 900000000000+i)
			c, err := codes.Mod1110(body)
			if err != nil {
				t.Fatal(err)
			}
			return body + string(c)
		}
		for i := range trace.MissAllowance {
			path := "/api/v1/public/trace/" + missing(i)
			if i%2 == 1 {
				path = "/q/" + missing(i)
			}
			anon.Do("GET", path, nil).Expect(t, 404)
			if i == 3 {
				anon.Do("GET", "/q/"+lot, nil).Expect(t, 200)
			}
		}
		for _, path := range []string{"/api/v1/public/trace/" + missing(100), "/q/" + missing(101)} {
			r := anon.Do("GET", path, nil).Expect(t, 429)
			if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
				t.Fatalf("%s: 429 without Retry-After", path)
			}
		}
		// hits keep the general public limit; a typo is still a 400
		anon.Do("GET", "/q/"+lot, nil).Expect(t, 200)
		anon.Do("GET", "/api/v1/public/trace/"+lot+"?v="+a.Trace.Token(lot), nil).Expect(t, 200)
		anon.Do("GET", "/api/v1/public/trace/"+wrongCheckDigit(lot), nil).Expect(t, 400)
	})
}
