package monitoring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// Sample kinds and quick-test results.
const (
	KindLab   = "lab"   // a laboratory test: judged against the limits
	KindQuick = "quick" // a quick test (速测, e.g. colloidal-gold strips): screening only

	QuickPositive = "positive"
	QuickNegative = "negative"
)

// SampleItemInput is one tested substance.
type SampleItemInput struct {
	Substance string   `json:"substance" validate:"required" doc:"a substance code, name or synonym"`
	Value     *float64 `json:"value,omitempty" doc:"lab tests: the measured value, unrounded"`
	Unit      string   `json:"unit,omitempty" doc:"mg/kg | μg/kg | ng/g | g/kg | g/100g | %"`
	LOD       *float64 `json:"lod,omitempty" doc:"the method's detection limit, in the value's unit"`
	Result    string   `json:"result,omitempty" doc:"quick tests: positive | negative"`
}

// SampleInput is a sampling test as the tester records it.
type SampleInput struct {
	OperatorCode string            `json:"operator_code" validate:"required"`
	BatchCode    string            `json:"batch_code" validate:"required" doc:"any code type or alias of the sampled batch"`
	SampleNo     string            `json:"sample_no" validate:"required"`
	SampledAt    string            `json:"sampled_at" validate:"required" doc:"YYYY-MM-DD: the limits in force that day apply"`
	Place        string            `json:"place,omitempty"`
	Agency       string            `json:"agency,omitempty"`
	Method       string            `json:"method,omitempty" doc:"method standard, e.g. GB 23200.113-2026"`
	Kind         string            `json:"kind" validate:"required" doc:"lab | quick"`
	Items        []SampleItemInput `json:"items" validate:"required"`
}

// SampleItem is a tested substance with its verdict.
type SampleItem struct {
	Substance   string   `json:"substance"`
	Name        string   `json:"name,omitempty"`
	Value       *float64 `json:"value,omitempty"`
	Unit        string   `json:"unit,omitempty"`
	LOD         *float64 `json:"lod,omitempty"`
	Result      string   `json:"result,omitempty"`
	Limit       *float64 `json:"limit,omitempty"`
	LimitUnit   string   `json:"limit_unit,omitempty"`
	Judgement   string   `json:"judgement,omitempty" doc:"max | not_detected | min"`
	Standard    string   `json:"standard,omitempty"`
	Edition     string   `json:"edition,omitempty"`
	Verdict     string   `json:"verdict" doc:"pass | fail | not_judged | positive | negative"`
	Reason      string   `json:"reason,omitempty" doc:"why not judged: unknown_substance | no_limit | unit | …"`
	InLimitUnit string   `json:"in_limit_unit,omitempty" doc:"the value in the limit's unit, unrounded"`
	limitID     int64
}

// Sample is a recorded sampling test.
type Sample struct {
	ID           int64        `json:"id"`
	SampleNo     string       `json:"sample_no"`
	Kind         string       `json:"kind"`
	OperatorCode string       `json:"operator_code"`
	OperatorName string       `json:"operator_name"`
	BatchCode    string       `json:"batch_code"`
	ProductCode  string       `json:"product_code"`
	RegionCode   string       `json:"region_code"`
	SampledAt    string       `json:"sampled_at"`
	Place        string       `json:"place,omitempty"`
	Agency       string       `json:"agency,omitempty"`
	Method       string       `json:"method,omitempty"`
	Verdict      string       `json:"verdict" doc:"pass | fail | not_judged (lab) · positive | negative (quick)"`
	TesterName   string       `json:"tester_name"`
	At           time.Time    `json:"at"`
	Results      []SampleItem `json:"items"`
	Recall       *Recall      `json:"recall,omitempty" doc:"present when the sample failed"`
}

// samplePlan is a validated, judged sample ready for its transaction.
type samplePlan struct {
	in       SampleInput
	op       operator.Operator
	batch    string
	product  string
	items    []SampleItem
	verdict  string
	draftDue string // a failed sample's draft case: file or decline by then
}

var errSampleNotFound = platform.NotFound("抽样记录不存在", "sample not found")

// prepareSample authorizes, validates and judges a sample before its
// transaction: the operator in the tester's jurisdiction (404 otherwise),
// the batch that operator's (422), each item judged against the limit in
// force on the sampling date for the batch's product or its category.
func (s *Service) prepareSample(ctx context.Context, actor *auth.Actor, in SampleInput) (samplePlan, error) {
	if err := auth.Authorize(actor, auth.ActSampleRecord, auth.Resource{}); err != nil {
		return samplePlan{}, err
	}
	in.OperatorCode, in.SampleNo, in.SampledAt = strings.TrimSpace(in.OperatorCode), strings.TrimSpace(in.SampleNo), strings.TrimSpace(in.SampledAt)
	o, err := s.ops.ByCode(ctx, operatorCodeOf(in.OperatorCode))
	if err == nil {
		if auth.Authorize(actor, auth.ActSampleRecord, auth.Resource{Region: o.RegionCode, OperatorID: o.ID}) != nil {
			err = platform.NotFound("经营主体不存在或不在您的辖区内", "operator not found in your jurisdiction")
		}
	}
	if err != nil {
		return samplePlan{}, err
	}
	p := samplePlan{in: in, op: o}
	var v platform.Validator
	v.OneOf("kind", in.Kind, KindLab, KindQuick)
	v.MaxLen("sample_no", in.SampleNo, 64)
	v.MaxLen("place", in.Place, 200)
	v.MaxLen("agency", in.Agency, 200)
	v.MaxLen("method", in.Method, 200)
	today := platform.Today(s.clock.Now())
	if _, err := time.Parse(time.DateOnly, in.SampledAt); err != nil {
		v.Add("sampled_at", "format", "日期格式应为 YYYY-MM-DD", "must be a date YYYY-MM-DD")
	} else {
		v.Check(in.SampledAt <= today, "sampled_at", "future", "抽样日期不能晚于今天", "cannot be after today")
	}
	if err := s.sampledBatch(ctx, &v, &p); err != nil {
		return samplePlan{}, err
	}
	if len(in.Items) == 0 || len(in.Items) > 100 {
		v.Add("items", "count", "请填写 1–100 个检测项目", "give 1–100 tested substances")
	}
	if err := v.Err(); err != nil {
		return samplePlan{}, err
	}
	if err := s.judgeItems(ctx, &v, &p); err != nil {
		return samplePlan{}, err
	}
	if err := v.Err(); err != nil {
		return samplePlan{}, err
	}
	if p.verdict == VerdictFail {
		if p.draftDue, err = s.cases.DraftDue(ctx, today); err != nil {
			return samplePlan{}, err
		}
	}
	return p, nil
}

