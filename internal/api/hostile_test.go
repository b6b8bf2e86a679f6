package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

// hostileStrings are the texts that used to reach the database (a NUL byte
// gave 500 on PostgreSQL) or labels: controls, bidi overrides, invalid
// UTF-8, oversize values, injection and format strings.
var hostileStrings = []string{
	"\x00", "a\x00b", "\x1b[31m", "\u202e1234", "\u0085", "\xff\xfe", strings.Repeat("界", 30000),
	"'; DROP TABLE users; --", "%s%n%x", "../../etc/passwd", " ", "",
}

// TestHostileInputSweep sends every hostile string in every JSON string
// field (one field at a time), every documented query parameter and every
// path parameter of every operation in the OpenAPI document, as an
// administrator and as an operator: nothing may answer 5xx.
func TestHostileInputSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("sweep: long")
	}
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		anon := apptest.NewClient(t, srv)
		if _, err := a.Auth.CreateUser(t.Context(), auth.System(), auth.NewUser{Username: "sweep-admin", Password: apptest.OperatorPassword,
			Name: "sweep", Role: string(auth.RoleAdmin), RegionCode: "000000"}); err != nil {
			t.Fatal(err)
		}
		_, ou, op := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", RegionCode: "370686"})
		tokens := map[string]string{"admin": anon.Login("sweep-admin", apptest.OperatorPassword).Token, "operator": anon.Login(ou, op).Token}
		_, doc := openAPIDoc(t, srv.URL, srv.Client())

		send := func(who, method, path string, body []byte) (int, string) {
			req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
			if err != nil {
				return 0, "" // an URL no client could send
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Authorization", "Bearer "+tokens[who])
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			return resp.StatusCode, string(b)
		}
		paths := doc["paths"].(map[string]any)
		keys := make([]string, 0, len(paths))
		for p := range paths {
			keys = append(keys, p)
		}
		sort.Strings(keys)
		requests := 0
		for _, p := range keys {
			for method, o := range paths[p].(map[string]any) {
				method = strings.ToUpper(method)
				op, ok := o.(map[string]any)
				if !ok || p == "/api/v1/session" {
					continue // login is throttled by design; its inputs are covered below through the body sweep of other routes
				}
				concrete := strings.NewReplacer("{code}", "13706860000000000012", "{id}", "1", "{year}", "2026", "{day}", "2026-10-01",
					"{kind}", "license", "{sha}", strings.Repeat("a", 64)).Replace(p)
				var bodies [][]byte
				if rb, ok := op["requestBody"].(map[string]any); ok {
					if c, ok := rb["content"].(map[string]any)["application/json"].(map[string]any); ok {
						schema := resolve(doc, c["schema"].(map[string]any))
						for _, field := range stringFields(doc, schema, "", 0) {
							for _, h := range hostileStrings {
								bodies = append(bodies, hostileBody(doc, schema, field, h))
							}
						}
					}
				}
				if len(bodies) == 0 && (method == "POST" || method == "PUT" || method == "PATCH") {
					bodies = [][]byte{[]byte("{}")}
				}
				var targets []string
				if len(bodies) == 0 {
					targets = append(targets, concrete)
				}
				for _, prm := range paramsOf(op) {
					for _, h := range hostileStrings {
						if prm.in == "query" {
							targets = append(targets, concrete+"?"+url.Values{prm.name: {h}}.Encode())
						} else if prm.in == "path" {
							targets = append(targets, strings.Replace(p, "{"+prm.name+"}", url.PathEscape(h), 1))
						}
					}
				}
				for _, who := range []string{"admin", "operator"} {
					for _, b := range bodies {
						requests++
						if st, body := send(who, method, concrete, b); st >= 500 {
							t.Errorf("%s %s as %s with %.120q: %d %s", method, concrete, who, b, st, body)
						}
					}
					for _, target := range targets {
						var b []byte
						if method == "POST" || method == "PUT" || method == "PATCH" {
							b = []byte("{}")
						}
						requests++
						if st, body := send(who, method, target, b); st >= 500 {
							t.Errorf("%s %s as %s: %d %s", method, target, who, st, body)
						}
					}
				}
			}
		}
		t.Logf("%d hostile requests, none answered 5xx", requests)
	})
}

