package demo

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// PilotOperator is an operator the demo registers. Username is its main
// account (password: the demo password); State is the registration state
// the demo leaves it in.
type PilotOperator struct {
	Username, County, Name, Kind, Category, Products string
	State                                            string // approved | draft | pending | overdue | rejected
	Leading                                          string
	Demo                                             bool
	Cert                                             string // a 三品一标 kind, or ""
	Signs                                            bool   // issued an agreement and signs it (approved only)
	Issue                                            bool   // issued an agreement (left unsigned unless Signs)
}

// PilotOperators are the demo's operators: for every pilot county a
// producer and a trader or processor for its chain (approved), and one
// operator in each other state.
var PilotOperators = []PilotOperator{
	// 栖霞 apples: orchard → cooperative → fruit trader
	{Username: "qixia-orchard", County: "370686", Name: "栖霞市绿源苹果园", Kind: "family_farm", Category: "producer", Products: "苹果", State: "approved", Cert: "green", Issue: true, Signs: true},
	{Username: "qixia-coop", County: "370686", Name: "栖霞市富康果品专业合作社", Kind: "cooperative", Category: "producer_trader", Products: "苹果", State: "approved", Demo: true, Issue: true},
	{Username: "qixia-trader", County: "370686", Name: "栖霞市果都果品有限公司", Kind: "enterprise", Category: "trader", Products: "苹果、苹果汁", State: "approved", Leading: "provincial", Issue: true, Signs: true},
	{Username: "qixia-liu", County: "370686", Name: "刘建国果园", Kind: "individual", Category: "producer", Products: "苹果", State: "approved"},
	// 荣成 turbot: farm → trader
	{Username: "rongcheng-farm", County: "371082", Name: "荣成市海益大菱鲆养殖有限公司", Kind: "enterprise", Category: "producer", Products: "大菱鲆", State: "approved", Cert: "pollution_free", Issue: true, Signs: true},
	{Username: "rongcheng-trader", County: "371082", Name: "荣成市鑫海水产品贸易有限公司", Kind: "enterprise", Category: "trader", Products: "大菱鲆", State: "approved", Issue: true},
	// 英德 tea: garden → tea factory
	{Username: "yingde-garden", County: "441881", Name: "英德市积庆里茶园", Kind: "family_farm", Category: "producer", Products: "茶鲜叶", State: "approved", Issue: true, Signs: true},
	{Username: "yingde-factory", County: "441881", Name: "英德市英红茶叶加工厂", Kind: "enterprise", Category: "producer_trader", Products: "英德红茶", State: "approved", Leading: "provincial", Issue: true},
	// 高州 pigs: pig farm → slaughterhouse
	{Username: "gaozhou-farm", County: "440981", Name: "高州市良种生猪养殖场", Kind: "enterprise", Category: "producer", Products: "生猪", State: "approved", Issue: true, Signs: true},
	{Username: "gaozhou-slaughter", County: "440981", Name: "高州市生猪定点屠宰厂", Kind: "slaughterhouse", Category: "producer_trader", Products: "猪肉", State: "approved", Leading: "municipal", Issue: true},
	// 蒲江 tea: garden → tea factory
	{Username: "pujiang-garden", County: "510131", Name: "蒲江县雀舌茶园", Kind: "family_farm", Category: "producer", Products: "茶鲜叶", State: "approved", Cert: "geo_indication", Issue: true, Signs: true},
	{Username: "pujiang-factory", County: "510131", Name: "蒲江县茶叶加工厂", Kind: "enterprise", Category: "producer_trader", Products: "绿茶", State: "approved", Issue: true},
	// 三台 pigs and milk: pig farm → slaughterhouse; dairy farm → collection station → dairy plant
	{Username: "santai-pigfarm", County: "510722", Name: "三台县生猪养殖场", Kind: "enterprise", Category: "producer", Products: "生猪", State: "approved", Issue: true, Signs: true},
	{Username: "santai-slaughter", County: "510722", Name: "三台县生猪定点屠宰厂", Kind: "slaughterhouse", Category: "producer_trader", Products: "猪肉", State: "approved", Issue: true},
	{Username: "santai-dairyfarm", County: "510722", Name: "三台县奶牛养殖家庭农场", Kind: "family_farm", Category: "producer", Products: "生鲜乳", State: "approved", Issue: true, Signs: true},
	{Username: "santai-station", County: "510722", Name: "三台县生鲜乳收购站", Kind: "enterprise", Category: "trader", Products: "生鲜乳", State: "approved", Issue: true, Signs: true},
	{Username: "santai-dairy", County: "510722", Name: "三台县乳品厂", Kind: "enterprise", Category: "producer_trader", Products: "乳制品、巴氏杀菌乳", State: "approved", Leading: "provincial", Issue: true},
}

