package insight

import (
	"reflect"
	"testing"
	"time"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// TestSpans: how a range is split between whole months (stat_monthly) and
// the days of months covered in part (stat_daily), today being 2026-12-15
// in China.
func TestSpans(t *testing.T) {
	s := &Service{clock: fixedClock(time.Date(2026, 12, 15, 4, 0, 0, 0, time.UTC))}
	cases := []struct {
		name   string
		q      Query
		days   [][2]string
		months [2]string
	}{
		{"by day reads days", Query{By: "day", From: "2026-01-01", To: "2026-12-15"}, [][2]string{{"2026-01-01", "2026-12-15"}}, [2]string{}},
		{"default: twelve whole months to today", Query{By: "month", From: "2026-01-01", To: "2026-12-15"}, nil, [2]string{"2026-01", "2026-12"}},
		{"ending after today", Query{By: "region", From: "2026-01-01", To: "2027-02-03"}, nil, [2]string{"2026-01", "2026-12"}},
		{"a year from mid-month", Query{By: "region", From: "2025-12-16", To: "2026-12-15"}, [][2]string{{"2025-12-16", "2025-12-31"}}, [2]string{"2026-01", "2026-12"}},
		{"past, both ends in part", Query{By: "total", From: "2025-03-10", To: "2025-06-20"},
			[][2]string{{"2025-06-01", "2025-06-20"}, {"2025-03-10", "2025-03-31"}}, [2]string{"2025-04", "2025-05"}},
		{"past, whole months", Query{By: "product", From: "2025-02-01", To: "2025-02-28"}, nil, [2]string{"2025-02", "2025-02"}},
		{"one month in part", Query{By: "kind", From: "2025-02-03", To: "2025-02-20"}, [][2]string{{"2025-02-03", "2025-02-20"}}, [2]string{}},
		{"two neighbouring months in part", Query{By: "region", From: "2025-02-03", To: "2025-03-20"},
			[][2]string{{"2025-03-01", "2025-03-20"}, {"2025-02-03", "2025-02-28"}}, [2]string{}},
		{"state figure: all time to a past day", Query{By: "region", To: "2025-06-20"}, [][2]string{{"2025-06-01", "2025-06-20"}}, [2]string{"", "2025-05"}},
		{"state figure: all time to today", Query{By: "total", To: "2026-12-15"}, nil, [2]string{"", "2026-12"}},
		{"leap February", Query{By: "month", From: "2024-02-01", To: "2024-02-29"}, nil, [2]string{"2024-02", "2024-02"}},
	}
	for _, c := range cases {
		days, months := s.spans(c.q)
		if !reflect.DeepEqual(days, c.days) || months != c.months {
			t.Errorf("%s: days %v months %v, want %v %v", c.name, days, months, c.days, c.months)
		}
	}
}
