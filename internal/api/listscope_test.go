package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"agtrace/internal/api"
	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
)

// How a list route is reached in TestListScope.
const (
	lsTop      = "top"      // no path parameter: the whole list in the actor's reach
	lsOperator = "operator" // {id} is an operator of another jurisdiction
	lsRoster   = "roster"   // {id} is a roster entry of another jurisdiction
	lsCode     = "code"     // {code} is a trace code of another operator
	lsUser     = "user"     // {id} is an account of another jurisdiction
	lsPublic   = "public"   // reference data, the same for everyone (no jurisdiction)
	lsRegion   = "region"   // a view of one region (not rows): another jurisdiction's is refused
	lsAdmin    = "admin"    // the platform's own state (no jurisdiction): administrators only, everyone else refused
)

// listRoutes is every GET route under /api/v1 that answers a list. A new list
// route fails TestListRoutesCovered until it is added here (and so checked).
var listRoutes = map[string]string{
	"/api/v1/users":                      lsTop,
	"/api/v1/agencies":                   lsTop,
	"/api/v1/audit":                      lsTop,
	"/api/v1/operators":                  lsTop,
	"/api/v1/reviews":                    lsTop,
	"/api/v1/roster":                     lsTop,
	"/api/v1/agreement-templates":        lsTop,
	"/api/v1/agreements":                 lsTop,
	"/api/v1/agreements/unsigned":        lsTop,
	"/api/v1/batches":                    lsTop,
	"/api/v1/transfers":                  lsTop,
	"/api/v1/findings":                   lsTop,
	"/api/v1/operators/{id}/documents":   lsOperator,
	"/api/v1/operators/{id}/decisions":   lsOperator,
	"/api/v1/operators/{id}/changes":     lsOperator,
	"/api/v1/operators/{id}/staff":       lsOperator,
	"/api/v1/roster/{id}/reminders":      lsRoster,
	"/api/v1/batches/{code}/prints":      lsCode,
	"/api/v1/users/{id}/tokens":          lsUser,
	"/api/v1/users/{id}/calls":           lsUser,
	"/api/v1/users/{id}/calls/daily":     lsUser,
	"/api/v1/regions":                    lsPublic,
	"/api/v1/regions/{code}/children":    lsPublic,
	"/api/v1/products":                   lsPublic,
	"/api/v1/product-categories":         lsPublic,
	"/api/v1/markets":                    lsPublic,
	"/api/v1/inspections":                lsTop,
	"/api/v1/draws":                      lsTop,
	"/api/v1/tasks":                      lsTop,
	"/api/v1/cases":                      lsTop,
	"/api/v1/operators/{id}/inspections": lsOperator,
	"/api/v1/operators/{id}/checklist":   lsOperator,
	"/api/v1/monitoring/settings":        lsRegion,
	"/api/v1/credit/rules":               lsPublic,
	"/api/v1/public/draws":               lsPublic,
	"/api/v1/limits":                     lsPublic,
	"/api/v1/limits/{id}/history":        lsPublic,
	"/api/v1/substances":                 lsPublic,
	"/api/v1/complaints":                 lsRegion,
	"/api/v1/stats/map":                  lsRegion,
	"/api/v1/assessments":                lsRegion,
	"/api/v1/assessment-sheets":          lsPublic,
	"/api/v1/assessment-indicators":      lsPublic,
	"/api/v1/warnings":                   lsRegion,
	"/api/v1/warnings/rules":             lsRegion,
	"/api/v1/feedback":                   lsTop,
	"/api/v1/exchange/parked":            lsAdmin,
	"/api/v1/incidents":                  lsTop,
	"/api/v1/changes":                    lsTop,
}

// ownerSees lists the routes that only the resource's own operator may list
// (not the admin): its own account proves the far rows exist there.
var ownerSees = map[string]bool{"/api/v1/operators/{id}/staff": true}

func apiServer(a *app.App) *api.Server {
	return api.Register(http.NewServeMux(), services(a), "test")
}

