package insight

import (
	"math"
	"time"
)

// Assessing one series: a county's (and product's) daily hits and trials
// as stat_daily holds them, cut into the recent window and the trailing
// baseline, compared by the rule's method. Pure functions: the unit tests
// drive them with crafted series.

// bucketDays is the width of the evidence chart's buckets (weeks).
const bucketDays = 7

// maxBuckets bounds a level rule's chart (older days join the first bucket).
const maxBuckets = 52

// point is one day of a series: the rule's events and their denominator.
type point struct{ Hits, Trials int64 }

// daySeries is one county's (and product's) series, by civil day.
type daySeries map[string]point

// Bucket is a stretch of days of the evidence (a week, or what is left at
// the start of the window or the baseline).
type Bucket struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Days   int    `json:"days"`
	Window bool   `json:"window" doc:"in the recent window (else the baseline)"`
	Hits   int64  `json:"hits"`
	Trials int64  `json:"trials,omitempty"`
}

// Evidence is what a warning was raised on, kept with it.
type Evidence struct {
	Method       Method   `json:"method" doc:"binomial_upper | poisson_upper | poisson_lower | level"`
	Figure       string   `json:"figure"`
	Params       Params   `json:"params"`
	Today        string   `json:"today"`
	WindowFrom   string   `json:"window_from"`
	WindowTo     string   `json:"window_to"`
	BaselineFrom string   `json:"baseline_from,omitempty"`
	BaselineTo   string   `json:"baseline_to,omitempty"`
	Hits         int64    `json:"hits" doc:"events in the window: failures, problem sales, complaints, copied-code findings, batches, overdue reviews"`
	Trials       int64    `json:"trials,omitempty" doc:"rates: tests or sales in the window; reviews: the whole backlog"`
	BaseHits     int64    `json:"baseline_hits"`
	BaseTrials   int64    `json:"baseline_trials,omitempty"`
	BaseRate     float64  `json:"baseline_rate" doc:"rates: hits per trial in the baseline; counts: hits per day (both never below the floor)"`
	Observed     float64  `json:"observed" doc:"the window's rate (rates) or count"`
	Expected     float64  `json:"expected" doc:"rates: the baseline rate; counts: the count the baseline predicts for the window"`
	Critical     float64  `json:"critical" doc:"the window's count from which the rule fires (drops: up to which)"`
	Statistic    float64  `json:"statistic" doc:"the tail probability (levels: the count)"`
	Threshold    float64  `json:"threshold" doc:"alpha (levels: the count that fires)"`
	Buckets      []Bucket `json:"buckets"`
}

func addDays(day string, n int) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return t.AddDate(0, 0, n).Format(time.DateOnly)
}

// total sums the series over [from, to].
func (s daySeries) total(from, to string) point {
	var p point
	for d, x := range s {
		if d >= from && d <= to {
			p.Hits += x.Hits
			p.Trials += x.Trials
		}
	}
	return p
}

// oldest is the series' first day ("" when empty).
func (s daySeries) oldest() string {
	first := ""
	for d := range s {
		if first == "" || d < first {
			first = d
		}
	}
	return first
}

