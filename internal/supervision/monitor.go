package supervision

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// Online monitoring (annex art. 16): rules evaluated by a scheduled job
// over the records, each raising findings into the shared handling
// workflow. A rule's threshold is set per region by administrators; a
// region without its own setting uses the nearest ancestor's, and the
// country's (000000) default below.

// MonitorRule is one rule, as data.
type MonitorRule struct {
	Key     string  `json:"key"`  // the finding kind it raises
	Unit    string  `json:"unit"` // days | workdays | count | percent
	Default float64 `json:"default"`
	ZH      string  `json:"zh"`
	EN      string  `json:"en"`
}

// Monitoring rule keys (each is also the kind of the findings it raises).
const (
	RuleNoRecentBatch     = "no_recent_batch"
	RuleRepeatedOverShip  = "repeated_over_shipment"
	RuleRectifyOverdue    = "rectify_overdue"
	RuleReviewOverdue     = "review_overdue"
	RuleReviewEscalated   = "review_escalated"
	RuleNeverInspected    = "never_inspected"
	RuleKeyNoAgreement    = "key_no_agreement"
	RuleMismatchTolerance = "mismatch_tolerance"
	RuleScanOverUnits     = trace.FindingScanOverUnits
	RuleScanFarApart      = trace.FindingScanFarApart
)

// NationalRegion is where national defaults are stored.
const NationalRegion = "000000"

// MonitorRules are the rules in display order. The trace core evaluates
// three more as records are written (over-shipments refused, harvests
// inside a safety interval, transfers unconfirmed after 3 working days);
// mismatch_tolerance is the threshold it applies to quantity mismatches.
var MonitorRules = []MonitorRule{
	{RuleNoRecentBatch, "days", 90, "已审核的生产主体连续 N 天未登记批次", "approved producer with no batch recorded for N days"},
	{RuleRepeatedOverShip, "count", 3, "30 天内超量发货被拒 N 次及以上", "N or more refused over-shipments within 30 days"},
	{RuleMismatchTolerance, "percent", 2, "收发数量差异超过 N% 才记为线索（正常损耗不报）", "received differs from shipped by more than N % (normal shrinkage is not flagged)"},
	{RuleRectifyOverdue, "days", 0, "整改期限届满 N 天后仍未复查合格", "rectification deadline passed N days ago without a passing re-inspection"},
	{RuleReviewOverdue, "workdays", 0, "注册审核超过 5 个工作日期限 N 个工作日", "registration review N working days past its 5-working-day deadline"},
	{RuleReviewEscalated, "workdays", 3, "审核超期 N 个工作日后上报上一级", "review overdue by N working days: escalated to the level above"},
	{RuleNeverInspected, "days", 365, "N 天内未接受过检查", "not inspected within N days"},
	{RuleKeyNoAgreement, "days", 30, "重点主体审核通过 N 天后仍未签订追溯协议", "key operator without a signed agreement N days after approval"},
	{RuleScanOverUnits, "times", 5, "追溯码被扫描次数达到批次数量的 N 倍（疑似被复制）", "a code scanned N times per unit of its batch (suspected copy)"},
	{RuleScanFarApart, "count", 3, "同一天内从 N 个及以上相距遥远的大区扫描同一追溯码（疑似被复制）", "a code scanned from N or more far-apart major regions within one day (suspected copy)"},
}

// MonitorKinds are the finding kinds the rules raise (trace lists them).
var MonitorKinds = []string{RuleNoRecentBatch, RuleRepeatedOverShip, RuleRectifyOverdue, RuleReviewOverdue, RuleReviewEscalated,
	RuleNeverInspected, RuleKeyNoAgreement, RuleScanOverUnits, RuleScanFarApart}

func monitorRule(key string) (MonitorRule, bool) {
	for _, r := range MonitorRules {
		if r.Key == key {
			return r, true
		}
	}
	return MonitorRule{}, false
}

// Setting is a rule's threshold in a region.
type Setting struct {
	MonitorRule
	Region    string  `json:"region_code" doc:"where the value is set (000000 = national)"`
	Threshold float64 `json:"threshold"`
	Enabled   bool    `json:"enabled"`
	Inherited bool    `json:"inherited" doc:"the value comes from a region above"`
}

// thresholds holds every stored setting, to resolve a region's value.
type thresholds map[string]map[string]Setting // rule → region → setting

func (s *Service) loadThresholds(ctx context.Context, q interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) (thresholds, error) {
	rows, err := q.Query(ctx, `SELECT region_code, rule, threshold, enabled FROM monitor_settings`)
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (Setting, error) {
		var st Setting
		return st, r.Scan(&st.Region, &st.Key, &st.Threshold, &st.Enabled)
	})
	if err != nil {
		return nil, err
	}
	t := thresholds{}
	for _, st := range list {
		if t[st.Key] == nil {
			t[st.Key] = map[string]Setting{}
		}
		t[st.Key][st.Region] = st
	}
	return t, nil
}

// For resolves a rule's setting in a region: the region's own, else the
// nearest ancestor's (county → city → province → national), else the default.
func (t thresholds) For(rule, region string) Setting {
	r, _ := monitorRule(rule)
	for _, code := range ancestors(region) {
		if st, ok := t[rule][code]; ok {
			st.MonitorRule, st.Inherited = r, code != region
			return st
		}
	}
	return Setting{MonitorRule: r, Region: NationalRegion, Threshold: r.Default, Enabled: true, Inherited: region != NationalRegion}
}

