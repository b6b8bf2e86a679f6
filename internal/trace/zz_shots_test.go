package trace_test

import (
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
)

func TestZZShots(t *testing.T) {
	base := os.Getenv("SHOTS_BASE")
	if base == "" {
		t.Skip()
	}
	shots := []struct{ user, name, path string }{
		{"gaozhou-slaughter", "transform", "/transform"},
		{"gaozhou-farm", "farmbatch", "/batches/14409810000000000018"},
		{"gaozhou-slaughter", "new", "/batches/new"},
	}
	for _, s := range shots {
		ctx := apptest.Browser(t, 390, 844)
		browserLogin(t, ctx, base, s.user, "demo-pass-2026")
		apptest.Do(t, ctx, chromedp.Navigate(base+s.path), chromedp.WaitVisible(chromedp.CSS("footer")))
		apptest.Screenshot(t, ctx, "z-"+s.name)
	}
}
