// Package demo loads a realistic pilot dataset: the three pilot provinces,
// two pilot counties each with their agencies and one account per role, and
// (from the feature files of this package) operators, rosters, agreements,
// batches and chains. Loading is idempotent: what exists is left alone.
package demo

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"agtrace/internal/app"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// County is a pilot county and what it pilots.
type County struct {
	Code, Name, Products, Slug string
}

// Counties are the pilot counties (two per pilot province: 山东 37, 广东 44, 四川 51).
var Counties = []County{
	{"370686", "栖霞市", "苹果 apples", "qixia"},
	{"371082", "荣成市", "大菱鲆 turbot", "rongcheng"},
	{"441881", "英德市", "茶叶 tea", "yingde"},
	{"440981", "高州市", "生猪 pigs", "gaozhou"},
	{"510131", "蒲江县", "茶叶 tea", "pujiang"},
	{"510722", "三台县", "生猪 pigs, 生鲜乳 raw milk", "santai"},
}

// Provinces are the pilot provinces.
var Provinces = []struct{ Code, Name, Slug string }{
	{"370000", "山东省", "sd"}, {"440000", "广东省", "gd"}, {"510000", "四川省", "sc"},
}

// Account is a demo login printed for the user.
type Account struct {
	Username, Role, Region, Note string
}

// Loader builds the dataset through the services (never raw SQL), so the
// demo exercises the same write path as real users.
type Loader struct {
	App      *app.App
	Password string
	Accounts []Account
}

// steps are the dataset, in order: each feature's file of this package
// holds its step.
var steps = []func(ctx context.Context, l *Loader) error{foundation, operatorsStep, traceStep, supervisionStep, monitoringStep, complaintsStep, incidentsStep, feedbackStep, insightStep, warningsStep, assessStep, portStep, clientsStep, exchangeStep}

// Load runs every step.
func Load(ctx context.Context, a *app.App, password string) (*Loader, error) {
	if fe := auth.CheckPasswordPolicy("password", password); fe != nil {
		return nil, fmt.Errorf("--password: %s", fe.EN)
	}
	l := &Loader{App: a, Password: password}
	ctx = platform.WithOrigin(ctx, auth.SystemOrigin("demo"))
	for _, step := range steps {
		if err := step(ctx, l); err != nil {
			return l, err
		}
	}
	return l, nil
}

// EnsureUser creates an account unless the username exists; either way it is
// listed among the demo accounts.
func (l *Loader) EnsureUser(ctx context.Context, u auth.NewUser, note string) (auth.User, error) {
	if u.Password == "" {
		u.Password = l.Password
	}
	l.Accounts = append(l.Accounts, Account{Username: u.Username, Role: u.Role, Region: u.RegionCode, Note: note})
	if existing, err := l.App.Auth.GetUserByName(ctx, u.Username); err == nil {
		return existing, nil
	}
	return l.App.Auth.CreateUser(ctx, auth.System(), u)
}

var agencyKinds = []struct{ kind, suffix string }{
	{"agriculture_department", "农业农村局"},
	{"supervision_station", "农产品质量安全监管站"},
	{"testing_agency", "农产品质量安全检测中心"},
	{"enforcement_team", "农业综合行政执法大队"},
}

// countyRoles are the roles that get one account per pilot county, with the agency kind they belong to.
var countyRoles = []struct {
	role   auth.Role
	agency string
	note   string
}{
	{auth.RoleReviewer, "agriculture_department", "县级注册审核"},
	{auth.RoleSupervisor, "agriculture_department", "县级监管"},
	{auth.RoleInspector, "supervision_station", "基地巡查"},
	{auth.RoleTester, "testing_agency", "抽样检测"},
	{auth.RoleEnforcer, "enforcement_team", "执法"},
	{auth.RoleMarket, "", "市场入市查验"},
	{auth.RoleIntegration, "", "接口账号"},
}

func foundation(ctx context.Context, l *Loader) error {
	a := l.App
	if _, err := l.EnsureUser(ctx, auth.NewUser{Username: "admin", Name: "系统管理员", Role: string(auth.RoleAdmin), RegionCode: "000000"}, "全国 · 系统管理"); err != nil {
		return fmt.Errorf("demo admin: %w", err)
	}
	if _, err := l.EnsureUser(ctx, auth.NewUser{Username: "ministry-analyst", Name: "部级分析员", Role: string(auth.RoleAnalyst), RegionCode: "000000"}, "农业农村部 · 只读分析"); err != nil {
		return err
	}
	for _, p := range Provinces {
		if _, err := l.EnsureUser(ctx, auth.NewUser{Username: p.Slug + "-analyst", Name: p.Name + "分析员", Role: string(auth.RoleAnalyst), RegionCode: p.Code}, p.Name+" · 只读分析"); err != nil {
			return err
		}
		if _, err := l.EnsureUser(ctx, auth.NewUser{Username: p.Slug + "-supervisor", Name: p.Name + "监管员", Role: string(auth.RoleSupervisor), RegionCode: p.Code}, p.Name+" · 省级监管"); err != nil {
			return err
		}
	}
	for _, c := range Counties {
		agencies := map[string]int64{}
		for _, k := range agencyKinds {
			ag, err := a.Auth.CreateAgency(ctx, auth.System(), auth.Agency{Name: c.Name + k.suffix, Kind: k.kind, RegionCode: c.Code})
			if err != nil {
				return fmt.Errorf("demo agency %s: %w", c.Name, err)
			}
			agencies[k.kind] = ag.ID
		}
		for _, cr := range countyRoles {
			u := auth.NewUser{Username: c.Slug + "-" + string(cr.role), Name: c.Name + translateRole(cr.role), Role: string(cr.role),
				RegionCode: c.Code, AgencyID: agencies[cr.agency]}
			if _, err := l.EnsureUser(ctx, u, c.Name+" · "+cr.note); err != nil {
				return fmt.Errorf("demo user %s: %w", u.Username, err)
			}
		}
		// the township officer answers for the county's first township
		towns, err := a.Regions.Children(ctx, c.Code)
		if err != nil {
			return err
		}
		if len(towns) > 0 {
			if _, err := l.EnsureUser(ctx, auth.NewUser{Username: c.Slug + "-township", Name: towns[0].Name + "监管员", Role: string(auth.RoleTownship),
				RegionCode: towns[0].Code, AgencyID: agencies["supervision_station"]}, towns[0].Name+" · 乡镇名录普查"); err != nil {
				return err
			}
		}
	}
	return nil
}

func translateRole(r auth.Role) string {
	return map[auth.Role]string{auth.RoleReviewer: "审核员", auth.RoleSupervisor: "监管员", auth.RoleInspector: "巡查员", auth.RoleTester: "检测员",
		auth.RoleEnforcer: "执法员", auth.RoleMarket: "市场查验员", auth.RoleIntegration: "接口", auth.RoleTownship: "乡镇监管员"}[r]
}

// Print writes the account table.
func (l *Loader) Print(w io.Writer, url string) {
	fmt.Fprintf(w, "\nDemo data loaded. Open %s and log in with any account below (password: %s)\n\n", url, l.Password)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tROLE\tREGION\tWHAT FOR")
	for _, a := range l.Accounts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Username, a.Role, a.Region, a.Note)
	}
	tw.Flush()
}

// insightStep brings the dashboards' figures up to date with the dataset
// (serve keeps them current from then on).
func insightStep(ctx context.Context, l *Loader) error {
	_, err := l.App.Insight.Update(ctx)
	return err
}
