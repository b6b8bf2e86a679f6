package trace

import (
	"strings"
	"testing"
)

func TestGroupProducts(t *testing.T) {
	all := []Product{
		{Code: "chinese_cabbage", Name: "大白菜", CategoryName: "蔬菜", NameEN: "Chinese cabbage"},
		{Code: "apple", Name: "苹果", CategoryName: "水果", NameEN: "Apple"},
		{Code: "pear", Name: "梨", CategoryName: "水果", NameEN: "Pear"},
		{Code: "tea_fresh_leaf", Name: "茶鲜叶", CategoryName: "茶叶", NameEN: "Fresh tea leaves"},
		{Code: "green_tea", Name: "绿茶", CategoryName: "茶叶", NameEN: "Green tea"},
		{Code: "live_pig", Name: "生猪", CategoryName: "畜", NameEN: "Live pig"},
	}
	codes := func(ps []Product) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Code)
		}
		return strings.Join(out, " ")
	}
	for _, c := range []struct {
		name             string
		recent, business []string
		wantRecent       string
		wantBusiness     string
		wantDefault      string
	}{
		{"apple farm, first batch", nil, []string{"苹果"}, "", "apple", "apple"},
		{"tea garden: the category's products", nil, []string{"茶叶种植与加工"}, "", "tea_fresh_leaf green_tea", "tea_fresh_leaf"},
		{"recent first, then business", []string{"pear", "apple"}, []string{"苹果、梨"}, "pear apple", "", "pear"},
		{"English business text", nil, []string{"live pig farming"}, "", "live_pig", "live_pig"},
		{"one-character names do not match everything", nil, []string{"梨园"}, "", "", ""},
		{"nothing known: no default", nil, nil, "", "", ""},
		{"an unknown recent code is skipped", []string{"gone"}, nil, "", "", ""},
	} {
		g := groupProducts(all, c.recent, c.business)
		def, _ := g.Default()
		if codes(g.Recent) != c.wantRecent || codes(g.Business) != c.wantBusiness || def.Code != c.wantDefault {
			t.Errorf("%s: recent %q business %q default %q; want %q %q %q", c.name, codes(g.Recent), codes(g.Business), def.Code,
				c.wantRecent, c.wantBusiness, c.wantDefault)
		}
		if n := len(g.Recent) + len(g.Business) + len(g.Other); n != len(all) {
			t.Errorf("%s: %d products offered, want all %d", c.name, n, len(all))
		}
	}
}

func TestRemembered(t *testing.T) {
	for key, want := range map[string]bool{"plot": true, "variety": true, "tank": true, "residue_test_ref": false, "test_ref": false,
		"ear_tags": false, "quarantine_cert": false, "slaughter_batch": false, "note": false} {
		if Remembered(key) != want {
			t.Errorf("Remembered(%q) = %v", key, !want)
		}
	}
}
