package ui

import (
	"strings"
	"testing"

	"agtrace/internal/trace"
)

func TestWords(t *testing.T) {
	if _, err := loadCatalogues(); err != nil {
		t.Fatal(err)
	}
	zh, en := &Page{Lang: "zh"}, &Page{Lang: "en"}
	for _, c := range []struct {
		p    *Page
		key  string
		v    any
		want string
	}{
		{zh, "unit", "kg", "千克"},
		{en, "unit", "head", "head"},
		{zh, "annual_output_unit", "t", "吨"},
		{zh, "basis", "self_test", "自行检测合格"},
		{zh, "market_kind", "wholesale", "批发市场"},
		{zh, "kind", "safety_interval", "安全间隔期/休药期内采收"},
		{zh, "biz_step", "shipping", "发货"},
		{zh, "override", true, "是"},
		{en, "override", false, "no"},
		{zh, "quantity", 1800.0, "1800"},
		{zh, "quantity", 0.1 + 0.2, "0.3"},
		{zh, "permissions", []any{"record", "sell"}, "记录批次、销售"},
		{zh, "reason", "货不对板", "货不对板"}, // free text stays as typed
		{zh, "status", "no_such_status", "no_such_status"},
	} {
		if got := c.p.Words(c.key, c.v); got != c.want {
			t.Errorf("%s Words(%q, %v) = %q, want %q", c.p.Lang, c.key, c.v, got, c.want)
		}
	}
}

func TestDetailsOrderAndNesting(t *testing.T) {
	p := &Page{Lang: "zh"}
	got := p.DetailsJSON(`{"shipped_at":"2026-11-21","unit":"kg","biz_step":"shipping","quantity":4000,"from_code":"13706860000000000016",
		"destination":{"market":"栖霞市城区农贸市场","market_kind":"retail"},"status":"pending"}`)
	var keys, lines []string
	for _, d := range got {
		keys = append(keys, d.Key)
		lines = append(lines, d.Label+"："+d.Value)
	}
	if want := "from_code quantity unit shipped_at status biz_step destination.market destination.market_kind"; strings.Join(keys, " ") != want {
		t.Errorf("order: %s\nwant:  %s", strings.Join(keys, " "), want)
	}
	for _, want := range []string{"数量：4000", "单位：千克", "状态：待确认", "业务环节：发货", "去向 · 市场类型：零售市场"} {
		if !strings.Contains(strings.Join(lines, "\n"), want) {
			t.Errorf("details lack %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
	if d := p.DetailsJSON("not json"); len(d) != 1 || d[0].Value != "not json" {
		t.Errorf("plain text detail: %+v", d)
	}
	if d := p.DetailsJSON(""); d != nil {
		t.Errorf("empty detail: %+v", d)
	}
}

func TestAuditWords(t *testing.T) {
	p := &Page{Lang: "zh"}
	if got := p.AuditAction("batch.create"); got != "登记生产批次" {
		t.Errorf("AuditAction(batch.create) = %q", got)
	}
	if got := p.AuditAction("something.new"); got != "something.new" {
		t.Errorf("an unknown action shows as %q", got)
	}
	if got := p.AuditResource("operator", "42"); got != "经营主体 #42" {
		t.Errorf("AuditResource(operator, 42) = %q", got)
	}
	if got := p.AuditResource("trace_code", "13706860000000000016"); got != "追溯码 13706860000000000016" {
		t.Errorf("AuditResource(trace_code) = %q", got)
	}
	// every action the services emit has its words (the filter offers them)
	for _, a := range []string{"transfer.create", "transfer.reject", "operator.approve", "print.T", "user.disabled", "certificate.issue"} {
		if got := p.AuditAction(a); got == a {
			t.Errorf("action %q has no words", a)
		}
	}
}

func TestOption(t *testing.T) {
	f := trace.Field{Key: "storage", Options: []trace.Option{{Value: "cold", Name: "冷藏", NameEN: "cold store"}}}
	if got := (&Page{Lang: "zh"}).Option(f, "cold"); got != "冷藏" {
		t.Errorf("Option(cold) = %q", got)
	}
	if got := (&Page{Lang: "en"}).Option(f, "cold"); got != "cold store" {
		t.Errorf("Option(cold) en = %q", got)
	}
	if got := (&Page{Lang: "zh"}).Option(f, "frozen"); got != "frozen" {
		t.Errorf("an unknown option shows as %q", got)
	}
}
