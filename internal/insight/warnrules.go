package insight

import (
	"context"
	"database/sql"
	"fmt"
	"math"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// Early warning (预警, issue 14 item 3): rules over the daily aggregates
// (stat_daily) per county and product. Each rule is one entry of
// WarnRules: the figure it reads, which keys are its events ("hits") and
// which its denominator ("trials"), how it compares the recent window with
// the trailing baseline (Method), and its default parameters. Parameters
// may be set per region (table warning_settings): a county uses its own,
// else its prefecture's, province's or the national setting, else the
// default — the pattern of the online-monitoring thresholds.

// RuleKey names an early-warning rule.
type RuleKey string

// The rules.
const (
	RuleFailureRate      RuleKey = "failure_rate"      // sampling failures rising (抽检不合格率上升)
	RuleTransferSurge    RuleKey = "transfer_surge"    // unconfirmed or rejected sales rising (未确认/被拒交易激增)
	RuleComplaintCluster RuleKey = "complaint_cluster" // complaints clustering in a county (投诉聚集)
	RuleCloneCluster     RuleKey = "clone_cluster"     // suspected copied codes clustering (疑似复制码聚集)
	RuleBatchDrop        RuleKey = "batch_drop"        // batches recorded dropping (批次登记骤减)
	RuleReviewBacklog    RuleKey = "review_backlog"    // registrations waiting past their deadline (审核积压)
)

// Method is how a rule compares the recent window with its baseline.
type Method string

// The methods (docs/insight.md says why each).
const (
	// MethodRateRise: hits among trials in the window against the
	// baseline's rate (never below Floor), an exact one-sided binomial
	// test: fires when P(X ≥ hits | trials, rate) < Alpha.
	MethodRateRise Method = "binomial_upper"
	// MethodCountRise: hits in the window against the baseline's daily
	// rate (never below Floor per day) times the window, an exact
	// one-sided Poisson test: fires when P(X ≥ hits | expected) < Alpha.
	MethodCountRise Method = "poisson_upper"
	// MethodCountDrop: the same expectation, the lower tail: fires when
	// P(X ≤ hits | expected) < Alpha and at least MinBase were expected.
	MethodCountDrop Method = "poisson_lower"
	// MethodLevel: a state figure (the review backlog as it stands): fires
	// when the hits reach MinEvents.
	MethodLevel Method = "level"
)

// Param names one adjustable parameter of a rule.
type Param string

// The parameters.
const (
	ParamWindow    Param = "window"     // days in the recent window
	ParamBaseline  Param = "baseline"   // days of trailing baseline just before the window
	ParamLag       Param = "lag"        // days between the window's end and today (records still settling)
	ParamAlpha     Param = "alpha"      // significance level: fires when the tail probability is below it
	ParamMinEvents Param = "min_events" // fewest hits in the window that may fire (levels: the count that fires)
	ParamMinBase   Param = "min_base"   // rates: fewest trials in the window; drops: fewest expected hits
	ParamFloor     Param = "floor"      // lowest baseline used: per trial (rates) or per day (counts)
	ParamEnabled   Param = "enabled"    // 1 evaluates the rule, 0 does not
)

// Uses reports whether the method reads parameter p (the others are kept
// but have no effect on its decision).
func (m Method) Uses(p Param) bool {
	switch p {
	case ParamWindow, ParamEnabled:
		return true
	case ParamBaseline, ParamAlpha:
		return m != MethodLevel
	case ParamLag:
		return true
	case ParamMinEvents:
		return m != MethodCountDrop
	case ParamMinBase:
		return m == MethodRateRise || m == MethodCountDrop
	case ParamFloor:
		return m == MethodRateRise || m == MethodCountRise
	}
	return false
}

// ParamNames lists the parameters in display order.
var ParamNames = []Param{ParamWindow, ParamBaseline, ParamLag, ParamAlpha, ParamMinEvents, ParamMinBase, ParamFloor, ParamEnabled}

// paramLimits are the values a setting may take ([lo, hi]; whole numbers
// unless the parameter is a probability or a rate).
var paramLimits = map[Param]struct {
	lo, hi float64
	whole  bool
}{
	ParamWindow: {1, 366, true}, ParamBaseline: {0, 1096, true}, ParamLag: {0, 60, true},
	ParamAlpha: {1e-9, 0.2, false}, ParamMinEvents: {0, 100000, true}, ParamMinBase: {0, 100000, false},
	ParamFloor: {0, 100, false}, ParamEnabled: {0, 1, true},
}

// Params are a rule's parameters as they apply in a region.
type Params struct {
	Window    int     `json:"window" doc:"days in the recent window"`
	Baseline  int     `json:"baseline" doc:"days of trailing baseline just before the window"`
	Lag       int     `json:"lag" doc:"days between the window's end and today"`
	Alpha     float64 `json:"alpha" doc:"significance level: fires when the tail probability is below it"`
	MinEvents int     `json:"min_events" doc:"fewest hits in the window that may fire (levels: the count that fires)"`
	MinBase   float64 `json:"min_base" doc:"rates: fewest trials in the window; drops: fewest expected hits"`
	Floor     float64 `json:"floor" doc:"lowest baseline rate used: per trial (rates) or per day (counts)"`
	Enabled   bool    `json:"enabled"`
}

// set changes one parameter.
func (p *Params) set(name Param, v float64) {
	switch name {
	case ParamWindow:
		p.Window = int(v)
	case ParamBaseline:
		p.Baseline = int(v)
	case ParamLag:
		p.Lag = int(v)
	case ParamAlpha:
		p.Alpha = v
	case ParamMinEvents:
		p.MinEvents = int(v)
	case ParamMinBase:
		p.MinBase = v
	case ParamFloor:
		p.Floor = v
	case ParamEnabled:
		p.Enabled = v != 0
	}
}

// WarnRule is one early-warning rule, as data.
type WarnRule struct {
	Key       RuleKey
	ZH, EN    string
	Figure    string   // the stat_daily figure it reads
	Method    Method   // how the window is compared with the baseline
	ByProduct bool     // one series per county and product (else per county)
	Hits      []string // the figure's keys counted as events (nil: every key)
	Trials    []string // rates: the keys counted as trials; levels: the backlog
	Subs      []string // only rows of these sub-keys (nil: any)
	List      string   // the page listing the records behind it
	ListQuery string   // extra filter of that page
	Defaults  Params
}

// Default parameters (national; docs/insight.md explains each choice).
var (
	defaultFailureRate = Params{Window: 28, Baseline: 168, Alpha: 0.001, MinEvents: 3, MinBase: 5, Floor: 0.02, Enabled: true}
	defaultTransfers   = Params{Window: 14, Baseline: 84, Lag: 5, Alpha: 0.001, MinEvents: 5, MinBase: 10, Floor: 0.02, Enabled: true}
	defaultCluster     = Params{Window: 7, Baseline: 84, Alpha: 0.001, MinEvents: 3, Floor: 0.05, Enabled: true}
	defaultBatchDrop   = Params{Window: 14, Baseline: 84, Lag: 1, Alpha: 0.001, MinBase: 10, Enabled: true}
	defaultBacklog     = Params{Window: 14, MinEvents: 3, Enabled: true}
)

// WarnRules are the rules, in display order.
var WarnRules = []WarnRule{
	{Key: RuleFailureRate, ZH: "抽检不合格率上升", EN: "Sampling failure rate rising", Figure: "samples", Method: MethodRateRise, ByProduct: true,
		Hits: []string{"fail", "positive"}, Trials: []string{"pass", "fail", "negative", "positive"}, List: "/samples", Defaults: defaultFailureRate},
	{Key: RuleTransferSurge, ZH: "未确认或被拒收的交易激增", EN: "Unconfirmed or rejected sales surging", Figure: "transfers", Method: MethodRateRise,
		Hits: []string{"pending", "rejected"}, Trials: []string{"confirmed", "pending", "rejected"}, List: "/findings", ListQuery: "kind=" + trace.FindingUnconfirmed,
		Defaults: defaultTransfers},
	{Key: RuleComplaintCluster, ZH: "投诉举报聚集", EN: "Complaints clustering", Figure: "complaints", Method: MethodCountRise, List: "/complaints",
		Defaults: defaultCluster},
	{Key: RuleCloneCluster, ZH: "疑似复制追溯码聚集", EN: "Suspected copied codes clustering", Figure: "findings", Method: MethodCountRise, ByProduct: true,
		Subs: []string{trace.FindingScanOverUnits, trace.FindingScanFarApart}, List: "/findings", ListQuery: "kind=" + trace.FindingScanOverUnits,
		Defaults: defaultCluster},
	{Key: RuleBatchDrop, ZH: "生产批次登记骤减", EN: "Batches recorded dropping", Figure: "batches", Method: MethodCountDrop, ByProduct: true,
		Hits: []string{"production"}, List: "/batches", Defaults: defaultBatchDrop},
	{Key: RuleReviewBacklog, ZH: "注册审核积压超期", EN: "Registration reviews piling up past the deadline", Figure: "reviews", Method: MethodLevel,
		Hits: []string{"overdue"}, Trials: []string{"waiting", "overdue"}, List: "/reviews", Defaults: defaultBacklog},
}

// RuleKeys lists the rules' keys in display order.
func RuleKeys() []string {
	out := make([]string, len(WarnRules))
	for i, r := range WarnRules {
		out[i] = string(r.Key)
	}
	return out
}

// LookupRule returns the rule called key.
func LookupRule(key string) (WarnRule, bool) {
	for _, r := range WarnRules {
		if string(r.Key) == key {
			return r, true
		}
	}
	return WarnRule{}, false
}

// warnSettings holds every stored setting: rule → region → param → value.
type warnSettings map[RuleKey]map[string]map[Param]float64

func (s *Service) loadWarnSettings(ctx context.Context) (warnSettings, error) {
	type row struct {
		rule, region, param string
		value               float64
	}
	rows, err := s.db.Query(ctx, `SELECT rule, region_code, param, value FROM warning_settings`)
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (row, error) {
		var x row
		return x, r.Scan(&x.rule, &x.region, &x.param, &x.value)
	})
	if err != nil {
		return nil, err
	}
	out := warnSettings{}
	for _, x := range list {
		k := RuleKey(x.rule)
		if out[k] == nil {
			out[k] = map[string]map[Param]float64{}
		}
		if out[k][x.region] == nil {
			out[k][x.region] = map[Param]float64{}
		}
		out[k][x.region][Param(x.param)] = x.value
	}
	return out, nil
}

