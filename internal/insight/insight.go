// Package insight is analysis and decision support (分析决策): figures
// pre-aggregated by county, product and day, kept current by an
// incremental job, and read by jurisdiction for dashboards and maps.
package insight

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// MaxRange is the longest date range one request may ask for.
const MaxRange = 3 * 366 * 24 * time.Hour

// Service reads and maintains the aggregates.
type Service struct {
	db      *platform.DB
	clock   platform.Clock
	regions *region.Service
	names   sync.Map // region code → name (divisions do not change while running)
}

// NewService returns the insight service.
func NewService(db *platform.DB, clock platform.Clock, regions *region.Service) *Service {
	return &Service{db: db, clock: clock, regions: regions}
}

// Query selects what a figure answers.
type Query struct {
	Region  string // jurisdiction root (default: the actor's)
	Product string // a catalogue product code, "" for all
	From    string // YYYY-MM-DD, inclusive
	To      string // YYYY-MM-DD, inclusive
	By      string // day (default) | month | region | county | product | kind | total
	Key     string // only this key (maps)
	Level   string // maps: "" the child regions, "county" every county of the region
}

// AllRows is the product_code and sub of the stat_monthly rows summed over
// every product and sub-key.
const AllRows = "*"

// The map levels (Query.Level).
const (
	LevelChildren = ""       // the child regions: provinces, prefectures, counties
	LevelCounty   = "county" // every county of the region (a province's county map)
)

// Value is one point of a series.
type Value struct {
	Key   string `json:"key" doc:"a day, month, child region code, product code or sub-key, by the by parameter"`
	Label string `json:"label,omitempty"`
	Value int64  `json:"value"`
}

// Series is one key of a figure (a status, a result …) along the by dimension.
type Series struct {
	Key     string  `json:"key"`
	Label   string  `json:"label"`
	LabelEN string  `json:"label_en"`
	Total   int64   `json:"total"`
	Values  []Value `json:"values"`
}

// Answer is a figure for a region, product and date range.
type Answer struct {
	Figure  string    `json:"figure"`
	Label   string    `json:"label"`
	LabelEN string    `json:"label_en"`
	Region  string    `json:"region"`
	Product string    `json:"product,omitempty"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to"`
	By      string    `json:"by"`
	Total   int64     `json:"total" doc:"every record counted once"`
	List    string    `json:"list" doc:"the page listing the records behind the figure"`
	Series  []Series  `json:"series"`
	AsOf    time.Time `json:"as_of" doc:"when the aggregates were last brought up to date"`
}

// byDims are the accepted values of Query.By.
var byDims = map[string]bool{"": true, "day": true, "month": true, "region": true, "county": true, "product": true, "kind": true, "total": true}

// Stats answers one figure for the actor.
func (s *Service) Stats(ctx context.Context, actor *auth.Actor, figure string, q Query) (Answer, error) {
	f, q, err := s.check(ctx, actor, figure, q)
	if err != nil {
		return Answer{}, err
	}
	if q.By == "" {
		q.By = "day"
	}
	return s.answer(ctx, f, q)
}

// check validates the query and the actor's reach: 422 naming the field for
// bad input, 404 for a region outside the jurisdiction.
func (s *Service) check(ctx context.Context, actor *auth.Actor, figure string, q Query) (Figure, Query, error) {
	if actor == nil {
		return Figure{}, q, platform.Unauthorized("请先登录", "authentication required")
	}
	f, ok := Lookup(figure)
	if !ok {
		return f, q, platform.Invalid(platform.FieldError{Field: "figure", Code: "unknown", ZH: "没有这个指标：" + figure, EN: "unknown figure: " + figure})
	}
	if !byDims[q.By] {
		return f, q, platform.Invalid(platform.FieldError{Field: "by", Code: "not_allowed", ZH: "by 应为 region、county、product、day、month 或 kind", EN: "by must be region, county, product, day, month or kind"})
	}
	q.Region = strings.TrimSpace(q.Region)
	if q.Region == "" {
		q.Region = actor.Region
	}
	if q.Region == "" {
		q.Region = "000000"
	}
	if err := auth.Authorize(actor, auth.ActStatsRead, auth.Resource{Region: q.Region}); err != nil {
		return f, q, err
	}
	if q.Region != "000000" {
		if _, err := s.regions.Get(ctx, q.Region); err != nil {
			return f, q, platform.NotFound("没有这个地区", "no such region")
		}
	}
	q, err := s.dates(f, q)
	return f, q, err
}