// isList reports whether a route answers a list (a slice, or an object with
// an items slice such as api.Items[T]).
func isList(rt api.Route) bool {
	t := rt.ResponseType()
	if t == nil {
		return false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice {
		return true
	}
	if t.Kind() != reflect.Struct {
		return false
	}
	f, ok := t.FieldByName("Items")
	return ok && f.Type.Kind() == reflect.Slice
}

// TestListRoutesCovered: every list route of the mux is in listRoutes, and
// every entry of listRoutes is a registered GET route.
func TestListRoutesCovered(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	gets := map[string]bool{}
	lists := 0
	for _, rt := range apiServer(a).Routes() {
		if rt.Method != http.MethodGet {
			continue
		}
		gets[rt.Path] = true
		if !isList(rt) {
			continue
		}
		lists++
		kind, ok := listRoutes[rt.Path]
		if !ok {
			t.Errorf("GET %s answers a list but is not in listRoutes: add it so that TestListScope checks its jurisdiction", rt.Path)
		}
		if kind == lsPublic && !rt.Public {
			t.Errorf("GET %s is listed as public reference data but requires a login", rt.Path)
		}
	}
	for p := range listRoutes {
		if !gets[p] {
			t.Errorf("listRoutes names %s, which is not a registered GET route", p)
		}
	}
	if lists < 15 {
		t.Errorf("only %d list routes found: is Route.ResponseType still set?", lists)
	}
}

const (
	lsHome = "370686" // 栖霞市, Shandong: every test actor works here
	lsFar  = "440981" // 高州市, Guangdong: another province
	lsPW   = "scope-pass-2026"
)

// Names of rows in the far county, and of the home county's other operators
// (outside an operator's or a staff account's reach).
var (
	lsFarNames       = []string{"粤甲农场", "粤乙商贸", "粤待审主体", "粤名录户", "粤农业农村局", "粤协议模板"}
	lsNeighbourNames = []string{"鲁乙合作社", "鲁丙商贸", "鲁待审主体"}
)

type lsFixture struct {
	clients map[auth.Role]*apptest.Client
	regions map[auth.Role]string // each actor's jurisdiction root
	// rows of another jurisdiction that path parameters point at
	farOp, neighbourOp     int64
	farRoster, farUser     int64
	farCode, neighbourCode string
	neighbourUsers         []string
	farOwner               *apptest.Client // the far operator's main account
}

var lsSerial = 7000

// lsPending registers and submits an operator (left pending review).
func lsPending(t *testing.T, a *app.App, name, county string) {
	t.Helper()
	ctx := context.Background()
	lsSerial++
	d := operator.Details{Name: name, Kind: "enterprise", Category: "producer", LegalRep: "张三", ContactName: "张三",
		Phone: "13800000000", RegionCode: county, Address: "测试地址", Products: []string{"测试产品"},
		IDNumber: operator.SampleResidentID("370686", "19800101", lsSerial), CreditCode: operator.SampleUSCC("91", county[:6], lsSerial)}
	o, u, err := a.Operators.Register(ctx, operator.Registration{Username: fmt.Sprintf("pending-%s-%d", county, lsSerial), Password: lsPW, Phone: d.Phone, Operator: d})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	if _, err := a.Operators.AddDocument(ctx, apptest.ActorOf(u), o.ID, "licence", "licence.png", bytes.NewReader(apptest.TinyPNG)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Operators.Submit(ctx, apptest.ActorOf(u), o.ID); err != nil {
		t.Fatal(err)
	}
}

func newLSFixture(t *testing.T, a *app.App) *lsFixture {
	t.Helper()
	ctx := context.Background()
	sys := auth.System()
	towns, err := a.Regions.Children(ctx, lsHome)
	if err != nil || len(towns) == 0 {
		t.Fatalf("townships of %s: %v", lsHome, err)
	}
	town := towns[0].Code
	srv := apptest.Server(t, a)
	anon := apptest.NewClient(t, srv)
	f := &lsFixture{clients: map[auth.Role]*apptest.Client{}, regions: map[auth.Role]string{}}

	// operators: ours (home1) and its neighbours in the same township; two in the far county
	home1, u1, p1 := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "鲁甲果园", RegionCode: town})
	home2, u2, p2 := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "鲁乙合作社", Kind: "cooperative", RegionCode: town})
	home3, u3, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "鲁丙商贸", Category: "trader", RegionCode: town})
	far1, fu1, fp1 := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "粤甲农场", RegionCode: lsFar})
	far2, _, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "粤乙商贸", Category: "trader", RegionCode: lsFar})
	f.farOp, f.neighbourOp, f.neighbourUsers = far1.ID, home2.ID, []string{u2, u3}
	lsPending(t, a, "鲁待审主体", town)
	lsPending(t, a, "粤待审主体", lsFar)

	// roster entries, agencies, a template in both counties
	for _, c := range []struct{ region, prefix string }{{town, "鲁"}, {lsFar, "粤"}} {
		e, err := a.Operators.AddRoster(ctx, sys, operator.RosterInput{RegionCode: c.region, Name: c.prefix + "名录户", Kind: "individual"})
		if err != nil {
			t.Fatalf("roster: %v", err)
		}
		if _, err := a.Operators.Remind(ctx, sys, e.ID, "visit", ""); err != nil {
			t.Fatalf("remind: %v", err)
		}
		if c.prefix == "粤" {
			f.farRoster = e.ID
		}
		if _, err := a.Auth.CreateAgency(ctx, sys, auth.Agency{Name: c.prefix + "农业农村局", Kind: "agriculture_department", RegionCode: c.region}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Operators.CreateTemplate(ctx, sys, operator.TemplateInput{RegionCode: c.region[:6], Version: "2026-" + c.prefix,
			Title: c.prefix + "协议模板", Body: "信息采集、传输与扫码交易。\n保证所填信息真实、准确。"}); err != nil {
			t.Fatalf("template: %v", err)
		}
	}
	// agreements issued (not signed) to a neighbour and a far operator
	for _, id := range []int64{home2.ID, far1.ID} {
		if _, err := a.Operators.IssueAgreement(ctx, sys, id, 0); err != nil {
			t.Fatalf("issue agreement: %v", err)
		}
	}
	// staff of the far operator and of ours
	if _, err := a.Operators.CreateStaff(ctx, sys, far1.ID, operator.StaffInput{Username: "staff-" + lsFar, Password: lsPW, Name: "粤甲开票员", Permissions: []string{"sell"}}); err != nil {
		t.Fatalf("far staff: %v", err)
	}
	if _, err := a.Operators.CreateStaff(ctx, sys, home1.ID, operator.StaffInput{Username: "staff-" + lsHome, Password: lsPW, Name: "鲁甲开票员",
		Permissions: []string{auth.PermRecord, auth.PermSell, auth.PermPrint}}); err != nil {
		t.Fatalf("home staff: %v", err)
	}

	// trade: a sale inside each county between the others, an over-shipment finding, one batch of ours
	today := platform.Today(time.Now())
	trade := func(c *apptest.Client, seller, buyer operator.Operator) string {
		code := c.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 100, "unit": "kg", "produced_at": today, "origin": "试验基地"}).Expect(t, 201).Str("trace_code")
		c.Do("POST", "/api/v1/transfers", map[string]any{"from_code": code, "quantity": 10, "buyer_operator_code": buyer.Code}).Expect(t, 201)
		c.Do("POST", "/api/v1/transfers", map[string]any{"from_code": code, "quantity": 1000, "buyer_operator_code": buyer.Code}).Expect(t, 409)
		c.Do("GET", "/api/v1/batches/"+code+"/label.png", nil).Expect(t, 200)
		c.Do("POST", fmt.Sprintf("/api/v1/operators/%d/changes", seller.ID), map[string]any{"address": "新地址 8 号"}).Expect(t, 201)
		return code
	}
	f.neighbourCode = trade(anon.Login(u2, p2), home2, home3)
	f.farOwner = anon.Login(fu1, fp1)
	f.farCode = trade(f.farOwner, far1, far2)
	f.farOwner.Do("POST", "/api/v1/feedback", map[string]any{"category": "usability", "title": "粤甲农场：标签打印太慢", "body": "打印 50 张标签要等一分钟。"}).Expect(t, 201)

	// one actor per role, all in the home county (the township user in its township)
	mk := func(role auth.Role, region string) {
		name := "ls-" + string(role)
		if _, err := a.Auth.CreateUser(ctx, sys, auth.NewUser{Username: name, Password: lsPW, Name: name, Role: string(role), RegionCode: region}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		f.clients[role], f.regions[role] = anon.Login(name, lsPW), region
	}
	mk(auth.RoleAdmin, "000000")
	// an integration account of the far county with a token
	farInt, err := a.Auth.CreateUser(ctx, sys, auth.NewUser{Username: "int-" + lsFar, Password: lsPW, Name: "粤接口", Role: string(auth.RoleIntegration), RegionCode: lsFar})
	if err != nil {
		t.Fatal(err)
	}
	f.farUser = farInt.ID
	farTok := f.clients[auth.RoleAdmin].Do("POST", fmt.Sprintf("/api/v1/users/%d/tokens", farInt.ID), map[string]any{"name": "粤接口令牌"}).Expect(t, 201)
	// one call of it, so that its call log has a row
	(&apptest.Client{T: t, Base: anon.Base, HTTP: anon.HTTP, Token: farTok.Str("token")}).Do("GET", "/api/v1/me", nil).Expect(t, 200)
	for _, r := range []auth.Role{auth.RoleReviewer, auth.RoleSupervisor, auth.RoleInspector, auth.RoleTester, auth.RoleEnforcer,
		auth.RoleMarket, auth.RoleIntegration} {
		mk(r, lsHome)
	}
	mk(auth.RoleAnalyst, "370000")
	mk(auth.RoleTownship, town)
	lsSupervision(t, a, home2, far1)
	lsIncidents(t, a, f)
	home1C := anon.Login(u1, p1)
	home1C.Do("POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 5, "unit": "kg", "produced_at": today, "origin": "自家果园"}).Expect(t, 201)
	f.clients[auth.RoleOperator], f.regions[auth.RoleOperator] = home1C, town
	f.clients[auth.RoleStaff], f.regions[auth.RoleStaff] = anon.Login("staff-"+lsHome, lsPW), town
	if len(f.clients) != len(auth.Roles) {
		t.Fatalf("fixture has %d roles, the platform %d", len(f.clients), len(auth.Roles))
	}
	return f
}

// leak says why item (one element of a list answer) is outside the reach of
// an actor of role with jurisdiction root, or "".
func (f *lsFixture) leak(role auth.Role, root, path string, item any) string {
	var names []string
	if role != auth.RoleAdmin {
		names = append(names, lsFarNames...)
	}
	own := role == auth.RoleOperator || role == auth.RoleStaff
	if own {
		names = append(names, lsNeighbourNames...)
	}
	var regions []string
	why := ""
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(k, e)
			}
		case []any:
			for _, e := range x {
				walk(key, e)
			}
		case string:
			for _, n := range names {
				if strings.Contains(x, n) && why == "" {
					why = fmt.Sprintf("%s = %q names %s", key, x, n)
				}
			}
			if key == "username" || key == "actor_name" {
				if (role != auth.RoleAdmin && strings.Contains(x, lsFar)) || (own && slices.Contains(f.neighbourUsers, x)) {
					why = fmt.Sprintf("%s = %q", key, x)
				}
			}
			if key == "region_code" {
				regions = append(regions, x)
			}
		}
	}
	walk("", item)
	if why != "" {
		return why
	}
	// a row with regions is in reach when one of them is (a sale: seller or buyer);
	// agreement templates apply from above, so their regions are ancestors
	if len(regions) > 0 && path != "/api/v1/agreement-templates" {
		for _, r := range regions {
			if auth.Within(r, root) {
				return ""
			}
		}
		return fmt.Sprintf("region_code %v outside %s", regions, root)
	}
	return ""
}