// chain is a region and the levels above it, farthest first (national,
// province, prefecture, county), as settings apply.
func chain(region string) []string {
	out := []string{"000000"}
	if len(region) < 6 || region == "000000" {
		return out
	}
	for _, c := range []string{region[:2] + "0000", region[:4] + "00", region[:6]} {
		if c != out[len(out)-1] {
			out = append(out, c)
		}
	}
	return out
}

// For resolves a rule's parameters in a region: each parameter from the
// nearest level that sets it, else the rule's default. setIn says where
// each set parameter comes from.
func (ws warnSettings) For(r WarnRule, region string) (p Params, setIn map[Param]string) {
	p, setIn = r.Defaults, map[Param]string{}
	for _, code := range chain(region) {
		for name, v := range ws[r.Key][code] {
			p.set(name, v)
			setIn[name] = code
		}
	}
	return p, setIn
}

// span is the most days back from today any region's parameters of r reach.
func (ws warnSettings) span(r WarnRule) int {
	longest := func(p Params) int { return p.Lag + p.Window + p.Baseline }
	n := longest(r.Defaults)
	for code := range ws[r.Key] {
		p, _ := ws.For(r, code)
		n = max(n, longest(p))
	}
	return n
}

// RuleSetting is a rule and its parameters as they apply in a region.
type RuleSetting struct {
	Rule    RuleKey          `json:"rule"`
	Label   string           `json:"label"`
	LabelEN string           `json:"label_en"`
	Figure  string           `json:"figure"`
	Method  Method           `json:"method" doc:"binomial_upper | poisson_upper | poisson_lower | level"`
	Region  string           `json:"region_code"`
	Params  Params           `json:"params"`
	SetIn   map[Param]string `json:"set_in" doc:"for each parameter set by a region (not the default), that region"`
}

