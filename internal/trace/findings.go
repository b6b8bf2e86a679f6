package trace

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// Finding kinds: what the data itself reveals (annex art. 17).
const (
	FindingUnconfirmed      = "unconfirmed_transfer" // broken chain: not confirmed within 3 working days
	FindingOverShipment     = "over_shipment"        // refused attempt to ship or consume more than the stock
	FindingQuantityMismatch = "quantity_mismatch"    // received ≠ shipped (possible batch mixing)
	FindingSafetyInterval   = "safety_interval"      // harvest inside a safety interval / withdrawal period
	FindingTimeline         = "timeline_backwards"   // a correction put production after what followed it
	FindingRaisedDownstream = "quantity_raised"      // a correction raised the quantity after goods had left the batch
	FindingYield            = "implausible_yield"    // a transformation outside its yield range, recorded with an override reason
	FindingUnrelatedOutput  = "unrelated_output"     // a transformation into a product with no yield rule from its inputs, outside the operator's registered business
	// raised by the online-monitoring rules (internal/supervision)
	FindingNoRecentBatch    = "no_recent_batch"        // an approved producer recorded no batch for N days
	FindingRepeatedOverShip = "repeated_over_shipment" // N refused over-shipments within 30 days
	FindingRectifyOverdue   = "rectify_overdue"        // a rectification deadline passed without a passing re-inspection or follow-up
	FindingReviewOverdue    = "review_overdue"         // a registration review past its 5-working-day deadline
	FindingReviewEscalated  = "review_escalated"       // … and N working days more: escalated to the level above
	FindingNeverInspected   = "never_inspected"        // not inspected within N days
	FindingKeyNoAgreement   = "key_no_agreement"       // a key operator without a signed agreement
	// raised by sampling tests (internal/monitoring)
	FindingRecallHold    = "recall_hold"    // a failed sample holds batches in the jurisdiction: confirm or release the recall
	FindingQuickPositive = "quick_positive" // a quick test was positive: a confirmatory lab test is needed
	// raised by the scan rules (clone detection, internal/supervision)
	FindingScanOverUnits = "scan_over_units" // a code scanned far more often than its batch has units
	FindingScanFarApart  = "scan_far_apart"  // a code scanned from far-apart regions within one day
)

// FindingKinds lists the kinds in display order.
var FindingKinds = []string{FindingUnconfirmed, FindingOverShipment, FindingQuantityMismatch, FindingSafetyInterval, FindingTimeline,
	FindingRaisedDownstream, FindingYield, FindingUnrelatedOutput, FindingNoRecentBatch, FindingRepeatedOverShip, FindingRectifyOverdue,
	FindingReviewOverdue, FindingReviewEscalated, FindingNeverInspected, FindingKeyNoAgreement, FindingRecallHold, FindingQuickPositive,
	FindingScanOverUnits, FindingScanFarApart}

// ConfirmWorkdays is how long a buyer has to confirm a transfer.
const ConfirmWorkdays = 3

// Finding is one problem for supervisors.
type Finding struct {
	ID           int64          `json:"id,omitempty"`
	Kind         string         `json:"kind" doc:"unconfirmed_transfer | over_shipment | quantity_mismatch | safety_interval | timeline_backwards | quantity_raised | implausible_yield | unrelated_output | no_recent_batch | repeated_over_shipment | rectify_overdue | review_overdue | review_escalated | never_inspected | key_no_agreement | recall_hold | quick_positive | scan_over_units | scan_far_apart"`
	Code         string         `json:"code"`
	OperatorCode string         `json:"operator_code"`
	OperatorName string         `json:"operator_name"`
	RegionCode   string         `json:"region_code"`
	Detail       map[string]any `json:"detail"`
	Date         string         `json:"date"`
	At           time.Time      `json:"at"`
	// handling (recorded findings; a computed unconfirmed transfer has id 0 and stays open until the buyer answers)
	Status       string        `json:"status" doc:"open | in_progress | closed"`
	AssigneeName string        `json:"assignee_name,omitempty"`
	DueOn        string        `json:"due_on,omitempty"`
	Note         string        `json:"note,omitempty"`
	Overdue      bool          `json:"overdue,omitempty" doc:"in progress past its due date"`
	Steps        []FindingStep `json:"steps,omitempty" doc:"the handling history (one finding only)"`
}

const findingColumns = `f.id, f.kind, f.code, COALESCE(o.code, ''), COALESCE(o.name, ''), f.region_code, f.region2, f.detail, f.on_date, f.at,
	f.status, f.assignee_name, COALESCE(f.due_on, ''), f.note`

