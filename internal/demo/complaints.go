package demo

import (
	"context"
	"fmt"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/complaints"
	"agtrace/internal/trace"
)

// complaintsStep files the public's reports: a shopper's complaint about
// 栖霞 apples (received), a label that scans to nothing in 高州 (a suspected
// counterfeit, assigned to the enforcer), and one about 荣成 turbot that
// the county answered and closed.
func complaintsStep(ctx context.Context, l *Loader) error {
	var n int
	if err := l.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM complaints`).Scan(&n); err != nil || n > 0 {
		return err // loaded before
	}
	code := func(user, product string) (string, error) {
		u, err := l.App.Auth.GetUserByName(ctx, user)
		if err != nil {
			return "", err
		}
		list, err := l.App.Trace.ListBatches(ctx, actorOf(u), trace.BatchFilter{Limit: 200})
		if err != nil {
			return "", err
		}
		for _, b := range list {
			if b.ProductCode == product {
				return b.TraceCode, nil
			}
		}
		return "", fmt.Errorf("demo complaints: %s has no %s batch", user, product)
	}
	apples, err := code("qixia-orchard", "apple")
	if err != nil {
		return err
	}
	turbot, err := code("rongcheng-farm", "turbot")
	if err != nil {
		return err
	}
	cs := l.App.Complaints
	user := func(name string) (*auth.Actor, error) {
		u, err := l.App.Auth.GetUserByName(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("demo complaints: account %s: %w", name, err)
		}
		return actorOf(u), nil
	}
	if _, err := cs.File(ctx, complaints.Input{Category: complaints.CategoryQuality, Code: apples, Contact: "13805351234",
		Description: "在超市买的苹果表皮有白色粉末，清洗后仍有药味，担心农药残留超标。"}, nil); err != nil {
		return fmt.Errorf("demo complaint: %w", err)
	}
	fake, err := codes.NewTraceCode(codes.MarketEntry, "440981", 99_999_999) // well formed, never issued
	if err != nil {
		return err
	}
	if _, err := cs.File(ctx, complaints.Input{Category: complaints.CategoryCounterfeit, Code: fake, Region: "440981",
		Description: "农贸市场猪肉摊贴的追溯码扫出来“未查到”，摊主说是高州屠宰厂的货。"}, nil); err != nil {
		return fmt.Errorf("demo complaint: %w", err)
	}
	closed, err := cs.File(ctx, complaints.Input{Category: complaints.CategoryFalseInfo, Code: turbot,
		Description: "追溯页面写的养殖场和包装箱上印的不一致。"}, nil)
	if err != nil {
		return fmt.Errorf("demo complaint: %w", err)
	}
	// the two counties handle theirs
	sup, err := user("rongcheng-supervisor")
	if err != nil {
		return err
	}
	list, err := cs.List(ctx, sup, complaints.Filter{Status: "all"})
	if err != nil {
		return err
	}
	for _, c := range list {
		if c.Ticket != closed.Ticket {
			continue
		}
		if _, err := cs.Step(ctx, sup, c.ID, complaints.StepInput{Step: complaints.StepReply, Reply: "经核查，该批大菱鲆由荣成市石岛水产养殖场养殖，经销商使用了旧包装箱，已责令更换。"}); err != nil {
			return err
		}
		if _, err := cs.Step(ctx, sup, c.ID, complaints.StepInput{Step: complaints.StepClose, Reply: "已核实处理，办结。"}); err != nil {
			return err
		}
	}
	gz, err := user("gaozhou-supervisor")
	if err != nil {
		return err
	}
	list, err = cs.List(ctx, gz, complaints.Filter{})
	if err != nil {
		return err
	}
	for _, c := range list {
		if c.Category == complaints.CategoryCounterfeit {
			if _, err := cs.Step(ctx, gz, c.ID, complaints.StepInput{Step: complaints.StepAssign, Assignee: "gaozhou-enforcer"}); err != nil {
				return err
			}
		}
	}
	return nil
}
