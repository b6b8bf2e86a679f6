package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

// TestLoginPageThrottle: wrong passwords on the login page are slowed, not
// locked: the sixth try from the same address is told how long to wait (with
// Retry-After) even with the right password; a successful login sets the
// device cookie; a ?next= that leaves the site is ignored.
func TestLoginPageThrottle(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		ctx := context.Background()
		if _, err := a.Auth.CreateUser(ctx, auth.System(), auth.NewUser{Username: "clerk", Password: apptest.OperatorPassword, Name: "clerk",
			Role: string(auth.RoleReviewer), RegionCode: "370686"}); err != nil {
			t.Fatal(err)
		}
		srv := apptest.Server(t, a)
		client := srv.Client()
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		post := func(pw, next string) *http.Response {
			form := url.Values{"username": {"clerk"}, "password": {pw}}
			resp, err := client.PostForm(srv.URL+"/login?next="+url.QueryEscape(next), form)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		// Right password, hostile next: lands on "/" with a device cookie.
		resp := post(apptest.OperatorPassword, "/\t/evil.example")
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("login with hostile next: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		device := false
		for _, c := range resp.Cookies() {
			if c.Name == auth.DeviceCookie && c.Value != "" && c.HttpOnly {
				device = true
			}
		}
		if !device {
			t.Error("no HttpOnly device cookie after a successful login")
		}
		for i := 0; i < 5; i++ {
			r := post("wrong-password", "/")
			r.Body.Close()
			if r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: %d", i+1, r.StatusCode)
			}
		}
		r := post(apptest.OperatorPassword, "/")
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Fatalf("sixth try: %d, Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
		}
		if !strings.Contains(string(body), "登录尝试过于频繁") || !strings.Contains(string(body), "其他设备不受影响") {
			t.Errorf("throttled page does not say how long to wait: %s", body)
		}
	})
}