const findingFrom = `FROM findings f LEFT JOIN operators o ON o.id = f.operator_id`

// scanFinding reads a findingColumns row (and the counterparty's region).
func scanFinding(row interface{ Scan(...any) error }) (Finding, string, error) {
	var x Finding
	var detail, region2 string
	if err := row.Scan(&x.ID, &x.Kind, &x.Code, &x.OperatorCode, &x.OperatorName, &x.RegionCode, &region2, &detail, &x.Date, &x.At,
		&x.Status, &x.AssigneeName, &x.DueOn, &x.Note); err != nil {
		return Finding{}, "", err
	}
	_ = json.Unmarshal([]byte(detail), &x.Detail)
	return x, region2, nil
}

func addFinding(ctx context.Context, tx *platform.Tx, kind, code string, operatorID int64, region, onDate string, detail map[string]any) error {
	return addFindingPair(ctx, tx, kind, code, operatorID, region, "", onDate, detail)
}

// addFindingPair records a finding visible in two jurisdictions (seller's
// and buyer's regions).
func addFindingPair(ctx context.Context, tx *platform.Tx, kind, code string, operatorID int64, region, region2, onDate string, detail map[string]any) error {
	_, err := insertFinding(ctx, tx, kind, code, operatorID, region, region2, onDate, detail)
	return err
}

// insertFinding records a finding and returns its id.
func insertFinding(ctx context.Context, tx *platform.Tx, kind, code string, operatorID int64, region, region2, onDate string, detail map[string]any) (int64, error) {
	b, err := json.Marshal(detail)
	if err != nil {
		return 0, err
	}
	if region2 == region {
		region2 = ""
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO findings (kind, code, operator_id, region_code, region2, detail, on_date, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, kind, code, platform.NullInt(operatorID), region, region2, string(b), onDate, tx.Now()).Scan(&id); err != nil {
		return 0, fmt.Errorf("insert finding: %w", err)
	}
	return id, tx.Emit(ctx, platform.Event{Action: "finding.record", ResourceType: "finding", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"kind": kind, "code": code, "region_code": region}})
}

// FindingFilter narrows Findings.
type FindingFilter struct {
	Region string // a region within the actor's jurisdiction; default: all of it
	Kind   string
	Status string // open | in_progress | closed | active (open or in progress) | "" (all)
	// Assignee: findings taken up by this account ("me" = the actor); only
	// recorded findings have one.
	Assignee string
	Limit    int
	Offset   int // recorded findings to skip (pages); unconfirmed transfers come on the first page
}

