package demo

import (
	"context"
	"fmt"

	"agtrace/internal/feedback"
)

// demoFeedback is what the pilot's users told the platform: who, what, and
// (when the administrator has been at it) the triage.
var demoFeedback = []struct {
	user   string
	in     feedback.Input
	status feedback.Status // the triage's status ("" = still open)
	reply  string
}{
	{"qixia-orchard", feedback.Input{Category: string(feedback.CategoryUsability), Title: "手机上“打印标签”按钮太小",
		Body: "在果园里用手机登记批次后，“打印标签”按钮很小，戴着手套经常点到旁边的“更正”。", Page: "/batches"},
		feedback.StatusAnswered, "下一版本会把批次页的主要按钮加大并与“更正”拉开距离，感谢反馈。"},
	{"gaozhou-market", feedback.Input{Category: string(feedback.CategoryBug), Title: "入市查验列表偶尔出现两条相同的批次",
		Body: "早上 6 点前后刷新入市查验列表，同一个入市批次码出现两行，再刷新一次就正常了。", Page: "/market"},
		feedback.StatusInProgress, ""},
	{"pujiang-inspector", feedback.Input{Category: string(feedback.CategoryData), Title: "部分村名与最新区划不一致",
		Body: "蒲江县鹤山街道有两个村已合并，巡查选地区时还是旧村名。", Page: "/inspections/new"},
		feedback.StatusAnswered, "区划数据将按民政部门最新公布的代码更新，更新前请先选街道一级。"},
	{"sd-supervisor", feedback.Input{Category: string(feedback.CategorySuggestion), Title: "希望首页按乡镇显示未办结的巡查任务",
		Body: "省级监管员需要看到各县、各乡镇未办结的巡查任务数量，目前只能逐县查看。"}, "", ""},
	{"santai-tester", feedback.Input{Category: string(feedback.CategoryOther), Title: "检测报告能否加上检测机构资质编号",
		Body: "客户要求检测报告上印检测机构的 CMA 资质编号。", Page: "/samples"},
		feedback.StatusClosed, "已在检测报告模板中加入机构资质编号。"},
	{"ministry-analyst", feedback.Input{Category: string(feedback.CategorySuggestion), Title: "月度汇总希望能导出 Excel",
		Body: "部里每月要汇总各省的数据，希望各类统计都能直接导出 Excel。"}, "", ""},
}

// feedbackStep files what the pilot's users reported about the platform
// (operators, a market clerk, an inspector, a tester, a provincial
// supervisor and a ministry analyst) and triages some of it as the
// administrator: answered, in progress, closed, still open.
func feedbackStep(ctx context.Context, l *Loader) error {
	var n int
	if err := l.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM feedback`).Scan(&n); err != nil || n > 0 {
		return err // loaded before
	}
	fs := l.App.Feedback
	admin, err := l.App.Auth.GetUserByName(ctx, "admin")
	if err != nil {
		return fmt.Errorf("demo feedback: %w", err)
	}
	for _, d := range demoFeedback {
		u, err := l.App.Auth.GetUserByName(ctx, d.user)
		if err != nil {
			return fmt.Errorf("demo feedback: account %s: %w", d.user, err)
		}
		f, err := fs.File(ctx, actorOf(u), d.in)
		if err != nil {
			return fmt.Errorf("demo feedback from %s: %w", d.user, err)
		}
		if d.status == "" {
			continue
		}
		if _, err := fs.Triage(ctx, actorOf(admin), f.ID, feedback.TriageInput{Status: string(d.status), Reply: d.reply}); err != nil {
			return fmt.Errorf("demo feedback triage: %w", err)
		}
	}
	return nil
}
