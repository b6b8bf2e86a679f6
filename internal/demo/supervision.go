package demo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
	"agtrace/internal/trace"
)

// supervisionStep records the supervision and enforcement demo: a
// completed random draw in 栖霞 and one in progress in 荣成, inspections of
// every result (with GPS and a photo), cases at every step (one overdue),
// credit records of every level, a county threshold, and the monitoring
// findings the rules raise (one of them closed). Each act is dated in the
// past through a fixed clock, so deadlines have passed where they should.
func supervisionStep(ctx context.Context, l *Loader) error {
	var n int
	if err := l.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM inspections`).Scan(&n); err != nil || n > 0 {
		return err // loaded before
	}
	s := &supervisionDemo{ctx: ctx, l: l, now: l.App.Clock.Now()}
	defer l.App.DB.SetClock(l.App.Clock)
	s.draws()
	s.inspections()
	s.cases()
	s.monitoring()
	return s.err
}

type supervisionDemo struct {
	ctx context.Context
	l   *Loader
	now time.Time
	err error
}

// at is the supervision service as of days ago (the database's clock too).
func (s *supervisionDemo) at(daysAgo int) *supervision.Service {
	clk := &platform.FixedClock{T: s.now.AddDate(0, 0, -daysAgo)}
	s.l.App.DB.SetClock(clk)
	a := s.l.App
	return supervision.NewService(a.DB, clk, a.Operators, a.Trace, a.Regions, a.Calendar, a.Signer, a.Config.DataDir+"/documents", a.Config.PublicURL)
}

func (s *supervisionDemo) actor(username string) *auth.Actor {
	u, err := s.l.App.Auth.GetUserByName(s.ctx, username)
	if err != nil && s.err == nil {
		s.err = fmt.Errorf("demo supervision: account %s: %w", username, err)
	}
	return actorOf(u)
}

func (s *supervisionDemo) operator(username string) operator.Operator {
	u := s.actor(username)
	o, err := s.l.App.Operators.ByID(s.ctx, u.OperatorID)
	if err != nil && s.err == nil {
		s.err = fmt.Errorf("demo supervision: operator of %s: %w", username, err)
	}
	return o
}

// batches are up to n of an operator's batch codes.
func (s *supervisionDemo) batches(username string, n int) []string {
	list, err := s.l.App.Trace.ListBatches(s.ctx, s.actor(username), trace.BatchFilter{Limit: n})
	if err != nil {
		return nil
	}
	var out []string
	for _, b := range list {
		out = append(out, b.TraceCode)
	}
	return out
}

func (s *supervisionDemo) inspect(daysAgo int, inspector string, in supervision.InspectionInput, photo bool) supervision.Inspection {
	if s.err != nil {
		return supervision.Inspection{}
	}
	var photos []supervision.PhotoUpload
	if photo {
		photos = append(photos, supervision.PhotoUpload{Filename: "现场.jpg", Body: bytes.NewReader(demoJPEG())})
	}
	x, err := s.at(daysAgo).RecordInspection(s.ctx, s.actor(inspector), in, photos...)
	if err != nil {
		s.err = fmt.Errorf("demo inspection of %s: %w", in.OperatorCode, err)
	}
	return x
}

func ok(items ...string) []supervision.CheckResult {
	var out []supervision.CheckResult
	for _, it := range items {
		out = append(out, supervision.CheckResult{Item: it, OK: true})
	}
	return out
}

func pos(lat, lng float64) (*float64, *float64, *float64) {
	acc := 12.0
	return &lat, &lng, &acc
}

// draws: 栖霞's draw is done (both drawn operators inspected), 荣成's is half done.
func (s *supervisionDemo) draws() {
	for _, d := range []struct {
		county, slug, seed string
		done               int
	}{{"370686", "qixia", "demo-2026-qixia-q3", 2}, {"371082", "rongcheng", "demo-2026-rongcheng-q4", 1}} {
		if s.err != nil {
			return
		}
		sv := s.at(70)
		draw, err := sv.CreateDraw(s.ctx, s.actor(d.slug+"-supervisor"), supervision.DrawInput{Title: "2026 年第三季度双随机抽查", RegionCode: d.county,
			Size: 2, Inspectors: []string{d.slug + "-inspector", d.slug + "-enforcer"}, PerTask: 2, Seed: d.seed, DueDays: 40})
		if err != nil {
			s.err = fmt.Errorf("demo draw %s: %w", d.county, err)
			return
		}
		for i, t := range draw.Tasks[:d.done] {
			lat, lng, acc := pos(37.3+float64(i)*0.01, 120.8)
			s.inspect(65-i, t.Inspectors[0], supervision.InspectionInput{OperatorCode: t.OperatorCode, Kind: supervision.KindSite, TaskID: t.ID,
				Result: supervision.ResultPass, Checklist: ok("records", "labels", "stock", "agreement"), Notes: "抽查：记录完整，标签规范",
				Lat: lat, Lng: lng, AccuracyM: acc}, i == 0)
		}
	}
}

// inspections: one of each result in 栖霞 (the rectification's deadline has passed).
func (s *supervisionDemo) inspections() {
	if s.err != nil {
		return
	}
	lat, lng, acc := pos(37.335, 120.834)
	s.inspect(40, "qixia-inspector", supervision.InspectionInput{OperatorCode: s.operator("qixia-orchard").Code, Kind: supervision.KindSite,
		BatchCodes: s.batches("qixia-orchard", 2), Result: supervision.ResultPass, Checklist: ok("records", "labels", "inputs", "banned", "intervals", "stock", "agreement"),
		Notes: "基地巡查：果园施药记录完整，安全间隔期执行到位", Lat: lat, Lng: lng, AccuracyM: acc}, true)
	s.inspect(25, "qixia-inspector", supervision.InspectionInput{OperatorCode: s.operator("qixia-coop").Code, Kind: supervision.KindSite,
		Result: supervision.ResultRectify, RectifyDays: 5, Notes: "农药库房管理不规范，限期整改",
		Checklist: append(ok("records", "labels"), supervision.CheckResult{Item: "inputs", OK: false, Note: "农药与化肥混放，未建出入库台账"})}, false)
	s.inspect(20, "qixia-enforcer", supervision.InspectionInput{OperatorCode: s.operator("qixia-liu").Code, Kind: supervision.KindEnforcement,
		Result: supervision.ResultViolation, Notes: "销售苹果未扫码，买方未收到追溯信息",
		Checklist: []supervision.CheckResult{{Item: "labels", OK: false, Note: "批次未贴追溯标签"}, {Item: "records", OK: false, Note: "销售未在平台记录"}}}, false)
}

type demoStep struct {
	daysAgo int
	in      supervision.StepInput
}

func (s *supervisionDemo) fileCase(daysAgo int, enforcer string, in supervision.CaseInput, steps ...demoStep) {
	if s.err != nil {
		return
	}
	c, err := s.at(daysAgo).FileCase(s.ctx, s.actor(enforcer), in)
	if err != nil {
		s.err = fmt.Errorf("demo case: %w", err)
		return
	}
	for _, st := range steps {
		if _, err := s.at(st.daysAgo).TakeStep(s.ctx, s.actor(enforcer), c.ID, st.in); err != nil {
			s.err = fmt.Errorf("demo case %s step %s: %w", c.Number, st.in.Step, err)
			return
		}
	}
}

// cases: one at each step; 栖霞果都's rectification is overdue; 荣成鑫海 is
// penalised twice (blacklisted).
func (s *supervisionDemo) cases() {
	yes := true
	basis := "《中华人民共和国农产品质量安全法》第七十三条"
	var liu []supervision.Inspection
	if s.err == nil {
		liu, _ = s.l.App.Supervision.Inspections(s.ctx, auth.System(), supervision.InspectionFilter{Result: supervision.ResultViolation, Limit: 1})
	}
	if len(liu) == 1 {
		s.fileCase(19, "qixia-enforcer", supervision.CaseInput{Source: supervision.SourceInspection, SourceID: liu[0].Number,
			OperatorCodes: []string{liu[0].OperatorCode}, Violation: supervision.ViolationBrokenChain, Summary: "当事人销售苹果 800 公斤未通过平台扫码交易，追溯信息未传递给买方。",
			Evidence: []supervision.Evidence{{Kind: "inspection", Ref: liu[0].Number}, {Kind: "note", Note: "询问笔录 1 份"}}})
	}
	s.fileCase(40, "qixia-enforcer", supervision.CaseInput{Source: supervision.SourceManual, OperatorCodes: []string{s.operator("qixia-trader").Code},
		Violation: supervision.ViolationFalseRecords, Summary: "收购记录数量与实际入库数量不符，差额 1.2 吨未如实记录。"},
		demoStep{38, supervision.StepInput{Step: supervision.StepInvestigated, Note: "调取出入库单据"}},
		demoStep{35, supervision.StepInput{Step: supervision.StepDecision, Decision: supervision.DecisionRectify, RectifyDays: 10, Note: "责令 10 个工作日内补录并规范台账"}})
	s.fileCase(60, "rongcheng-enforcer", supervision.CaseInput{Source: supervision.SourceManual, OperatorCodes: []string{s.operator("rongcheng-farm").Code},
		Violation: supervision.ViolationBatchMixing, Summary: "不同养殖池大菱鲆混批销售，平台批次与实物不符。"},
		demoStep{57, supervision.StepInput{Step: supervision.StepInvestigated}},
		demoStep{55, supervision.StepInput{Step: supervision.StepDecision, Decision: supervision.DecisionRectifyAndPenalty, RectifyDays: 5, PenaltyAmount: 5000, LegalBasis: basis}},
		demoStep{45, supervision.StepInput{Step: supervision.StepFollowUp, Rectified: &yes, Note: "复查：已按池分批"}})
	for i, days := range []int{200, 30} {
		steps := []demoStep{{days - 2, supervision.StepInput{Step: supervision.StepInvestigated}},
			{days - 5, supervision.StepInput{Step: supervision.StepDecision, Decision: supervision.DecisionPenalty, PenaltyAmount: float64(3000 + 5000*i), LegalBasis: basis}}}
		if i == 0 {
			steps = append(steps, demoStep{days - 20, supervision.StepInput{Step: supervision.StepClosed, Note: "罚款已缴纳，结案"}})
		}
		s.fileCase(days, "rongcheng-enforcer", supervision.CaseInput{Source: supervision.SourceManual, OperatorCodes: []string{s.operator("rongcheng-trader").Code},
			Violation: supervision.ViolationBrokenChain, Summary: "购进大菱鲆未查验追溯码即销售，追溯链条断裂。"}, steps...)
	}
	s.fileCase(10, "yingde-enforcer", supervision.CaseInput{Source: supervision.SourceComplaint, SourceID: "12316-2026-0871", OperatorCodes: []string{s.operator("yingde-factory").Code},
		Violation: supervision.ViolationForgedCodes, Summary: "消费者反映产品标签追溯码扫码显示为其他企业产品，疑似冒用。"},
		demoStep{6, supervision.StepInput{Step: supervision.StepInvestigated, Note: "已调取标签印制记录"}})
}

// monitoring: 荣成 flags producers after 7 days without a batch; the rules
// run; one finding is closed by 栖霞's supervisor.
func (s *supervisionDemo) monitoring() {
	if s.err != nil {
		return
	}
	s.l.App.DB.SetClock(s.l.App.Clock)
	sv := s.l.App.Supervision
	if _, err := sv.SetThreshold(s.ctx, s.actor("admin"), supervision.SettingInput{Region: "371082", Rule: supervision.RuleNoRecentBatch, Threshold: 7}); err != nil {
		s.err = err
		return
	}
	if _, err := sv.Evaluate(s.ctx); err != nil {
		s.err = fmt.Errorf("demo monitoring: %w", err)
		return
	}
	sup := s.actor("qixia-supervisor")
	list, err := s.l.App.Trace.Findings(s.ctx, sup, trace.FindingFilter{Kind: trace.FindingRectifyOverdue, Status: trace.FindingOpen, Limit: 10})
	if err != nil {
		s.err = err
		return
	}
	for _, f := range list {
		if f.Detail["record"] == "inspection" {
			if _, err := s.l.App.Trace.HandleFinding(s.ctx, sup, f.ID, trace.FindingAction{Action: trace.FindingClose, Note: "已电话督促，合作社承诺三日内完成整改并申请复查"}); err != nil {
				s.err = err
			}
			return
		}
	}
}

// demoJPEG is a small photo-like JPEG (a gradient).
func demoJPEG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 160, 120))
	for x := 0; x < 160; x++ {
		for y := 0; y < 120; y++ {
			img.Set(x, y, color.RGBA{uint8(90 + x/2), uint8(140 + y/2), 70, 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
	return b.Bytes()
}
