package ui_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
)

// TestBrowserScanPhotoChoosesBatch: Chromium on Linux has no
// BarcodeDetector, as iPhones, WeChat and desktops lack it, so the page's
// fallback decoder (jsQR) does the work: the farmer photographs a printed
// label on the sell form and the batch it carries becomes the batch sold.
// The same page then decodes the label at sizes and angles a phone photo
// gives, and the test reports the rate.
func TestBrowserScanPhotoChoosesBatch(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx0 := context.Background()
	f := newFarm(t, a)
	user, pw, farmer := f.user, f.pw, f.actor
	lots := []string{f.apples(t, a, 400).TraceCode, f.apples(t, a, 250).TraceCode}
	label, err := a.Trace.Label(ctx0, farmer, lots[0], "png", "", 1, 480)
	if err != nil {
		t.Fatal(err)
	}
	photo := filepath.Join(t.TempDir(), "label.png")
	if err := os.WriteFile(photo, label.Body, 0o644); err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 390, 844)
	login(t, ctx, base, user, pw)
	apptest.Do(t, ctx,
		chromedp.Navigate(base+"/sell?from="+lots[1]),
		chromedp.WaitVisible(chromedp.CSS(`#sell-form`)),
	)
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#from_code`))); v != lots[1] {
		t.Fatalf("the form starts on %q, want %q", v, lots[1])
	}
	if has, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`'BarcodeDetector' in window`)); has {
		t.Log("this Chromium has BarcodeDetector: the jsQR fallback is not what decodes here")
	}
	apptest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.CSS(`#from_code ~ input.tr-scan-file`), []string{photo}))
	note := apptest.WaitText(t, ctx, `#from_code ~ .tr-scan-note`, "已识别")
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#from_code`))); v != lots[0] {
		t.Fatalf("after scanning the label of %s the form sells %q (%s)", lots[0], v, note)
	}
	apptest.Screenshot(t, ctx, "scan-photo-sell")

	// decode rate of the label image as phone photos show it: 6 sizes × 4
	// angles, light blur, in the page's own decoder
	src := "data:image/png;base64," + base64.StdEncoding.EncodeToString(label.Body)
	js := `(async () => {
	  const img = new Image(); img.src = '` + src + `'; await img.decode();
	  await new Promise((ok, fail) => { const s = document.createElement('script'); s.src = '/static/vendor/jsQR.js'; s.onload = ok; s.onerror = fail; document.head.append(s); });
	  let ok = 0, n = 0;
	  for (const px of [90, 120, 180, 260, 400, 640]) for (const deg of [0, 10, 25, 45]) {
	    const c = document.createElement('canvas'); c.width = c.height = Math.ceil(px * 1.6);
	    const g = c.getContext('2d', { willReadFrequently: true });
	    g.fillStyle = '#fff'; g.fillRect(0, 0, c.width, c.height); g.filter = 'blur(0.6px)';
	    g.translate(c.width / 2, c.height / 2); g.rotate(deg * Math.PI / 180); g.drawImage(img, -px / 2, -px / 2, px, px);
	    const d = g.getImageData(0, 0, c.width, c.height); n++;
	    const r = window.jsQR(d.data, d.width, d.height, { inversionAttempts: 'attemptBoth' });
	    if (r && r.data.includes('/q/` + lots[0] + `')) ok++;
	  }
	  return ok + '/' + n;
	})()`
	rate, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("jsQR decoded %s label images (90–640 px, 0–45°, blur 0.6 px)", rate)
	var ok, n int
	if _, err := fmt.Sscanf(rate, "%d/%d", &ok, &n); err != nil || n != 24 || ok < 20 {
		t.Errorf("jsQR decoded only %s of the label images (want at least 20 of 24)", rate)
	}
}
