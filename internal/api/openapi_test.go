package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"agtrace/internal/api"
	"agtrace/internal/app"
	"agtrace/internal/apptest"
)

// openAPIDoc fetches the served document (raw bytes and decoded).
func openAPIDoc(t *testing.T, base string, client *http.Client) ([]byte, map[string]any) {
	t.Helper()
	resp, err := client.Get(base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %d %v", resp.StatusCode, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return raw, doc
}

func newValidator(t *testing.T, raw []byte) validator.Validator {
	t.Helper()
	d, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatalf("libopenapi: %v", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	return v
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  %s %s: %s — %s", e.RequestMethod, e.RequestPath, e.Message, e.Reason)
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    %s (%s): %s", s.FieldPath, s.KeywordLocation, s.Reason)
		}
	}
	return b.String()
}

func services(a *app.App) api.Services {
	return api.Services{Auth: a.Auth, Regions: a.Regions, Calendar: a.Calendar, Operators: a.Operators, Trace: a.Trace, Supervision: a.Supervision, Monitoring: a.Monitoring, Ledger: a.Ledger, Complaints: a.Complaints, Feedback: a.Feedback, Insight: a.Insight, Incidents: a.Incidents, Port: a.Port, Assess: a.Assess, Node: a.Node}
}

// resolve follows a local $ref.
func resolve(doc map[string]any, s map[string]any) map[string]any {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s = doc["components"].(map[string]any)["schemas"].(map[string]any)[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
	}
}

func strs(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	sort.Strings(out)
	return out
}

// taggedRequired lists the JSON names of t's fields tagged validate:"required"
// (computed here independently of the generator).
func taggedRequired(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			out = append(out, taggedRequired(f.Type)...)
			continue
		}
		if slices.Contains(strings.Split(f.Tag.Get("validate"), ","), "required") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

var pathParamRE = regexp.MustCompile(`\{([a-zA-Z_]+)(\.\.\.)?\}`)

