package region

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Calendar answers working-day questions: statutory deadlines such as "review
// within 5 working days" skip weekends and public holidays but count the
// make-up working weekends (调休). The table is seeded from npm chinese-days and
// editable by administrators when the State Council publishes a new year.
type Calendar struct {
	db    *platform.DB
	mu    sync.Mutex
	cache *calendarData
}

type calendarData struct {
	loaded time.Time
	days   map[string]string // YYYY-MM-DD -> holiday | workday
	years  map[int]bool
}

// cacheTTL bounds how stale a replica's copy may be after an edit elsewhere.
const cacheTTL = time.Minute

// NewCalendar returns the calendar over db.
func NewCalendar(db *platform.DB) *Calendar { return &Calendar{db: db} }

// Day is one exception to the Monday–Friday rule.
type Day struct {
	Date   string `json:"date"`
	Kind   string `json:"kind"` // holiday | workday
	Name   string `json:"name"`
	Source string `json:"source"`
}

func (c *Calendar) data(ctx context.Context) (*calendarData, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache != nil && time.Since(c.cache.loaded) < cacheTTL {
		return c.cache, nil
	}
	d := &calendarData{loaded: time.Now(), days: map[string]string{}, years: map[int]bool{}}
	rows, err := c.db.Query(ctx, `SELECT day, kind FROM calendar_days`)
	days, err := platform.Collect(rows, err, func(r *sql.Rows) ([2]string, error) {
		var dk [2]string
		err := r.Scan(&dk[0], &dk[1])
		return dk, err
	})
	if err != nil {
		return nil, err
	}
	for _, dk := range days {
		d.days[dk[0]] = dk[1]
	}
	rows, err = c.db.Query(ctx, `SELECT year FROM calendar_years`)
	years, err := platform.Collect(rows, err, platform.Scalar[int])
	if err != nil {
		return nil, err
	}
	for _, y := range years {
		d.years[y] = true
	}
	c.cache = d
	return d, nil
}

func (c *Calendar) invalidate() {
	c.mu.Lock()
	c.cache = nil
	c.mu.Unlock()
}

// IsWorkday reports whether date is a working day and whether the calendar
// has data for its year (without data: plain Monday–Friday).
func (c *Calendar) IsWorkday(ctx context.Context, date time.Time) (workday, known bool, err error) {
	d, err := c.data(ctx)
	if err != nil {
		return false, false, err
	}
	w, known := d.isWorkday(date)
	return w, known, nil
}

func (d *calendarData) isWorkday(t time.Time) (bool, bool) {
	known := d.years[t.Year()]
	switch d.days[t.Format(time.DateOnly)] {
	case "holiday":
		return false, known
	case "workday":
		return true, known
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday, known
}

// AddWorkdays returns the date n working days after from (n ≥ 0; 0 returns
// from). complete is false if any year crossed has no calendar data, in which
// case Monday–Friday was assumed for it.
func (c *Calendar) AddWorkdays(ctx context.Context, from time.Time, n int) (time.Time, bool, error) {
	if n < 0 || n > 3660 {
		return time.Time{}, false, platform.Invalid(platform.FieldError{Field: "days", Code: "range", ZH: "天数须在 0 到 3660 之间", EN: "days must be between 0 and 3660"})
	}
	d, err := c.data(ctx)
	if err != nil {
		return time.Time{}, false, err
	}
	day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	complete := d.years[day.Year()]
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		w, known := d.isWorkday(day)
		complete = complete && known
		if w {
			n--
		}
	}
	return day, complete, nil
}

