// Package supervision holds the supervision and enforcement systems of the
// notice (annex art. 15–17): inspections recorded by scanning an operator's
// code, random draws (双随机、一公开) turned into inspection tasks,
// enforcement cases with working-day deadlines, credit records, and the
// online-monitoring rules that write findings into the shared handling
// workflow (trace.HandleFinding).
package supervision

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/region"
	"agtrace/internal/secure"
	"agtrace/internal/trace"
)

// Service records inspections, draws, cases and credit, and runs the
// monitoring rules.
type Service struct {
	db        *platform.DB
	clock     platform.Clock
	ops       *operator.Service
	tr        *trace.Service
	regions   *region.Service
	cal       *region.Calendar
	signer    secure.Signer
	blobs     platform.BlobStore
	publicURL string
}

// NewService builds the service; photos go to the content-addressed store
// in docsDir (the operators' documents share it).
func NewService(db *platform.DB, clock platform.Clock, ops *operator.Service, tr *trace.Service, regions *region.Service,
	cal *region.Calendar, signer secure.Signer, docsDir, publicURL string) *Service {
	return &Service{db: db, clock: clock, ops: ops, tr: tr, regions: regions, cal: cal, signer: signer,
		blobs: platform.BlobStore{Dir: docsDir}, publicURL: publicURL}
}

// Today is the platform's date (Asia/Shanghai).
func (s *Service) Today() string { return platform.Today(s.clock.Now()) }

func (s *Service) todayTime() time.Time {
	t, _ := time.Parse(time.DateOnly, s.Today())
	return t
}

// addWorkdays is today + n working days on the holiday calendar.
func (s *Service) addWorkdays(ctx context.Context, from string, n int) (string, error) {
	t, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return "", err
	}
	due, _, err := s.cal.AddWorkdays(ctx, t, n)
	if err != nil {
		return "", err
	}
	return due.Format(time.DateOnly), nil
}

// operatorInReach loads an operator by code for an action in the actor's
// jurisdiction: an unknown code or one out of reach is 404 alike.
func (s *Service) operatorInReach(ctx context.Context, actor *auth.Actor, act auth.Action, code string) (operator.Operator, error) {
	o, err := s.ops.ByCode(ctx, code)
	if err != nil {
		return operator.Operator{}, err
	}
	if err := auth.Authorize(actor, act, auth.Resource{Region: o.RegionCode, OperatorID: o.ID}); err != nil {
		if auth.IsRead(act) || platform.KindOf(err) == platform.KindForbidden {
			return operator.Operator{}, errOperatorNotFound
		}
		return operator.Operator{}, err
	}
	return o, nil
}

// operatorByID loads an operator for a read in the actor's jurisdiction.
func (s *Service) operatorByID(ctx context.Context, actor *auth.Actor, act auth.Action, id int64) (operator.Operator, error) {
	o, err := s.ops.ByID(ctx, id)
	if err != nil {
		return operator.Operator{}, err
	}
	if err := auth.Authorize(actor, act, auth.Resource{Region: o.RegionCode, OperatorID: o.ID}); err != nil {
		return operator.Operator{}, err
	}
	return o, nil
}

var errOperatorNotFound = platform.NotFound("经营主体不存在或不在您的辖区内", "operator not found in your jurisdiction")

// agencyName is the name of the actor's agency ("" when none).
func (s *Service) agencyName(ctx context.Context, userID int64) string {
	var name string
	err := s.db.QueryRow(ctx, `SELECT COALESCE(a.name, '') FROM users u LEFT JOIN agencies a ON a.id = u.agency_id WHERE u.id = $1`, userID).Scan(&name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ""
	}
	return name
}

func parseDate(s string) (time.Time, error) { return time.Parse(time.DateOnly, s) }
