// Package trace is the trace core: the product catalogue, batches and their
// trace codes, labels and certificates, scan-to-trade transfers,
// split/merge/transform, aliases, the trace graph and the findings the data
// reveals to supervisors.
//
// Records are history, not state. A batch's facts are never updated (a
// correction is a new version with a reason); stock is the sum of an
// append-only ledger (stock_moves); the graph is a set of edges written once.
// Every write checks the actor with auth.Authorize, validates, writes, and
// emits one event in the same transaction. Conservation checks lock the
// source code's row (SELECT … FOR UPDATE) before summing its moves.
//
// Each record maps to a GS1 EPCIS 2.0 event (see docs/architecture.md):
// batch → ObjectEvent ADD commissioning; sale → ObjectEvent shipping;
// confirmation → receiving; split/merge/transform → TransformationEvent;
// market acceptance → receiving at the market party.
package trace

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// Operators is what trace needs from the operator feature.
type Operators interface {
	ByID(ctx context.Context, id int64) (operator.Operator, error)
	ByCode(ctx context.Context, code string) (operator.Operator, error)
	CreateTemporary(ctx context.Context, actor *auth.Actor, in operator.TemporaryInput) (operator.Operator, error)
	// PrepareTemporary and TemporaryTx find or issue a temporary operator
	// inside the caller's transaction (smallholder purchases).
	PrepareTemporary(ctx context.Context, actor *auth.Actor, in operator.TemporaryInput) (operator.TemporaryRequest, error)
	TemporaryTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, r operator.TemporaryRequest) (operator.Operator, bool, error)
	// ContactPhone is an operator's phone in full (certificates whose issuer chose to show it).
	ContactPhone(ctx context.Context, id int64) (string, error)
}

// Service is the trace feature.
type Service struct {
	db        *platform.DB
	clock     platform.Clock
	ops       Operators
	regions   *region.Service
	cal       *region.Calendar
	publicURL string
	cat       catalogueCache
	yields    yieldCache
	verifyKey []byte // verification token key (verify.go)
	macs      atomic.Pointer[tokenMACs]
	misses    *MissLimiter      // public lookups of codes that do not exist
	tolerance MismatchTolerance // quantity-mismatch tolerance (nil: every difference is a finding)
	scans     *ScanCounter      // public views, counted in memory (scans.go)
	areas     areaCache         // codes' counties and products, for the fold (scanareas.go)
	pages     *publicCache      // public answers per code, valid while nothing was written (publiccache.go)
	keeper    pageKeeper        // rendered pages waiting to be stored (pagestore.go)
	storeHits atomic.Int64      // views answered from stored pages
	mem       *pageMemory       // stored pages kept in memory (pagememory.go)
	memHits   atomic.Int64      // views answered from them
	days      platform.Days     // today's date for them
	gen       genCache          // the last write generation read (publiccache.go)
	creditOf  func(ctx context.Context, operatorCode string) (string, error)
	dir       Directory // operators of other province nodes (remote.go); nil when standalone
}

// NewService returns the trace service. publicURL is the platform origin
// printed in QR codes (<publicURL>/q/<code>?v=<token>).
func NewService(db *platform.DB, clock platform.Clock, ops Operators, regions *region.Service, cal *region.Calendar, publicURL string) *Service {
	if clock == nil {
		clock = platform.SystemClock{}
	}
	s := &Service{db: db, clock: clock, ops: ops, regions: regions, cal: cal, publicURL: strings.TrimRight(publicURL, "/"),
		verifyKey: randomVerifyKey(), misses: NewMissLimiter(MissAllowance, MissWindow, clock.Now),
		scans: newScanCounter(), pages: newPublicCache(), mem: newPageMemory(DefaultPageMemory)}
	s.macs.Store(newTokenMACs(s.verifyKey))
	if db != nil { // (unit tests of pure functions pass none)
		db.AddEarlyEmitHook(s.pagesTouched) // before the ledger's lock (pagestore.go)
	}
	return s
}

// PublicURL is the origin printed in QR codes.
func (s *Service) PublicURL() string { return s.publicURL }

func (s *Service) today() string { return platform.Today(s.clock.Now()) }

// Today is the civil date in China by the service's clock (form defaults).
func (s *Service) Today() string { return s.today() }

// field builds one field error.
func field(name, code, zh, en string) platform.FieldError {
	return platform.FieldError{Field: name, Code: code, ZH: zh, EN: en}
}

func invalid(name, code, zh, en string) error { return platform.Invalid(field(name, code, zh, en)) }

// codeFieldError turns a codes.Error into a field error.
func codeFieldError(name string, err error) platform.FieldError {
	var ce *codes.Error
	if errors.As(err, &ce) {
		return field(name, ce.Code, ce.ZH, ce.EN)
	}
	return field(name, "format", "格式错误", err.Error())
}

