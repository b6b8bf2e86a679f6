package demo

import (
	"context"
	"fmt"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/monitoring"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// monitoringStep records the monitoring demo: passing samples of the
// pilot products, a clenbuterol failure at 高州's pig farm whose recall
// holds the slaughterhouse's carcasses and cuts and the market entries in
// 高州 and in 英德 (another county), with a draft case for 高州's enforcer; a
// quick-test positive awaiting confirmation, and a hold released after a
// re-test.
func monitoringStep(ctx context.Context, l *Loader) error {
	var n int
	if err := l.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM samples`).Scan(&n); err != nil || n > 0 {
		return err // loaded before
	}
	m := &monitoringDemo{ctx: ctx, l: l, today: platform.Today(l.App.Clock.Now())}
	lot := func(user, product, origin string) string { return m.lot(user, product, origin) }
	v := func(f float64) *float64 { return &f }
	m.sample("qixia-tester", "qixia-orchard", lot("qixia-orchard", "apple", ""), "QX-2026-0101", monitoring.KindLab,
		monitoring.SampleItemInput{Substance: "chlorpyrifos", Value: v(0.05), Unit: "mg/kg", LOD: v(0.01)},
		monitoring.SampleItemInput{Substance: "imidacloprid", Value: v(0.12), Unit: "mg/kg", LOD: v(0.01)})
	m.sample("santai-tester", "santai-dairyfarm", lot("santai-dairyfarm", "raw_milk", ""), "ST-2026-0033", monitoring.KindLab,
		monitoring.SampleItemInput{Substance: "melamine", Value: v(0.1), Unit: "mg/kg"},
		monitoring.SampleItemInput{Substance: "protein", Value: v(3.2), Unit: "g/100g"},
		monitoring.SampleItemInput{Substance: "aflatoxin_m1", Value: v(0.08), Unit: "μg/kg"})
	m.sample("rongcheng-tester", "rongcheng-farm", lot("rongcheng-farm", "turbot", ""), "RC-2026-0210", monitoring.KindLab,
		monitoring.SampleItemInput{Substance: "malachite_green", Value: v(0), Unit: "μg/kg", LOD: v(0.5)},
		monitoring.SampleItemInput{Substance: "enro_cipro", Value: v(35), Unit: "μg/kg"})
	m.sample("yingde-tester", "yingde-garden", lot("yingde-garden", "tea_fresh_leaf", ""), "YD-2026-Q-017", monitoring.KindQuick,
		monitoring.SampleItemInput{Substance: "有机磷类农药", Result: monitoring.QuickPositive})
	// the clenbuterol failure: the first pig lot, slaughtered, cut and sold at the market
	m.sample("gaozhou-tester", "gaozhou-farm", lot("gaozhou-farm", "live_pig", "2 号栏舍"), "GZ-2026-0088", monitoring.KindLab,
		monitoring.SampleItemInput{Substance: "clenbuterol", Value: v(2.6), Unit: "μg/kg", LOD: v(0.5)},
		monitoring.SampleItemInput{Substance: "ractopamine", Value: v(0), Unit: "μg/kg", LOD: v(0.5)})
	// a failure on the second lot, released after the confirmatory test
	released := m.sample("gaozhou-tester", "gaozhou-farm", lot("gaozhou-farm", "live_pig", "3 号栏舍"), "GZ-2026-0091", monitoring.KindLab,
		monitoring.SampleItemInput{Substance: "salbutamol", Value: v(0.9), Unit: "μg/kg", LOD: v(0.5)})
	if m.err == nil && released.Recall != nil {
		_, m.err = l.App.Monitoring.Release(ctx, actorOf(m.user("gaozhou-supervisor")), released.Recall.ID,
			"确证检测（GB/T 22286，样品 GZ-2026-0091-B）未检出沙丁胺醇，原速测/初检结果为假阳性")
	}
	// its draft case is declined; the clenbuterol one waits for 高州's enforcer
	if m.err == nil && released.ID != 0 {
		m.err = m.declineDraft(released.ID, "确证检测未检出沙丁胺醇，召回已解除，不予立案")
	}
	return m.err
}

// declineDraft closes the draft case a failed sample opened, with reason.
func (m *monitoringDemo) declineDraft(sampleID int64, reason string) error {
	enf := actorOf(m.user("gaozhou-enforcer"))
	list, err := m.l.App.Supervision.Cases(m.ctx, enf, supervision.CaseFilter{Status: supervision.CaseDraft, Limit: 50})
	if err != nil {
		return err
	}
	for _, c := range list {
		if c.Source == supervision.SourceSample && c.SourceID == fmt.Sprint(sampleID) {
			_, err := m.l.App.Supervision.TakeStep(m.ctx, enf, c.ID, supervision.StepInput{Step: supervision.StepClosed, Note: reason})
			return err
		}
	}
	return fmt.Errorf("demo monitoring: no draft case for sample %d", sampleID)
}

type monitoringDemo struct {
	ctx   context.Context
	l     *Loader
	today string
	err   error
}

func (m *monitoringDemo) user(name string) auth.User {
	u, err := m.l.App.Auth.GetUserByName(m.ctx, name)
	if err != nil && m.err == nil {
		m.err = fmt.Errorf("demo monitoring: account %s: %w", name, err)
	}
	return u
}

// lot is an operator's batch of product (whose origin contains origin).
func (m *monitoringDemo) lot(user, product, origin string) string {
	if m.err != nil {
		return ""
	}
	list, err := m.l.App.Trace.ListBatches(m.ctx, actorOf(m.user(user)), trace.BatchFilter{Limit: 200})
	if err != nil {
		m.err = err
		return ""
	}
	for _, b := range list {
		if b.ProductCode == product && b.Type == 1 && strings.Contains(b.Origin, origin) {
			return b.TraceCode
		}
	}
	m.err = fmt.Errorf("demo monitoring: %s has no %s batch %q", user, product, origin)
	return ""
}

func (m *monitoringDemo) sample(tester, opUser, code, no, kind string, items ...monitoring.SampleItemInput) monitoring.Sample {
	if m.err != nil {
		return monitoring.Sample{}
	}
	o := m.user(opUser)
	op, err := m.l.App.Operators.ByID(m.ctx, o.OperatorID)
	if err != nil {
		m.err = err
		return monitoring.Sample{}
	}
	x, err := m.l.App.Monitoring.RecordSample(m.ctx, actorOf(m.user(tester)), monitoring.SampleInput{OperatorCode: op.Code, BatchCode: code, SampleNo: no,
		SampledAt: m.today, Place: op.Name, Agency: "县级农产品质量安全检测中心", Method: "GB 23200.113-2026", Kind: kind, Items: items})
	if err != nil {
		m.err = fmt.Errorf("demo sample %s: %w", no, err)
	}
	return x
}
