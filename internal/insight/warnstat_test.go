package insight

import (
	"math"
	"math/rand/v2"
	"testing"

	"agtrace/internal/platform"
)

func near(got, want float64) bool {
	if want == 0 {
		return math.Abs(got) < 1e-15
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want)) || math.Abs(got/want-1) < 1e-9
}

// TestBinomUpper: exact upper tails against values worked out by hand and
// against a direct sum of the probabilities.
func TestBinomUpper(t *testing.T) {
	for _, c := range []struct {
		x, n int64
		p    float64
		want float64
	}{
		{0, 10, 0.3, 1},
		{11, 10, 0.3, 0},
		{10, 10, 0.5, 1.0 / 1024},
		{1, 10, 0.1, 1 - math.Pow(0.9, 10)},
		{3, 5, 0.02, 10*math.Pow(0.02, 3)*math.Pow(0.98, 2) + 5*math.Pow(0.02, 4)*0.98 + math.Pow(0.02, 5)},
		{1, 5, 0, 0},
		{5, 5, 1, 1},
	} {
		if got := BinomUpper(c.x, c.n, c.p); !near(got, c.want) {
			t.Errorf("BinomUpper(%d, %d, %g) = %g, want %g", c.x, c.n, c.p, got, c.want)
		}
	}
	// against the plain sum of C(n,k) p^k (1-p)^(n-k)
	for _, n := range []int64{1, 7, 30} {
		for _, p := range []float64{0.01, 0.2, 0.5, 0.9} {
			for x := int64(0); x <= n; x++ {
				want := 0.0
				for k := x; k <= n; k++ {
					want += math.Exp(logChoose(n, k)) * math.Pow(p, float64(k)) * math.Pow(1-p, float64(n-k))
				}
				if got := BinomUpper(x, n, p); math.Abs(got-want) > 1e-12 {
					t.Errorf("BinomUpper(%d, %d, %g) = %g, direct sum %g", x, n, p, got, want)
				}
			}
		}
	}
	// large n keeps tiny tails (no underflow to 0, no overflow)
	if got := BinomUpper(400, 1000, 0.1); got <= 0 || got > 1e-60 {
		t.Errorf("BinomUpper(400, 1000, 0.1) = %g", got)
	}
}

// TestPoissonTails: upper and lower tails, worked values, and that they
// add up to one around every count.
func TestPoissonTails(t *testing.T) {
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"lower(0, 2)", PoissonLower(0, 2), math.Exp(-2)},
		{"lower(2, 3)", PoissonLower(2, 3), math.Exp(-3) * (1 + 3 + 4.5)},
		{"lower(-1, 3)", PoissonLower(-1, 3), 0},
		{"upper(1, 0.35)", PoissonUpper(1, 0.35), 1 - math.Exp(-0.35)},
		{"upper(4, 0.35)", PoissonUpper(4, 0.35), 1 - math.Exp(-0.35)*(1+0.35+0.35*0.35/2+0.35*0.35*0.35/6)},
		{"upper(0, 5)", PoissonUpper(0, 5), 1},
		{"upper(3, 0)", PoissonUpper(3, 0), 0},
		{"lower(3, 0)", PoissonLower(3, 0), 1},
	} {
		if !near(c.got, c.want) && math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
	for _, lambda := range []float64{0.1, 2.5, 40, 300} {
		for x := int64(1); x < int64(lambda*2)+10; x++ {
			if s := PoissonUpper(x, lambda) + PoissonLower(x-1, lambda); math.Abs(s-1) > 1e-9 {
				t.Errorf("λ=%g x=%d: upper + lower = %g", lambda, x, s)
			}
		}
	}
	if got := PoissonUpper(200, 100); got <= 0 || got > 1e-15 {
		t.Errorf("PoissonUpper(200, 100) = %g", got)
	}
}