// TestOpenAPIValid: the generated document is valid OpenAPI 3.1 (libopenapi
// validator), and every route the server registers — which is every /api/v1
// pattern on the mux — appears in it with its method, path parameters,
// request body (required or not) and required request fields.
func TestOpenAPIValid(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	srv := apptest.Server(t, a)
	raw, doc := openAPIDoc(t, srv.URL, srv.Client())

	// (a) the document is valid OpenAPI 3.1
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi: %v", doc["openapi"])
	}
	if ok, errs := newValidator(t, raw).ValidateDocument(); !ok {
		t.Fatalf("the OpenAPI document is invalid:%s", describe(errs))
	}

	// (b) every registered route is documented as declared
	mux := http.NewServeMux()
	s := api.Register(mux, services(a), "test")
	paths := doc["paths"].(map[string]any)
	documented := 0
	for _, p := range paths {
		documented += len(p.(map[string]any))
	}
	if documented != len(s.Routes()) {
		t.Errorf("document has %d operations, the server %d routes", documented, len(s.Routes()))
	}
	declared := map[string]bool{}
	for _, rt := range s.Routes() {
		declared[rt.Method+" "+rt.Path] = true
	}
	for _, rt := range s.Routes() {
		name := rt.Method + " " + rt.Path
		docPath := pathParamRE.ReplaceAllString(rt.Path, "{$1}")
		item, _ := paths[docPath].(map[string]any)
		op, _ := item[strings.ToLower(rt.Method)].(map[string]any)
		if op == nil {
			t.Errorf("%s: not in the document", name)
			continue
		}
		// the mux serves this pattern (probe with placeholder values)
		probe := pathParamRE.ReplaceAllString(rt.Path, "zz-probe")
		req, _ := http.NewRequest(rt.Method, probe, nil)
		if _, pattern := mux.Handler(req); pattern != name {
			t.Errorf("%s: the mux answers %s with %q", name, probe, pattern)
		}
		// path parameters
		var want, got []string
		for _, m := range pathParamRE.FindAllStringSubmatch(rt.Path, -1) {
			want = append(want, m[1])
		}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			pm := p.(map[string]any)
			if pm["in"] == "path" {
				got = append(got, pm["name"].(string))
				if pm["required"] != true {
					t.Errorf("%s: path parameter %v not required", name, pm["name"])
				}
			}
		}
		if !slices.Equal(want, got) {
			t.Errorf("%s: path parameters %v, want %v", name, got, want)
		}
		// request body
		body, _ := op["requestBody"].(map[string]any)
		reqType, bodyRequired := rt.RequestType()
		switch {
		case reqType != nil:
			if body == nil {
				t.Errorf("%s: no requestBody for %v", name, reqType)
				continue
			}
			if body["required"] != bodyRequired {
				t.Errorf("%s: requestBody.required = %v, want %v", name, body["required"], bodyRequired)
			}
			schema := resolve(doc, body["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any))
			if got, want := strs(schema["required"]), taggedRequired(reqType); !slices.Equal(got, want) {
				t.Errorf("%s: required request fields %v, want %v (validate:\"required\" tags of %v)", name, got, want, reqType)
			}
		case body != nil && body["content"].(map[string]any)["multipart/form-data"] == nil:
			t.Errorf("%s: documents a JSON body the handler does not take", name)
		}
		// response
		status := fmt.Sprint(rt.Status)
		if rt.Status == 0 {
			status = "200"
			if rt.ResponseType() == nil && rt.Produces == "" {
				status = "204"
			}
		}
		if resp, _ := op["responses"].(map[string]any)[status].(map[string]any); resp == nil {
			t.Errorf("%s: no %s response", name, status)
		} else if rt.ResponseType() != nil && resp["content"].(map[string]any)["application/json"] == nil {
			t.Errorf("%s: no JSON response schema", name)
		}
		// other methods on the same path are not served by an undocumented API handler
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if item[strings.ToLower(m)] != nil {
				continue
			}
			req, _ := http.NewRequest(m, probe, nil)
			if _, pattern := mux.Handler(req); strings.HasPrefix(pattern, m+" /api/") && !declared[pattern] {
				t.Errorf("%s %s is served (%s) but not documented", m, rt.Path, pattern)
			}
		}
	}

	// the body of /operators/{id}/agreements is optional, in the document and in fact
	issue := paths["/api/v1/operators/{id}/agreements"].(map[string]any)["post"].(map[string]any)
	if issue["requestBody"].(map[string]any)["required"] != false {
		t.Errorf("issue agreement: requestBody.required should be false")
	}
	// the login body names its required fields, and the decode step enforces them
	anon := apptest.NewClient(t, srv)
	r := anon.Do("POST", "/api/v1/session", map[string]string{"username": "someone"}).Expect(t, 422)
	if r.Str("errors.0.field") != "password" || r.Str("errors.0.code") != "required" || r.Str("errors.0.message_zh") == "" || r.Str("errors.0.message") == "" {
		t.Fatalf("missing password: %s", r.Body)
	}
	r = anon.Do("POST", "/api/v1/session", map[string]string{"username": " ", "password": ""}).Expect(t, 422)
	if got := strs(r.Get("errors")); len(got) != 2 {
		t.Fatalf("blank username and password: %s", r.Body)
	}
}

