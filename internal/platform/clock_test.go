package platform_test

import (
	"testing"
	"time"

	"agtrace/internal/platform"
)

// TestDays: the cached date equals Today on both sides of China's midnight
// (16:00 UTC), going forward and back.
func TestDays(t *testing.T) {
	var d platform.Days
	base := time.Date(2026, 12, 1, 15, 59, 59, 0, time.UTC) // 23:59:59 in China
	for _, off := range []time.Duration{0, time.Second, -time.Second, 2 * time.Second, 24 * time.Hour, -48 * time.Hour, 0, 8*time.Hour + time.Second} {
		at := base.Add(off)
		if got, want := d.Of(at), platform.Today(at); got != want {
			t.Fatalf("%v: %s, want %s", at, got, want)
		}
	}
}
