package operator_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// applicant returns a registration body for an enterprise in region.
func applicant(n int, region, name string) map[string]any {
	return map[string]any{
		"username": fmt.Sprintf("applicant%d", n),
		"password": "applicant-pass-1",
		"phone":    "13912345678",
		"operator": map[string]any{
			"name":          name,
			"kind":          "enterprise",
			"category":      "producer",
			"credit_code":   operator.SampleUSCC("91", region[:6], 4242+n),
			"id_number":     operator.SampleResidentID("370686", "19750312", n),
			"legal_rep":     "王建国",
			"contact_name":  "李娜",
			"phone":         "13912345678",
			"region_code":   region,
			"address":       "山东省烟台市栖霞市庄园街道 1 号",
			"location":      map[string]any{"lat": 37.3, "lng": 120.8},
			"products":      []string{"苹果", "苹果汁"},
			"annual_output": 1200.5, "annual_output_unit": "吨",
			"leading_enterprise": "provincial",
			"certifications":     []map[string]any{{"kind": "green", "number": "LB-18-2301", "valid_until": "2027-12-31"}},
		},
	}
}

func newReviewer(t *testing.T, a *app.App, username, region string) {
	t.Helper()
	if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: username, Password: "reviewer-pass-1", Role: "reviewer", RegionCode: region}); err != nil {
		t.Fatal(err)
	}
}

func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

