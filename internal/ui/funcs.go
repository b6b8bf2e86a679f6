package ui

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// funcs are the template functions every page may use (one list, declared
// here, not assembled by init functions).
var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(platform.ChinaTZ).Format("2006-01-02")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(platform.ChinaTZ).Format("2006-01-02 15:04")
	},
	"join": strings.Join,
	"has": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"add":     func(a, b int) int { return a + b },
	"list":    func(s ...string) []string { return s },
	"grouped": grouped,
	"pct":     func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},

	// supervision pages
	"deref": func(f *float64) float64 {
		if f == nil {
			return 0
		}
		return *f
	},
	"itemName": supervision.ItemName,
	"roleOf":   func(s string) auth.Role { return auth.Role(s) },

	// operator pages
	"opNth": formNth,
	"opSeq": seq,
	"opPct": func(rate float64) int { return int(rate*100 + 0.5) },

	// trace pages
	"trQty":  func(q float64) string { return trace.FormatQty(q) },
	"trUnit": trace.UnitName,
	"trCodeType": func(code string) string {
		if tc, err := codes.ParseTraceCode(code); err == nil {
			return tc.Type.Label()
		}
		return ""
	},
	"trAttr": trAttr,
	"trList": func(v any) []string {
		switch t := v.(type) {
		case []any:
			out := make([]string, len(t))
			for i, x := range t {
				out[i] = fmt.Sprint(x)
			}
			return out
		case []string:
			return t
		}
		return []string{trAttr(v)}
	},
	"trSeq": seq,
	"trInputFields": func(i int) []string {
		var out []string
		for _, f := range []string{"kind", "name", "reg_no", "dose", "used_at", "interval_days"} {
			out = append(out, fmt.Sprintf("inputs[%d].%s", i, f))
		}
		return out
	},
	"trNth": formNth,
}

// grouped writes a code in groups of four digits.
func grouped(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// formNth is the i-th value of a repeated form field ("" if absent).
func formNth(v url.Values, key string, i int) string {
	if v == nil || i >= len(v[key]) {
		return ""
	}
	return v[key][i]
}

// seq is 0 … n-1, for repeated form rows.
func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// trAttr shows an extension-field value (lists joined with 、).
func trAttr(v any) string {
	switch t := v.(type) {
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, "、")
	case []string:
		return strings.Join(t, "、")
	case float64:
		return trace.FormatQty(t)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