// RuleSettings lists every rule's parameters as they apply in region (the
// actor's jurisdiction by default).
func (s *Service) RuleSettings(ctx context.Context, actor *auth.Actor, region string) ([]RuleSetting, error) {
	if region == "" && actor != nil {
		region = actor.Region
	}
	if err := auth.Authorize(actor, auth.ActWarningRead, auth.Resource{Region: region}); err != nil {
		return nil, err
	}
	if region != "000000" {
		if _, err := s.regions.Get(ctx, region); err != nil {
			return nil, platform.Invalid(platform.FieldError{Field: "region", Code: "unknown", ZH: "行政区划代码不存在", EN: "no such region"})
		}
	}
	ws, err := s.loadWarnSettings(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RuleSetting, len(WarnRules))
	for i, r := range WarnRules {
		p, in := ws.For(r, region)
		out[i] = RuleSetting{Rule: r.Key, Label: r.ZH, LabelEN: r.EN, Figure: r.Figure, Method: r.Method, Region: region, Params: p, SetIn: in}
	}
	return out, nil
}

// RuleParamInput sets one parameter of a rule in a region.
type RuleParamInput struct {
	Region string  `json:"region_code" validate:"required" doc:"000000 for the national setting"`
	Rule   string  `json:"rule" validate:"required"`
	Param  string  `json:"param" validate:"required" doc:"window | baseline | lag | alpha | min_events | min_base | floor | enabled"`
	Value  float64 `json:"value"`
}