// stateOperators adds, for every county, an operator in each non-approved state.
func stateOperators() []PilotOperator {
	var out []PilotOperator
	for _, c := range Counties {
		for _, st := range []struct{ state, name, kind string }{
			{"draft", "草稿农场", "family_farm"}, {"pending", "待审核农业有限公司", "enterprise"},
			{"overdue", "超期待审合作社", "cooperative"}, {"rejected", "被退回农资店", "enterprise"},
		} {
			cat := "producer"
			if st.state == "rejected" {
				cat = "input_supplier"
			}
			out = append(out, PilotOperator{Username: c.Slug + "-" + st.state, County: c.Code, Name: c.Name + st.name, Kind: st.kind, Category: cat,
				Products: mainProduct(c), State: st.state})
		}
	}
	return out
}

var demoNames = []string{"张立新", "王秀英", "李建国", "刘桂兰", "陈志强", "杨丽华", "赵德明", "黄春燕", "周海涛", "吴玉梅"}

var demoPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

func actorOf(u auth.User) *auth.Actor {
	return &auth.Actor{UserID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role, Region: u.RegionCode, OperatorID: u.OperatorID, Permissions: u.Permissions}
}

func creditPrefix(kind string) string {
	switch kind {
	case "cooperative":
		return "93"
	case "individual":
		return ""
	}
	return "91"
}

// demoCredit is the credit code of the i-th demo operator ("" for individuals).
func demoCredit(p PilotOperator, i int) string {
	pre := creditPrefix(p.Kind)
	if pre == "" {
		return ""
	}
	return operator.SampleUSCC(pre, p.County, 9000+i)
}

// ensureOperator registers p (unless its account exists) and moves it to its state.
func (l *Loader) ensureOperator(ctx context.Context, p PilotOperator, i int) (operator.Operator, error) {
	ops := l.App.Operators
	note := fmt.Sprintf("%s · %s", p.Name, p.State)
	l.Accounts = append(l.Accounts, Account{Username: p.Username, Role: string(auth.RoleOperator), Region: p.County, Note: note})
	var o operator.Operator
	u, err := l.App.Auth.GetUserByName(ctx, p.Username)
	if err == nil {
		if o, err = ops.ByID(ctx, u.OperatorID); err != nil {
			return o, err
		}
	} else {
		d := operator.Details{Name: p.Name, Kind: p.Kind, Category: p.Category, CreditCode: demoCredit(p, i),
			IDNumber: operator.SampleResidentID(p.County, fmt.Sprintf("19%02d0%d15", 60+i%35, 1+i%9), i), LegalRep: demoNames[i%len(demoNames)],
			ContactName: demoNames[(i+3)%len(demoNames)], Phone: fmt.Sprintf("139%08d", 10000000+i), RegionCode: p.County, Address: p.Name + "生产基地",
			Products: []string{p.Products}, LeadingEnterprise: p.Leading, DemoCooperative: p.Demo}
		if p.Kind == "individual" {
			d.LegalRep = ""
		}
		if p.Cert != "" {
			d.Certifications = []operator.Certification{{Kind: p.Cert, Number: fmt.Sprintf("CERT-%s-%03d", p.County, i), ValidUntil: "2028-12-31"}}
		}
		if o, u, err = ops.Register(ctx, operator.Registration{Username: p.Username, Password: l.Password, Phone: d.Phone, Operator: d}); err != nil {
			return o, fmt.Errorf("demo operator %s: %w", p.Username, err)
		}
	}
	if p.State == "draft" {
		return o, nil
	}
	self := actorOf(u)
	if o.Status == operator.StatusDraft {
		docs, err := ops.Documents(ctx, self, o.ID)
		if err != nil {
			return o, err
		}
		if len(docs) == 0 {
			if _, err := ops.AddDocument(ctx, self, o.ID, "licence", "营业执照.png", bytes.NewReader(demoPNG)); err != nil {
				return o, err
			}
		}
		if p.State == "overdue" {
			// submitted 12 days ago: the 5-working-day deadline has passed
			l.App.DB.SetClock(&platform.FixedClock{T: l.App.Clock.Now().Add(-12 * 24 * time.Hour)})
		}
		o, err = ops.Submit(ctx, self, o.ID)
		l.App.DB.SetClock(l.App.Clock)
		if err != nil {
			return o, fmt.Errorf("demo submit %s: %w", p.Username, err)
		}
	}
	if o.Status != operator.StatusPending || p.State == "pending" || p.State == "overdue" {
		return o, nil
	}
	rev, err := l.App.Auth.GetUserByName(ctx, slugOf(p.County)+"-reviewer")
	if err != nil {
		return o, fmt.Errorf("demo reviewer of %s: %w", p.County, err)
	}
	if p.State == "rejected" {
		return ops.Reject(ctx, actorOf(rev), o.ID, "营业执照经营范围与申报类别不符，请核对后重新提交")
	}
	return ops.Approve(ctx, actorOf(rev), o.ID)
}