// operatorCodeOf takes the code out of a scanned e-ID URL (…/o/{code}).
func operatorCodeOf(s string) string { return codes.OperatorCodeFromScan(s) }

// sampledBatch resolves the batch code and checks it is the operator's.
func (s *Service) sampledBatch(ctx context.Context, v *platform.Validator, p *samplePlan) error {
	code, err := s.tr.Resolve(ctx, p.in.BatchCode)
	if err != nil {
		if k := platform.KindOf(err); k == platform.KindNotFound || k == platform.KindInvalid {
			v.Add("batch_code", "unknown", "追溯码无效或不存在", "no batch has this code")
			return nil
		}
		return err
	}
	var holder int64
	err = s.db.QueryRow(ctx, `SELECT operator_id, product_code FROM trace_codes WHERE code = $1`, code).Scan(&holder, &p.product)
	if errors.Is(err, sql.ErrNoRows) {
		v.Add("batch_code", "unknown", "追溯码不存在", "no batch has this code")
		return nil
	}
	if err != nil {
		return err
	}
	if holder != p.op.ID {
		v.Add("batch_code", "not_operator", "该批次不属于被抽样主体", "the batch is not this operator's")
	}
	p.batch = code
	return nil
}

// judgeItems judges each item; items that cannot be judged say why.
func (s *Service) judgeItems(ctx context.Context, v *platform.Validator, p *samplePlan) error {
	var verdicts []string
	for i, it := range p.in.Items {
		f := fmt.Sprintf("items[%d]", i)
		item := SampleItem{Substance: strings.TrimSpace(it.Substance), Value: it.Value, Unit: strings.TrimSpace(it.Unit), LOD: it.LOD, Result: it.Result}
		if !v.Require(f+".substance", item.Substance) {
			continue
		}
		sub, err := s.substance(ctx, item.Substance)
		if err != nil {
			return err
		}
		if sub != nil {
			item.Substance, item.Name = sub.Code, sub.Name
		}
		if p.in.Kind == KindQuick {
			if v.OneOf(f+".result", it.Result, QuickPositive, QuickNegative) {
				item.Verdict = it.Result
			}
			p.items = append(p.items, item)
			verdicts = append(verdicts, item.Verdict)
			continue
		}
		if it.Value == nil || math.IsNaN(*it.Value) || *it.Value < 0 {
			v.Add(f+".value", "required", "请填写检测值（不小于 0 的数字）", "give the measured value (a number, 0 or more)")
			continue
		}
		if err := s.judgeOne(ctx, p, sub, &item); err != nil {
			return err
		}
		p.items = append(p.items, item)
		verdicts = append(verdicts, item.Verdict)
	}
	p.verdict = Overall(verdicts)
	if p.in.Kind == KindQuick {
		p.verdict = QuickNegative
		for _, x := range verdicts {
			if x == QuickPositive {
				p.verdict = QuickPositive
			}
		}
	}
	return nil
}

// judgeOne judges a lab item against the limit in force on the sampling date.
func (s *Service) judgeOne(ctx context.Context, p *samplePlan, sub *Substance, item *SampleItem) error {
	if sub == nil {
		item.Verdict, item.Reason = VerdictNotJudged, "unknown_substance"
		return nil
	}
	lim, err := s.Applicable(ctx, p.product, sub.Code, p.in.SampledAt)
	if err != nil {
		return err
	}
	var applied *Applied
	if lim != nil {
		applied = &Applied{Value: lim.Value, Unit: lim.Unit, Judgement: lim.Judgement}
		v := lim.Value
		item.Limit, item.LimitUnit, item.Judgement, item.Standard, item.Edition, item.limitID = &v, lim.Unit, lim.Judgement, lim.Standard, lim.Edition, lim.ID
	}
	o := Judge(applied, *item.Value, item.Unit, item.LOD)
	item.Verdict, item.Reason, item.InLimitUnit = o.Verdict, o.Reason, o.InLimitUnit
	if o.Verdict == VerdictFail {
		item.Reason = "" // the limit and the value say why
	}
	return nil
}

// substance finds a substance by code, name or synonym (nil: unknown).
func (s *Service) substance(ctx context.Context, q string) (*Substance, error) {
	rows, err := s.db.Query(ctx, `SELECT code, name, name_en, cas, synonyms, kind FROM substances WHERE code = $1 OR name = $1 OR LOWER(name_en) = LOWER($1) OR cas = $1
		ORDER BY code LIMIT 1`, q)
	list, err := platform.Collect(rows, err, func(r *sql.Rows) (Substance, error) {
		var x Substance
		var syn string
		return x, r.Scan(&x.Code, &x.Name, &x.NameEN, &x.CAS, &syn, &x.Kind)
	})
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return &list[0], nil
}
