package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

// TestClearLoginThrottleAPI: an account slowed by wrong passwords from one
// address is let in again from that address once an administrator clears
// it; a reviewer may not clear it.
func TestClearLoginThrottleAPI(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := t.Context()
		for _, u := range []auth.NewUser{
			{Username: "throttle-admin", Role: string(auth.RoleAdmin), RegionCode: "000000"},
			{Username: "throttle-reviewer", Role: string(auth.RoleReviewer), RegionCode: "370686"},
		} {
			u.Password, u.Name = apptest.OperatorPassword, u.Username
			if _, err := a.Auth.CreateUser(ctx, auth.System(), u); err != nil {
				t.Fatal(err)
			}
		}
		victim, err := a.Auth.GetUserByName(ctx, "throttle-reviewer")
		if err != nil {
			t.Fatal(err)
		}
		c := apptest.NewClient(t, apptest.Server(t, a))
		admin := c.Login("throttle-admin", apptest.OperatorPassword)
		reviewer := c.Login("throttle-reviewer", apptest.OperatorPassword)
		for i := 0; i < 6; i++ {
			c.Do("POST", "/api/v1/session", map[string]string{"username": "throttle-reviewer", "password": "wrong"})
		}
		c.Do("POST", "/api/v1/session", map[string]string{"username": "throttle-reviewer", "password": apptest.OperatorPassword}).Expect(t, http.StatusTooManyRequests)
		path := fmt.Sprintf("/api/v1/users/%d/login-throttle", victim.ID)
		reviewer.Do("DELETE", path, nil).Expect(t, http.StatusForbidden)
		admin.Do("DELETE", path, nil).Expect(t, http.StatusNoContent)
		c.Do("POST", "/api/v1/session", map[string]string{"username": "throttle-reviewer", "password": apptest.OperatorPassword}).Expect(t, http.StatusOK)
		admin.Do("DELETE", "/api/v1/users/999999/login-throttle", nil).Expect(t, http.StatusNotFound)
	})
}