// ancestors lists a region code and those above it, nearest first, ending
// with the national code.
func ancestors(code string) []string {
	if len(code) < 6 {
		return []string{NationalRegion}
	}
	var out []string
	if len(code) > 6 {
		out = append(out, code)
		code = code[:6]
	}
	for _, c := range []string{code, code[:4] + "00", code[:2] + "0000"} {
		if len(out) == 0 || out[len(out)-1] != c {
			out = append(out, c)
		}
	}
	if out[len(out)-1] != NationalRegion {
		out = append(out, NationalRegion)
	}
	return out
}

// parentRegion is the level above a county (its city) or a city (its province).
func parentRegion(code string) string {
	if len(code) < 6 {
		return NationalRegion
	}
	code = code[:6]
	if code[4:] != "00" {
		return code[:4] + "00"
	}
	return code[:2] + "0000"
}

// Settings lists every rule's setting as it applies in a region.
func (s *Service) Settings(ctx context.Context, actor *auth.Actor, region string) ([]Setting, error) {
	if region == "" && actor != nil {
		region = actor.Region
	}
	if err := auth.Authorize(actor, auth.ActMonitorSettings, auth.Resource{Region: region}); err != nil {
		return nil, err
	}
	if region != NationalRegion {
		if _, err := s.regions.Get(ctx, region); err != nil {
			return nil, platform.Invalid(platform.FieldError{Field: "region", Code: "unknown", ZH: "行政区划代码不存在", EN: "no such region"})
		}
	}
	t, err := s.loadThresholds(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := make([]Setting, len(MonitorRules))
	for i, r := range MonitorRules {
		out[i] = t.For(r.Key, region)
	}
	return out, nil
}

// SettingInput sets a rule's threshold in a region.
type SettingInput struct {
	Region    string  `json:"region_code" validate:"required"`
	Rule      string  `json:"rule" validate:"required"`
	Threshold float64 `json:"threshold"`
	Enabled   *bool   `json:"enabled,omitempty" doc:"default true"`
}

// SetThreshold stores a region's threshold for a rule (admins everywhere,
// supervisors in their jurisdiction).
func (s *Service) SetThreshold(ctx context.Context, actor *auth.Actor, in SettingInput) (Setting, error) {
	if err := auth.Authorize(actor, auth.ActMonitorSettings, auth.Resource{Region: in.Region}); err != nil {
		return Setting{}, err
	}
	var v platform.Validator
	r, ok := monitorRule(in.Rule)
	v.Check(ok, "rule", "unknown", "没有这条监测规则", "no such rule")
	if v.Require("region_code", in.Region) && in.Region != NationalRegion {
		if _, err := s.regions.Get(ctx, in.Region); err != nil {
			v.Add("region_code", "unknown", "行政区划代码不存在", "no such region")
		}
	}
	limit := 3650.0
	if r.Unit == "percent" {
		limit = 100
	}
	v.Check(!math.IsNaN(in.Threshold) && in.Threshold >= 0 && in.Threshold <= limit, "threshold", "range",
		fmt.Sprintf("阈值应在 0–%g 之间", limit), fmt.Sprintf("must be within 0–%g", limit))
	if r.Unit != "percent" {
		v.Check(in.Threshold == math.Trunc(in.Threshold), "threshold", "integer", "请填写整数", "must be a whole number")
	}
	if err := v.Err(); err != nil {
		return Setting{}, err
	}
	enabled := in.Enabled == nil || *in.Enabled
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO monitor_settings (region_code, rule, threshold, enabled, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (region_code, rule) DO UPDATE SET threshold = $3, enabled = $4, updated_by = $5, updated_at = $6`,
			in.Region, in.Rule, in.Threshold, enabled, actor.Username, tx.Now()); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "monitor.setting", ResourceType: "region", ResourceID: in.Region,
			Data: map[string]any{"rule": in.Rule, "threshold": in.Threshold, "enabled": enabled}})
	})
	if err != nil {
		return Setting{}, err
	}
	return Setting{MonitorRule: r, Region: in.Region, Threshold: in.Threshold, Enabled: enabled}, nil
}

// MismatchTolerance is the percentage by which a received quantity may
// differ from the shipped one before it is a finding, in the seller's
// region (the trace core asks it inside the confirming transaction). The
// rule switched off raises no quantity-mismatch findings (an infinite
// tolerance). One value per region for every product: a product-specific
// tolerance would be one more setting key, not a new mechanism.
func (s *Service) MismatchTolerance(ctx context.Context, tx *platform.Tx, region, _ string) (float64, error) {
	t, err := s.loadThresholds(ctx, tx)
	if err != nil {
		return 0, err
	}
	st := t.For(RuleMismatchTolerance, region)
	if !st.Enabled {
		return math.Inf(1), nil
	}
	return st.Threshold, nil
}

// candidateFinding is what a rule query found, before its threshold.
type candidateFinding struct {
	trace.RuleFinding
	value float64 // compared with the region's threshold (days, count…)
}

func daysBetween(from, to string) float64 {
	a, err1 := time.Parse(time.DateOnly, from)
	b, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return 0
	}
	return math.Floor(b.Sub(a).Hours() / 24)
}

func dateOf(t time.Time) string { return platform.Today(t) }