// TestListScope: for every list route and every role, a row outside the
// actor's jurisdiction never appears (the admin, whose jurisdiction is
// everything, proves that the far county's rows exist in every list).
func TestListScope(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		f := newLSFixture(t, a)
		var paths []string
		for _, rt := range apiServer(a).Routes() {
			if rt.Method == http.MethodGet && isList(rt) && listRoutes[rt.Path] != lsPublic {
				paths = append(paths, rt.Path)
			}
		}
		sort.Strings(paths)
		for _, p := range paths {
			for _, role := range auth.Roles {
				c := f.clients[role]
				own := role == auth.RoleOperator || role == auth.RoleStaff
				var urls []string
				switch listRoutes[p] {
				case lsTop:
					urls = []string{p, p + "?region=" + lsFar}
				case lsOperator:
					urls = []string{strings.Replace(p, "{id}", fmt.Sprint(f.farOp), 1)}
					if own {
						urls = append(urls, strings.Replace(p, "{id}", fmt.Sprint(f.neighbourOp), 1))
					}
				case lsRoster:
					urls = []string{strings.Replace(p, "{id}", fmt.Sprint(f.farRoster), 1)}
				case lsUser:
					urls = []string{strings.Replace(p, "{id}", fmt.Sprint(f.farUser), 1)}
				case lsRegion, lsAdmin:
					lsRegionView(t, c, role, p)
					continue
				case lsCode:
					urls = []string{strings.Replace(p, "{code}", f.farCode, 1)}
					if own {
						urls = append(urls, strings.Replace(p, "{code}", f.neighbourCode, 1))
					}
				default:
					t.Fatalf("%s: no way to reach it (kind %q)", p, listRoutes[p])
				}
				if role == auth.RoleAdmin {
					// the jurisdiction of everything: it must see the far rows (or
					// the resource's owner must), else the fixture tests nothing here
					obs := c
					if ownerSees[p] {
						obs = f.farOwner
					}
					r := obs.Do("GET", urls[0], nil)
					list, _ := r.Get("items").([]any)
					raw, _ := json.Marshal(list)
					if r.Status != http.StatusOK || listRoutes[p] != lsTop && len(list) == 0 || listRoutes[p] == lsTop && !farSeen(string(raw)) {
						t.Errorf("GET %s shows no row of the far county even to those who may see it (%d): the fixture does not test this list: %s", urls[0], r.Status, r.Body)
					}
					continue
				}
				for _, u := range urls {
					r := c.Do("GET", u, nil)
					if r.Status >= 500 {
						t.Errorf("%s GET %s: %d %s", role, u, r.Status, r.Body)
						continue
					}
					if r.Status != http.StatusOK {
						continue
					}
					list, _ := r.Get("items").([]any)
					if listRoutes[p] != lsTop && len(list) > 0 {
						t.Errorf("%s GET %s: %d rows of another jurisdiction's resource: %s", role, u, len(list), r.Body)
						continue
					}
					for _, it := range list {
						if why := f.leak(role, f.regions[role], p, it); why != "" {
							raw, _ := json.Marshal(it)
							t.Errorf("%s (%s) GET %s shows a row outside its reach (%s): %s", role, f.regions[role], u, why, raw)
						}
					}
				}
			}
		}
	})
}

