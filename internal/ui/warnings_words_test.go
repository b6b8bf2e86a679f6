package ui

import (
	"testing"

	"agtrace/internal/insight"
)

// TestWarningWords: every rule, status, method and filter the warning
// pages show through a key prefix has its text in both languages.
func TestWarningWords(t *testing.T) {
	var keys []string
	for _, r := range insight.WarnRules {
		keys = append(keys, "wr.rule."+string(r.Key), "wr.hits."+string(r.Key), "wr.trials."+string(r.Key), "wr.method."+string(r.Method))
	}
	for _, st := range insight.WarningStatuses {
		keys = append(keys, "wr.status."+string(st), "status."+string(st))
		if st != insight.WarningOpen {
			keys = append(keys, "wr.to."+string(st))
		}
	}
	for _, f := range wrFilters {
		keys = append(keys, "wr.filter."+f)
	}
	for _, p := range insight.ParamNames {
		keys = append(keys, "wr.param."+string(p))
	}
	for _, lang := range []string{"zh", "en"} {
		for _, k := range keys {
			if _, ok := catalogues()[lang][k]; !ok {
				t.Errorf("%s: %q has no text", lang, k)
			}
		}
	}
}
