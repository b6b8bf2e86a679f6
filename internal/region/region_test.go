package region_test

import (
	"context"
	"testing"
	"time"

	"agtrace/internal/apptest"
	"agtrace/internal/platform"
)

func TestRegions(t *testing.T) {
	for _, engine := range apptest.Engines() {
		t.Run(engine, func(t *testing.T) {
			a := apptest.NewApp(t, engine)
			ctx := context.Background()
			chain, err := a.Regions.Ancestors(ctx, "370686001")
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, r := range chain {
				codes = append(codes, r.Code)
			}
			if len(codes) != 4 || codes[0] != "370000" || codes[1] != "370600" || codes[2] != "370686" || codes[3] != "370686001" {
				t.Fatalf("ancestors of 370686001: %v", codes)
			}
			if n, _ := a.Regions.FullName(ctx, "370686"); n != "山东省烟台市栖霞市" {
				t.Fatalf("full name: %q", n)
			}
			provinces, err := a.Regions.Children(ctx, "")
			if err != nil || len(provinces) != 3 { // tests seed the three pilot provinces
				t.Fatalf("provinces: %v %v", provinces, err)
			}
			for _, c := range []struct {
				x, root string
				want    bool
			}{{"370686001", "370600", true}, {"441881", "370000", false}, {"510722", "510000", true}} {
				got, err := a.Regions.Within(ctx, c.x, c.root)
				if err != nil || got != c.want {
					t.Errorf("Within(%s,%s) = %v %v", c.x, c.root, got, err)
				}
			}
			if _, err := a.Regions.Within(ctx, "999999", "370000"); !platform.IsNotFound(err) {
				t.Errorf("unknown code: %v", err)
			}
			// Dongguan (no counties): its towns hang directly under the prefecture
			if r, err := a.Regions.Get(ctx, "441900"); err != nil || r.Level != "prefecture" {
				t.Errorf("东莞市: %+v %v", r, err)
			}
		})
	}
}

func TestAddWorkdays(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx := context.Background()
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	cases := []struct {
		from     string
		n        int
		want     string
		complete bool
	}{
		{"2026-09-30", 5, "2026-10-13", true}, // National Day, make-up Saturday 10-10 counts
		{"2026-02-13", 2, "2026-02-24", true}, // make-up Saturday 02-14, Spring Festival
		{"2025-12-31", 1, "2026-01-04", true}, // make-up Sunday 01-04
		{"2026-04-30", 5, "2026-05-11", true}, // Labour Day, make-up Saturday 05-09
		{"2026-11-27", 0, "2026-11-27", true},
		{"2026-11-27", 1, "2026-11-30", true},  // Friday → Monday
		{"2026-12-31", 1, "2027-01-01", false}, // 2027 not published: Mon–Fri assumed, said so
		{"2016-09-30", 1, "2016-10-08", true},  // historic year: make-up Saturday
	}
	for _, c := range cases {
		got, complete, err := a.Calendar.AddWorkdays(ctx, d(c.from), c.n)
		if err != nil || got.Format(time.DateOnly) != c.want || complete != c.complete {
			t.Errorf("%s + %d = %s complete=%v err=%v; want %s complete=%v", c.from, c.n, got.Format(time.DateOnly), complete, err, c.want, c.complete)
		}
	}
	if _, _, err := a.Calendar.AddWorkdays(ctx, d("2026-01-01"), -1); err == nil {
		t.Error("negative days accepted")
	}
}
