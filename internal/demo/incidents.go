package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/incident"
	"agtrace/internal/platform"
)

// incidentsStep declares the emergency command demo: 高州's supervisor
// turns the clenbuterol recall (GZ-2026-0088) into an incident; the
// sampled pig lot is sealed by 高州's inspector (done), 高州's tester
// samples the cuts (in progress), and the province's supervisor has 英德's
// inspector check the market entry sold into 英德 (open).
func incidentsStep(ctx context.Context, l *Loader) error {
	a := l.App
	var n int
	if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM incidents`).Scan(&n); err != nil || n > 0 {
		return err // loaded before
	}
	user := func(name string) (*auth.Actor, error) {
		u, err := a.Auth.GetUserByName(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("demo incidents: account %s: %w", name, err)
		}
		return actorOf(u), nil
	}
	sup, err := user("gaozhou-supervisor")
	if err != nil {
		return err
	}
	recalls, err := a.Monitoring.Recalls(ctx, sup)
	if err != nil {
		return err
	}
	var recallID int64
	for _, r := range recalls {
		if strings.Contains(r.Reason, "GZ-2026-0088") {
			recallID = r.ID
		}
	}
	if recallID == 0 {
		return nil // the monitoring demo has no recall to command
	}
	inc, err := a.Incidents.Declare(ctx, sup, incident.DeclareInput{Source: incident.Source{Kind: incident.SourceRecall, ID: recallID},
		Title:       "高州市生猪克仑特罗超标应急处置",
		Description: "样品 GZ-2026-0088 检出克仑特罗。所涉生猪已屠宰分割，部分白条肉已销往英德市农贸市场。要求各地查封在库产品、核查销售去向并抽样复检。"})
	if err != nil {
		return fmt.Errorf("demo incident: %w", err)
	}
	return incidentTasks(ctx, l, inc, sup, user)
}

// incidentTasks assigns and moves the demo incident's tasks.
func incidentTasks(ctx context.Context, l *Loader, inc incident.Incident, sup *auth.Actor, user func(string) (*auth.Actor, error)) error {
	svc := l.App.Incidents
	var root, cut, yingde string
	for _, b := range inc.Batches {
		switch {
		case b.Depth == 0:
			root = b.Code
		case strings.HasPrefix(b.RegionCode, "441881") && yingde == "":
			yingde = b.Code
		case b.Depth >= 2 && strings.HasPrefix(b.RegionCode, "440981") && cut == "":
			cut = b.Code
		}
	}
	due := func(hours int) string {
		return l.App.Clock.Now().Add(time.Duration(hours) * time.Hour).In(platform.ChinaTZ).Format("2006-01-02T15:04")
	}
	seal, err := svc.AddTask(ctx, sup, inc.ID, incident.TaskInput{Kind: string(incident.TaskSeal), Assignee: "gaozhou-inspector", BatchCode: root,
		DueAt: due(6), Instructions: "对 2 号栏舍剩余生猪就地查封，清点数量，拍照留存。"})
	if err != nil {
		return fmt.Errorf("demo incident task: %w", err)
	}
	insp, err := user("gaozhou-inspector")
	if err != nil {
		return err
	}
	if _, err := svc.SetTaskStatus(ctx, insp, seal.ID, incident.TaskStatusInput{Status: string(incident.TaskDone), BatchState: string(incident.StateSealed),
		Note: "已就地查封剩余生猪，张贴封条，养殖场负责人签字确认。"}); err != nil {
		return fmt.Errorf("demo incident seal: %w", err)
	}
	if cut != "" {
		t, err := svc.AddTask(ctx, sup, inc.ID, incident.TaskInput{Kind: string(incident.TaskSample), Assignee: "gaozhou-tester", BatchCode: cut,
			DueAt: due(30), Instructions: "对屠宰场冷库中的分割肉抽样送检（克仑特罗、莱克多巴胺）。"})
		if err != nil {
			return fmt.Errorf("demo incident sample task: %w", err)
		}
		tester, err := user("gaozhou-tester")
		if err != nil {
			return err
		}
		if _, err := svc.SetTaskStatus(ctx, tester, t.ID, incident.TaskStatusInput{Status: string(incident.TaskInProgress), Note: "已抽取 3 份样品送县检测中心。"}); err != nil {
			return fmt.Errorf("demo incident sample: %w", err)
		}
	}
	if yingde != "" {
		gd, err := user("gd-supervisor")
		if err != nil {
			return err
		}
		if _, err := svc.AddTask(ctx, gd, inc.ID, incident.TaskInput{Kind: string(incident.TaskCheck), Assignee: "yingde-inspector", BatchCode: yingde,
			DueAt: due(48), Instructions: "核查该批白条肉在农贸市场的销售去向和剩余库存，剩余部分就地查封。"}); err != nil {
			return fmt.Errorf("demo incident check task: %w", err)
		}
	}
	return nil
}