// buckets cuts [from, to] into weeks counted back from to (the first may be
// shorter; with limit, the days beyond it join the first).
func (s daySeries) buckets(from, to string, window bool, limit int) []Bucket {
	var out []Bucket
	for end := to; end >= from; end = addDays(end, -bucketDays) {
		start := addDays(end, 1-bucketDays)
		if start < from || (limit > 0 && len(out) == limit-1) {
			start = from
		}
		p := s.total(start, end)
		out = append(out, Bucket{From: start, To: end, Days: daysFrom(start, end), Window: window, Hits: p.Hits, Trials: p.Trials})
		if start == from {
			break
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func daysFrom(from, to string) int {
	a, _ := time.Parse(time.DateOnly, from)
	b, _ := time.Parse(time.DateOnly, to)
	return int(b.Sub(a).Hours()/24) + 1
}

// assess applies rule r with parameters p to series s on day today: the
// evidence, and whether the rule fires.
func assess(r WarnRule, p Params, today string, s daySeries) (Evidence, bool) {
	ev := Evidence{Method: r.Method, Figure: r.Figure, Params: p, Today: today}
	ev.WindowTo = addDays(today, -p.Lag)
	ev.WindowFrom = addDays(ev.WindowTo, 1-max(p.Window, 1))
	if r.Method == MethodLevel {
		return assessLevel(ev, p, s)
	}
	if p.Baseline > 0 {
		ev.BaselineTo = addDays(ev.WindowFrom, -1)
		ev.BaselineFrom = addDays(ev.BaselineTo, 1-p.Baseline)
		base := s.total(ev.BaselineFrom, ev.BaselineTo)
		ev.BaseHits, ev.BaseTrials = base.Hits, base.Trials
		ev.Buckets = s.buckets(ev.BaselineFrom, ev.BaselineTo, false, 0)
	}
	win := s.total(ev.WindowFrom, ev.WindowTo)
	ev.Hits, ev.Trials = win.Hits, win.Trials
	ev.Buckets = append(ev.Buckets, s.buckets(ev.WindowFrom, ev.WindowTo, true, 0)...)
	ev.Threshold = p.Alpha
	switch r.Method {
	case MethodRateRise:
		return ev, rateRise(&ev, p)
	case MethodCountRise:
		return ev, countRise(&ev, p)
	case MethodCountDrop:
		return ev, countDrop(&ev, p)
	}
	return ev, false
}

// rateRise: more hits among the window's trials than the baseline's rate
// makes likely.
func rateRise(ev *Evidence, p Params) bool {
	rate := 0.0
	if ev.BaseTrials > 0 {
		rate = float64(ev.BaseHits) / float64(ev.BaseTrials)
	}
	ev.BaseRate = math.Max(rate, p.Floor)
	ev.Expected = ev.BaseRate
	ev.Statistic = 1
	if ev.Trials > 0 {
		ev.Observed = float64(ev.Hits) / float64(ev.Trials)
		ev.Statistic = BinomUpper(ev.Hits, ev.Trials, ev.BaseRate)
	}
	ev.Critical = float64(binomCritical(ev.Trials, ev.BaseRate, p.Alpha))
	return float64(ev.Trials) >= p.MinBase && ev.Trials > 0 && ev.Hits >= int64(p.MinEvents) &&
		ev.Observed > ev.BaseRate && ev.Statistic < p.Alpha
}

// perDay is the baseline's hits per day.
func perDay(ev *Evidence, p Params) float64 {
	if p.Baseline <= 0 {
		return 0
	}
	return float64(ev.BaseHits) / float64(p.Baseline)
}

// countRise: more hits in the window than the baseline's daily rate
// (never below the floor) predicts.
func countRise(ev *Evidence, p Params) bool {
	ev.BaseRate = math.Max(perDay(ev, p), p.Floor)
	ev.Expected = ev.BaseRate * float64(p.Window)
	ev.Observed = float64(ev.Hits)
	ev.Statistic = PoissonUpper(ev.Hits, ev.Expected)
	if ev.Expected > 0 {
		ev.Critical = float64(poissonCriticalUpper(ev.Expected, p.Alpha))
	} else {
		ev.Critical = 1
	}
	return ev.Hits >= int64(p.MinEvents) && ev.Hits > 0 && ev.Statistic < p.Alpha
}

// countDrop: fewer hits in the window than the baseline predicts, where
// enough were expected for a drop to mean something.
func countDrop(ev *Evidence, p Params) bool {
	ev.BaseRate = perDay(ev, p)
	ev.Expected = ev.BaseRate * float64(p.Window)
	ev.Observed = float64(ev.Hits)
	ev.Statistic = PoissonLower(ev.Hits, ev.Expected)
	ev.Critical = float64(poissonCriticalLower(ev.Expected, p.Alpha))
	return ev.Expected > 0 && ev.Expected >= p.MinBase && ev.Observed < ev.Expected && ev.Statistic < p.Alpha
}

// assessLevel: a state figure (the review backlog as it stands, by the day
// each application was submitted) against a fixed count.
func assessLevel(ev Evidence, p Params, s daySeries) (Evidence, bool) {
	all := s.total("0000-00-00", "9999-99-99")
	ev.Hits, ev.Trials = all.Hits, all.Trials
	ev.Observed = float64(all.Hits)
	ev.Statistic, ev.Threshold, ev.Critical = float64(all.Hits), float64(p.MinEvents), float64(p.MinEvents)
	from := ev.WindowFrom
	if o := s.oldest(); o != "" && o < from {
		ev.Buckets = s.buckets(o, addDays(from, -1), false, max(1, maxBuckets-p.Window/bucketDays-1))
	}
	ev.Buckets = append(ev.Buckets, s.buckets(from, ev.WindowTo, true, 0)...)
	return ev, p.MinEvents > 0 && all.Hits >= int64(p.MinEvents)
}