// TestRegistrationToApproval is the end-to-end flow through the API:
// register → upload → submit → reviewer approves → code valid by its check
// digit → /o/{code} shows the operator and no personal data.
func TestRegistrationToApproval(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)
		body := applicant(1, "370686", "栖霞红富士果业有限公司")
		reg := anon.Do("POST", "/api/v1/operators", body).Expect(t, 201)
		if reg.Str("operator.status") != "draft" || reg.Str("token") == "" {
			t.Fatalf("register: %s", reg.Body)
		}
		idNumber := body["operator"].(map[string]any)["id_number"].(string)
		if strings.Contains(string(reg.Body), idNumber) || strings.Contains(string(reg.Body), "13912345678") {
			t.Fatalf("registration answer leaks personal numbers: %s", reg.Body)
		}
		if got := reg.Str("operator.id_number_masked"); got != idNumber[:4]+"**********"+idNumber[14:] {
			t.Fatalf("masked id %q", got)
		}
		id := reg.Str("operator.id")
		op := &apptest.Client{T: t, Base: srv.URL, HTTP: srv.Client(), Token: reg.Str("token")}

		// the operator's main account can log in from registration on
		apptest.NewClient(t, srv).Login("applicant1", "applicant-pass-1")

		// submitting without any document is refused
		r := op.Do("POST", "/api/v1/operators/"+id+"/submit", nil).Expect(t, 422)
		if r.Str("errors.0.field") != "documents" {
			t.Fatalf("submit without documents: %s", r.Body)
		}

		doc := op.Upload("/api/v1/operators/"+id+"/documents", "licence.png", apptest.TinyPNG, map[string]string{"kind": "licence"}).Expect(t, 201)
		sum := doc.Str("sha256")
		if doc.Str("content_type") != "image/png" || doc.Str("size") != fmt.Sprint(len(apptest.TinyPNG)) || len(sum) != 64 {
			t.Fatalf("document: %s", doc.Body)
		}
		stored, err := os.ReadFile(filepath.Join(a.Config.DataDir, "documents", sum[:2], sum))
		if err != nil || !bytes.Equal(stored, apptest.TinyPNG) {
			t.Fatalf("document not stored content-addressed: %v", err)
		}

		sub := op.Do("POST", "/api/v1/operators/"+id+"/submit", nil).Expect(t, 200)
		today, _ := time.Parse(time.DateOnly, platform.Today(time.Now()))
		due, _, err := a.Calendar.AddWorkdays(context.Background(), today, 5)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Str("status") != "pending" || sub.Str("review_due") != due.Format(time.DateOnly) {
			t.Fatalf("submit: %s (want review_due %s)", sub.Body, due.Format(time.DateOnly))
		}
		op.Do("POST", "/api/v1/operators/"+id+"/submit", nil).Expect(t, 409)
		op.Do("PATCH", "/api/v1/operators/"+id, map[string]any{"name": "改名"}).Expect(t, 409)

		newReviewer(t, a, "rev-qixia", "370686")
		newReviewer(t, a, "rev-rongcheng", "371082")
		rev := apptest.NewClient(t, srv).Login("rev-qixia", "reviewer-pass-1")
		other := apptest.NewClient(t, srv).Login("rev-rongcheng", "reviewer-pass-1")

		q := rev.Do("GET", "/api/v1/reviews", nil).Expect(t, 200)
		if q.Str("items.0.operator_id") != id || q.Str("items.0.name") != "栖霞红富士果业有限公司" || q.Str("items.0.overdue") != "false" ||
			q.Str("items.0.review_due") != due.Format(time.DateOnly) || q.Str("items.0.submitted_at") == "" {
			t.Fatalf("queue: %s", q.Body)
		}
		if n := len(other.Do("GET", "/api/v1/reviews", nil).Expect(t, 200).Get("items").([]any)); n != 0 {
			t.Fatalf("other county sees %d items", n)
		}

		// documents: the operator and the county reviewer, nobody else
		docPath := "/api/v1/documents/" + doc.Str("id")
		if got := rev.Do("GET", docPath, nil).Expect(t, 200); !bytes.Equal(got.Body, apptest.TinyPNG) || got.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("reviewer document: %q", got.Header.Get("Content-Type"))
		}
		op.Do("GET", docPath, nil).Expect(t, 200)
		other.Do("GET", docPath, nil).Expect(t, 404)
		anon.Do("GET", docPath, nil).Expect(t, 401)

		// reviewer outside the jurisdiction: 404, and nothing happens
		other.Do("POST", "/api/v1/operators/"+id+"/approve", nil).Expect(t, 404)
		other.Do("POST", "/api/v1/operators/"+id+"/reject", map[string]string{"reason": "x"}).Expect(t, 404)
		// the operator cannot approve itself
		op.Do("POST", "/api/v1/operators/"+id+"/approve", nil).Expect(t, 403)

		ap := rev.Do("POST", "/api/v1/operators/"+id+"/approve", nil).Expect(t, 200)
		code := ap.Str("operator_code")
		if ap.Str("status") != "approved" {
			t.Fatalf("approve: %s", ap.Body)
		}
		oc, err := codes.ParseOperatorCode(code)
		if err != nil {
			t.Fatalf("issued code %q invalid: %v", code, err)
		}
		if oc.County != "370686" || oc.Category != codes.Producer || oc.Serial < 1 {
			t.Fatalf("code parts %+v", oc)
		}
		r = rev.Do("POST", "/api/v1/operators/"+id+"/approve", nil).Expect(t, 409)
		if r.Str("operator_code") != code {
			t.Fatalf("second approval: %s", r.Body)
		}

		// the decision is kept and signed with the platform's SM2 key
		ds := op.Do("GET", "/api/v1/operators/"+id+"/decisions", nil).Expect(t, 200)
		if ds.Str("items.0.kind") != "submit" || ds.Str("items.1.kind") != "approve" || ds.Str("items.1.actor_name") != "rev-qixia" {
			t.Fatalf("decisions: %s", ds.Body)
		}
		list, err := a.Operators.Decisions(context.Background(), &auth.Actor{Role: auth.RoleAdmin, Region: "000000"}, mustInt(id))
		if err != nil || !a.Operators.VerifyDecision(list[1]) || !strings.Contains(list[1].Payload, code) {
			t.Fatalf("approval signature does not verify: %v %+v", err, list)
		}

		// public views: name, no personal data
		pub := anon.Do("GET", "/api/v1/public/operators/"+code, nil).Expect(t, 200)
		if pub.Str("name") != "栖霞红富士果业有限公司" || pub.Str("status") != "approved" || !strings.Contains(pub.Str("region_name"), "栖霞") {
			t.Fatalf("public: %s", pub.Body)
		}
		for _, secret := range []string{idNumber, "13912345678", "id_number", "phone", "王建国", "李娜"} {
			if strings.Contains(string(pub.Body), secret) {
				t.Fatalf("public answer contains %q: %s", secret, pub.Body)
			}
		}
		bad := code[:17] + fmt.Sprint((int(code[17]-'0')+1)%10)
		r = anon.Do("GET", "/api/v1/public/operators/"+bad, nil).Expect(t, 422)
		if r.Str("errors.0.field") != "operator_code" || r.Str("errors.0.code") != "check_digit" || r.Str("errors.0.message_zh") == "" {
			t.Fatalf("bad check digit: %s", r.Body)
		}
		html := anon.Do("GET", "/o/"+code, nil).Expect(t, 200)
		page := string(html.Body)
		for _, want := range []string{"栖霞红富士果业有限公司", codes.FormatGrouped(code)} {
			if !strings.Contains(page, want) {
				t.Fatalf("/o/ page lacks %q", want)
			}
		}
		for _, secret := range []string{idNumber, idNumber[:4] + "**", "13912345678", "139****5678", "王建国", "李娜", "庄园街道"} {
			if strings.Contains(page, secret) {
				t.Fatalf("/o/ page shows personal data %q", secret)
			}
		}
		// an official with jurisdiction who scans the code gets the operator's page with the review actions
		official := string(rev.Do("GET", "/o/"+code, nil).Expect(t, 200).Body)
		if !strings.Contains(official, "审核记录") || !strings.Contains(official, idNumber[:4]+"**********") || !strings.Contains(official, `action="/operators/`+id+`/status"`) {
			t.Fatal("official scanning /o/ does not get the operator page with its actions")
		}
		// an official elsewhere gets the public page
		if other := string(other.Do("GET", "/o/"+code, nil).Expect(t, 200).Body); strings.Contains(other, "审核记录") || !strings.Contains(other, "栖霞红富士果业有限公司") {
			t.Fatal("official outside the jurisdiction should see the public page")
		}
		inv := anon.Do("GET", "/o/"+bad, nil).Expect(t, 422)
		if !strings.Contains(string(inv.Body), "校验位") {
			t.Fatalf("invalid code page: %s", inv.Body)
		}

		// QR code: PNG decodes to the public URL
		png := op.Do("GET", "/api/v1/operators/"+id+"/qr.png", nil).Expect(t, 200)
		img, _, err := image.Decode(bytes.NewReader(png.Body))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := decodeQR(t, img), a.Config.PublicURL+"/o/"+code; got != want {
			t.Fatalf("QR = %q, want %q", got, want)
		}
		svg := op.Do("GET", "/api/v1/operators/"+id+"/qr.svg", nil).Expect(t, 200)
		if !strings.Contains(string(svg.Body), "<svg") {
			t.Fatal("qr.svg is not SVG")
		}
		other.Do("GET", "/api/v1/operators/"+id+"/qr.png", nil).Expect(t, 404)
	})
}