// TestCriticalValues: the critical counts are where the tests start (stop) firing.
func TestCriticalValues(t *testing.T) {
	for _, c := range []struct {
		n     int64
		p, a  float64
		wantX int64
	}{{28, 0.05, 0.001, 7}, {10, 0.02, 0.001, 3}, {5, 0.5, 0.001, 6}} {
		x := binomCritical(c.n, c.p, c.a)
		if x != c.wantX || (x <= c.n && BinomUpper(x, c.n, c.p) >= c.a) || BinomUpper(x-1, c.n, c.p) < c.a {
			t.Errorf("binomCritical(%d, %g, %g) = %d, want %d", c.n, c.p, c.a, x, c.wantX)
		}
	}
	for _, l := range []float64{0.35, 4, 70} {
		x := poissonCriticalUpper(l, 0.001)
		if PoissonUpper(x, l) >= 0.001 || PoissonUpper(x-1, l) < 0.001 {
			t.Errorf("poissonCriticalUpper(%g) = %d", l, x)
		}
		y := poissonCriticalLower(l, 0.001)
		if y >= 0 && PoissonLower(y, l) >= 0.001 || PoissonLower(y+1, l) < 0.001 {
			t.Errorf("poissonCriticalLower(%g) = %d", l, y)
		}
	}
}

const today = "2026-06-30"

// daily builds a series over the days [today-from, today-to] (days back)
// with f giving each day's hits and trials.
func daily(s daySeries, from, to int, f func(i int) point) daySeries {
	if s == nil {
		s = daySeries{}
	}
	for d := from; d >= to; d-- {
		day := addDays(today, -d)
		p := s[day]
		x := f(d)
		p.Hits += x.Hits
		p.Trials += x.Trials
		s[day] = p
	}
	return s
}

func rule(k RuleKey) WarnRule {
	r, ok := LookupRule(string(k))
	if !ok {
		panic(k)
	}
	return r
}

// bernoulli: one test a day failing with probability p.
func bernoulli(rng *rand.Rand, p float64) func(int) point {
	return func(int) point {
		if rng.Float64() < p {
			return point{1, 1}
		}
		return point{0, 1}
	}
}

// TestAssessRules: each rule fires on a crafted series and stays silent on
// its near misses.
func TestAssessRules(t *testing.T) {
	every := func(h, n int64) func(int) point { return func(int) point { return point{h, n} } }
	everyNth := func(k int, h int64) func(int) point {
		return func(d int) point {
			if d%k == 0 {
				return point{h, h}
			}
			return point{}
		}
	}
	for _, c := range []struct {
		name string
		rule RuleKey
		s    daySeries
		fire bool
	}{
		// 2 tests a week in the baseline, 1 in 20 failing; then 6 of 12 in four weeks
		{"failures rising", RuleFailureRate, daily(daily(nil, 195, 28, func(d int) point {
			if d%3 != 0 {
				return point{}
			}
			if d%60 == 0 {
				return point{1, 1}
			}
			return point{0, 1}
		}), 27, 0, func(d int) point {
			if d%2 != 0 {
				return point{}
			}
			return point{int64(d % 4 / 2), 1}
		}), true},
		{"failures steady", RuleFailureRate, daily(nil, 195, 0, everyNth(10, 0)), false},
		{"too few tests", RuleFailureRate, daily(daily(nil, 195, 28, every(0, 1)), 27, 0, everyNth(14, 1)), false},
		{"two failures only", RuleFailureRate, daily(daily(nil, 195, 28, every(0, 1)), 27, 0, func(d int) point {
			if d < 2 {
				return point{1, 1}
			}
			return point{0, 1}
		}), false},
		{"no history: 3 of 5 fail", RuleFailureRate, daily(nil, 4, 0, func(d int) point { return point{int64((d + 1) % 2), 1} }), true},
		// sales: 1 problem in 20 before; half unconfirmed lately (the last 5 days are still settling)
		{"unconfirmed sales surge", RuleTransferSurge, daily(daily(nil, 102, 19, every(0, 4)), 18, 5, every(2, 4)), true},
		{"only the settling days", RuleTransferSurge, daily(daily(nil, 102, 5, every(0, 4)), 4, 0, every(4, 4)), false},
		{"complaints: 4 in a week, none before", RuleComplaintCluster, daily(nil, 3, 0, every(1, 0)), true},
		{"complaints: 2 in a week", RuleComplaintCluster, daily(nil, 1, 0, every(1, 0)), false},
		{"complaints: one a week as always", RuleComplaintCluster, daily(nil, 90, 0, everyNth(7, 1)), false},
		{"copied codes: 5 in a week", RuleCloneCluster, daily(nil, 4, 0, every(1, 0)), true},
		{"batches stop", RuleBatchDrop, daily(nil, 98, 15, every(5, 0)), true},
		{"batches dip a little", RuleBatchDrop, daily(nil, 98, 1, func(d int) point { return point{int64(5 - d%2), 0} }), false},
		{"a small producer pauses", RuleBatchDrop, daily(nil, 98, 15, everyNth(10, 1)), false},
		{"reviews: 3 overdue", RuleReviewBacklog, daily(nil, 20, 18, every(1, 1)), true},
		{"reviews: 2 overdue of 9", RuleReviewBacklog, daily(daily(nil, 20, 19, every(1, 1)), 6, 0, every(0, 1)), false},
	} {
		r := rule(c.rule)
		ev, fire := assess(r, r.Defaults, today, c.s)
		if fire != c.fire {
			t.Errorf("%s: fired %v, want %v (hits %d/%d, baseline %d/%d, rate %g, expected %g, statistic %g)",
				c.name, fire, c.fire, ev.Hits, ev.Trials, ev.BaseHits, ev.BaseTrials, ev.BaseRate, ev.Expected, ev.Statistic)
		}
		var hits int64
		for _, b := range ev.Buckets {
			if b.Window || r.Method == MethodLevel { // a level counts every day it holds
				hits += b.Hits
			}
		}
		if hits != ev.Hits {
			t.Errorf("%s: the window's buckets hold %d hits, the window %d", c.name, hits, ev.Hits)
		}
	}
}

