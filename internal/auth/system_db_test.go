package auth_test

import (
	"context"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// TestSystemActorAndNil: a nil actor is always 401 (it no longer means "the
// system"); auth.System() may create accounts and agencies and reset
// passwords, and the audit log names who reset a password.
func TestSystemActorAndNil(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		sys := auth.System()
		nu := auth.NewUser{Username: "sys-made", Password: "sys-made-pass-1", Role: string(auth.RoleReviewer), RegionCode: "370686"}
		if _, err := a.Auth.CreateUser(ctx, nil, nu); platform.KindOf(err) != platform.KindUnauthorized {
			t.Fatalf("CreateUser(nil): %v, want 401", err)
		}
		if _, err := a.Auth.CreateAgency(ctx, nil, auth.Agency{Name: "x", Kind: "other", RegionCode: "370686"}); platform.KindOf(err) != platform.KindUnauthorized {
			t.Fatalf("CreateAgency(nil): %v, want 401", err)
		}
		rev, err := a.Auth.CreateUser(ctx, sys, nu)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Auth.CreateAgency(ctx, sys, auth.Agency{Name: "栖霞市农业农村局", Kind: "agriculture_department", RegionCode: "370686"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Auth.CreateUser(ctx, sys, auth.NewUser{Username: "sys", Password: "sys-made-pass-1", Role: "system", RegionCode: "000000"}); platform.KindOf(err) != platform.KindInvalid {
			t.Fatalf("an account with the system role: %v, want 422", err)
		}

		// password reset: nil 401, a reviewer 403, the system and an admin may
		if err := a.Auth.SetPassword(ctx, nil, rev.ID, "reset-pass-2026"); platform.KindOf(err) != platform.KindUnauthorized {
			t.Fatalf("SetPassword(nil): %v, want 401", err)
		}
		if err := a.Auth.SetPassword(ctx, apptest.ActorOf(rev), rev.ID, "reset-pass-2026"); platform.KindOf(err) != platform.KindForbidden {
			t.Fatalf("SetPassword(reviewer): %v, want 403", err)
		}
		if err := a.Auth.SetPassword(platform.WithOrigin(ctx, auth.SystemOrigin("cli")), sys, rev.ID, "reset-pass-2026"); err != nil {
			t.Fatal(err)
		}
		admin, err := a.Auth.CreateUser(ctx, sys, auth.NewUser{Username: "sys-admin", Password: "sys-made-pass-1", Role: string(auth.RoleAdmin), RegionCode: "000000"})
		if err != nil {
			t.Fatal(err)
		}
		adminCtx := platform.WithOrigin(ctx, platform.Origin{UserID: admin.ID, Username: admin.Username})
		if err := a.Auth.SetPassword(adminCtx, apptest.ActorOf(admin), rev.ID, "reset-pass-2027"); err != nil {
			t.Fatal(err)
		}
		audit, err := a.Auth.ListAudit(ctx, apptest.ActorOf(admin), auth.AuditFilter{Action: "user.password"})
		if err != nil {
			t.Fatal(err)
		}
		if len(audit) != 2 || audit[0].ActorName != "sys-admin" || !strings.Contains(audit[0].Detail, `"by":"sys-admin"`) ||
			audit[1].ActorName != auth.SystemName || audit[1].Addr != "cli" || !strings.Contains(audit[1].Detail, `"by":"system"`) {
			t.Fatalf("password resets audited as %+v", audit)
		}

		// lists: nil is 401, the system sees everything
		if _, err := a.Auth.ListUsers(ctx, nil, auth.UserFilter{}); platform.KindOf(err) != platform.KindUnauthorized {
			t.Fatalf("ListUsers(nil): %v, want 401", err)
		}
		if _, err := a.Auth.ListAudit(ctx, apptest.ActorOf(rev), auth.AuditFilter{}); platform.KindOf(err) != platform.KindNotFound {
			t.Fatalf("ListAudit(reviewer): %v, want 404", err)
		}
		users, err := a.Auth.ListUsers(ctx, sys, auth.UserFilter{Region: "370000"})
		if err != nil || len(users) != 1 || users[0].Username != "sys-made" {
			t.Fatalf("ListUsers(system, 370000) = %v, %v", users, err)
		}
	})
}
