package ui_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/monitoring"
	"agtrace/internal/trace"
)

type scanResp struct {
	status        int
	body          string
	etag, cache   string
	wire, encoded int
}

// scan fetches a public page as a phone does (gzip), optionally conditional.
func scan(t *testing.T, base, path, ifNoneMatch, lang string) scanResp {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	if lang != "" {
		req.AddCookie(&http.Cookie{Name: "lang", Value: lang})
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	body := raw
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(zr)
	}
	return scanResp{resp.StatusCode, string(body), resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"), len(raw), len(body)}
}

// TestScanPage: the public page is one small compressed document with no
// script, answers If-None-Match with 304, counts views, and is right at
// once after the writes that change it — a sale, a correction, a hold —
// although answers are cached between writes.
func TestScanPage(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		srv := apptest.Server(t, a)
		f := newFarm(t, a)
		lot := f.apples(t, a, 100)
		path := "/q/" + lot.TraceCode + "?v=" + a.Trace.Token(lot.TraceCode)

		first := scan(t, srv.URL, path, "", "")
		if first.status != 200 || first.etag == "" || !strings.Contains(first.cache, "max-age=10") || !strings.Contains(first.cache, "stale-while-revalidate") {
			t.Fatalf("first view: %d etag %q cache %q", first.status, first.etag, first.cache)
		}
		if strings.Contains(first.body, "<script") || strings.Contains(first.body, `rel="stylesheet"`) || !strings.Contains(first.body, "苹果") ||
			!strings.Contains(first.body, "100 千克") || !strings.Contains(first.body, "12316") || !strings.Contains(first.body, `id="ledger"`) {
			t.Fatalf("page content:\n%s", first.body)
		}
		if first.wire > 15*1024 {
			t.Errorf("the page is %d bytes on the wire (%d uncompressed); want < 15 KB", first.wire, first.encoded)
		}
		t.Logf("scan page: %d bytes gzipped, %d uncompressed", first.wire, first.encoded)
		if r := scan(t, srv.URL, path, first.etag, ""); r.status != http.StatusNotModified || r.body != "" {
			t.Fatalf("conditional view: %d", r.status)
		}
		if r := scan(t, srv.URL, path, first.etag, "en"); r.status != 200 || !strings.Contains(r.body, "Apple") && !strings.Contains(r.body, "Batch quantity") {
			t.Fatalf("English view with the Chinese ETag: %d\n%s", r.status, r.body)
		}
		if err := a.Trace.FlushScans(ctx); err != nil {
			t.Fatal(err)
		}
		// the count is exact in the JSON answer; the HTML page shows it as of
		// its rendering (kept up to PublicMaxAge seconds while nothing changes)
		if r := scan(t, srv.URL, "/api/v1/public/trace/"+lot.TraceCode, "", ""); !strings.Contains(r.body, `"scans":{"count":3,"first_at":"`) {
			t.Fatalf("three views before this one are not counted:\n%s", r.body)
		}
		// the JSON answer carries its facts' ETag too, and answers 304
		j := scan(t, srv.URL, "/api/v1/public/trace/"+lot.TraceCode, "", "")
		if j.etag == "" || !strings.Contains(j.cache, "max-age=10") {
			t.Fatalf("JSON answer: etag %q cache %q", j.etag, j.cache)
		}
		if r := scan(t, srv.URL, "/api/v1/public/trace/"+lot.TraceCode, j.etag, ""); r.status != http.StatusNotModified {
			t.Fatalf("conditional JSON answer: %d", r.status)
		}
		// the viewer may share a province (the form keeps the label's token); nothing else is kept
		if !strings.Contains(first.body, `id="share"`) || !strings.Contains(first.body, `name="v" value="`+a.Trace.Token(lot.TraceCode)+`"`) ||
			!strings.Contains(first.body, `<option value="370000">山东省</option>`) {
			t.Fatalf("the page lacks the share form:\n%s", first.body)
		}
		if r := scan(t, srv.URL, path+"&r=370000", "", ""); r.status != 200 || !strings.Contains(r.body, `id="shared"`) || strings.Contains(r.body, `id="share"`) {
			t.Fatalf("after sharing: %d\n%s", r.status, r.body)
		}
		if err := a.Trace.FlushScans(ctx); err != nil {
			t.Fatal(err)
		}
		var shared int
		if err := a.DB.QueryRow(ctx, `SELECT CAST(COALESCE(SUM(count), 0) AS INTEGER) FROM trace_scans WHERE code = $1 AND region = '370000'`, lot.TraceCode).Scan(&shared); err != nil || shared != 1 {
			t.Fatalf("shared views stored: %d (%v)", shared, err)
		}

		// a correction: the next view shows it (and a new ETag)
		if _, err := a.Trace.Correct(ctx, f.actor, lot.TraceCode, trace.CorrectionInput{Reason: "复称", Quantity: 96}); err != nil {
			t.Fatal(err)
		}
		corrected := scan(t, srv.URL, path, first.etag, "")
		if corrected.status != 200 || !strings.Contains(corrected.body, "96 千克") || corrected.etag == first.etag {
			t.Fatalf("after a correction: %d %q\n%s", corrected.status, corrected.etag, corrected.body)
		}
		// a sale, once the buyer confirms: the chain shows the buyer
		buyer, buyerUser, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "烟台鲜果批发商行", Kind: "enterprise", Category: "trader", RegionCode: "370686"})
		sold, err := a.Trace.Sell(ctx, f.actor, trace.SaleInput{FromCode: lot.TraceCode, Quantity: 40, BuyerOperatorCode: buyer.Code})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Trace.Confirm(ctx, actorFor(t, a, buyerUser), sold.TraceCode, trace.ConfirmInput{ReceivedQuantity: 40}); err != nil {
			t.Fatal(err)
		}
		if r := scan(t, srv.URL, path, "", ""); !strings.Contains(r.body, "烟台鲜果批发商行") {
			t.Fatalf("after a sale the chain lacks the buyer:\n%s", r.body)
		}
		// a hold: a failed sample puts the banner on the page at once
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "qx-scan-tester", Password: "scan-tester-2026", Name: "栖霞检测员", Role: "tester", RegionCode: "370686"}); err != nil {
			t.Fatal(err)
		}
		tester := actorFor(t, a, "qx-scan-tester")
		v := 5.0
		if _, err := a.Monitoring.RecordSample(ctx, tester, monitoring.SampleInput{OperatorCode: f.op.Code, BatchCode: lot.TraceCode, SampleNo: "QX-SCAN-1",
			SampledAt: time.Now().Format(time.DateOnly), Kind: monitoring.KindLab,
			Items: []monitoring.SampleItemInput{{Substance: "chlorpyrifos", Value: &v, Unit: "mg/kg"}}}); err != nil {
			t.Fatal(err)
		}
		held := scan(t, srv.URL, path, "", "")
		if !strings.Contains(held.body, `id="hold"`) || !strings.Contains(held.body, "请勿购买或食用") || !strings.Contains(held.body, "QX-SCAN-1") && !strings.Contains(held.body, "不合格") {
			t.Fatalf("a held batch without the banner:\n%s", held.body)
		}

		// any alias a label carries reaches the same batch: a GS1 element string, scheme:value
		if _, err := a.Trace.AddAlias(ctx, f.actor, lot.TraceCode, "gs1", "06901234567892/QX-LOT-7"); err != nil {
			t.Fatal(err)
		}
		for _, alias := range []string{"(01)06901234567892(10)QX-LOT-7", "gs1:06901234567892/QX-LOT-7"} {
			if r := scan(t, srv.URL, "/q/"+url.PathEscape(alias), "", ""); r.status != 200 || !strings.Contains(r.body, "苹果") {
				t.Fatalf("alias %s: %d", alias, r.status)
			}
			if r := scan(t, srv.URL, "/api/v1/public/trace/"+url.PathEscape(alias), "", ""); r.status != 200 || !strings.Contains(r.body, `"code":"`+lot.TraceCode+`"`) {
				t.Fatalf("alias %s (JSON): %d %s", alias, r.status, r.body)
			}
		}
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if resp, err := noRedirect.Get(srv.URL + "/q?code=" + url.QueryEscape("(01)06901234567892(10)QX-LOT-7")); err != nil || resp.StatusCode != http.StatusSeeOther ||
			resp.Header.Get("Location") != "/q/"+lot.TraceCode {
			t.Fatalf("search by alias: %v %+v", err, resp)
		}
		for _, unknown := range []string{"(01)06901234567892(10)NOPE", "156000000000001"} { // an unknown lot, an unknown ear tag
			if r := scan(t, srv.URL, "/q/"+url.PathEscape(unknown), "", ""); r.status != 404 || !strings.Contains(r.body, `id="counterfeit"`) {
				t.Fatalf("unknown alias %s: %d", unknown, r.status)
			}
		}

		// bad codes: a typo before any lookup, a well-formed unknown code
		for _, bad := range []string{strings.Repeat("9", 1000), "1370686abc", "1%27%20OR%201%3D1", "%E8%8B%B9%E6%9E%9C", "12"} {
			if r := scan(t, srv.URL, "/q/"+bad, "", ""); r.status != 400 || !strings.Contains(r.body, "追溯码无效") {
				t.Fatalf("code %.30q: %d", bad, r.status)
			}
		}
		if r := scan(t, srv.URL, "/api/v1/public/trace/1370686abc", "", ""); r.status != 400 || !strings.Contains(r.body, `"type":"urn:agtrace:problem:invalid-code"`) {
			t.Fatalf("the JSON answer to a malformed code: %d %s", r.status, r.body)
		}
		if r := scan(t, srv.URL, "/q/"+strings.Repeat("9", 5000), "", ""); r.status != 422 { // any path over 2,000 characters (httpx.StrictText)
			t.Fatalf("a 5000-character path: %d", r.status)
		}
		if r := scan(t, srv.URL, "/q/13706869999999999990", "", ""); r.status != 400 && r.status != 404 {
			t.Fatalf("unknown code: %d", r.status)
		}
	})
}
