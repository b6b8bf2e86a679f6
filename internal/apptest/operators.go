package apptest

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/region"
)

// OperatorSpec describes an operator for ApprovedOperator. Kind defaults to
// "enterprise" and Category to "producer".
type OperatorSpec struct {
	Name, Kind, Category, RegionCode string
	Products                         []string // registered business (default 测试产品)
}

// OperatorPassword is the password of accounts created by ApprovedOperator
// and ReviewerFor.
const OperatorPassword = "operator-pass-2026"

var operatorSeq atomic.Int64

// TinyPNG is the smallest upload the document check accepts as a PNG.
var TinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// ActorOf builds the actor of an account, as authentication would.
func ActorOf(u auth.User) *auth.Actor {
	return &auth.Actor{UserID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role, Region: u.RegionCode,
		OperatorID: u.OperatorID, Permissions: u.Permissions}
}

// ReviewerFor returns a reviewer account of county (creating
// "reviewer-<county>" with OperatorPassword when the county has none).
func ReviewerFor(t testing.TB, a *app.App, county string) auth.User {
	t.Helper()
	ctx := context.Background()
	list, err := a.Auth.ListUsers(ctx, &auth.Actor{Role: auth.RoleAdmin, Region: "000000"}, auth.UserFilter{Role: string(auth.RoleReviewer), Region: county})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range list {
		if u.RegionCode == county && u.Status == "active" {
			return u
		}
	}
	u, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "reviewer-" + county, Password: OperatorPassword,
		Name: county + "审核员", Role: string(auth.RoleReviewer), RegionCode: county})
	if err != nil {
		t.Fatalf("create reviewer for %s: %v", county, err)
	}
	return u
}

// ApprovedOperator registers an operator through the real service path
// (register → upload a document → submit → a reviewer of its county
// approves) and returns it with its main account's username and password.
// It may create a reviewer account for the county if none exists.
func ApprovedOperator(t testing.TB, a *app.App, in OperatorSpec) (operator.Operator, string, string) {
	t.Helper()
	ctx := context.Background()
	if in.Kind == "" {
		in.Kind = "enterprise"
	}
	if in.Category == "" {
		in.Category = "producer"
	}
	if in.Name == "" {
		in.Name = "测试主体"
	}
	if len(in.Products) == 0 {
		in.Products = []string{"测试产品"}
	}
	county := region.CountyOf(in.RegionCode)
	n := int(operatorSeq.Add(1))
	username := fmt.Sprintf("op-%s-%d", county, n)
	for {
		if _, err := a.Auth.GetUserByName(ctx, username); err != nil {
			break
		}
		n = int(operatorSeq.Add(1))
		username = fmt.Sprintf("op-%s-%d", county, n)
	}
	d := operator.Details{Name: in.Name, Kind: in.Kind, Category: in.Category, LegalRep: "张三", ContactName: "张三",
		Phone: "13800000000", RegionCode: in.RegionCode, Address: "测试地址", Products: in.Products,
		IDNumber: operator.SampleResidentID("370686", "19800101", n)}
	if in.Kind != "individual" {
		prefix := "91"
		if in.Kind == "cooperative" {
			prefix = "93"
		}
		// Serials from a per-process counter plus the nanosecond-free row count keep codes unique per app.
		for i := 0; ; i++ {
			d.CreditCode = operator.SampleUSCC(prefix, county, n*97+i)
			var taken int
			if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM operators WHERE credit_code = $1`, d.CreditCode).Scan(&taken); err != nil {
				t.Fatal(err)
			}
			if taken == 0 {
				break
			}
		}
	}
	o, u, err := a.Operators.Register(ctx, operator.Registration{Username: username, Password: OperatorPassword, Phone: d.Phone, Operator: d})
	if err != nil {
		t.Fatalf("register %s: %v", in.Name, err)
	}
	opActor := ActorOf(u)
	if _, err := a.Operators.AddDocument(ctx, opActor, o.ID, "licence", "licence.png", bytes.NewReader(TinyPNG)); err != nil {
		t.Fatalf("upload document for %s: %v", in.Name, err)
	}
	if _, err := a.Operators.Submit(ctx, opActor, o.ID); err != nil {
		t.Fatalf("submit %s: %v", in.Name, err)
	}
	rev := ReviewerFor(t, a, county)
	o, err = a.Operators.Approve(ctx, ActorOf(rev), o.ID)
	if err != nil {
		t.Fatalf("approve %s: %v", in.Name, err)
	}
	return o, username, OperatorPassword
}
