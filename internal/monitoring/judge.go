// Package monitoring holds the monitoring system of the notice (annex art.
// 15): residue limits as data, sampling tests judged against them, and —
// when a sample fails — holds and recalls of every downstream batch.
package monitoring

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Judgement types: how a result is compared with its limit.
const (
	JudgeMax         = "max"          // the result must not exceed the limit (a maximum residue limit)
	JudgeNotDetected = "not_detected" // the substance must not be found: any value above the detection limit fails (banned substances)
	JudgeMin         = "min"          // the result must reach the limit (quality indexes such as milk protein)
)

// Verdicts of an item and of a sample.
const (
	VerdictPass      = "pass"
	VerdictFail      = "fail"
	VerdictNotJudged = "not_judged"
)

// unitFactors are the mass-fraction units a result or limit may be in, as
// exact multiples of mg/kg.
var unitFactors = map[string]*big.Rat{
	"mg/kg":  big.NewRat(1, 1),
	"μg/kg":  big.NewRat(1, 1000),
	"ng/g":   big.NewRat(1, 1000),
	"g/kg":   big.NewRat(1000, 1),
	"g/100g": big.NewRat(10000, 1),
	"%":      big.NewRat(10000, 1), // mass fraction
}

// unitAliases are the spellings people type for the units above.
var unitAliases = map[string]string{
	"mg/kg": "mg/kg", "ppm": "mg/kg", "mg·kg-1": "mg/kg", "mg/kg-1": "mg/kg",
	"μg/kg": "μg/kg", "µg/kg": "μg/kg", "ug/kg": "μg/kg", "ppb": "μg/kg",
	"ng/g": "ng/g", "g/kg": "g/kg", "g/100g": "g/100g", "g/100 g": "g/100g", "%": "%",
}

// NormalizeUnit returns the canonical spelling of a unit ("" when unknown).
func NormalizeUnit(u string) string {
	return unitAliases[strings.ToLower(strings.ReplaceAll(strings.TrimSpace(u), " ", ""))]
}

// Units lists the canonical units.
var Units = []string{"mg/kg", "μg/kg", "ng/g", "g/kg", "g/100g", "%"}

// exact turns a measured number into the exact decimal it was written as
// (the shortest representation of the float, so 0.1 is 1/10, not the
// binary approximation): results are compared unrounded (GB/T 8170
// 全数值比较法) and exactly.
func exact(v float64) (*big.Rat, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(v, 'g', -1, 64))
	return r, ok
}

// convert expresses value in unit `from` in unit `to`, exactly.
func convert(value *big.Rat, from, to string) (*big.Rat, bool) {
	ff, ok1 := unitFactors[from]
	ft, ok2 := unitFactors[to]
	if !ok1 || !ok2 {
		return nil, false
	}
	out := new(big.Rat).Mul(value, ff)
	return out.Quo(out, ft), true
}

// Applied is the limit a result is judged against.
type Applied struct {
	Value     float64
	Unit      string
	Judgement string // max | not_detected | min
}

// Outcome is an item's verdict and why.
type Outcome struct {
	Verdict string
	Reason  string // for not_judged, and for failures: what was compared
	// InLimitUnit is the result expressed in the limit's unit (exact
	// decimal text, unrounded).
	InLimitUnit string
}

// Judge compares one result with its limit. lod is the method's detection
// limit in the result's unit (nil: not given). Without a limit, with a unit
// that does not convert, or without what a not-detected judgement needs,
// the item is not judged — never silently passed.
func Judge(lim *Applied, value float64, unit string, lod *float64) Outcome {
	if lim == nil {
		return Outcome{Verdict: VerdictNotJudged, Reason: "no_limit"}
	}
	u, lu := NormalizeUnit(unit), NormalizeUnit(lim.Unit)
	v, ok := exact(value)
	if !ok || v.Sign() < 0 {
		return Outcome{Verdict: VerdictNotJudged, Reason: "bad_value"}
	}
	if u == "" || lu == "" {
		return Outcome{Verdict: VerdictNotJudged, Reason: "unit"}
	}
	inLimit, ok := convert(v, u, lu)
	if !ok {
		return Outcome{Verdict: VerdictNotJudged, Reason: "unit"}
	}
	text := inLimit.FloatString(9)
	text = strings.TrimRight(strings.TrimRight(text, "0"), ".")
	switch lim.Judgement {
	case JudgeNotDetected:
		// a banned substance: any finding above the method's detection limit fails
		threshold := new(big.Rat)
		if lod != nil {
			l, ok := exact(*lod)
			if !ok || l.Sign() < 0 {
				return Outcome{Verdict: VerdictNotJudged, Reason: "bad_lod"}
			}
			threshold = l
		} else if lim.Value > 0 {
			// no detection limit given: the standard's own (its "limit" is the method's LOD)
			l, _ := exact(lim.Value)
			threshold, _ = convert(l, lu, u)
		}
		if v.Cmp(threshold) > 0 {
			return Outcome{Verdict: VerdictFail, Reason: "detected", InLimitUnit: text}
		}
		return Outcome{Verdict: VerdictPass, InLimitUnit: text}
	case JudgeMax, JudgeMin:
		l, ok := exact(lim.Value)
		if !ok {
			return Outcome{Verdict: VerdictNotJudged, Reason: "bad_limit"}
		}
		c := inLimit.Cmp(l)
		if (lim.Judgement == JudgeMax && c > 0) || (lim.Judgement == JudgeMin && c < 0) {
			return Outcome{Verdict: VerdictFail, Reason: lim.Judgement, InLimitUnit: text}
		}
		return Outcome{Verdict: VerdictPass, InLimitUnit: text}
	}
	return Outcome{Verdict: VerdictNotJudged, Reason: fmt.Sprintf("judgement %q", lim.Judgement)}
}

// Overall is a sample's verdict from its items: fail if any judged item
// fails; pass if at least one item was judged and none failed (items not
// judged are reported as such, item by item); not_judged when nothing
// could be judged — a sample with nothing judged never passes.
func Overall(verdicts []string) string {
	judged, failed := 0, false
	for _, v := range verdicts {
		switch v {
		case VerdictFail:
			failed = true
			judged++
		case VerdictPass:
			judged++
		}
	}
	switch {
	case failed:
		return VerdictFail
	case judged == 0:
		return VerdictNotJudged
	}
	return VerdictPass
}
