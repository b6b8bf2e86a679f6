package assess

import (
	"math"
	"strings"
	"testing"
	"time"

	"agtrace/internal/platform"
)

func ptr(v float64) *float64 { return &v }

func TestScoreOf(t *testing.T) {
	cov, _ := Lookup("key_coverage")
	insp, _ := Lookup("inspection_volume")
	days, _ := Lookup("complaint_handling")
	pass, _ := Lookup("sampling_pass_rate")
	rec, _ := Lookup("recording")
	cases := []struct {
		name           string
		in             Indicator
		weight, target float64
		m              measure
		value          *float64
		score          float64
		applicable     bool
	}{
		{"share at target", cov, 25, 100, measure{8, 8}, ptr(100), 25, true},
		{"share below target", cov, 25, 100, measure{6, 8}, ptr(75), 18.75, true},
		{"share above a lower target is capped", cov, 25, 80, measure{8, 8}, ptr(100), 25, true},
		{"no key operators on the roster scores zero", cov, 25, 100, measure{0, 0}, nil, 0, true},
		{"per 100 operators", insp, 10, 10, measure{1, 20}, ptr(5), 5, true},
		{"no operators to inspect scores zero", insp, 10, 10, measure{3, 0}, nil, 0, true},
		{"per operator has no scale", rec, 30, 2, measure{3, 2}, ptr(1.5), 22.5, true},
		{"lower is better: within target", days, 10, 5, measure{8, 4}, ptr(2), 10, true},
		{"lower is better: twice the target", days, 10, 5, measure{40, 4}, ptr(10), 5, true},
		{"lower is better: zero days", days, 10, 5, measure{0, 3}, ptr(0), 10, true},
		{"nothing filed is not applicable", days, 10, 5, measure{0, 0}, nil, 0, false},
		{"nothing sampled is not applicable", pass, 10, 98, measure{0, 0}, nil, 0, false},
		{"rounding to cents", pass, 10, 98, measure{2, 3}, ptr(66.67), 6.8, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := scoreOf(c.in, c.weight, c.target, c.m)
			if (got.Value == nil) != (c.value == nil) || (got.Value != nil && *got.Value != *c.value) {
				t.Errorf("value %v, want %v", deref(got.Value), deref(c.value))
			}
			if got.Score != c.score || got.Applicable != c.applicable {
				t.Errorf("score %v applicable %v, want %v %v", got.Score, got.Applicable, c.score, c.applicable)
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestRank(t *testing.T) {
	rs := []RegionResult{{Region: "370683", Total: 12.5}, {Region: "370686", Total: 80}, {Region: "370602", Total: 0},
		{Region: "370682", Total: 25}, {Region: "370681", Total: 25}, {Region: "370611", Total: 0}}
	rank(rs)
	want := []struct {
		code string
		rank int
	}{{"370686", 1}, {"370681", 2}, {"370682", 2}, {"370683", 4}, {"370602", 5}, {"370611", 5}}
	for i, w := range want {
		if rs[i].Region != w.code || rs[i].Rank != w.rank {
			t.Errorf("place %d: %s rank %d, want %s rank %d", i, rs[i].Region, rs[i].Rank, w.code, w.rank)
		}
	}
}

// TestValidateSheet: every malformed sheet names its field; a good one
// keeps the indicators with a weight, in order.
func TestValidateSheet(t *testing.T) {
	good := func() SheetInput {
		return SheetInput{Version: 1, Indicators: []ItemInput{{Indicator: "key_coverage", Weight: 60, Target: 100},
			{Indicator: "complaint_handling", Weight: 40, Target: 5, Direction: "lower"}, {Indicator: "recording", Weight: 0, Target: 2}}}
	}
	cases := []struct {
		name  string
		edit  func(*SheetInput)
		field string
		code  string
	}{
		{"weights sum to 90", func(in *SheetInput) { in.Indicators[0].Weight = 50 }, "indicators", "weight_sum"},
		{"unknown indicator", func(in *SheetInput) { in.Indicators[2].Indicator = "happiness" }, "indicators[2].indicator", "unknown"},
		{"indicator twice", func(in *SheetInput) { in.Indicators[1].Indicator = "key_coverage" }, "indicators[1].indicator", "duplicate"},
		{"negative target", func(in *SheetInput) { in.Indicators[0].Target = -1 }, "indicators[0].target", "range"},
		{"a share above 100", func(in *SheetInput) { in.Indicators[0].Target = 120 }, "indicators[0].target", "range"},
		{"target not a number", func(in *SheetInput) { in.Indicators[1].Target = math.NaN() }, "indicators[1].target", "range"},
		{"weight above 100", func(in *SheetInput) { in.Indicators[0].Weight = 160; in.Indicators[1].Weight = -60 }, "indicators[0].weight", "range"},
		{"a direction of its own", func(in *SheetInput) { in.Indicators[1].Direction = "higher" }, "indicators[1].direction", "not_allowed"},
		{"all weights zero", func(in *SheetInput) { in.Indicators[0].Weight, in.Indicators[1].Weight = 0, 0 }, "indicators", "required"},
		{"name too long", func(in *SheetInput) { in.Name = strings.Repeat("表", 101) }, "name", "too_long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := good()
			c.edit(&in)
			_, err := validateSheet(&in)
			e, ok := err.(*platform.Error)
			if !ok || e.Kind != platform.KindInvalid {
				t.Fatalf("want 422, got %v", err)
			}
			for _, f := range e.Fields {
				if f.Field == c.field && f.Code == c.code {
					return
				}
			}
			t.Errorf("fields %+v, want %s (%s)", e.Fields, c.field, c.code)
		})
	}
	in := good()
	items, err := validateSheet(&in)
	if err != nil || len(items) != 2 || items[0].Indicator != "key_coverage" || items[1].Direction != Lower {
		t.Fatalf("good sheet: %+v %v", items, err)
	}
}

// TestDefaultSheets: every default sheet is valid, and every indicator
// names a figure or a raw measure, a list page and a sentence of the seed.
func TestDefaultSheets(t *testing.T) {
	for _, l := range Levels {
		name, items := DefaultSheet(l)
		in := SheetInput{Name: name, Version: 1}
		for _, it := range items {
			in.Indicators = append(in.Indicators, ItemInput{Indicator: it.Indicator, Weight: it.Weight, Target: it.Target})
		}
		if _, err := validateSheet(&in); err != nil {
			t.Errorf("%s: %v", l, err)
		}
	}
	for _, in := range Indicators {
		if (in.Figure == "") == (in.Raw == "") || in.List == "" || in.Seed == "" || in.SeedRef == "" || in.SourceZH == "" || in.SourceEN == "" {
			t.Errorf("%s: incomplete registry entry", in.Key)
		}
		if in.Target <= 0 || in.Target > maxTarget(in.Unit) {
			t.Errorf("%s: default target %v out of range", in.Key, in.Target)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC) // 09:00 on 1 December in China
	for _, bad := range []string{"", "2026-13", "2026-1", "26-11", "2027-01", "1999-12"} {
		if _, err := ParsePeriod(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	p, err := ParsePeriod("2026-11", now)
	if err != nil || p.From != "2026-11-01" || p.To != "2026-11-30" || !p.Start.Equal(time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v %v", p, err)
	}
	if got := PreviousMonth(now); got != "2026-11" {
		t.Errorf("previous month %s", got)
	}
	if got := PreviousMonth(time.Date(2026, 1, 1, 0, 0, 0, 0, platform.ChinaTZ)); got != "2025-12" {
		t.Errorf("previous month of January %s", got)
	}
}
