package ui_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/supervision"
)

// TestBrowserInspectionByQR: on a phone (390 px), a county inspector opens
// a farm by its e-ID QR URL (/o/{code}), starts an inspection, submits it
// without the rectification deadline (told so next to the field, what was
// typed kept), then records it with a photo and a scanned batch; the
// inspection page shows the verified SM2 signature, the batch and the
// photo, and the farm's page lists the inspection and its credit record.
func TestBrowserInspectionByQR(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	f := newFarm(t, a)
	b := f.apples(t, a, 300)
	const pw = "inspector-pass-2026"
	if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: "qixia-inspector", Password: pw, Name: "栖霞巡查员",
		Role: "inspector", RegionCode: "370686"}); err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(t.TempDir(), "orchard.jpg")
	if err := os.WriteFile(photo, browserJPEG(t), 0o600); err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	login(t, ctx, base, "qixia-inspector", pw)
	apptest.Do(t, ctx,
		chromedp.Navigate(base+"/o/"+f.op.Code),
		chromedp.WaitVisible(chromedp.CSS(`#inspect-link`)),
		chromedp.Click(chromedp.CSS(`#inspect-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#inspect-form`)),
		chromedp.Click(chromedp.CSS(`#item-records input[value=ok]`)),
		chromedp.Click(chromedp.CSS(`#item-inputs input[value=fail]`)),
		chromedp.SendKeys(chromedp.CSS(`#item-inputs input[name="note.inputs"]`), "农药库房未上锁"),
		chromedp.Click(chromedp.CSS(`input[name=result][value=rectify]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=notes]`), "基地巡查，库房管理待改进"),
		chromedp.Click(chromedp.CSS(`#inspect-submit`)),
	)
	msg := apptest.WaitText(t, ctx, `#inspect-form .ferr`, "整改期限")
	apptest.Screenshot(t, ctx, "inspection-form-refused")
	if !strings.Contains(msg, "工作日") {
		t.Fatalf("the refusal next to the deadline: %q", msg)
	}
	note, err1 := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name="note.inputs"]`)))
	notes, err2 := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`textarea[name=notes]`)))
	if err1 != nil || err2 != nil || note != "农药库房未上锁" || notes != "基地巡查，库房管理待改进" {
		t.Fatalf("what was typed is lost: %q %q", note, notes)
	}
	apptest.Do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#rectify_days`), "5"),
		chromedp.SendKeys(chromedp.CSS(`input[name=batch_code]`), b.TraceCode),
		chromedp.SetUploadFiles(chromedp.CSS(`#photos`), []string{photo}),
		chromedp.Click(chromedp.CSS(`#inspect-submit`)),
	)
	apptest.WaitText(t, ctx, "p.flash", "检查记录已提交")
	if got := apptest.Text(t, ctx, "#signature-badge"); !strings.Contains(got, "SM2 签名有效") {
		t.Fatalf("signature badge: %q", got)
	}
	if got := apptest.Text(t, ctx, "#inspection-batches"); !strings.Contains(got, b.TraceCode[:4]) {
		t.Fatalf("batches: %q", got)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`new Promise(ok => { const i = document.querySelector('#inspection-photos img');
		if (i.complete && i.naturalWidth) { ok(i.naturalWidth); } else { i.onload = () => ok(i.naturalWidth); i.onerror = () => ok(-1); } })`,
		chromedp.EvalAwaitPromise))
	if err != nil || width != 64 {
		t.Fatalf("the photo does not load back (width %d)", width)
	}
	apptest.Screenshot(t, ctx, "inspection-phone")
	apptest.Do(t, ctx, chromedp.Navigate(base+"/o/"+f.op.Code), chromedp.WaitVisible(chromedp.CSS(`#operator-inspections`)))
	if got := apptest.Text(t, ctx, "#operator-inspections"); !strings.Contains(got, "责令整改") {
		t.Fatalf("the farm's page does not list the inspection: %q", got)
	}
	if got := apptest.Text(t, ctx, "#credit-level"); !strings.Contains(got, "整改中") {
		t.Fatalf("credit level on the farm's page: %q", got)
	}
	list, err := a.Supervision.Inspections(context.Background(), auth.System(), supervision.InspectionFilter{})
	if err != nil || len(list) != 1 || list[0].RectifyDays != 5 || list[0].Result != "rectify" {
		t.Fatalf("stored: %v %+v", err, list)
	}
}

func browserJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := 0; x < 64; x++ {
		for y := 0; y < 48; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), 160, uint8(y * 5), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