// dates fills in the default range (the last twelve months, from the first
// day of the month eleven months back; all time for state figures) and
// refuses malformed, reversed or too long ranges.
func (s *Service) dates(f Figure, q Query) (Query, error) {
	today := platform.Today(s.clock.Now())
	given := q.From != ""
	if q.To == "" {
		q.To = today
	}
	to, err := time.Parse(time.DateOnly, q.To)
	if err != nil {
		return q, platform.Invalid(platform.FieldError{Field: "to", Code: "format.date", ZH: "日期格式应为 YYYY-MM-DD", EN: "date must be YYYY-MM-DD"})
	}
	if !given {
		if f.State {
			return q, nil
		}
		// the last twelve months, this one included: whole months, which
		// are read from the monthly roll-up
		q.From = time.Date(to.Year(), to.Month()-11, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	from, err := time.Parse(time.DateOnly, q.From)
	if err != nil {
		return q, platform.Invalid(platform.FieldError{Field: "from", Code: "format.date", ZH: "日期格式应为 YYYY-MM-DD", EN: "date must be YYYY-MM-DD"})
	}
	if from.After(to) {
		return q, platform.Invalid(platform.FieldError{Field: "from", Code: "after_to", ZH: "开始日期晚于结束日期", EN: "from is after to"})
	}
	if to.Sub(from) > MaxRange {
		return q, platform.Invalid(platform.FieldError{Field: "to", Code: "too_long", ZH: "时间范围不能超过 3 年", EN: "the range may not exceed 3 years"})
	}
	return q, nil
}

// answer reads the aggregate rows of f for q (already checked): whole
// months from stat_monthly, the days of a month the range covers only in
// part from stat_daily (by day: days only). A range ending today or later
// takes the current month whole (nothing is recorded after today), so the
// dashboards' default ranges — whole months up to today — read monthly rows
// only.
func (s *Service) answer(ctx context.Context, f Figure, q Query) (Answer, error) {
	ans := Answer{Figure: f.Name, Label: f.ZH, LabelEN: f.EN, Region: q.Region, Product: q.Product, From: q.From, To: q.To, By: q.By, List: f.List}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	common := []string{"figure = " + arg(f.Name)}
	if lo, hi := auth.RegionRange(q.Region); lo != "" {
		common = append(common, "region_code >= "+arg(lo))
		if hi != "" {
			common = append(common, "region_code < "+arg(hi))
		}
	}
	if q.Product != "" {
		common = append(common, "product_code = "+arg(q.Product))
	}
	if q.Key != "" {
		common = append(common, "key = "+arg(q.Key))
	}
	var parts []string
	part := func(table, dim string, cond ...string) {
		parts = append(parts, `SELECT key, `+dim+` AS at, value FROM `+table+` WHERE `+strings.Join(append(append([]string{}, common...), cond...), " AND "))
	}
	days, months := s.spans(q)
	for _, d := range days {
		c := []string{"day <= " + arg(d[1])}
		if d[0] != "" {
			c = append(c, "day >= "+arg(d[0]))
		}
		part("stat_daily", s.dimension(q, "day"), c...)
	}
	if months[1] != "" {
		c := []string{"month <= " + arg(months[1])}
		if q.Product == "" && q.By != "product" && q.By != "kind" {
			c = append(c, "product_code = '"+AllRows+"'", "sub = '"+AllRows+"'") // summed over products and subs
		} else {
			c = append(c, "product_code <> '"+AllRows+"'")
		}
		if months[0] != "" {
			c = append(c, "month >= "+arg(months[0]))
		}
		part("stat_monthly", s.dimension(q, "month"), c...)
	}
	group := "key, at"
	if q.By == "total" {
		group = "key"
	}
	rows, err := s.db.Query(ctx, `SELECT key, MIN(at), SUM(value) FROM (`+strings.Join(parts, " UNION ALL ")+`) r GROUP BY `+group+` ORDER BY 2`, args...)
	if err != nil {
		return ans, err
	}
	defer rows.Close()
	byKey := map[string]*Series{}
	for rows.Next() {
		var key, at string
		var v int64
		if err := rows.Scan(&key, &at, &v); err != nil {
			return ans, err
		}
		sr := byKey[key]
		if sr == nil {
			l := label(key)
			sr = &Series{Key: key, Label: l[0], LabelEN: l[1], Values: []Value{}}
			byKey[key] = sr
		}
		sr.Values = append(sr.Values, Value{Key: s.childCode(q, at), Value: v})
		sr.Total += v
		ans.Total += v
	}
	if err := rows.Err(); err != nil {
		return ans, err
	}
	ans.Series = orderSeries(f, byKey)
	if err := s.labelValues(ctx, q, ans.Series); err != nil {
		return ans, err
	}
	ans.AsOf, err = s.AsOf(ctx)
	return ans, err
}

// dimension is the SQL expression the values are grouped by, over a table
// whose date column is dateCol (stat_daily day, stat_monthly month).
func (s *Service) dimension(q Query, dateCol string) string {
	switch q.By {
	case "month":
		return "SUBSTR(" + dateCol + ", 1, 7)"
	case "product":
		return "product_code"
	case "kind":
		return "sub"
	case "region":
		return "SUBSTR(region_code, 1, " + itoa(childLen(q.Region)) + ")"
	case "county":
		return "region_code"
	case "total":
		return "''"
	}
	return dateCol
}

// spans splits q's range into the day ranges read from stat_daily
// ([from, to], from "" for no lower bound) and the month range read from
// stat_monthly ([from, to] as YYYY-MM, to "" for none). By day reads days
// only.
func (s *Service) spans(q Query) (days [][2]string, months [2]string) {
	if q.By == "day" || q.By == "" {
		return [][2]string{{q.From, q.To}}, months
	}
	to := q.To
	if today := platform.Today(s.clock.Now()); to >= today {
		to = monthEnd(today) // nothing is recorded after today: the month is whole
	}
	lastMonth := to[:7]
	if to != monthEnd(to) { // the last month in part: its days
		days = append(days, [2]string{lastMonth + "-01", to})
		lastMonth = prevMonth(lastMonth)
	}
	firstMonth := ""
	if q.From != "" {
		firstMonth = q.From[:7]
		if q.From[8:] != "01" { // the first month in part
			if firstMonth == to[:7] {
				return [][2]string{{q.From, to}}, months // one month in part: days only
			}
			days = append(days, [2]string{q.From, monthEnd(q.From)})
			firstMonth = nextMonth(firstMonth)
		}
	}
	if firstMonth == "" || firstMonth <= lastMonth {
		months = [2]string{firstMonth, lastMonth}
	}
	return days, months
}

// monthEnd is the last day of day's month (YYYY-MM-DD).
func monthEnd(day string) string {
	t, _ := time.Parse(time.DateOnly, day[:7]+"-01")
	return t.AddDate(0, 1, -1).Format(time.DateOnly)
}

func nextMonth(m string) string {
	t, _ := time.Parse("2006-01", m)
	return t.AddDate(0, 1, 0).Format("2006-01")
}

func prevMonth(m string) string {
	t, _ := time.Parse("2006-01", m)
	return t.AddDate(0, -1, 0).Format("2006-01")
}

// childLen is the code prefix length of root's children: provinces of the
// nation, prefectures of a province, counties of a prefecture (a county is
// its own only child).
func childLen(root string) int {
	switch len(auth.RegionPrefix(root)) {
	case 0:
		return 2
	case 2:
		return 4
	}
	return 6
}

func (s *Service) childCode(q Query, v string) string {
	if q.By != "region" {
		return v
	}
	return (v + "000000")[:6]
}

// orderSeries puts the figure's known keys first, in their order, then the rest.
func orderSeries(f Figure, byKey map[string]*Series) []Series {
	out := []Series{}
	for _, k := range f.Keys {
		if sr := byKey[k]; sr != nil {
			out = append(out, *sr)
			delete(byKey, k)
		}
	}
	rest := make([]string, 0, len(byKey))
	for k := range byKey {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, *byKey[k])
	}
	return out
}

func label(key string) [2]string {
	if l, ok := Labels[key]; ok {
		return l
	}
	return [2]string{key, key}
}

// labelValues names regions and products.
func (s *Service) labelValues(ctx context.Context, q Query, series []Series) error {
	var names map[string]string
	switch q.By {
	case "product":
		var err error
		if names, err = s.productNames(ctx); err != nil {
			return err
		}
	case "kind":
		names = map[string]string{}
		for k, l := range Labels {
			names[k] = l[0]
		}
	case "region", "county":
	default:
		return nil
	}
	for i := range series {
		for j, v := range series[i].Values {
			if q.By == "region" || q.By == "county" {
				series[i].Values[j].Label = s.RegionName(ctx, v.Key)
			} else if n, ok := names[v.Key]; ok {
				series[i].Values[j].Label = n
			}
		}
	}
	return nil
}

// RegionName is a region's own name ("全国" for the nation), cached.
func (s *Service) RegionName(ctx context.Context, code string) string {
	if code == "000000" || code == "" {
		return "全国"
	}
	if n, ok := s.names.Load(code); ok {
		return n.(string)
	}
	r, err := s.regions.Get(ctx, code)
	if err != nil {
		return code
	}
	s.names.Store(code, r.Name)
	return r.Name
}

func (s *Service) productNames(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.Query(ctx, `SELECT code, name FROM products`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var c, n string
		if err := rows.Scan(&c, &n); err != nil {
			return nil, err
		}
		out[c] = n
	}
	return out, rows.Err()
}

// AsOf is when the aggregates were last brought up to date (zero: never).
func (s *Service) AsOf(ctx context.Context) (time.Time, error) {
	var t time.Time
	err := s.db.QueryRow(ctx, `SELECT ran_at FROM stat_watermark WHERE name = $1`, watermarkName).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return t, err
}

func itoa(n int) string { return strconv.Itoa(n) }

func sortStrings(v []string) { sort.Strings(v) }

// Products lists the catalogue for the dashboard's product filter.
func (s *Service) Products(ctx context.Context) ([]Product, error) {
	rows, err := s.db.Query(ctx, `SELECT code, name, name_en FROM products ORDER BY sort, code`)
	return platform.Collect(rows, err, func(r *sql.Rows) (Product, error) {
		var p Product
		return p, r.Scan(&p.Code, &p.Name, &p.NameEN)
	})
}
