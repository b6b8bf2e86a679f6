package exchange

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"agtrace/internal/platform"
)

// Inspections and sampling tests (issue 13 item 2, "as those features
// land"): a province's inspection (巡查检查) and sample (抽样检测) reach the
// national node with the operator and the batches they concern, so the
// national dashboards and the national supervisors see every province's.
// They are records of their node: the national node keeps them by their
// number (an inspection's carries its county; a sample's is the tester's
// own, so two provinces' samples with one number are refused, never
// merged). Photos stay on the province (files); a sample's limit is named
// by its values (standard, edition, limit), not by a node's row id; a
// province's recalls and enforcement cases are not sent yet.

// record kinds in exchange_records
const (
	kindInspection = "inspection"
	kindSample     = "sample"
)

// InspectionRec is an on-site inspection as the national node keeps it.
type InspectionRec struct {
	Number         string    `json:"number"`
	OperatorCode   string    `json:"operator_code"`
	RegionCode     string    `json:"region_code"`
	Kind           string    `json:"kind"`
	Checklist      string    `json:"checklist"`
	Result         string    `json:"result"`
	RectifyDays    *int64    `json:"rectify_days,omitempty"`
	RectifyDue     string    `json:"rectify_due,omitempty"`
	Notes          string    `json:"notes,omitempty"`
	Lat            *float64  `json:"lat,omitempty"`
	Lng            *float64  `json:"lng,omitempty"`
	AccuracyM      *float64  `json:"accuracy_m,omitempty"`
	InspectorLogin string    `json:"inspector_login"`
	InspectorName  string    `json:"inspector_name"`
	Agency         string    `json:"agency,omitempty"`
	OnDate         string    `json:"on_date"`
	At             time.Time `json:"at"`
	SignedText     string    `json:"signed_text"`
	Signature      string    `json:"signature"`
	Batches        []string  `json:"batches,omitempty" doc:"the trace codes looked at"`
}

// SampleRec is a sampling test with its items.
type SampleRec struct {
	SampleNo     string          `json:"sample_no"`
	Kind         string          `json:"kind"`
	OperatorCode string          `json:"operator_code"`
	BatchCode    string          `json:"batch_code"`
	ProductCode  string          `json:"product_code"`
	RegionCode   string          `json:"region_code"`
	SampledOn    string          `json:"sampled_on"`
	Place        string          `json:"place,omitempty"`
	Agency       string          `json:"agency,omitempty"`
	Method       string          `json:"method,omitempty"`
	Verdict      string          `json:"verdict"`
	TesterName   string          `json:"tester_name"`
	At           time.Time       `json:"at"`
	Items        []SampleItemRec `json:"items"`
}

// SampleItemRec is one tested substance with its judgement.
type SampleItemRec struct {
	Substance   string   `json:"substance"`
	Known       bool     `json:"known"`
	Value       *float64 `json:"value,omitempty"`
	Unit        string   `json:"unit,omitempty"`
	LOD         *float64 `json:"lod,omitempty"`
	Result      string   `json:"result,omitempty"`
	LimitValue  *float64 `json:"limit_value,omitempty"`
	LimitUnit   string   `json:"limit_unit,omitempty"`
	Judgement   string   `json:"judgement,omitempty"`
	Standard    string   `json:"standard,omitempty"`
	Edition     string   `json:"edition,omitempty"`
	Verdict     string   `json:"verdict"`
	Reason      string   `json:"reason,omitempty"`
	InLimitUnit string   `json:"in_limit_unit,omitempty"`
}

// inspection reads an inspection with the batches it looked at (and notes
// its operator and batches for the message).
func (r *reader) inspection(ctx context.Context, id int64) error {
	var x InspectionRec
	var op int64
	var days sql.NullInt64
	var due sql.NullString
	var lat, lng, acc sql.NullFloat64
	err := r.q.QueryRow(ctx, `SELECT number, operator_id, region_code, kind, checklist, result, rectify_days, rectify_due, notes, lat, lng, accuracy_m,
		inspector_login, inspector_name, agency, on_date, at, signed_text, signature FROM inspections WHERE id = $1`, id).Scan(
		&x.Number, &op, &x.RegionCode, &x.Kind, &x.Checklist, &x.Result, &days, &due, &x.Notes, &lat, &lng, &acc,
		&x.InspectorLogin, &x.InspectorName, &x.Agency, &x.OnDate, &x.At, &x.SignedText, &x.Signature)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read inspection %d: %w", id, err)
	}
	if days.Valid {
		x.RectifyDays = &days.Int64
	}
	x.RectifyDue, x.Lat, x.Lng, x.AccuracyM = due.String, nullFloat(lat), nullFloat(lng), nullFloat(acc)
	x.OperatorCode = r.opRef(op)
	if x.Batches, err = list(ctx, r.q, func(rs *sql.Rows) (string, error) {
		var c string
		return c, rs.Scan(&c)
	}, `SELECT code FROM inspection_batches WHERE inspection_id = $1 ORDER BY code`, id); err != nil {
		return err
	}
	for _, c := range x.Batches {
		if err := r.code(ctx, c, false); err != nil {
			return err
		}
	}
	r.out.Inspections = append(r.out.Inspections, x)
	return nil
}

