package bench

import (
	"bytes"
	"context"
	"fmt"

	"agtrace/internal/app"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
)

// Counties are the six pilot counties the workload is spread over.
var Counties = []string{"370686", "371082", "441881", "440981", "510131", "510722"}

// password of every account the workload creates.
const password = "bench-pass-2026"

// tinyPNG is the smallest upload the document check accepts as a PNG.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// role is what an operator does in the generated chains.
type role int

const (
	rolePigFarm role = iota
	roleSlaughter
	roleMilkFarm
	roleMilkStation
	roleDairy
	roleTeaGarden
	roleTeaFactory
	roleOrchard
	roleCoop
	roleTurbotFarm
	roleTrader
	roleDistributor // the recall subtree's first tier
	numRoles
)

// roleSpec says how an operator of a role is registered.
var roleSpec = [numRoles]struct {
	name, kind, category, product string
}{
	rolePigFarm:     {"生猪养殖场", "enterprise", "producer", "生猪"},
	roleSlaughter:   {"定点屠宰厂", "slaughterhouse", "producer_trader", "猪肉"},
	roleMilkFarm:    {"奶牛养殖场", "family_farm", "producer", "生鲜乳"},
	roleMilkStation: {"生鲜乳收购站", "enterprise", "trader", "生鲜乳"},
	roleDairy:       {"乳品厂", "enterprise", "producer_trader", "乳制品"},
	roleTeaGarden:   {"茶园专业合作社", "cooperative", "producer", "茶鲜叶"},
	roleTeaFactory:  {"茶叶加工厂", "enterprise", "producer_trader", "绿茶"},
	roleOrchard:     {"苹果园", "family_farm", "producer", "苹果"},
	roleCoop:        {"果品专业合作社", "cooperative", "trader", "苹果"},
	roleTurbotFarm:  {"大菱鲆养殖场", "enterprise", "producer", "大菱鲆"},
	roleTrader:      {"农产品批发商", "enterprise", "trader", "农产品"},
	roleDistributor: {"乳品经销商", "enterprise", "trader", "乳制品"},
}

// rolePerCounty is how many operators of each role each county gets at a
// scale of 100,000 codes and more (fewer for small scales, at least 1).
var rolePerCounty = [numRoles]int{
	rolePigFarm: 8, roleSlaughter: 2, roleMilkFarm: 10, roleMilkStation: 2, roleDairy: 1,
	roleTeaGarden: 8, roleTeaFactory: 2, roleOrchard: 8, roleCoop: 2, roleTurbotFarm: 4,
	roleTrader: 6, roleDistributor: 4,
}

// Party is one generated operator and the actor its main account acts as.
type Party struct {
	Op    operator.Operator
	Actor *auth.Actor
	role  role
}

// actorOf builds the actor of an account, as authentication would.
func actorOf(u auth.User) *auth.Actor {
	return &auth.Actor{UserID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role, Region: u.RegionCode,
		OperatorID: u.OperatorID, Permissions: u.Permissions}
}

// setup creates, through the operator service (register → upload a licence
// → submit → the county reviewer approves), the operators of every role in
// every pilot county, plus one reviewer and one market account per county.
func (g *Generator) setupOperators(ctx context.Context, a *app.App, perRole func(role) int) error {
	g.parties = make(map[string][numRoles][]*Party)
	for ci, county := range Counties {
		rev, err := g.ensureUser(ctx, a, "bench-reviewer-"+county, county+"审核员", auth.RoleReviewer, county)
		if err != nil {
			return err
		}
		mkt, err := g.ensureUser(ctx, a, "bench-market-"+county, county+"农产品批发市场", auth.RoleMarket, county)
		if err != nil {
			return err
		}
		g.markets = append(g.markets, actorOf(mkt))
		var byRole [numRoles][]*Party
		for r := role(0); r < numRoles; r++ {
			for i := 0; i < perRole(r); i++ {
				p, err := g.registerOperator(ctx, a, actorOf(rev), county, ci, r, i)
				if err != nil {
					return err
				}
				byRole[r] = append(byRole[r], p)
				g.Stats.Operators++
			}
		}
		g.parties[county] = byRole
	}
	return nil
}

func (g *Generator) ensureUser(ctx context.Context, a *app.App, username, name string, r auth.Role, county string) (auth.User, error) {
	if u, err := a.Auth.GetUserByName(ctx, username); err == nil {
		return u, nil
	}
	u, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: username, Password: password, Name: name, Role: string(r), RegionCode: county})
	if err != nil {
		return auth.User{}, fmt.Errorf("create %s: %w", username, err)
	}
	return u, nil
}

func (g *Generator) registerOperator(ctx context.Context, a *app.App, reviewer *auth.Actor, county string, ci int, r role, i int) (*Party, error) {
	spec := roleSpec[r]
	n := (ci*int(numRoles)+int(r))*1000 + i // unique per workload
	username := fmt.Sprintf("bench-%s-%d-%d", county, r, i)
	if u, err := a.Auth.GetUserByName(ctx, username); err == nil && u.OperatorID != 0 { // --reuse: registered by an earlier run
		o, err := a.Operators.ByID(ctx, u.OperatorID)
		if err != nil {
			return nil, err
		}
		return &Party{Op: o, Actor: actorOf(u), role: r}, nil
	}
	d := operator.Details{Name: fmt.Sprintf("%s%s%d号", g.countyName(county), spec.name, i+1), Kind: spec.kind, Category: spec.category,
		LegalRep: "张三", ContactName: "李四", Phone: fmt.Sprintf("1380000%04d", n%10000), RegionCode: county,
		Address: "试点县农业园区" + fmt.Sprint(i+1) + "号", Products: []string{spec.product},
		IDNumber: operator.SampleResidentID(county, fmt.Sprintf("19%02d0101", 50+n%50), n)}
	prefix := map[string]string{"cooperative": "93", "family_farm": "92"}[spec.kind]
	if prefix == "" {
		prefix = "91"
	}
	d.CreditCode = operator.SampleUSCC(prefix, county, 5_000_000+n)
	o, u, err := a.Operators.Register(ctx, operator.Registration{Username: username, Password: password, Phone: d.Phone, Operator: d})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", d.Name, err)
	}
	act := actorOf(u)
	if _, err := a.Operators.AddDocument(ctx, act, o.ID, "licence", "licence.png", bytes.NewReader(tinyPNG)); err != nil {
		return nil, fmt.Errorf("upload licence of %s: %w", d.Name, err)
	}
	if _, err := a.Operators.Submit(ctx, act, o.ID); err != nil {
		return nil, fmt.Errorf("submit %s: %w", d.Name, err)
	}
	o, err = a.Operators.Approve(ctx, reviewer, o.ID)
	if err != nil {
		return nil, fmt.Errorf("approve %s: %w", d.Name, err)
	}
	return &Party{Op: o, Actor: act, role: r}, nil
}

func (g *Generator) countyName(county string) string {
	return map[string]string{"370686": "栖霞", "371082": "荣成", "441881": "英德", "440981": "高州", "510131": "蒲江", "510722": "三台"}[county]
}
