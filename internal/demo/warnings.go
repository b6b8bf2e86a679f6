package demo

import (
	"context"
	"fmt"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/complaints"
	"agtrace/internal/monitoring"
	"agtrace/internal/platform"
)

// warningsStep makes the early-warning demo out of real records, then runs
// the rules: 栖霞's apple orchard had one organophosphate quick test a week
// for half a year, nearly all negative, and four of the last six are
// positive (the failure-rate rule fires); 高州 received three more reports
// of pork labels that scan to nothing within days of the first (the
// complaint-cluster rule fires).
func warningsStep(ctx context.Context, l *Loader) error {
	var n int
	if err := l.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM samples WHERE sample_no = $1`, warnDemoFirst).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if err := warnDemoSamples(ctx, l); err != nil {
			return err
		}
		if err := warnDemoComplaints(ctx, l); err != nil {
			return err
		}
	}
	_, err := l.App.Insight.EvaluateWarnings(ctx, auth.System())
	return err
}

// warnDemoFirst is the first of the demo's weekly quick tests (its marker).
const warnDemoFirst = "QX-KS-2026-001"

// warnDemoSamples records 24 weekly quick tests of 栖霞's apples, the last
// six within four weeks: positives in week 15 and in four of the last six.
func warnDemoSamples(ctx context.Context, l *Loader) error {
	m := &monitoringDemo{ctx: ctx, l: l, today: platform.Today(l.App.Clock.Now())}
	code := m.lot("qixia-orchard", "apple", "")
	tester := m.user("qixia-tester")
	owner := m.user("qixia-orchard")
	if m.err != nil {
		return m.err
	}
	op, err := l.App.Operators.ByID(ctx, owner.OperatorID)
	if err != nil {
		return err
	}
	today, _ := time.Parse(time.DateOnly, m.today)
	positive := map[int]bool{15: true, 19: true, 20: true, 22: true, 23: true}
	for i := 0; i < 24; i++ {
		back := 7 * (23 - i) // weekly, the last today
		if i >= 18 {
			back = 4 * (23 - i) // the last six: every four days
		}
		result := monitoring.QuickNegative
		if positive[i] {
			result = monitoring.QuickPositive
		}
		_, err := l.App.Monitoring.RecordSample(ctx, actorOf(tester), monitoring.SampleInput{OperatorCode: op.Code, BatchCode: code,
			SampleNo: fmt.Sprintf("QX-KS-2026-%03d", i+1), SampledAt: today.AddDate(0, 0, -back).Format(time.DateOnly), Place: op.Name,
			Agency: "栖霞市农产品质量安全检测中心（速测室）", Method: "GB/T 5009.199-2003 酶抑制法", Kind: monitoring.KindQuick,
			Items: []monitoring.SampleItemInput{{Substance: "有机磷类农药", Result: result}}})
		if err != nil {
			return fmt.Errorf("demo warnings: quick test %d: %w", i+1, err)
		}
	}
	return nil
}

// warnDemoComplaints files three more reports of 高州 pork labels that scan
// to nothing (the complaints step filed the first).
func warnDemoComplaints(ctx context.Context, l *Loader) error {
	for i, text := range []string{
		"菜市场买的猪肉，追溯码扫了显示“未查到”，摊位挂的是高州的牌子。",
		"超市冷柜里的高州猪肉，标签二维码扫出来是空的，怀疑是假码。",
		"同一个追溯码贴在好几家摊位的猪肉上，扫码都查不到。",
	} {
		fake, err := codes.NewTraceCode(codes.MarketEntry, "440981", int64(99_999_990+i)) // well formed, never issued
		if err != nil {
			return err
		}
		if _, err := l.App.Complaints.File(ctx, complaints.Input{Category: complaints.CategoryCounterfeit, Code: fake, Region: "440981",
			Description: text}, nil); err != nil {
			return fmt.Errorf("demo warnings: complaint: %w", err)
		}
	}
	return nil
}