// WorkdaysBetween counts working days after from up to and including to.
func (c *Calendar) WorkdaysBetween(ctx context.Context, from, to time.Time) (int, error) {
	d, err := c.data(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for day := from.AddDate(0, 0, 1); !day.After(to); day = day.AddDate(0, 0, 1) {
		if w, _ := d.isWorkday(day); w {
			n++
		}
	}
	return n, nil
}

// Year lists a year's exceptions and whether the year has data.
func (c *Calendar) Year(ctx context.Context, year int) ([]Day, bool, error) {
	rows, err := c.db.Query(ctx, `SELECT day, kind, name, source FROM calendar_days WHERE day LIKE $1 ORDER BY day`, fmt.Sprintf("%04d-%%", year))
	out, err := platform.Collect(rows, err, func(r *sql.Rows) (Day, error) {
		var d Day
		err := r.Scan(&d.Date, &d.Kind, &d.Name, &d.Source)
		return d, err
	})
	if err != nil {
		return nil, false, err
	}
	var n int
	if err := c.db.QueryRow(ctx, `SELECT COUNT(*) FROM calendar_years WHERE year = $1`, year).Scan(&n); err != nil {
		return nil, false, err
	}
	return out, n > 0, nil
}

// Years lists the years that have data.
func (c *Calendar) Years(ctx context.Context) ([]int, error) {
	d, err := c.data(ctx)
	if err != nil {
		return nil, err
	}
	var ys []int
	for y := range d.years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	return ys, nil
}

// YearInput is an administrator's publication of one year's schedule.
type YearInput struct {
	Holidays []Day `json:"holidays"` // kind is implied
	Workdays []Day `json:"workdays"` // make-up working weekends
}

// SetYear replaces a year's exceptions and marks the year as known.
func (c *Calendar) SetYear(ctx context.Context, actor *auth.Actor, year int, in YearInput) error {
	if err := auth.Authorize(actor, auth.ActCalendarEdit, auth.Resource{}); err != nil {
		return err
	}
	if err := checkYear(year, in); err != nil {
		return err
	}
	err := c.db.InTx(ctx, func(tx *platform.Tx) error {
		if err := replaceYearTx(ctx, tx, year, in, "admin"); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "calendar.set_year", ResourceType: "calendar", ResourceID: fmt.Sprint(year),
			Data: map[string]any{"holidays": len(in.Holidays), "workdays": len(in.Workdays)}})
	})
	c.invalidate()
	return err
}

// SourceNational marks calendar rows the national node published to a
// province node (docs/exchange.md "Reference data from the national node").
const SourceNational = "national"

// NationalYearTx replaces, inside tx, a year's exceptions with the
// schedule the national node published (the national calendar is the one
// every working-day deadline follows; a province's own edit of that year
// stands until the national node publishes the year again). A replica's
// cached calendar follows within its cache lifetime (a minute).
func NationalYearTx(ctx context.Context, tx *platform.Tx, year int, in YearInput, via string) error {
	if err := checkYear(year, in); err != nil {
		return err
	}
	if err := replaceYearTx(ctx, tx, year, in, SourceNational); err != nil {
		return err
	}
	return tx.Emit(ctx, platform.Event{Action: "calendar.national", ResourceType: "calendar", ResourceID: fmt.Sprint(year),
		Data: map[string]any{"holidays": len(in.Holidays), "workdays": len(in.Workdays), "via": via}})
}

// YearOf reads a year's exceptions as a YearInput (what the national node
// publishes of it).
func YearOf(ctx context.Context, q platform.Querier, year int) (YearInput, error) {
	rows, err := q.Query(ctx, `SELECT day, kind, name FROM calendar_days WHERE day LIKE $1 ORDER BY day`, fmt.Sprintf("%04d-%%", year))
	days, err := platform.Collect(rows, err, func(r *sql.Rows) (Day, error) {
		var d Day
		return d, r.Scan(&d.Date, &d.Kind, &d.Name)
	})
	var in YearInput
	for _, d := range days {
		kind := d.Kind
		d.Kind, d.Source = "", ""
		if kind == "holiday" {
			in.Holidays = append(in.Holidays, d)
		} else {
			in.Workdays = append(in.Workdays, d)
		}
	}
	return in, err
}

// checkYear validates a year's schedule.
func checkYear(year int, in YearInput) error {
	var v platform.Validator
	v.Check(year >= 2000 && year <= 2100, "year", "range", "年份须在 2000–2100 之间", "year must be between 2000 and 2100")
	seen := map[string]bool{}
	check := func(field string, list []Day) {
		for i, d := range list {
			f := fmt.Sprintf("%s[%d].date", field, i)
			t, err := time.Parse(time.DateOnly, d.Date)
			if err != nil {
				v.Add(f, "format", "日期格式应为 YYYY-MM-DD", "date must be YYYY-MM-DD")
				continue
			}
			v.Check(t.Year() == year, f, "year", "日期不在该年份内", "date is not in that year")
			v.Check(!seen[d.Date], f, "duplicate", "日期重复", "date listed twice")
			v.MaxLen(fmt.Sprintf("%s[%d].name", field, i), d.Name, 40)
			seen[d.Date] = true
		}
	}
	check("holidays", in.Holidays)
	check("workdays", in.Workdays)
	return v.Err()
}

