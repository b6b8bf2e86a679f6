package ui_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/ui"
)

// TestHomeTilesResolve: for an account of every role, the home page shows
// the role's tiles, and every tile link answers (not 404) for that account.
func TestHomeTilesResolve(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	ctx := context.Background()
	srv := apptest.Server(t, a)
	anon := apptest.NewClient(t, srv)

	op, opUser, opPass := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", RegionCode: "370686"})
	opActor := apptest.ActorOf(mustUser(t, a.Auth, opUser))
	if _, err := a.Operators.CreateStaff(ctx, opActor, op.ID, operator.StaffInput{Username: "tiles-staff", Password: apptest.OperatorPassword,
		Name: "子账号", Permissions: auth.StaffPerms}); err != nil {
		t.Fatal(err)
	}
	logins := map[auth.Role][2]string{auth.RoleOperator: {opUser, opPass}, auth.RoleStaff: {"tiles-staff", apptest.OperatorPassword}}
	for _, role := range auth.Roles {
		if _, ok := logins[role]; ok {
			continue
		}
		region := "370686"
		if role == auth.RoleAdmin {
			region = "000000"
		}
		name := "tiles-" + string(role)
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: name, Password: apptest.OperatorPassword, Name: name,
			Role: string(role), RegionCode: region}); err != nil {
			t.Fatalf("create %s: %v", role, err)
		}
		logins[role] = [2]string{name, apptest.OperatorPassword}
	}

	get := func(token, path string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, role := range auth.Roles {
		c := anon.Login(logins[role][0], logins[role][1])
		st, home := get(c.Token, "/")
		if st != http.StatusOK {
			t.Fatalf("%s home: %d", role, st)
		}
		for _, tl := range ui.TileLinks(role) {
			key, href := tl[0], tl[1]
			if href == "" {
				continue
			}
			if !strings.Contains(home, `href="`+href+`"`) {
				t.Errorf("%s: the home page lacks the tile %s → %s", role, key, href)
				continue
			}
			if st, _ := get(c.Token, href); st == http.StatusNotFound || st >= 500 {
				t.Errorf("%s: tile %s → %s answers %d", role, key, href, st)
			}
		}
	}
}

func mustUser(t *testing.T, s *auth.Service, username string) auth.User {
	t.Helper()
	u, err := s.GetUserByName(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
