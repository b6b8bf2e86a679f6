package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
)

// NoBody is the input type of a route that takes no request body.
type NoBody struct{}

// NoContent is the output type of a route that answers without a body
// (status 204 unless the Route says otherwise).
type NoContent struct{}

// Multipart is the input type of an upload: the body is multipart/form-data
// (its fields are listed in Route.Form); the handler reads it from r.
type Multipart struct{}

// Optional[T] is the input type of a route whose JSON body may be omitted:
// an empty body gives the zero T. The OpenAPI document says
// requestBody.required: false.
type Optional[T any] struct{ Value T }

func (o *Optional[T]) optionalTarget() any { return &o.Value }

type optionalBody interface{ optionalTarget() any }

// Patch[T] is the input type of a route whose JSON body changes some fields
// of a T the handler loads first: the body is checked like a T when the
// request arrives, and Apply decodes it onto the loaded value (fields not
// given keep their values). The OpenAPI schema is T's.
type Patch[T any] struct {
	raw []byte
}

// Apply decodes the body onto dst.
func (p Patch[T]) Apply(dst *T) error {
	dec := json.NewDecoder(bytes.NewReader(p.raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return platform.BadRequest("无法解析请求体", "cannot parse request body: "+err.Error())
	}
	return nil
}

func (p *Patch[T]) patchTarget() (any, func([]byte)) {
	return new(T), func(b []byte) { p.raw = b }
}

type patchBody interface{ patchTarget() (any, func([]byte)) }

// requiredTag is the struct tag that makes a request field required: the
// OpenAPI schema lists it under "required" and the shared decode step refuses
// a body without it (422 naming the field). A required string must also hold
// a non-space character.
const requiredTag = "validate"

func isRequired(f reflect.StructField) bool {
	for _, o := range strings.Split(f.Tag.Get(requiredTag), ",") {
		if o == "required" {
			return true
		}
	}
	return false
}

var (
	noBodyType    = reflect.TypeFor[NoBody]()
	noContentType = reflect.TypeFor[NoContent]()
	multipartType = reflect.TypeFor[Multipart]()
)

// entityTagged answers carry an ETag (a fingerprint of their facts): on a
// route with a MaxAge they are sent with ETag and Cache-Control, and a
// request whose If-None-Match names the current tag gets 304.
type entityTagged interface{ EntityTag() string }

// route declares a JSON endpoint once: its Request and Response schemas come
// from In and Out, the request body is decoded (httpx.DecodeJSON) and its
// required fields checked before call runs, and Out is written with
// rt.Status (default 200; 204 for NoContent).
func route[In, Out any](s *Server, rt Route, call func(ctx context.Context, a *auth.Actor, r *http.Request, in In) (Out, error)) {
	inT, outT := reflect.TypeFor[In](), reflect.TypeFor[Out]()
	rt.Produces = ""
	switch {
	case inT == noBodyType:
	case inT == multipartType:
		rt.multipart = true
	case reflect.PointerTo(inT).Implements(reflect.TypeFor[optionalBody]()):
		rt.request, rt.bodyOptional = inT.Field(0).Type, true
	case reflect.PointerTo(inT).Implements(reflect.TypeFor[patchBody]()):
		zero, _ := any(new(In)).(patchBody).patchTarget()
		rt.request = reflect.TypeOf(zero).Elem()
	default:
		rt.request = inT
	}
	if outT != noContentType {
		rt.response = outT
	}
	status := rt.status()
	items := itemsField(rt.response)
	s.handle(rt, func(w http.ResponseWriter, r *http.Request) error {
		var in In
		if rt.request != nil {
			if err := decodeBody(w, r, &in); err != nil {
				return err
			}
		}
		out, err := call(r.Context(), httpx.Actor(r), r, in)
		if err != nil {
			return err
		}
		if rt.response == nil {
			w.WriteHeader(status)
			return nil
		}
		if items >= 0 {
			httpx.NoteRows(r.Context(), reflect.ValueOf(out).Field(items).Len())
		}
		if c, ok := any(out).(entityTagged); ok && rt.MaxAge > 0 {
			etag := `W/"` + c.EntityTag() + `"`
			w.Header().Set("ETag", etag)
			w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d, stale-while-revalidate=%d", rt.MaxAge, rt.Stale))
			if httpx.ETagMatches(r.Header.Get("If-None-Match"), etag) {
				w.WriteHeader(http.StatusNotModified)
				return nil
			}
		}
		httpx.WriteJSON(w, status, out)
		return nil
	})
}

// raw declares an endpoint whose answer is not JSON (PDF, images, Excel,
// document content): rt.Produces names its media type; h writes it.
func raw(s *Server, rt Route, h HandlerFunc) {
	if rt.Produces == "" {
		panic("api: raw route without Produces: " + rt.Method + " " + rt.Path)
	}
	s.handle(rt, h)
}

// decodeBody decodes the JSON body into dst (*T or *Optional[T]) and checks
// the fields tagged validate:"required".
func decodeBody(w http.ResponseWriter, r *http.Request, dst any) error {
	var keep func([]byte)
	if p, ok := dst.(patchBody); ok {
		dst, keep = p.patchTarget()
	}
	if o, ok := dst.(optionalBody); ok {
		dst = o.optionalTarget()
		if r.ContentLength == 0 {
			return nil
		}
		// an empty (or blank) body is the zero value
		r.Body = http.MaxBytesReader(w, r.Body, httpx.MaxJSONBody)
		br := bufio.NewReader(r.Body)
		for {
			b, err := br.ReadByte()
			if err == io.EOF {
				return nil
			}
			if err != nil || !isJSONSpace(b) {
				if err == nil {
					_ = br.UnreadByte()
				}
				break
			}
		}
		r.Body = readCloser{br, r.Body}
	}
	var body bytes.Buffer
	r.Body = readCloser{io.TeeReader(r.Body, &body), r.Body}
	if err := httpx.DecodeJSON(w, r, dst); err != nil {
		return err
	}
	var generic any
	if err := json.Unmarshal(body.Bytes(), &generic); err != nil {
		return platform.BadRequest("无法解析请求体", "cannot parse request body")
	}
	var missing []platform.FieldError
	checkRequired(reflect.TypeOf(dst).Elem(), generic, "", &missing)
	if len(missing) > 0 {
		return platform.Invalid(missing...)
	}
	if keep != nil {
		keep(body.Bytes())
	}
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

func isJSONSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// checkRequired walks the decoded JSON value v alongside type t and records
// each field tagged required that is absent, null or (strings) blank; it
// descends into present nested objects and array elements, naming fields as
// the services do (market.name, inputs[1].code).
func checkRequired(t reflect.Type, v any, prefix string, out *[]platform.FieldError) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		list, _ := v.([]any)
		for i, e := range list {
			checkRequired(t.Elem(), e, prefix+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.Map:
		m, _ := v.(map[string]any)
		for k, e := range m {
			checkRequired(t.Elem(), e, join(prefix, k), out)
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		eachField(t, func(f reflect.StructField, name string) {
			val, present := obj[name]
			if isRequired(f) {
				s, isStr := val.(string)
				if !present || val == nil || (isStr && strings.TrimSpace(s) == "") {
					*out = append(*out, platform.FieldError{Field: join(prefix, name), Code: "required", ZH: "必填", EN: "is required"})
					return
				}
			}
			if present {
				checkRequired(f.Type, val, join(prefix, name), out)
			}
		})
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// eachField calls fn for each JSON field of struct type t (embedded structs
// flattened), with its JSON name.
func eachField(t reflect.Type, fn func(f reflect.StructField, name string)) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				eachField(ft, fn)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		fn(f, name)
	}
}