// replaceYearTx writes a year's exceptions (and marks the year known) from source.
func replaceYearTx(ctx context.Context, tx *platform.Tx, year int, in YearInput, source string) error {
	now := tx.Now()
	if _, err := tx.Exec(ctx, `DELETE FROM calendar_days WHERE day LIKE $1`, fmt.Sprintf("%04d-%%", year)); err != nil {
		return err
	}
	for _, kl := range []struct {
		kind string
		list []Day
	}{{"holiday", in.Holidays}, {"workday", in.Workdays}} {
		for _, d := range kl.list {
			if _, err := tx.Exec(ctx, `INSERT INTO calendar_days (day, kind, name, source, updated_at) VALUES ($1, $2, $3, $4, $5)`,
				d.Date, kl.kind, d.Name, source, now); err != nil {
				return err
			}
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO calendar_years (year, source, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (year) DO UPDATE SET source = $2, updated_at = $3`, year, source, now)
	return err
}

// SetDay adds, changes (kind holiday|workday) or removes (kind "") one exception.
func (c *Calendar) SetDay(ctx context.Context, actor *auth.Actor, date, kind, name string) error {
	if err := auth.Authorize(actor, auth.ActCalendarEdit, auth.Resource{}); err != nil {
		return err
	}
	var v platform.Validator
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		v.Add("date", "format", "日期格式应为 YYYY-MM-DD", "date must be YYYY-MM-DD")
	}
	if kind != "" {
		v.OneOf("kind", kind, "holiday", "workday")
	}
	v.MaxLen("name", name, 40)
	if err := v.Err(); err != nil {
		return err
	}
	err := c.db.InTx(ctx, func(tx *platform.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM calendar_days WHERE day = $1`, date); err != nil {
			return err
		}
		if kind != "" {
			if _, err := tx.Exec(ctx, `INSERT INTO calendar_days (day, kind, name, source, updated_at) VALUES ($1, $2, $3, 'admin', $4)`,
				date, kind, name, tx.Now()); err != nil {
				return err
			}
		}
		return tx.Emit(ctx, platform.Event{Action: "calendar.set_day", ResourceType: "calendar", ResourceID: date,
			Data: map[string]any{"kind": kind, "name": name}})
	})
	c.invalidate()
	return err
}

// SeedCalendar loads npm chinese-days (holidays and make-up workdays) into
// an empty calendar table. Each year that appears in the data is marked known.
func SeedCalendar(ctx context.Context, db *platform.DB) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM calendar_days`).Scan(&n); err != nil {
		return 0, err
	}
	if n > 0 {
		return 0, nil
	}
	raw, err := dataFS.ReadFile("data/chinese-days.json")
	if err != nil {
		return 0, fmt.Errorf("calendar data chinese-days.json not built into this binary; run \"make assets\" and rebuild")
	}
	var src struct {
		Holidays map[string]string `json:"holidays"`
		Workdays map[string]string `json:"workdays"`
	}
	if err := json.Unmarshal(raw, &src); err != nil {
		return 0, fmt.Errorf("chinese-days.json: %w", err)
	}
	years := map[int]bool{}
	count := 0
	err = db.InTx(ctx, func(tx *platform.Tx) error {
		now := tx.Now()
		for kind, m := range map[string]map[string]string{"holiday": src.Holidays, "workday": src.Workdays} {
			for day, desc := range m {
				t, err := time.Parse(time.DateOnly, day)
				if err != nil {
					return fmt.Errorf("chinese-days.json: bad date %q", day)
				}
				years[t.Year()] = true
				name := desc
				if parts := strings.Split(desc, ","); len(parts) >= 2 {
					name = parts[1] // "Spring Festival,春节,4" -> 春节
				}
				if _, err := tx.Exec(ctx, `INSERT INTO calendar_days (day, kind, name, source, updated_at) VALUES ($1, $2, $3, 'chinese-days', $4)`,
					day, kind, name, now); err != nil {
					return err
				}
				count++
			}
		}
		for y := range years {
			if _, err := tx.Exec(ctx, `INSERT INTO calendar_years (year, source, updated_at) VALUES ($1, 'chinese-days', $2)`, y, now); err != nil {
				return err
			}
		}
		return nil
	})
	return count, err
}