// prepareRuleParam validates a setting field by field.
func (s *Service) prepareRuleParam(ctx context.Context, in RuleParamInput) (WarnRule, error) {
	var v platform.Validator
	r, ok := LookupRule(in.Rule)
	v.Check(ok, "rule", "unknown", "没有这条预警规则", "no such rule")
	if v.Require("region_code", in.Region) && in.Region != "000000" {
		if _, err := s.regions.Get(ctx, in.Region); err != nil || len(in.Region) != 6 {
			v.Add("region_code", "unknown", "行政区划代码不存在（须为县级及以上）", "no such region (a county or above)")
		}
	}
	lim, known := paramLimits[Param(in.Param)]
	if v.Check(known, "param", "unknown", "没有这个参数", "no such parameter") {
		ok := !math.IsNaN(in.Value) && in.Value >= lim.lo && in.Value <= lim.hi
		v.Check(ok, "value", "range", fmt.Sprintf("应在 %g–%g 之间", lim.lo, lim.hi), fmt.Sprintf("must be within %g–%g", lim.lo, lim.hi))
		if ok && lim.whole {
			v.Check(in.Value == math.Trunc(in.Value), "value", "integer", "请填写整数", "must be a whole number")
		}
	}
	return r, v.Err()
}

// SetRuleParam stores one parameter of a rule for a region
// (administrators everywhere, supervisors in their jurisdiction: the
// monitoring-settings permission).
func (s *Service) SetRuleParam(ctx context.Context, actor *auth.Actor, in RuleParamInput) (RuleSetting, error) {
	if err := auth.Authorize(actor, auth.ActMonitorSettings, auth.Resource{Region: in.Region}); err != nil {
		return RuleSetting{}, err
	}
	if _, err := s.prepareRuleParam(ctx, in); err != nil {
		return RuleSetting{}, err
	}
	err := s.db.InTx(ctx, func(tx *platform.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO warning_settings (region_code, rule, param, value, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (region_code, rule, param) DO UPDATE SET value = $4, updated_by = $5, updated_at = $6`,
			in.Region, in.Rule, in.Param, in.Value, actor.Username, tx.Now()); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "warning.setting", ResourceType: "region", ResourceID: in.Region,
			Data: map[string]any{"rule": in.Rule, "param": in.Param, "value": in.Value}})
	})
	if err != nil {
		return RuleSetting{}, err
	}
	list, err := s.RuleSettings(ctx, actor, in.Region)
	if err != nil {
		return RuleSetting{}, err
	}
	for _, st := range list {
		if string(st.Rule) == in.Rule {
			return st, nil
		}
	}
	return RuleSetting{}, platform.NotFound("没有这条预警规则", "no such rule")
}