// farSeen reports whether a list answer holds a row of the far county.
func farSeen(raw string) bool {
	if strings.Contains(raw, lsFar) {
		return true
	}
	for _, n := range lsFarNames {
		if strings.Contains(raw, n) {
			return true
		}
	}
	return false
}

// lsSupervision records supervision data in both counties: an inspection,
// a case and a draw (with its task) of a neighbour and of the far operator.
func lsSupervision(t *testing.T, a *app.App, home2, far1 operator.Operator) {
	t.Helper()
	ctx, sys := context.Background(), auth.System()
	actor := func(name string, role auth.Role, region string) *auth.Actor {
		u, err := a.Auth.GetUserByName(ctx, name)
		if err != nil {
			if u, err = a.Auth.CreateUser(ctx, sys, auth.NewUser{Username: name, Password: lsPW, Name: name, Role: string(role), RegionCode: region}); err != nil {
				t.Fatal(err)
			}
		}
		return apptest.ActorOf(u)
	}
	for _, c := range []struct {
		op                                      operator.Operator
		region, inspector, enforcer, supervisor string
	}{{home2, lsHome, "ls-inspector", "ls-enforcer", "ls-supervisor"}, {far1, lsFar, "yue-inspector", "yue-enforcer", "yue-supervisor"}} {
		insp, enf := actor(c.inspector, auth.RoleInspector, c.region), actor(c.enforcer, auth.RoleEnforcer, c.region)
		sup := actor(c.supervisor, auth.RoleSupervisor, c.region)
		if _, err := a.Supervision.RecordInspection(ctx, insp, supervision.InspectionInput{OperatorCode: c.op.Code, Kind: "site", Result: "rectify", RectifyDays: 3}); err != nil {
			t.Fatalf("inspection: %v", err)
		}
		if _, err := a.Supervision.FileCase(ctx, enf, supervision.CaseInput{Source: "manual", OperatorCodes: []string{c.op.Code}, Violation: "other", Summary: "台账不全"}); err != nil {
			t.Fatalf("case: %v", err)
		}
		if _, err := a.Supervision.CreateDraw(ctx, sup, supervision.DrawInput{RegionCode: c.region, Size: 1, Inspectors: []string{c.inspector, c.enforcer},
			Seed: "ls", Filter: supervision.DrawFilter{Kinds: []string{c.op.Kind}}}); err != nil {
			t.Fatalf("draw: %v", err)
		}
	}
}

// lsRegionView: a per-region view answers the admin for the far county
// and refuses everyone else there.
func lsRegionView(t *testing.T, c *apptest.Client, role auth.Role, path string) {
	t.Helper()
	r := c.Do("GET", path+"?region="+lsFar, nil)
	if role == auth.RoleAdmin {
		if r.Status != http.StatusOK {
			t.Errorf("admin GET %s?region=%s: %d %s", path, lsFar, r.Status, r.Body)
		}
		return
	}
	if r.Status == http.StatusOK {
		t.Errorf("%s GET %s?region=%s: 200, want a refusal: %s", role, path, lsFar, r.Body)
	}
	if r.Status >= 500 {
		t.Errorf("%s GET %s?region=%s: %d %s", role, path, lsFar, r.Status, r.Body)
	}
}