// parseCodeField parses a trace code given in a body field.
func parseCodeField(name, s string) (string, error) {
	tc, err := codes.ParseTraceCode(s)
	if err != nil {
		return "", platform.Invalid(codeFieldError(name, err))
	}
	return tc.Code, nil
}

// ParsePathCode parses a trace code given in a URL path: a malformed code
// is a 400 naming "code" (answered before any lookup).
func ParsePathCode(s string) (string, error) {
	tc, err := codes.ParseTraceCode(s)
	if err != nil {
		fe := codeFieldError("code", err)
		e := platform.BadRequest("追溯码无效："+fe.ZH, "invalid trace code: "+fe.EN)
		e.Fields = []platform.FieldError{fe}
		return "", e
	}
	return tc.Code, nil
}

var errCodeNotFound = platform.NotFound("追溯码不存在，或不在您的管辖范围内", "trace code not found or outside your jurisdiction")

// checkDate validates a civil date YYYY-MM-DD that must not be in the future
// (China time) and, when notBefore is set, not before it.
func checkDate(v *platform.Validator, name, value, today, notBefore, notBeforeWhat, notBeforeWhatEN string) bool {
	d, err := time.Parse(time.DateOnly, value)
	if err != nil || d.Format(time.DateOnly) != value {
		v.Add(name, "format", "日期格式应为 YYYY-MM-DD", "must be a date YYYY-MM-DD")
		return false
	}
	if value > today {
		v.Add(name, "future", "日期不能晚于今天（"+today+"）", "must not be in the future (today is "+today+" in China)")
		return false
	}
	if value < "2000-01-01" {
		v.Add(name, "range", "日期过早", "is too early (before 2000-01-01)")
		return false
	}
	if notBefore != "" && value < notBefore {
		v.Add(name, "before_"+notBeforeWhatEN, "日期不能早于"+notBeforeWhat+"（"+notBefore+"）",
			"must not be before the "+strings.ReplaceAll(notBeforeWhatEN, "_", " ")+" ("+notBefore+")")
		return false
	}
	return true
}

// operatorOf finds the acting account's operator: Service.actorOperator, or
// an import's cached lookup.
type operatorOf func(ctx context.Context, a *auth.Actor) (operator.Operator, error)

// actorOperator loads the operator the actor acts for and checks that it may
// trade (registration approved). Officials have no operator: 403.
func (s *Service) actorOperator(ctx context.Context, a *auth.Actor) (operator.Operator, error) {
	if a == nil {
		return operator.Operator{}, auth.Authorize(nil, auth.ActBatchWrite, auth.Resource{})
	}
	if a.OperatorID == 0 {
		return operator.Operator{}, platform.Forbidden("只有生产经营主体的账号可以执行此操作", "only operator and staff accounts can do this")
	}
	o, err := s.ops.ByID(ctx, a.OperatorID)
	if err != nil {
		return operator.Operator{}, err
	}
	if o.Status != operator.StatusApproved {
		return operator.Operator{}, platform.Forbidden("您的主体登记状态为“"+statusZH(o.Status)+"”，审核通过后才能记录批次和交易",
			"your operator's registration is "+o.Status+"; only approved operators may record batches and trade").With("operator_status", o.Status)
	}
	return o, nil
}

func statusZH(s string) string {
	switch s {
	case operator.StatusDraft:
		return "草稿"
	case operator.StatusPending:
		return "待审核"
	case operator.StatusRejected:
		return "未通过"
	case operator.StatusSuspended:
		return "已暂停"
	case operator.StatusCancelled:
		return "已注销"
	case operator.StatusTemporary:
		return "临时主体"
	case operator.StatusExternal:
		return "外省节点主体"
	}
	return s
}

// authorizeAny passes if act is allowed on any of the resources; otherwise
// it returns the refusal for the first one.
func authorizeAny(a *auth.Actor, act auth.Action, res ...auth.Resource) error {
	var first error
	for _, r := range res {
		err := auth.Authorize(a, act, r)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		first = auth.Authorize(a, act, auth.Resource{Region: "-", OperatorID: -1})
	}
	return first
}

// asNotFound turns any refusal into the 404 that hides a resource.
func asNotFound(err error) error {
	if err == nil {
		return nil
	}
	if k := platform.KindOf(err); k == platform.KindForbidden || k == platform.KindNotFound {
		return errCodeNotFound
	}
	return err
}

// regionRange returns the bounds [lo, hi) of the region codes under a
// numeric prefix (auth.RegionRange: list scopes use auth.Where).
func regionRange(prefix string) (lo, hi string) { return auth.RegionRange(prefix) }
