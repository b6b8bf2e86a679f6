package auth_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

func newAccount(t *testing.T, a *app.App, name string, role auth.Role) auth.User {
	t.Helper()
	u, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: name, Password: goodPW, Role: string(role), RegionCode: "370686", Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fieldOf is the first field a 422 error names.
func fieldOf(err error) string {
	if pe, ok := err.(*platform.Error); ok && len(pe.Fields) > 0 {
		return pe.Fields[0].Field
	}
	return ""
}

// TestTokenLifetime: an integration token lives 1–365 days (default 365)
// and has a label.
func TestTokenLifetime(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		bot := newAccount(t, a, "bot", auth.RoleIntegration)
		admin := apptest.ActorOf(newAccount(t, a, "root", auth.RoleAdmin))
		for _, days := range []int{-1, 366, 100000, 1 << 40} {
			_, err := a.Auth.IssueIntegrationToken(ctx, admin, bot.ID, "对接", nil, days)
			if kindOf(err) != platform.KindInvalid || fieldOf(err) != "valid_days" {
				t.Errorf("valid_days %d: %v", days, err)
			}
		}
		if _, err := a.Auth.IssueIntegrationToken(ctx, admin, bot.ID, "  ", nil, 30); kindOf(err) != platform.KindInvalid || fieldOf(err) != "name" {
			t.Errorf("token without a label: %v", err)
		}
		var n int
		if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE user_id = $1`, bot.ID).Scan(&n); err != nil || n != 0 {
			t.Fatalf("refused tokens wrote %d sessions (%v)", n, err)
		}
		for days, want := range map[int]time.Duration{1: 24 * time.Hour, 365: 365 * 24 * time.Hour, 0: 365 * 24 * time.Hour} {
			s, err := a.Auth.IssueIntegrationToken(ctx, admin, bot.ID, "对接", nil, days)
			if err != nil {
				t.Fatalf("valid_days %d: %v", days, err)
			}
			if got := time.Until(s.ExpiresAt); got > want || got < want-time.Minute {
				t.Errorf("valid_days %d: expires in %v, want %v", days, got, want)
			}
		}
	})
}

// TestTokensListAndRevoke: an integration account's tokens are listed (never
// the token) and revoked one by one, by an administrator or the account
// itself; anyone else is told they do not exist; revocations are audited.
func TestTokensListAndRevoke(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		bot := newAccount(t, a, "bot", auth.RoleIntegration)
		other := newAccount(t, a, "other-bot", auth.RoleIntegration)
		rootUser := newAccount(t, a, "root", auth.RoleAdmin)
		reviewer := newAccount(t, a, "rev", auth.RoleReviewer)
		admin := apptest.ActorOf(rootUser)
		t1, err := a.Auth.IssueIntegrationToken(ctx, admin, bot.ID, "省平台对接", []string{"trace.read"}, 30)
		if err != nil {
			t.Fatal(err)
		}
		t2, err := a.Auth.IssueIntegrationToken(ctx, admin, bot.ID, "备用", nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		t3, err := a.Auth.IssueIntegrationToken(ctx, admin, other.ID, "他人", nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if t1.TokenID == "" || t1.TokenID == t2.TokenID {
			t.Fatalf("token ids %q %q", t1.TokenID, t2.TokenID)
		}
		botActor, err := a.Auth.Authenticate(ctx, t1.Token)
		if err != nil {
			t.Fatal(err)
		}
		botActor.Scopes = nil // the account itself (a token scoped to token.self would do too)

		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)
		adminC := anon.Login("root", goodPW)
		revC := anon.Login("rev", goodPW)
		botC := &apptest.Client{T: t, Base: srv.URL, HTTP: srv.Client(), Token: t2.Token}
		otherC := &apptest.Client{T: t, Base: srv.URL, HTTP: srv.Client(), Token: t3.Token}

		// the list: labels, scopes, dates; never the token
		r := adminC.Do("GET", fmt.Sprintf("/api/v1/users/%d/tokens", bot.ID), nil).Expect(t, 200)
		items, _ := r.Get("items").([]any)
		if len(items) != 2 || strings.Contains(string(r.Body), t1.Token) || strings.Contains(string(r.Body), t2.Token) || strings.Contains(string(r.Body), "token_hash") {
			t.Fatalf("admin's list: %s", r.Body)
		}
		byID := func(r *apptest.Response) map[string]map[string]any {
			m := map[string]map[string]any{}
			items, _ := r.Get("items").([]any)
			for _, it := range items {
				x, _ := it.(map[string]any)
				id, _ := x["id"].(string)
				m[id] = x
			}
			return m
		}
		got := byID(r)
		if x := got[t1.TokenID]; x == nil || x["name"] != "省平台对接" || fmt.Sprint(x["scopes"]) != "[trace.read]" || x["status"] != auth.TokenActive ||
			x["expires_at"] == nil || x["created_at"] == nil || x["user_id"] != float64(bot.ID) || got[t2.TokenID] == nil {
			t.Fatalf("admin's list: %s", r.Body)
		}
		list, err := a.Auth.ListTokens(ctx, botActor, bot.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("the account's own list: %v %v", list, err)
		}
		// anyone else: not found
		for _, c := range []*apptest.Client{revC, otherC} {
			c.Do("GET", fmt.Sprintf("/api/v1/users/%d/tokens", bot.ID), nil).Expect(t, 404)
			c.Do("DELETE", "/api/v1/tokens/"+t1.TokenID, nil).Expect(t, 404)
		}
		if _, err := a.Auth.ListTokens(ctx, apptest.ActorOf(reviewer), bot.ID); kindOf(err) != platform.KindNotFound {
			t.Fatalf("reviewer lists a bot's tokens: %v", err)
		}
		anon.Do("GET", fmt.Sprintf("/api/v1/users/%d/tokens", bot.ID), nil).Expect(t, 401)
		anon.Do("DELETE", "/api/v1/tokens/"+t1.TokenID, nil).Expect(t, 401)
		adminC.Do("DELETE", "/api/v1/tokens/zz", nil).Expect(t, 404)
		adminC.Do("DELETE", "/api/v1/tokens/0000000000000000", nil).Expect(t, 404)
		if _, err := a.Auth.Authenticate(ctx, t1.Token); err != nil {
			t.Fatalf("a refused revocation revoked: %v", err)
		}

		// revoked one by one: by the administrator, then by the account itself
		audit := func() int {
			var n int
			if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'token.revoke'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		adminC.Do("DELETE", "/api/v1/tokens/"+t1.TokenID, nil).Expect(t, 204)
		if _, err := a.Auth.Authenticate(ctx, t1.Token); kindOf(err) != platform.KindUnauthorized {
			t.Fatalf("revoked token still works: %v", err)
		}
		if _, err := a.Auth.Authenticate(ctx, t2.Token); err != nil {
			t.Fatalf("the other token was revoked too: %v", err)
		}
		if audit() != 1 {
			t.Fatalf("%d token.revoke events, want 1", audit())
		}
		adminC.Do("DELETE", "/api/v1/tokens/"+t1.TokenID, nil).Expect(t, 204) // again: nothing changes
		if audit() != 1 {
			t.Fatalf("revoking twice wrote %d events", audit())
		}
		r = botC.Do("GET", fmt.Sprintf("/api/v1/users/%d/tokens", bot.ID), nil).Expect(t, 200)
		if got := byID(r); got[t1.TokenID]["status"] != auth.TokenRevoked || got[t1.TokenID]["revoked_at"] == nil || got[t2.TokenID]["status"] != auth.TokenActive {
			t.Fatalf("after revoking one: %s", r.Body)
		}
		if err := a.Auth.RevokeToken(ctx, botActor, t2.TokenID); err != nil {
			t.Fatalf("the account revokes its own token: %v", err)
		}
		if _, err := a.Auth.Authenticate(ctx, t2.Token); kindOf(err) != platform.KindUnauthorized {
			t.Fatalf("self-revoked token still works: %v", err)
		}
		if _, err := a.Auth.Authenticate(ctx, t3.Token); err != nil {
			t.Fatalf("another account's token was revoked: %v", err)
		}
		if audit() != 2 {
			t.Fatalf("%d token.revoke events, want 2", audit())
		}
	})
}
