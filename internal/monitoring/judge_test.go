package monitoring

import "testing"

func f(v float64) *float64 { return &v }

// TestJudge: results against limits, unrounded and exact (GB/T 8170
// 全数值比较法), across units, for maximum limits, banned substances and
// quality minimums; what cannot be judged says why.
func TestJudge(t *testing.T) {
	maxApple := &Applied{Value: 0.5, Unit: "mg/kg", Judgement: JudgeMax}
	enro := &Applied{Value: 100, Unit: "μg/kg", Judgement: JudgeMax}
	banned := &Applied{Value: 0, Unit: "μg/kg", Judgement: JudgeNotDetected}
	protein := &Applied{Value: 2.8, Unit: "g/100g", Judgement: JudgeMin}
	cases := []struct {
		name    string
		lim     *Applied
		value   float64
		unit    string
		lod     *float64
		verdict string
		reason  string
		shown   string
	}{
		{"below a maximum", maxApple, 0.12, "mg/kg", nil, VerdictPass, "", "0.12"},
		{"exactly at the maximum passes", maxApple, 0.5, "mg/kg", nil, VerdictPass, "", "0.5"},
		{"just above, unrounded, fails", maxApple, 0.5001, "mg/kg", nil, VerdictFail, JudgeMax, "0.5001"},
		{"μg/kg against mg/kg, exactly at", maxApple, 500, "μg/kg", nil, VerdictPass, "", "0.5"},
		{"μg/kg against mg/kg, above", maxApple, 500.1, "ug/kg", nil, VerdictFail, JudgeMax, "0.5001"},
		{"ppm is mg/kg", maxApple, 0.49, "ppm", nil, VerdictPass, "", "0.49"},
		{"0.1 μg/kg is exact, not binary noise", &Applied{Value: 0.0001, Unit: "mg/kg", Judgement: JudgeMax}, 0.1, "μg/kg", nil, VerdictPass, "", "0.0001"},
		{"mg/kg against μg/kg", enro, 0.1, "mg/kg", nil, VerdictPass, "", "100"},
		{"mg/kg against μg/kg above", enro, 0.1000001, "mg/kg", nil, VerdictFail, JudgeMax, "100.0001"},
		{"banned, not found (below the LOD)", banned, 0.2, "μg/kg", f(0.5), VerdictPass, "", "0.2"},
		{"banned, at the LOD is not a finding", banned, 0.5, "μg/kg", f(0.5), VerdictPass, "", "0.5"},
		{"banned, found above the LOD", banned, 0.8, "μg/kg", f(0.5), VerdictFail, "detected", "0.8"},
		{"banned, any positive value without a LOD", banned, 0.01, "μg/kg", nil, VerdictFail, "detected", "0.01"},
		{"banned, zero without a LOD", banned, 0, "μg/kg", nil, VerdictPass, "", "0"},
		{"protein minimum reached", protein, 3.1, "g/100g", nil, VerdictPass, "", "3.1"},
		{"protein in % is g/100g", protein, 2.8, "%", nil, VerdictPass, "", "2.8"},
		{"protein below the minimum", protein, 2.79, "g/100g", nil, VerdictFail, JudgeMin, "2.79"},
		{"no limit is not judged", nil, 1, "mg/kg", nil, VerdictNotJudged, "no_limit", ""},
		{"an unknown unit is not judged", maxApple, 1, "mg/L", nil, VerdictNotJudged, "unit", ""},
		{"a negative value is not judged", maxApple, -1, "mg/kg", nil, VerdictNotJudged, "bad_value", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Judge(c.lim, c.value, c.unit, c.lod)
			if got.Verdict != c.verdict || got.Reason != c.reason || got.InLimitUnit != c.shown {
				t.Errorf("Judge(%v %s) = %+v, want %s %q %q", c.value, c.unit, got, c.verdict, c.reason, c.shown)
			}
		})
	}
}

func TestOverall(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{VerdictPass, VerdictPass}, VerdictPass},
		{[]string{VerdictPass, VerdictNotJudged}, VerdictPass},
		{[]string{VerdictPass, VerdictFail, VerdictNotJudged}, VerdictFail},
		{[]string{VerdictNotJudged}, VerdictNotJudged},
		{nil, VerdictNotJudged},
	} {
		if got := Overall(c.in); got != c.want {
			t.Errorf("Overall(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestNormalizeUnit(t *testing.T) {
	for in, want := range map[string]string{"MG/KG": "mg/kg", "µg/kg": "μg/kg", " g/100 g ": "g/100g", "ppb": "μg/kg", "mg/L": ""} {
		if got := NormalizeUnit(in); got != want {
			t.Errorf("NormalizeUnit(%q) = %q, want %q", in, got, want)
		}
	}
}