// TestRoutesDeclaredOnce: the only place internal/api registers a handler on
// the mux is Server.handle, called only by route and raw (so every pattern is
// in the route list the document is built from), and no other package
// registers a pattern under /api/.
func TestRoutesDeclaredOnce(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(filepath.Join(root, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return nil // someone else's file mid-edit; the build catches it
		}
		inAPI := filepath.Base(filepath.Dir(path)) == "api"
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				switch sel.Sel.Name {
				case "Handle", "HandleFunc":
					if inAPI && fn.Name.Name != "handle" {
						t.Errorf("%s: %s registers on the mux directly; declare the route with route or raw", fset.Position(call.Pos()), fn.Name.Name)
					}
					if !inAPI && len(call.Args) > 0 && strings.Contains(string(src[fset.Position(call.Args[0].Pos()).Offset:fset.Position(call.Args[0].End()).Offset]), "/api/") {
						t.Errorf("%s: an /api/ pattern registered outside internal/api", fset.Position(call.Pos()))
					}
				case "handle":
					if inAPI && fn.Name.Name != "route" && fn.Name.Name != "raw" {
						t.Errorf("%s: %s calls handle; declare the route with route or raw", fset.Position(call.Pos()), fn.Name.Name)
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestResponsesMatchDocument: real requests and responses (public reads, a
// batch, a sale and its confirmation, problems) validate
// against the document's schemas.
func TestResponsesMatchDocument(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	srv := apptest.Server(t, a)
	raw, _ := openAPIDoc(t, srv.URL, srv.Client())
	v := newValidator(t, raw)

	farm, fu, fp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞绿源苹果专业合作社", Kind: "cooperative", Category: "producer", RegionCode: "370686"})
	coop, cu, cp := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "烟台鲜果商贸有限公司", Kind: "enterprise", Category: "trader", RegionCode: "370686"})
	_ = farm
	anon := apptest.NewClient(t, srv)
	farmC, coopC := anon.Login(fu, fp), anon.Login(cu, cp)

	call := func(token, method, path string, body any, status int) map[string]any {
		t.Helper()
		var payload []byte
		if body != nil {
			payload, _ = json.Marshal(body)
		}
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(payload))
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		// a request the server accepts must match the document
		vreq, _ := http.NewRequest(method, path, bytes.NewReader(payload))
		vreq.Header = req.Header.Clone()
		if ok, errs := v.ValidateHttpRequestSync(vreq); !ok && status < 400 {
			t.Errorf("request %s %s does not match the document:%s", method, path, describe(errs))
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		respBody, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, respBody)
		}
		resp.Body = io.NopCloser(bytes.NewReader(respBody))
		vreq2, _ := http.NewRequest(method, path, bytes.NewReader(payload))
		vreq2.Header = req.Header.Clone()
		if ok, errs := v.ValidateHttpResponse(vreq2, resp); !ok {
			t.Errorf("response of %s %s does not match the document:%s\n%s", method, path, describe(errs), respBody)
		}
		var out map[string]any
		_ = json.Unmarshal(respBody, &out)
		return out
	}

	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	call("", "GET", "/api/v1/regions", nil, 200)
	call("", "GET", "/api/v1/regions/370686", nil, 200)
	call("", "GET", "/api/v1/regions/370686/children", nil, 200)
	call("", "GET", "/api/v1/products", nil, 200)
	call("", "GET", "/api/v1/regions/999999", nil, 404)
	call(farmC.Token, "GET", "/api/v1/me", nil, 200)
	b := call(farmC.Token, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 400, "unit": "kg", "produced_at": today, "origin": "试验基地"}, 201)
	code, _ := b["trace_code"].(string)
	if code == "" {
		t.Fatalf("batch: %v", b)
	}
	call(farmC.Token, "GET", "/api/v1/batches/"+code, nil, 200)
	call(farmC.Token, "GET", "/api/v1/batches", nil, 200)
	call(farmC.Token, "POST", "/api/v1/batches", map[string]any{"product_code": "apple", "quantity": 0, "unit": "kg", "produced_at": today}, 422)
	sale := call(farmC.Token, "POST", "/api/v1/transfers", map[string]any{"from_code": code, "quantity": 100, "buyer_operator_code": coop.Code}, 201)
	issued, _ := sale["trace_code"].(string)
	// a receipt names its quantity (no "empty = all")
	call(coopC.Token, "POST", "/api/v1/transfers/"+issued+"/confirm", map[string]any{}, 422)
	call(coopC.Token, "POST", "/api/v1/transfers/"+issued+"/confirm", map[string]any{"received_quantity": 100}, 200)
	call(coopC.Token, "GET", "/api/v1/transfers", nil, 200)
	call(farmC.Token, "GET", "/api/v1/trace/"+code, nil, 200)
	call("", "GET", "/api/v1/public/trace/"+code, nil, 200)
}