type param struct{ name, in string }

func paramsOf(op map[string]any) []param {
	var out []param
	list, _ := op["parameters"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		out = append(out, param{fmt.Sprint(m["name"]), fmt.Sprint(m["in"])})
	}
	return out
}

// stringFields lists the dotted paths of string properties (two levels deep).
func stringFields(doc map[string]any, s map[string]any, prefix string, depth int) []string {
	props, _ := s["properties"].(map[string]any)
	var out []string
	for name, v := range props {
		ps := resolve(doc, v.(map[string]any))
		switch ps["type"] {
		case "string":
			out = append(out, prefix+name)
		case "object":
			if depth < 2 {
				out = append(out, stringFields(doc, ps, prefix+name+".", depth+1)...)
			}
		}
	}
	sort.Strings(out)
	return out
}

// hostileBody builds a body with plausible values for the schema's fields
// and the hostile text in field.
func hostileBody(doc map[string]any, s map[string]any, field, hostile string) []byte {
	v := sample(doc, s, "", field, hostile, 0)
	b, _ := json.Marshal(v)
	if !strings.Contains(hostile, "\xff") {
		return b
	}
	// json.Marshal would turn invalid UTF-8 into U+FFFD: splice it in raw.
	return bytes.Replace(b, []byte(`\ufffd\ufffd`), []byte("\xff\xfe"), 1)
}

func sample(doc map[string]any, s map[string]any, path, field, hostile string, depth int) any {
	if path == field {
		return hostile
	}
	switch s["type"] {
	case "object":
		out := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		for name, v := range props {
			if depth > 2 {
				break
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			out[name] = sample(doc, resolve(doc, v.(map[string]any)), p, field, hostile, depth+1)
		}
		return out
	case "array":
		return []any{}
	case "integer":
		return 1
	case "number":
		return 1.5
	case "boolean":
		return false
	case "string":
		switch s["format"] {
		case "date":
			return "2026-11-01"
		case "date-time":
			return "2026-11-01T08:00:00Z"
		}
		return "测试"
	}
	return nil
}

// TestLoggedOutSweep calls every operation of the OpenAPI document without
// credentials: every operation that declares security answers 401, public
// ones never 5xx.
func TestLoggedOutSweep(t *testing.T) {
	apptest.ForEachEngine(t, func(t *testing.T, a *app.App) {
		srv := apptest.Server(t, a)
		_, doc := openAPIDoc(t, srv.URL, srv.Client())
		checked := 0
		for p, item := range doc["paths"].(map[string]any) {
			for method, o := range item.(map[string]any) {
				op, ok := o.(map[string]any)
				if !ok {
					continue
				}
				method = strings.ToUpper(method)
				target := strings.NewReplacer("{code}", "13706860000000000012", "{id}", "1", "{year}", "2026", "{day}", "2026-10-01",
					"{kind}", "license", "{sha}", strings.Repeat("a", 64)).Replace(p)
				var body io.Reader
				if method == "POST" || method == "PUT" || method == "PATCH" {
					body = strings.NewReader("{}")
				}
				req, _ := http.NewRequest(method, srv.URL+target, body)
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				checked++
				_, secured := op["security"]
				switch {
				case resp.StatusCode >= 500:
					t.Errorf("%s %s logged out: %d", method, target, resp.StatusCode)
				case secured && resp.StatusCode != http.StatusUnauthorized:
					t.Errorf("%s %s logged out: %d, want 401", method, target, resp.StatusCode)
				}
			}
		}
		if checked < 50 {
			t.Fatalf("only %d operations checked", checked)
		}
	})
}