// mainProduct is the county's first pilot product in Chinese ("生猪, 生鲜乳 raw milk" → "生猪").
func mainProduct(c County) string {
	f := strings.Fields(c.Products)
	if len(f) == 0 {
		return ""
	}
	return strings.TrimRight(f[0], ",，")
}

func slugOf(county string) string {
	for _, c := range Counties {
		if c.Code == county {
			return c.Slug
		}
	}
	return county
}

func operatorsStep(ctx context.Context, l *Loader) error {
	all := append(append([]PilotOperator(nil), PilotOperators...), stateOperators()...)
	byUser := map[string]operator.Operator{}
	for i, p := range all {
		o, err := l.ensureOperator(ctx, p, i)
		if err != nil {
			return err
		}
		byUser[p.Username] = o
	}
	if err := l.demoRosters(ctx, all, byUser); err != nil {
		return err
	}
	return l.demoAgreements(ctx, byUser)
}

// demoRosters fills each county's first township roster: every approved
// chain operator (matched by credit code; 刘建国果园 by a confirmed name
// match), the pending operator (matched, not yet registered), an
// unregistered certified farm (a key operator) and an unregistered
// individual with a recorded reminder.
func (l *Loader) demoRosters(ctx context.Context, all []PilotOperator, byUser map[string]operator.Operator) error {
	ops := l.App.Operators
	for _, c := range Counties {
		town, err := l.App.Auth.GetUserByName(ctx, c.Slug+"-township")
		if err != nil {
			return fmt.Errorf("demo township of %s: %w", c.Name, err)
		}
		ta := actorOf(town)
		existing, err := ops.Roster(ctx, ta, operator.RosterFilter{})
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			continue
		}
		add := func(in operator.RosterInput) (operator.RosterEntry, error) {
			in.RegionCode = town.RegionCode
			e, err := ops.AddRoster(ctx, ta, in)
			if err != nil {
				return e, fmt.Errorf("demo roster %s: %w", in.Name, err)
			}
			return e, nil
		}
		for _, p := range all {
			if p.County != c.Code || (p.State != "approved" && p.State != "pending") {
				continue
			}
			o := byUser[p.Username]
			in := operator.RosterInput{Name: p.Name, Kind: p.Kind, CreditCode: o.CreditCode, Products: []string{p.Products},
				LeadingEnterprise: p.Leading, DemoCooperative: p.Demo, Certified: p.Cert != "", Village: "示范村"}
			if o.CreditCode == "" {
				// no credit code: recorded by name; a person confirms the suggested match
				e, err := add(in)
				if err != nil {
					return err
				}
				if _, err := ops.ConfirmMatch(ctx, ta, e.ID, o.ID); err != nil {
					return err
				}
				continue
			}
			if _, err := add(in); err != nil {
				return err
			}
		}
		if _, err := add(operator.RosterInput{Name: c.Name + "未注册绿色食品家庭农场", Kind: "family_farm", Products: []string{mainProduct(c)},
			Certified: true, Village: "东山村", ContactName: "赵六", Phone: "13700000000"}); err != nil {
			return err
		}
		e, err := add(operator.RosterInput{Name: c.Name + "散户王大爷", Kind: "individual", Products: []string{mainProduct(c)}, Village: "西河村",
			IDNumber: operator.SampleResidentID(c.Code, "19550505", 7)})
		if err != nil {
			return err
		}
		if _, err := ops.Remind(ctx, ta, e.ID, "visit", "已上门宣传，农户表示秋收后注册"); err != nil {
			return err
		}
	}
	return nil
}

// demoAgreements issues agreements to the approved chain operators marked
// Issue and has those marked Signs sign them.
func (l *Loader) demoAgreements(ctx context.Context, byUser map[string]operator.Operator) error {
	ops := l.App.Operators
	for _, p := range PilotOperators {
		if !p.Issue {
			continue
		}
		o := byUser[p.Username]
		rev, err := l.App.Auth.GetUserByName(ctx, slugOf(p.County)+"-reviewer")
		if err != nil {
			return err
		}
		list, err := ops.Agreements(ctx, actorOf(rev), operator.AgreementFilter{OperatorID: o.ID, Region: p.County})
		if err != nil {
			return err
		}
		var ag operator.Agreement
		if len(list) > 0 {
			ag = list[0]
		} else if ag, err = ops.IssueAgreement(ctx, actorOf(rev), o.ID, 0); err != nil {
			return fmt.Errorf("demo agreement %s: %w", p.Username, err)
		}
		if p.Signs && ag.Status == "issued" {
			u, err := l.App.Auth.GetUserByName(ctx, p.Username)
			if err != nil {
				return err
			}
			if _, err := ops.SignAgreement(ctx, actorOf(u), ag.ID); err != nil {
				return fmt.Errorf("demo sign %s: %w", p.Username, err)
			}
		}
	}
	return nil
}