// TestAssessWindows: the window ends lag days before today and the
// baseline ends the day before the window; the buckets tile both.
func TestAssessWindows(t *testing.T) {
	r := rule(RuleTransferSurge)
	ev, _ := assess(r, r.Defaults, today, daySeries{})
	if ev.WindowTo != "2026-06-25" || ev.WindowFrom != "2026-06-12" || ev.BaselineTo != "2026-06-11" || ev.BaselineFrom != "2026-03-20" {
		t.Fatalf("window %s–%s, baseline %s–%s", ev.WindowFrom, ev.WindowTo, ev.BaselineFrom, ev.BaselineTo)
	}
	days, prev := 0, ""
	for _, b := range ev.Buckets {
		if prev != "" && b.From != addDays(prev, 1) {
			t.Errorf("bucket %s–%s does not follow %s", b.From, b.To, prev)
		}
		if b.Days < 1 || b.Days > bucketDays {
			t.Errorf("bucket %s–%s has %d days", b.From, b.To, b.Days)
		}
		days += b.Days
		prev = b.To
	}
	if days != r.Defaults.Window+r.Defaults.Baseline || ev.Buckets[0].From != ev.BaselineFrom || prev != ev.WindowTo {
		t.Errorf("buckets cover %d days, %s–%s", days, ev.Buckets[0].From, prev)
	}
}

// TestNoiseDoesNotFire: series whose failure rate never changes (random
// variation around the same mean) raise (almost) nothing, while the same
// series with the rate tripled in the window are caught; the false alarm
// rate stays near the significance level.
func TestNoiseDoesNotFire(t *testing.T) {
	r := rule(RuleFailureRate)
	rng := rand.New(rand.NewPCG(14, 3))
	const runs = 2000
	false1, caught := 0, 0
	for i := 0; i < runs; i++ {
		noise := daily(nil, 195, 0, bernoulli(rng, 0.08))
		if _, fire := assess(r, r.Defaults, today, noise); fire {
			false1++
		}
		rising := daily(daily(nil, 195, 28, bernoulli(rng, 0.08)), 27, 0, bernoulli(rng, 0.45))
		if _, fire := assess(r, r.Defaults, today, rising); fire {
			caught++
		}
	}
	if false1 > runs/200 {
		t.Errorf("%d of %d noise series fired (want ≤ 0.5 %%)", false1, runs)
	}
	if caught < runs*9/10 {
		t.Errorf("only %d of %d rising series fired (want ≥ 90 %%)", caught, runs)
	}
	t.Logf("noise fired %d/%d, rising caught %d/%d", false1, runs, caught, runs)

	// the fixed noise series of the integration test never fires
	fixed := daily(nil, 195, 0, bernoulli(rand.New(rand.NewPCG(1, 2)), 0.1))
	if ev, fire := assess(r, r.Defaults, today, fixed); fire {
		t.Errorf("the fixed noise series fired: %+v", ev)
	}
}