// sample reads a sampling test with its items and the batch it sampled.
func (r *reader) sample(ctx context.Context, id int64) error {
	var x SampleRec
	var op int64
	err := r.q.QueryRow(ctx, `SELECT sample_no, kind, operator_id, batch_code, product_code, region_code, sampled_on, place, agency, method,
		verdict, tester_name, at FROM samples WHERE id = $1`, id).Scan(&x.SampleNo, &x.Kind, &op, &x.BatchCode, &x.ProductCode, &x.RegionCode,
		&x.SampledOn, &x.Place, &x.Agency, &x.Method, &x.Verdict, &x.TesterName, &x.At)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read sample %d: %w", id, err)
	}
	x.OperatorCode = r.opRef(op)
	if x.Items, err = list(ctx, r.q, func(rs *sql.Rows) (SampleItemRec, error) {
		var it SampleItemRec
		var val, lod, lim sql.NullFloat64
		err := rs.Scan(&it.Substance, &it.Known, &val, &it.Unit, &lod, &it.Result, &lim, &it.LimitUnit, &it.Judgement, &it.Standard, &it.Edition,
			&it.Verdict, &it.Reason, &it.InLimitUnit)
		it.Value, it.LOD, it.LimitValue = nullFloat(val), nullFloat(lod), nullFloat(lim)
		return it, err
	}, `SELECT substance, known, value, unit, lod, result, limit_value, limit_unit, judgement, standard, edition, verdict, reason, in_limit_unit
		FROM sample_items WHERE sample_id = $1 ORDER BY position`, id); err != nil {
		return err
	}
	if err := r.code(ctx, x.BatchCode, true); err != nil {
		return err
	}
	r.out.Samples = append(r.out.Samples, x)
	return nil
}

// oversightOf reads the inspection or sample an outbox row names.
func (r *reader) oversightOf(ctx context.Context, row outboxRow) error {
	id, err := strconv.ParseInt(row.ResourceID, 10, 64)
	if err != nil {
		return nil
	}
	if row.ResourceType == "inspection" {
		return r.inspection(ctx, id)
	}
	return r.sample(ctx, id)
}

// inspection writes an inspection the first time its node sends it (it
// does not change; its photos stay on the province).
func (a *applying) inspection(ctx context.Context, f string, x InspectionRec) error {
	if err := a.claimOwn(ctx, kindInspection, x.Number, x, f+".number"); err != nil || a.skip {
		return err
	}
	op, err := a.operatorID(ctx, f+".operator_code", x.OperatorCode)
	if err != nil {
		return err
	}
	var id int64
	err = a.tx.QueryRow(ctx, `INSERT INTO inspections (number, operator_id, region_code, kind, checklist, result, rectify_days, rectify_due, notes,
		lat, lng, accuracy_m, inspector_login, inspector_name, agency, on_date, at, signed_text, signature)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (number) DO NOTHING RETURNING id`,
		x.Number, op, x.RegionCode, x.Kind, x.Checklist, x.Result, x.RectifyDays, platform.NullString(x.RectifyDue), x.Notes, x.Lat, x.Lng, x.AccuracyM,
		x.InspectorLogin, x.InspectorName, x.Agency, x.OnDate, x.At, x.SignedText, x.Signature).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // here already
	}
	if err != nil {
		return err
	}
	for i, c := range x.Batches {
		if err := a.upstream(ctx, fmt.Sprintf("%s.batches[%d]", f, i), c); err != nil {
			return err
		}
		if _, err := a.tx.Exec(ctx, `INSERT INTO inspection_batches (inspection_id, code) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, c); err != nil {
			return err
		}
	}
	return nil
}

// sample writes a sampling test the first time its node sends it.
func (a *applying) sample(ctx context.Context, f string, x SampleRec) error {
	if err := a.claimOwn(ctx, kindSample, x.SampleNo, x, f+".sample_no"); err != nil || a.skip {
		return err
	}
	op, err := a.operatorID(ctx, f+".operator_code", x.OperatorCode)
	if err != nil {
		return err
	}
	if err := a.upstream(ctx, f+".batch_code", x.BatchCode); err != nil {
		return err
	}
	var id int64
	err = a.tx.QueryRow(ctx, `INSERT INTO samples (sample_no, kind, operator_id, batch_code, product_code, region_code, sampled_on, place, agency,
		method, verdict, tester_name, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (sample_no) DO NOTHING RETURNING id`,
		x.SampleNo, x.Kind, op, x.BatchCode, x.ProductCode, x.RegionCode, x.SampledOn, x.Place, x.Agency, x.Method, x.Verdict, x.TesterName, x.At).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		// the number is one of this node's own samples (not claimed by any node)
		return invalid(f+".sample_no", "conflict", "抽样编号 "+x.SampleNo+" 已被本节点的抽样使用", "sample number "+x.SampleNo+" is used by a sample of this node")
	}
	if err != nil {
		return err
	}
	for i, it := range x.Items {
		if _, err := a.tx.Exec(ctx, `INSERT INTO sample_items (sample_id, position, substance, known, value, unit, lod, result, limit_value, limit_unit,
			judgement, standard, edition, verdict, reason, in_limit_unit) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			id, i+1, it.Substance, it.Known, it.Value, it.Unit, it.LOD, it.Result, it.LimitValue, it.LimitUnit, it.Judgement, it.Standard, it.Edition,
			it.Verdict, it.Reason, it.InLimitUnit); err != nil {
			return err
		}
	}
	return nil
}

// claimOwn claims a record that only its node writes, once: a.skip is
// set when it is here already (or unchanged); another node's record under
// the same key is refused, not taken as a reference (two provinces' samples
// may share a tester's number: the second is parked for a person to see).
func (a *applying) claimOwn(ctx context.Context, kind, key string, rec any, field string) error {
	a.skip = false
	write, fresh, err := a.claim(ctx, kind, key, rec)
	if err != nil {
		return err
	}
	if r := a.cache.records[[2]string{kind, key}]; r != nil && r.node != a.m.Node {
		return invalid(field, "conflict", "编号 "+key+" 已属于节点 "+r.node, "the number "+key+" belongs to node "+r.node)
	}
	a.skip = !write || !fresh // written once: a later copy changes nothing
	return nil
}
