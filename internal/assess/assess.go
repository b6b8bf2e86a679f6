// Package assess is the pilot performance assessment (绩效考核, issue 14
// item 5): a scoring sheet per level (province, prefecture, county) weighs
// indicators of a typed registry, each read from the dashboards'
// aggregates (internal/insight) or, where those do not keep what it needs,
// from the raw records; an assessment scores and ranks the regions of a
// level inside a jurisdiction for one month — by a monthly job and on
// demand — and keeps each score's evidence; reports come as PDF and Excel
// (docs/insight.md, "Performance assessment").
package assess

import (
	"context"
	"regexp"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/insight"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// Level is the level of the regions an assessment ranks.
type Level string

const (
	LevelProvince   Level = "province"
	LevelPrefecture Level = "prefecture"
	LevelCounty     Level = "county"
)

// Levels lists the levels in order, top down.
var Levels = []Level{LevelProvince, LevelPrefecture, LevelCounty}

// depth is a level's region level (regions.level) and the length of its
// code prefix.
func (l Level) depth() (regionLevel, prefix int) {
	switch l {
	case LevelProvince:
		return region.LevelProvince, 2
	case LevelPrefecture:
		return region.LevelPrefecture, 4
	case LevelCounty:
		return region.LevelCounty, 6
	}
	return 0, 0
}

// Valid reports whether l is one of Levels.
func (l Level) Valid() bool { _, p := l.depth(); return p > 0 }

// Origin says what computed an assessment.
type Origin string

const (
	OriginJob    Origin = "job"    // the monthly job, after the month ended
	OriginDemand Origin = "demand" // an official asked for it
)

// Service keeps the sheets, computes assessments and reads them.
type Service struct {
	db      *platform.DB
	clock   platform.Clock
	regions *region.Service
	cal     *region.Calendar
	insight *insight.Service
}

// NewService returns the assessment service.
func NewService(db *platform.DB, clock platform.Clock, regions *region.Service, cal *region.Calendar, ins *insight.Service) *Service {
	return &Service{db: db, clock: clock, regions: regions, cal: cal, insight: ins}
}

var periodRe = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// Period is one month in China time: its civil days and instants.
type Period struct {
	Month      string    // YYYY-MM
	From, To   string    // first and last day, YYYY-MM-DD
	Start, End time.Time // [Start, End) as UTC instants
}

// ParsePeriod checks a YYYY-MM month (not after the current one).
func ParsePeriod(month string, now time.Time) (Period, error) {
	bad := platform.Invalid(platform.FieldError{Field: "period", Code: "format", ZH: "考核期应为 YYYY-MM 格式的月份", EN: "period must be a month, YYYY-MM"})
	if !periodRe.MatchString(month) {
		return Period{}, bad
	}
	t, err := time.ParseInLocation("2006-01", month, platform.ChinaTZ)
	if err != nil || t.Year() < 2000 {
		return Period{}, bad
	}
	if month > now.In(platform.ChinaTZ).Format("2006-01") {
		return Period{}, platform.Invalid(platform.FieldError{Field: "period", Code: "future", ZH: "考核期不能晚于本月", EN: "period may not be after the current month"})
	}
	end := t.AddDate(0, 1, 0)
	return Period{Month: month, From: t.Format(time.DateOnly), To: end.AddDate(0, 0, -1).Format(time.DateOnly), Start: t.UTC(), End: end.UTC()}, nil
}

// PreviousMonth is the month before now's, China time (what the job assesses).
func PreviousMonth(now time.Time) string {
	t := now.In(platform.ChinaTZ)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, platform.ChinaTZ).AddDate(0, -1, 0).Format("2006-01")
}

// rootLevel is the region level of a jurisdiction root: 0 for the nation.
func rootLevel(code string) int {
	switch len(auth.RegionPrefix(code)) {
	case 0:
		return 0
	case 2:
		return region.LevelProvince
	case 4:
		return region.LevelPrefecture
	}
	return region.LevelCounty
}

// regionName is a region's own name ("全国" for the nation).
func (s *Service) regionName(ctx context.Context, code string) string {
	return s.insight.RegionName(ctx, code)
}