func mustInt(s string) int64 {
	var n int64
	fmt.Sscan(s, &n)
	return n
}

// TestECardDecodes rasterises the e-ID card PDF and decodes its QR code with
// an independent decoder (gozxing) back to the /o/{code} URL.
func TestECardDecodes(t *testing.T) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm (poppler-utils) not installed")
	}
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		o, user, pw := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "荣成海之宝大菱鲆养殖有限公司", Kind: "enterprise", Category: "producer", RegionCode: "371082"})
		srv := apptest.Server(t, a)
		c := apptest.NewClient(t, srv).Login(user, pw)
		pdf := c.Do("GET", fmt.Sprintf("/api/v1/operators/%d/ecard.pdf", o.ID), nil).Expect(t, 200)
		if !bytes.HasPrefix(pdf.Body, []byte("%PDF-")) {
			t.Fatalf("not a PDF: %q", pdf.Body[:min(20, len(pdf.Body))])
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "card.pdf"), pdf.Body, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdftoppm", "-r", "150", "-png", filepath.Join(dir, "card.pdf"), filepath.Join(dir, "card")).CombinedOutput()
		if err != nil {
			t.Fatalf("pdftoppm: %v %s", err, out)
		}
		matches, _ := filepath.Glob(filepath.Join(dir, "card*.png"))
		if len(matches) != 1 {
			t.Fatalf("pages: %v", matches)
		}
		f, err := os.Open(matches[0])
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, _, err := image.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := decodeQR(t, img), "http://trace.test/o/"+o.Code; got != want {
			t.Fatalf("card QR = %q, want %q", got, want)
		}
	})
}
