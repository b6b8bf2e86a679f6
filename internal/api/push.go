package api

import (
	"net/http"
	"reflect"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// Pushes by integration clients (docs/security.md, "Integration clients"):
// an integration token that sends Agtrace-Operator: <18-digit operator
// code> on one of pushRoutes runs the request as that operator
// (auth.OnBehalf), after integration.push was authorized in the operator's
// region. Without the header an integration token's writes stay refused by
// the policy (the role has no write action of its own).

// operatorHeader names the operator an integration client pushes for.
const operatorHeader = "Agtrace-Operator"

// pushRoutes are the writes an integration client may push for an operator:
// recording and correcting batches, splits, merges, transformations, sales
// and their answers.
var pushRoutes = map[string]bool{
	"POST /api/v1/batches":                    true,
	"POST /api/v1/batches/{code}/corrections": true,
	"POST /api/v1/batches/{code}/split":       true,
	"POST /api/v1/merges":                     true,
	"POST /api/v1/transformations":            true,
	"POST /api/v1/transfers":                  true,
	"POST /api/v1/transfers/{code}/confirm":   true,
	"POST /api/v1/transfers/{code}/reject":    true,
	"POST /api/v1/transfers/{code}/withdraw":  true,
}

// PushRoutes lists the routes that accept Agtrace-Operator (docs, tests).
func PushRoutes() []string {
	out := make([]string, 0, len(pushRoutes))
	for k := range pushRoutes {
		out = append(out, k)
	}
	return out
}

func headerError(code, zh, en string) error {
	return platform.Invalid(platform.FieldError{Field: operatorHeader, Code: code, ZH: zh, EN: en})
}

var (
	errPushNotClient = platform.Forbidden("只有接口令牌可以使用 Agtrace-Operator 请求头", "only integration tokens may send Agtrace-Operator")
	errPushNotHere   = headerError("not_pushable", "此接口不接受 Agtrace-Operator（可代主体提交：批次、更正、拆分、合并、加工、销售及其确认、拒收、撤回）",
		"this route does not take Agtrace-Operator (pushes: batches, corrections, splits, merges, transformations, sales and their confirmation, rejection, withdrawal)")
	errPushNotFound = platform.NotFound("主体不存在，或不在您的管辖范围内", "no such operator in your jurisdiction")
	errPushInactive = platform.Forbidden("只能代已批准的主体提交", "pushes are accepted only for approved operators")
)

// pushAs returns r running as the operator named by Agtrace-Operator, or r
// itself when the header is absent.
func (s *Server) pushAs(r *http.Request, rt Route) (*http.Request, error) {
	code := r.Header.Get(operatorHeader)
	if code == "" {
		return r, nil
	}
	a := httpx.Actor(r)
	if a == nil || a.Role != auth.RoleIntegration {
		return r, errPushNotClient
	}
	if !pushRoutes[rt.Method+" "+rt.Path] {
		return r, errPushNotHere
	}
	oc, err := codes.ParseOperatorCode(code)
	if err != nil {
		if ce, ok := err.(*codes.Error); ok {
			return r, headerError(ce.Code, "Agtrace-Operator："+ce.ZH, "Agtrace-Operator: "+ce.EN)
		}
		return r, headerError("format", "Agtrace-Operator 应为 18 位主体编码", "Agtrace-Operator must be an 18-digit operator code")
	}
	// the token's own right first: a token without the scope is 403 wherever the operator is
	if err := auth.Authorize(a, auth.ActIntegrationPush, auth.Resource{}); err != nil {
		return r, err
	}
	if s.svc.Operators == nil {
		return r, errPushNotFound
	}
	op, err := s.svc.Operators.ByCode(r.Context(), oc.Code)
	if platform.IsNotFound(err) {
		return r, errPushNotFound
	}
	if err != nil {
		return r, err
	}
	if auth.Authorize(a, auth.ActIntegrationPush, auth.Resource{Region: op.RegionCode}) != nil {
		return r, errPushNotFound // as for reads: an operator out of reach is not revealed
	}
	if op.Status != operator.StatusApproved {
		return r, errPushInactive
	}
	httpx.NotePush(r.Context(), oc.Code)
	ctx := httpx.WithActor(r.Context(), auth.OnBehalf(a, op.ID, op.RegionCode), platform.OriginFrom(r.Context()).Addr)
	return r.WithContext(ctx), nil
}

// itemsField is the index of a list answer's Items field (a slice), or -1:
// the call log counts the items a list answered.
func itemsField(t reflect.Type) int {
	if t == nil || t.Kind() != reflect.Struct {
		return -1
	}
	if f, ok := t.FieldByName("Items"); ok && len(f.Index) == 1 && f.Type.Kind() == reflect.Slice {
		return f.Index[0]
	}
	return -1
}
