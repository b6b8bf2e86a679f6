package trace_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
)

const marketPW = "market-pass-2026"

// world is a small pilot setup: a farm and a cooperative in 栖霞 (370686),
// a trader in 荣成 (371082), a market clerk in 栖霞 and a supervisor.
type world struct {
	a                     *app.App
	srv                   *httptest.Server
	farm, coop, far       operator.Operator
	farmC, coopC, farC    *apptest.Client
	market, supervisor    *apptest.Client
	farRegionSupervisor   *apptest.Client
	farmUser, coopUser    string
	farmActor, coopActor  *auth.Actor
	marketActor, supActor *auth.Actor
}

func newWorld(t *testing.T, a *app.App) *world {
	t.Helper()
	w := &world{a: a, srv: apptest.Server(t, a)}
	var fu, fp, cu, cp, ru, rp string
	w.farm, fu, fp = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", Category: "producer", RegionCode: "370686"})
	w.coop, cu, cp = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "烟台鲜果商贸有限公司", Kind: "enterprise", Category: "trader", RegionCode: "370686"})
	w.far, ru, rp = apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "荣成海鲜贸易有限公司", Kind: "enterprise", Category: "trader", RegionCode: "371082"})
	anon := apptest.NewClient(t, w.srv)
	w.farmC, w.coopC, w.farC = anon.Login(fu, fp), anon.Login(cu, cp), anon.Login(ru, rp)
	w.farmUser, w.coopUser = fu, cu
	ctx := context.Background()
	mk := func(username string, role auth.Role, region string) (*apptest.Client, *auth.Actor) {
		u, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: username, Password: marketPW, Name: username, Role: string(role), RegionCode: region})
		if err != nil {
			t.Fatal(err)
		}
		return anon.Login(username, marketPW), apptest.ActorOf(u)
	}
	w.market, w.marketActor = mk("qixia-market", auth.RoleMarket, "370686")
	w.supervisor, w.supActor = mk("qixia-supervisor", auth.RoleSupervisor, "370686")
	w.farRegionSupervisor, _ = mk("rongcheng-supervisor", auth.RoleSupervisor, "371082")
	w.farmActor = actorOf(t, a, fu)
	w.coopActor = actorOf(t, a, cu)
	return w
}

func actorOf(t *testing.T, a *app.App, username string) *auth.Actor {
	t.Helper()
	u, err := a.Auth.GetUserByName(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return apptest.ActorOf(u)
}

// batch records a batch through the API and returns its code.
func batch(t *testing.T, c *apptest.Client, product string, qty float64, unit, date string) string {
	t.Helper()
	body := map[string]any{"product_code": product, "quantity": qty, "unit": unit, "produced_at": date, "origin": "试验基地"}
	r := c.Do("POST", "/api/v1/batches", body).Expect(t, 201)
	code := r.Str("trace_code")
	if len(code) != 20 || code[0] != '1' {
		t.Fatalf("batch code %q", code)
	}
	return code
}

func stock(t *testing.T, c *apptest.Client, code string) float64 {
	t.Helper()
	r := c.Do("GET", "/api/v1/batches/"+code, nil).Expect(t, 200)
	f, ok := r.Get("stock").(float64)
	if !ok {
		t.Fatalf("stock of %s: %s", code, r.Body)
	}
	return f
}

// count returns the number of rows of a table (to prove nothing was written).
func count(t *testing.T, a *app.App, table string) int {
	t.Helper()
	var n int
	if err := a.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var writeTables = []string{"trace_codes", "stock_moves", "trace_edges", "transfers", "transformations", "batch_inputs", "trace_aliases", "certificates", "batch_corrections"}

func counts(t *testing.T, a *app.App) map[string]int {
	m := map[string]int{}
	for _, tb := range writeTables {
		m[tb] = count(t, a, tb)
	}
	return m
}

// rasterise renders the first page of a PDF with pdftoppm at dpi.
func rasterise(t *testing.T, doc []byte, dpi int) image.Image {
	t.Helper()
	bin, err := exec.LookPath("pdftoppm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftoppm not found: install poppler-utils")
		}
		t.Skip("pdftoppm not found: apt-get install poppler-utils")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-r", fmt.Sprint(dpi), "-f", "1", "-l", "1", "-png", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("pdftoppm produced no page")
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// qrDPIs are the resolutions a printed document's QR code is read at, in
// turn: a label printer's 300 dpi first. gozxing's detector estimates the
// symbol's size from its finder patterns, and on a full page it now and then
// misjudges it ("NotFoundException: dimension = 31" at 150 dpi, "dimension =
// 23" once at 300 dpi, both seen in CI) though the code is sound and reads at
// another resolution; a phone's camera sees the printed symbol far larger.
// The test still fails when no resolution reads, and the text read must
// still equal the expected URL exactly.
var qrDPIs = []int{300, 400, 200}

// pdfQR reads the QR code on the first page of a PDF.
func pdfQR(t *testing.T, doc []byte) string {
	t.Helper()
	var errs []string
	for _, dpi := range qrDPIs {
		text, err := decodeQR(rasterise(t, doc, dpi))
		if err == nil {
			if len(errs) > 0 {
				t.Logf("QR read at %d dpi after: %s", dpi, strings.Join(errs, "; "))
			}
			return text
		}
		errs = append(errs, fmt.Sprintf("%d dpi: %v", dpi, err))
	}
	t.Fatalf("decode QR: %s", strings.Join(errs, "; "))
	return ""
}

// decodeQR reads the QR code in img with gozxing (an independent decoder).
func decodeQR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}
