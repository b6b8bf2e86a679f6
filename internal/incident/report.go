package incident

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/printing"
	"agtrace/internal/trace"
)

// Words of the situation report (a Chinese official document).
var (
	sourceZH     = map[SourceKind]string{SourceRecall: "抽检不合格召回", SourceWarning: "监测预警", SourceComplaint: "投诉举报", SourceManual: "人工启动"}
	statusZH     = map[Status]string{StatusOpen: "处置中", StatusResolved: "已处置完毕"}
	stateZH      = map[BatchState]string{StateUnresolved: "未处置", StateSealed: "已查封", StateDestroyed: "已销毁", StateReleased: "已放行", StateCleared: "排查完毕"}
	taskKindZH   = map[TaskKind]string{TaskCheck: "核查", TaskSeal: "查封", TaskSample: "抽样", TaskReport: "报告"}
	taskStatusZH = map[TaskStatus]string{TaskOpen: "待办", TaskInProgress: "进行中", TaskDone: "已完成", TaskCannot: "无法完成"}
	actionZH     = map[string]string{
		"incident.declare": "启动应急事件", "incident.task.assign": "分派任务", "incident.task.status": "更新任务进度",
		"incident.batch.state": "登记批次处置", "incident.batches.add": "新增受影响批次", "incident.resolve": "事件处置完毕",
		"recall.open": "启动召回", "recall.confirmed": "确认召回", "recall.released": "解除暂扣", "recall.closed": "召回完成",
		"complaint.file": "收到举报", "complaint.assign": "指派举报", "complaint.reply": "答复举报", "complaint.close": "办结举报",
	}
)

// chinaTime is an instant as a reader in China writes it.
func chinaTime(t time.Time) string { return t.In(platform.ChinaTZ).Format("2006-01-02 15:04") }

// ReportPDF renders the incident's situation report (态势报告) for an
// official who may see it, signed SM2 by the platform (the fingerprint is
// printed) with a QR code of the incident's page.
func (s *Service) ReportPDF(ctx context.Context, actor *auth.Actor, id int64) ([]byte, string, error) {
	inc, err := s.Get(ctx, actor, id)
	if err != nil {
		return nil, "", err
	}
	r := s.report(ctx, inc)
	signed, _ := json.Marshal(r)
	sig, err := s.signer.Sign(signed)
	if err != nil {
		return nil, "", err
	}
	r.Signature = base64.StdEncoding.EncodeToString(sig)
	var buf bytes.Buffer
	if err := printing.SituationReportPDF(&buf, r); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), "situation-" + inc.Number + ".pdf", nil
}

// report puts an incident in the report's words.
func (s *Service) report(ctx context.Context, inc Incident) printing.SituationReport {
	region := s.regionName(ctx, inc.RegionCode)
	src := sourceZH[inc.Source.Kind]
	if inc.SourceRef != "" {
		src += " " + inc.SourceRef
	}
	r := printing.SituationReport{Number: inc.Number, Title: inc.Title, Agency: region + "农产品质量安全应急指挥", Source: src, Region: region,
		Product: inc.ProductName, Status: statusZH[inc.Status], DeclaredBy: inc.DeclaredBy, DeclaredAt: chinaTime(inc.DeclaredAt),
		AsOf: chinaTime(s.clock.Now()), Description: inc.Description,
		Progress: fmt.Sprintf("受影响批次 %d 个（涉及 %d 个县区），已处置 %d 个；任务 %d 项，未完成 %d 项",
			len(inc.Batches), len(inc.Regions), inc.Resolved, len(inc.Tasks), inc.OpenTasks),
		VerifyURL: fmt.Sprintf("%s/incidents/%d", strings.TrimRight(s.publicURL, "/"), inc.ID)}
	if inc.ResolvedAt != nil {
		r.Status += "（" + chinaTime(*inc.ResolvedAt) + "）"
	}
	for _, b := range inc.Batches {
		product := b.ProductCode
		if p, err := s.trace.Product(ctx, b.ProductCode); err == nil {
			product = p.Name
		}
		unit := trace.UnitName(b.Unit)
		r.Batches = append(r.Batches, printing.SituationBatch{Code: b.Code, Product: product, Holder: b.Holder, Region: s.regionName(ctx, b.RegionCode),
			Quantity: trace.FormatQty(b.Quantity) + " " + unit + " / " + trace.FormatQty(b.Stock) + " " + unit, State: stateZH[b.State], Open: !b.State.Resolved()})
	}
	for _, t := range inc.Tasks {
		var parts []string
		if t.BatchCode != "" {
			parts = append(parts, "批次 "+printing.GroupDigits(t.BatchCode))
		}
		if t.Instructions != "" {
			parts = append(parts, "要求："+t.Instructions)
		}
		if t.Report != "" {
			parts = append(parts, "报告："+t.Report)
		}
		r.Tasks = append(r.Tasks, printing.SituationTask{Kind: taskKindZH[t.Kind], Assignee: t.AssigneeName + "（" + s.regionName(ctx, t.RegionCode) + "）",
			Due: chinaTime(t.DueAt), Status: taskStatusZH[t.Status], Text: strings.Join(parts, "；"), Overdue: t.Overdue})
	}
	for _, e := range inc.Timeline {
		r.Events = append(r.Events, printing.SituationEvent{At: chinaTime(e.At), Actor: actorName(e.Actor), Action: eventZH(e)})
	}
	return r
}

// eventZH is a timeline line in words: the action and what it names.
func eventZH(e Event) string {
	what, ok := actionZH[e.Action]
	if !ok {
		what = "其他操作 " + e.Action
	}
	d := e.Detail
	var extra []string
	if k, ok := d["task_kind"].(string); ok {
		extra = append(extra, taskKindZH[TaskKind(k)])
	}
	if a, ok := d["assignee"].(string); ok && a != "" {
		extra = append(extra, "承办人 "+a)
	}
	if st, ok := d["task_status"].(string); ok {
		extra = append(extra, taskStatusZH[TaskStatus(st)])
	}
	if c, ok := d["code"].(string); ok && c != "" {
		extra = append(extra, "批次 "+printing.GroupDigits(c))
	}
	if st, ok := d["state"].(string); ok {
		extra = append(extra, stateZH[BatchState(st)])
	}
	if n, ok := d["note"].(string); ok && n != "" {
		extra = append(extra, n)
	}
	if n, ok := d["batches"].(float64); ok && e.Action != "incident.resolve" {
		extra = append(extra, fmt.Sprintf("%d 个批次", int(n)))
	}
	if len(extra) > 0 {
		what += "：" + strings.Join(extra, "，")
	}
	return what
}

// actorName is who acted, in words (the platform itself is 系统).
func actorName(name string) string {
	if name == "" || name == auth.SystemName {
		return "系统"
	}
	return name
}

// regionName is a region's full name (the code when unknown).
func (s *Service) regionName(ctx context.Context, code string) string {
	if code == "" || code == "000000" {
		return "全国"
	}
	if n, err := s.regions.FullName(ctx, code); err == nil {
		return n
	}
	return code
}