// Findings lists what the data reveals in a jurisdiction, newest first:
// recorded findings plus transfers still unconfirmed after 3 working days.
func (s *Service) Findings(ctx context.Context, actor *auth.Actor, f FindingFilter) ([]Finding, error) {
	sc := auth.ListScope(actor, auth.ActFindingsRead)
	if err := sc.Err(actor, auth.ActFindingsRead); err != nil {
		return nil, err
	}
	if err := auth.Authorize(actor, auth.ActFindingsRead, auth.Resource{Region: f.Region}); err != nil {
		return nil, err
	}
	var v platform.Validator
	if f.Kind != "" {
		v.OneOf("kind", f.Kind, FindingKinds...)
	}
	if f.Status != "" {
		v.OneOf("status", f.Status, append([]string{"active"}, FindingStatuses...)...)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	today := s.today()
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	var out []Finding
	if f.Kind == "" || f.Kind != FindingUnconfirmed {
		w := auth.NewWhere()
		w.Scope(sc, auth.Columns{Region: []string{"f.region_code", "f.region2"}, Operator: []string{"f.operator_id"}})
		if auth.RegionPrefix(f.Region) != "" {
			w.Add(w.RegionCond(f.Region, "f.region_code", "f.region2"))
		}
		if f.Kind != "" {
			w.Add("f.kind = " + w.Arg(f.Kind))
		}
		switch f.Assignee {
		case "":
		case "me":
			w.Add("f.assignee_id = " + w.Arg(actor.UserID))
		default:
			w.Add("f.assignee_id = (SELECT id FROM users WHERE username = " + w.Arg(f.Assignee) + ")")
		}
		switch f.Status {
		case "":
		case "active":
			w.Add("f.status <> 'closed'")
		default:
			w.Add("f.status = " + w.Arg(f.Status))
		}
		rows, err := s.db.Query(ctx, `SELECT `+findingColumns+` `+findingFrom+w.SQL()+` ORDER BY f.at DESC, f.id DESC LIMIT `+w.Arg(f.Limit)+
			` OFFSET `+w.Arg(max(f.Offset, 0)), w.Args()...)
		list, err := platform.Collect(rows, err, func(r interface{ Scan(...any) error }) (Finding, error) {
			x, _, err := scanFinding(r)
			x.Overdue = x.Status == FindingInProgress && x.DueOn != "" && x.DueOn < today
			return x, err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	// unconfirmed transfers are open until the buyer answers
	if (f.Kind == "" || f.Kind == FindingUnconfirmed) && (f.Status == "" || f.Status == "active" || f.Status == FindingOpen) && f.Offset <= 0 && f.Assignee == "" {
		un, err := s.unconfirmed(ctx, sc, f.Region, f.Limit)
		if err != nil {
			return nil, err
		}
		out = append(out, un...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date > out[j].Date
		}
		return out[i].At.After(out[j].At)
	})
	if out == nil {
		out = []Finding{}
	}
	return out, nil
}

// unconfirmed lists pending transfers whose buyer has not answered within
// ConfirmWorkdays working days of shipping (computed: it depends on today).
func (s *Service) unconfirmed(ctx context.Context, sc auth.Scope, region string, limit int) ([]Finding, error) {
	now := s.clock.Now()
	today := platform.Today(now)
	todayT, _ := time.Parse(time.DateOnly, today)
	// 3 working days are at least 3 calendar days: a cheap bound for the index
	cutoff := todayT.AddDate(0, 0, -ConfirmWorkdays).Format(time.DateOnly)
	w := auth.NewWhere(cutoff, limit*4)
	regions := []string{"tr.seller_region", "tr.buyer_region"}
	w.Scope(sc, auth.Columns{Region: regions, Operator: []string{"tr.seller_operator_id", "tr.buyer_operator_id"}})
	if auth.RegionPrefix(region) != "" {
		w.Add(w.RegionCond(region, regions...))
	}
	rows, err := s.db.Query(ctx, `SELECT tr.code, tr.from_code, tr.shipped_on, tr.quantity_milli, tr.unit, tr.seller_region, COALESCE(so.code, ''), so.name,
		COALESCE(bo.code, ''), COALESCE(bo.name, ''), tr.created_at
		FROM transfers tr JOIN operators so ON so.id = tr.seller_operator_id LEFT JOIN operators bo ON bo.id = tr.buyer_operator_id
		WHERE tr.status = 'pending' AND tr.shipped_on <= $1`+w.And()+` ORDER BY tr.shipped_on DESC LIMIT $2`, w.Args()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var x Finding
		var from, shipped, unit, buyerCode, buyerName string
		var q int64
		if err := rows.Scan(&x.Code, &from, &shipped, &q, &unit, &x.RegionCode, &x.OperatorCode, &x.OperatorName, &buyerCode, &buyerName, &x.At); err != nil {
			return nil, err
		}
		st, err := time.Parse(time.DateOnly, shipped)
		if err != nil {
			continue
		}
		due, _, err := s.cal.AddWorkdays(ctx, st, ConfirmWorkdays)
		if err != nil {
			return nil, err
		}
		if !todayT.After(due) {
			continue
		}
		n, _ := s.cal.WorkdaysBetween(ctx, st, todayT)
		x.Kind, x.Date, x.Status = FindingUnconfirmed, due.Format(time.DateOnly), FindingOpen
		x.Detail = map[string]any{"from_code": from, "shipped_at": shipped, "due": due.Format(time.DateOnly), "workdays": n,
			"quantity": fromMilli(q), "unit": unit, "buyer_code": buyerCode, "buyer": buyerName}
		out = append(out, x)
	}
	return out, rows.Err()
}

// RuleFinding is a finding an online-monitoring rule raises.
type RuleFinding struct {
	Kind       string
	Key        string // what makes it one finding: the rule does not raise it twice
	Code       string // the trace code, operator code or record number it is about
	OperatorID int64
	Region     string
	Region2    string // a second jurisdiction that sees it (the level above, for escalations)
	Detail     map[string]any
}

// RaiseTx records a rule's finding inside the caller's transaction unless
// one with the same kind and key exists (the key names the episode — the
// record, or the last event the rule looked at — so a finding closed as
// handled is not raised again until something changes); it reports whether
// it recorded one.
func RaiseTx(ctx context.Context, tx *platform.Tx, today string, f RuleFinding) (bool, error) {
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM findings WHERE kind = $1 AND rule_key = $2`, f.Kind, f.Key).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	id, err := insertFinding(ctx, tx, f.Kind, f.Code, f.OperatorID, f.Region, f.Region2, today, f.Detail)
	if err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, `UPDATE findings SET rule_key = $1 WHERE id = $2`, f.Key, id)
	return err == nil, err
}
