package ui

import (
	"math"
	"net/url"
	"testing"
)

func TestFormNumber(t *testing.T) {
	f := url.Values{"a": {" 12.5 "}, "b": {""}, "c": {"很多"}, "d": {"1e3"}, "e": {"-3"}}
	for _, c := range []struct {
		key  string
		want *float64
		nan  bool
	}{
		{"a", ptr(12.5), false},
		{"b", nil, false},
		{"missing", nil, false},
		{"c", nil, true},
		{"d", ptr(1000), false},
		{"e", ptr(-3), false},
	} {
		got := formNumber(f, c.key)
		switch {
		case c.nan:
			if got == nil || !math.IsNaN(*got) {
				t.Errorf("%s: %v, want NaN", c.key, got)
			}
		case c.want == nil:
			if got != nil {
				t.Errorf("%s: %v, want nil", c.key, *got)
			}
		case got == nil || *got != *c.want:
			t.Errorf("%s: %v, want %v", c.key, got, *c.want)
		}
	}
	if q := trQtyText("lots"); !math.IsNaN(q) {
		t.Errorf("trQtyText(lots) = %v, want NaN", q)
	}
	if q := trQtyText("200"); q != 200 {
		t.Errorf("trQtyText(200) = %v", q)
	}
	if q := trQtyText("-1"); q != -1 {
		t.Errorf("trQtyText(-1) = %v, want -1 (the service says: above 0)", q)
	}
	if q := trQtyText("1e3"); !math.IsNaN(q) {
		t.Errorf("trQtyText(1e3) = %v, want NaN (plain decimals only)", q)
	}
}

func ptr(v float64) *float64 { return &v }

func TestFieldName(t *testing.T) {
	if _, err := loadCatalogues(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ lang, field, want string }{
		{"zh", "quantity", "数量"},
		{"en", "quantity", "Quantity"},
		{"zh", "market.name", "市场名称"},
		{"zh", "parts[2]", "拆分数量 3"},
		{"zh", "inputs[0].interval_days", "投入品 1 · 间隔期（天）"},
		{"en", "attributes.ear_tags[3]", "Product details · Ear tags 4"},
		{"zh", "no_such_field", "no_such_field"},
	} {
		p := &Page{Lang: c.lang}
		if got := p.FieldName(c.field); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.lang, c.field, got, c.want)
		}
	}
}