// TestSettingsResolve: a parameter comes from the nearest level that sets
// it, else the default.
func TestSettingsResolve(t *testing.T) {
	r := rule(RuleFailureRate)
	ws := warnSettings{RuleFailureRate: {
		"000000": {ParamAlpha: 0.01, ParamWindow: 14},
		"370000": {ParamWindow: 21},
		"370686": {ParamEnabled: 0},
	}}
	p, in := ws.For(r, "370686")
	if p.Alpha != 0.01 || p.Window != 21 || p.Enabled || p.Baseline != r.Defaults.Baseline {
		t.Errorf("370686: %+v", p)
	}
	if in[ParamWindow] != "370000" || in[ParamAlpha] != "000000" || in[ParamEnabled] != "370686" || in[ParamBaseline] != "" {
		t.Errorf("set in: %v", in)
	}
	if p, _ := ws.For(r, "440981"); p.Window != 14 || !p.Enabled {
		t.Errorf("440981: %+v", p)
	}
	if n := ws.span(r); n != r.Defaults.Window+r.Defaults.Baseline {
		t.Errorf("span %d", n)
	}
	for code, want := range map[string]int{"000000": 1, "370000": 2, "370600": 3, "370686": 4} {
		if got := chain(code); len(got) != want || got[0] != "000000" || got[len(got)-1] != code {
			t.Errorf("chain(%s) = %v", code, got)
		}
	}
}

// TestPrepareWarningStatus: a decision is refused on the field that is
// wrong (422), as a conflict when the warning moved on since the caller
// saw it (409), and accepted otherwise.
func TestPrepareWarningStatus(t *testing.T) {
	open := Warning{Status: WarningOpen}
	acked := Warning{Status: WarningAcknowledged}
	for _, c := range []struct {
		name  string
		w     Warning
		in    WarningStatusInput
		kind  platform.Kind
		field string
	}{
		{"acknowledge", open, WarningStatusInput{Status: "acknowledged"}, 0, ""},
		{"close with a note", acked, WarningStatusInput{Status: "closed", Note: "已约谈，整改完成", From: "acknowledged"}, 0, ""},
		{"no status", open, WarningStatusInput{}, platform.KindInvalid, "status"},
		{"unknown status", open, WarningStatusInput{Status: "done"}, platform.KindInvalid, "status"},
		{"dismiss without a note", open, WarningStatusInput{Status: "dismissed", Note: "  "}, platform.KindInvalid, "note"},
		{"reopen", Warning{Status: WarningClosed}, WarningStatusInput{Status: "open"}, platform.KindInvalid, "status"},
		{"acknowledge twice", acked, WarningStatusInput{Status: "acknowledged"}, platform.KindInvalid, "status"},
		{"moved on meanwhile", acked, WarningStatusInput{Status: "acknowledged", From: "open"}, platform.KindConflict, ""},
		{"unknown from", open, WarningStatusInput{Status: "acknowledged", From: "new"}, platform.KindInvalid, "from"},
	} {
		in := c.in
		err := prepareWarningStatus(c.w, &in)
		if c.kind == 0 {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if platform.KindOf(err) != c.kind {
			t.Errorf("%s: %v, want kind %v", c.name, err, c.kind)
			continue
		}
		if c.field != "" {
			pe := err.(*platform.Error)
			if len(pe.Fields) == 0 || pe.Fields[0].Field != c.field {
				t.Errorf("%s: fields %+v, want %s", c.name, pe.Fields, c.field)
			}
		}
	}
}
