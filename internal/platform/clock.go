package platform

import (
	"sync/atomic"
	"time"
)

// Clock is the only source of "now" in services, so tests can pin time.
type Clock interface{ Now() time.Time }

// SystemClock returns the wall-clock time in UTC, truncated to microseconds
// (PostgreSQL's precision) so values read back compare equal.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// FixedClock is a settable clock for tests and the demo loader.
type FixedClock struct{ T time.Time }

func (c *FixedClock) Now() time.Time { return c.T }

// Advance moves the clock forward.
func (c *FixedClock) Advance(d time.Duration) { c.T = c.T.Add(d) }

// ChinaTZ is the civil time zone used for dates shown to users and for
// working-day arithmetic (UTC+8, no daylight saving).
var ChinaTZ = time.FixedZone("CST", 8*3600)

// Today returns the civil date in China for t, as YYYY-MM-DD.
func Today(t time.Time) string { return t.In(ChinaTZ).Format(time.DateOnly) }

// Days is Today for a hot path: the date is formatted once a day (a scan
// page answered from memory needs today's date on most views). The zero
// value is ready to use and safe for concurrent use.
type Days struct{ cur atomic.Pointer[dayRange] }

type dayRange struct {
	day        string
	start, end time.Time
}

// Of is Today(t).
func (d *Days) Of(t time.Time) string {
	if r := d.cur.Load(); r != nil && !t.Before(r.start) && t.Before(r.end) {
		return r.day
	}
	day := Today(t)
	start, _ := time.ParseInLocation(time.DateOnly, day, ChinaTZ)
	d.cur.Store(&dayRange{day: day, start: start, end: start.AddDate(0, 0, 1)})
	return day
}
