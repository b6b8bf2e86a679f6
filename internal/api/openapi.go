package api

import (
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Route describes one API endpoint. Routes are declared once, with route
// (JSON in and out, typed) or raw (non-JSON answers); the OpenAPI document is
// generated from the list of routes the server registers, so it cannot drift
// from the code. The request and response schemas come from the handler's
// type parameters, never from hand-set values.
type Route struct {
	Method   string
	Path     string // ServeMux pattern path, e.g. /api/v1/regions/{code}
	Summary  string
	Tag      string
	Public   bool   // no authentication required
	CORS     bool   // answer with Access-Control-Allow-Origin: * (public documents)
	Status   int    // success status (default 200; 204 when the answer is NoContent)
	Produces string // raw routes: the response media type (application/pdf, image/png, ...)
	Query    []Param
	Form     []Param // Multipart routes: the form fields ("file" is the uploaded file)
	MaxAge   int     // answers that carry an ETag: Cache-Control max-age (seconds), with 304 on If-None-Match
	Stale    int     // … and stale-while-revalidate (seconds)

	request      reflect.Type // JSON request body type (nil: none)
	bodyOptional bool         // the body may be omitted (Optional[T])
	multipart    bool         // multipart/form-data upload
	response     reflect.Type // JSON response type (nil: none or raw)
}

// RequestType is the JSON request body type (nil: none) and whether the body is required.
func (rt Route) RequestType() (t reflect.Type, required bool) {
	return rt.request, rt.request != nil && !rt.bodyOptional
}

// ResponseType is the JSON response type (nil: no body or a raw answer).
func (rt Route) ResponseType() reflect.Type { return rt.response }

func (rt Route) status() int {
	switch {
	case rt.Status != 0:
		return rt.Status
	case rt.response == nil && rt.Produces == "":
		return http.StatusNoContent
	}
	return http.StatusOK
}

// Param is a documented query parameter or form field.
type Param struct {
	Name, Description string
	Required          bool
}

var pathParam = regexp.MustCompile(`\{([a-zA-Z_]+)\.{0,3}\}`)

// schemaGen builds JSON Schemas from Go types. Response schemas list as
// required every field that is always written (no omitempty); request
// schemas list the fields tagged validate:"required" — what the shared
// decode step enforces. A type whose request schema differs from its
// response schema gets a second component named <name>_input.
type schemaGen struct {
	defs    map[string]any
	request bool
	inNames map[reflect.Type]string // request mode: component chosen per type
}

var (
	importPath   = regexp.MustCompile(`[A-Za-z0-9_.\-]*/`)
	notNameChars = regexp.MustCompile(`[^A-Za-z0-9]+`)
)

// componentName is pkg_Type; generic instances drop import paths
// (api.Items[agtrace/internal/region.Region] → api_Items_region_Region).
func componentName(t reflect.Type) string {
	n := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:] + "." + importPath.ReplaceAllString(t.Name(), "")
	return strings.Trim(notNameChars.ReplaceAllString(n, "_"), "_")
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(time.Time{}) {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		name := componentName(t)
		if !g.request {
			if _, ok := g.defs[name]; !ok {
				g.defs[name] = map[string]any{} // break recursion
				g.defs[name] = g.object(t)
			}
			return ref(name)
		}
		if n, ok := g.inNames[t]; ok {
			return ref(n)
		}
		g.inNames[t] = name + "_input" // break recursion (recursive request types keep this name)
		obj := g.object(t)
		if existing, ok := g.defs[name]; !ok || reflect.DeepEqual(existing, obj) {
			g.inNames[t] = name
		}
		g.defs[g.inNames[t]] = obj
		return ref(g.inNames[t])
	}
	return map[string]any{}
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	eachField(t, func(f reflect.StructField, name string) {
		s := g.schema(f.Type)
		req := false
		if g.request {
			req = isRequired(f)
			if req && s["type"] == "string" {
				s["pattern"] = `\S`
			}
		} else {
			_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			req = !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer
		}
		if d := f.Tag.Get("doc"); d != "" {
			s = map[string]any{"allOf": []any{s}, "description": d}
		}
		props[name] = s
		if req {
			required = append(required, name)
		}
	})
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// OpenAPI builds the OpenAPI 3.1 document for routes.
func OpenAPI(routes []Route, version string) map[string]any {
	defs := map[string]any{}
	out := &schemaGen{defs: defs}
	in := &schemaGen{defs: defs, request: true, inNames: map[reflect.Type]string{}}
	// response schemas first, so that a request schema equal to its response
	// schema shares the component
	respSchemas := make([]map[string]any, len(routes))
	for i, rt := range routes {
		if rt.response != nil {
			respSchemas[i] = out.schema(rt.response)
		}
	}
	paths := map[string]map[string]any{}
	problem := map[string]any{"description": "Problem (RFC 7807)", "content": map[string]any{
		"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
	for i, rt := range routes {
		op := map[string]any{"summary": rt.Summary, "tags": []string{rt.Tag},
			"operationId": strings.ToLower(rt.Method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_", "-", "_").Replace(rt.Path)}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range rt.Query {
			params = append(params, map[string]any{"name": q.Name, "in": "query", "required": q.Required, "description": q.Description, "schema": map[string]any{"type": "string"}})
		}
		if rt.Method == "POST" && !rt.Public {
			params = append(params, map[string]any{"name": idemHeader, "in": "header", "required": false,
				"description": "1–200 visible ASCII characters (a UUID): a retry with the same key and request gets the first answer again (header Idempotent-Replayed: true) instead of being done twice; the same key with another request is 422, a retry while the first runs 409. Kept 24 hours.",
				"schema":      map[string]any{"type": "string", "maxLength": idemMaxKey}})
		}
		if pushRoutes[rt.Method+" "+rt.Path] {
			params = append(params, map[string]any{"name": operatorHeader, "in": "header", "required": false,
				"description": "integration tokens: the 18-digit code of an approved operator of the token's region to push this write for (action integration.push); 404 outside the region, 422 when malformed",
				"schema":      map[string]any{"type": "string", "pattern": "^[0-9]{18}$"}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		switch {
		case rt.request != nil:
			op["requestBody"] = map[string]any{"required": !rt.bodyOptional, "content": map[string]any{
				"application/json": map[string]any{"schema": in.schema(rt.request)}}}
		case rt.multipart:
			props := map[string]any{}
			var required []string
			for _, f := range rt.Form {
				p := map[string]any{"type": "string", "description": f.Description}
				if f.Name == "file" {
					p["format"] = "binary"
					p["contentMediaType"] = "application/octet-stream"
				}
				props[f.Name] = p
				if f.Required {
					required = append(required, f.Name)
				}
			}
			schema := map[string]any{"type": "object", "properties": props}
			if len(required) > 0 {
				schema["required"] = required
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"multipart/form-data": map[string]any{"schema": schema}}}
		}
		resp := map[string]any{"description": "OK"}
		switch {
		case rt.Produces != "":
			resp["content"] = map[string]any{rt.Produces: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
		case rt.response != nil:
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": respSchemas[i]}}
		default:
			resp["description"] = "No Content"
		}
		responses := map[string]any{strconv.Itoa(rt.status()): resp, "default": problem}
		op["responses"] = responses
		if !rt.Public {
			op["security"] = []any{map[string]any{"bearer": []string{}}, map[string]any{"session": []string{}}}
		}
		path := pathParam.ReplaceAllString(rt.Path, "{$1}")
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(rt.Method)] = op
	}
	defs["Problem"] = map[string]any{"type": "object", "properties": map[string]any{
		"type": map[string]any{"type": "string"}, "title": map[string]any{"type": "string"}, "status": map[string]any{"type": "integer"},
		"detail": map[string]any{"type": "string"}, "detail_zh": map[string]any{"type": "string"}, "instance": map[string]any{"type": "string"},
		"errors": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
			"field": map[string]any{"type": "string"}, "code": map[string]any{"type": "string"},
			"message": map[string]any{"type": "string"}, "message_zh": map[string]any{"type": "string"}}}}}}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "agtrace API", "version": version,
			"description": "国家农产品质量安全追溯管理信息平台 — JSON API. Errors are RFC 7807 problem documents with field-level messages in Chinese and English."},
		"paths": paths,
		"components": map[string]any{"schemas": defs, "securitySchemes": map[string]any{
			"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
			"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "agtrace_session"}}},
	}
}
