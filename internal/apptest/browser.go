package apptest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"agtrace/internal/app"
)

// chromiumPath finds Debian's Chromium (CI installs it; elsewhere the test skips).
func chromiumPath() string {
	if p := os.Getenv("AGTRACE_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	return ""
}

// Browser starts a headless Chromium for one test and returns its chromedp
// context (already sized to width×height). Without Chromium the test is
// skipped outside CI and fails in CI (CI=true), where it must be installed.
func Browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium not found in CI: .ci/run must install Debian's chromium package")
		}
		t.Skip("browser test skipped: install Chromium (apt-get install chromium) to run it")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	// the timeout bounds the whole browser's life (chromedp ties the browser to the first Run's context)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// LiveServer serves a on a real loopback port (Chromium needs a real
// socket) and returns its base URL. The app's PublicURL stays as configured.
func LiveServer(t testing.TB, a *app.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Serve(ctx, ln); err != nil {
			t.Logf("live server: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return "http://" + ln.Addr().String()
}

// Screenshot saves a full-page PNG when AGTRACE_SCREENSHOTS names a folder
// (for people reviewing the pages; tests never compare pixels).
func Screenshot(t testing.TB, ctx context.Context, name string) {
	dir := os.Getenv("AGTRACE_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(dir+"/"+name+".png", buf, 0o644)
}

// Do runs browser steps and fails the test on the first error.
//
//	apptest.Do(t, ctx, chromedp.Navigate(base+"/login"),
//		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "qixia-reviewer"),
//		chromedp.Click(chromedp.CSS(`button.primary`)),
//		chromedp.WaitVisible(chromedp.CSS(`h1`)))
func Do(t testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// Text returns the visible text of the first element matching css.
func Text(t testing.TB, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("browser: text of %s: %v", css, err)
	}
	return s
}

// Location returns the current URL.
func Location(t testing.TB, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("browser: location: %v", err)
	}
	return s
}

// WaitText waits (up to 15 s) until the first element matching css contains
// want, and returns its text. Use it after a click that loads a new page: a
// plain WaitVisible may still see the element of the page being left.
func WaitText(t testing.TB, ctx context.Context, css, want string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(css)))
		cancel()
		if err == nil {
			last = s
			if strings.Contains(s, want) {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("browser: %s never contained %q (last: %q)", css, want, last)
	return ""
}

// BrowserLogin signs in through the login page and waits for the home page.
func BrowserLogin(t testing.TB, ctx context.Context, base, user, pw string) {
	t.Helper()
	Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
		chromedp.Click(chromedp.CSS(`form.form button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`section.cards`)),
	)
}
