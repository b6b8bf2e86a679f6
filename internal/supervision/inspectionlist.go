package supervision

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
	"agtrace/internal/secure"
)

const inspectionColumns = `i.id, i.number, i.operator_id, o.code, o.name, i.region_code, i.kind, i.checklist, i.result,
	COALESCE(i.rectify_days, 0), COALESCE(i.rectify_due, ''), i.notes, i.lat, i.lng, i.accuracy_m, COALESCE(i.task_id, 0),
	i.inspector_login, i.inspector_name, i.agency, i.on_date, i.at, i.signed_text, i.signature`

const inspectionFrom = ` FROM inspections i JOIN operators o ON o.id = i.operator_id`

func scanInspection(r interface{ Scan(...any) error }) (Inspection, error) {
	var x Inspection
	var list string
	var lat, lng, acc sql.NullFloat64
	if err := r.Scan(&x.ID, &x.Number, &x.OperatorID, &x.OperatorCode, &x.OperatorName, &x.RegionCode, &x.Kind, &list, &x.Result,
		&x.RectifyDays, &x.RectifyDue, &x.Notes, &lat, &lng, &acc, &x.TaskID, &x.InspectorLogin, &x.InspectorName, &x.Agency,
		&x.Date, &x.At, &x.SignedText, &x.Signature); err != nil {
		return x, err
	}
	_ = json.Unmarshal([]byte(list), &x.Checklist)
	x.Lat, x.Lng, x.AccuracyM = nullFloat(lat), nullFloat(lng), nullFloat(acc)
	x.Batches, x.Photos = []InspectedBatch{}, []Photo{}
	return x, nil
}

func nullFloat(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	return &f.Float64
}

// Inspection returns one inspection with its batches and photos (404 out of reach).
func (s *Service) Inspection(ctx context.Context, actor *auth.Actor, id int64) (Inspection, error) {
	if err := auth.Authorize(actor, auth.ActInspectionRead, auth.Resource{}); err != nil {
		return Inspection{}, err
	}
	x, err := s.inspection(ctx, id)
	if err != nil {
		return Inspection{}, err
	}
	if err := auth.Authorize(actor, auth.ActInspectionRead, auth.Resource{Region: x.RegionCode, OperatorID: x.OperatorID}); err != nil {
		return Inspection{}, errInspectionNotFound
	}
	return x, nil
}

// inspection loads one inspection whole (no authorization).
func (s *Service) inspection(ctx context.Context, id int64) (Inspection, error) {
	x, err := scanInspection(s.db.QueryRow(ctx, `SELECT `+inspectionColumns+inspectionFrom+` WHERE i.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Inspection{}, errInspectionNotFound
	}
	if err != nil {
		return Inspection{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT ib.code, p.name FROM inspection_batches ib JOIN trace_codes tc ON tc.code = ib.code
		JOIN products p ON p.code = tc.product_code WHERE ib.inspection_id = $1 ORDER BY ib.code`, id)
	x.Batches, err = platform.Collect(rows, err, func(r *sql.Rows) (InspectedBatch, error) {
		var b InspectedBatch
		return b, r.Scan(&b.Code, &b.ProductName)
	})
	if err != nil {
		return Inspection{}, err
	}
	rows, err = s.db.Query(ctx, `SELECT id, sha256, size, content_type, filename, signature FROM inspection_photos WHERE inspection_id = $1 ORDER BY id`, id)
	x.Photos, err = platform.Collect(rows, err, func(r *sql.Rows) (Photo, error) {
		var p Photo
		return p, r.Scan(&p.ID, &p.SHA256, &p.Size, &p.ContentType, &p.Filename, &p.Signature)
	})
	if x.Batches == nil {
		x.Batches = []InspectedBatch{}
	}
	if x.Photos == nil {
		x.Photos = []Photo{}
	}
	return x, err
}

// VerifyInspection reports whether an inspection's stored text still
// carries the platform's signature (and so was not altered since).
func (s *Service) VerifyInspection(x Inspection) bool {
	sig, err := base64.StdEncoding.DecodeString(x.Signature)
	return err == nil && secure.Verify(s.signer.PublicKeyPEM(), []byte(x.SignedText), sig)
}

// InspectionFilter narrows Inspections.
type InspectionFilter struct {
	OperatorID int64
	BatchCode  string // inspections that looked at this batch
	Region     string
	Result     string
	Kind       string
	Inspector  string // login
	Limit      int
	Offset     int
}

// Inspections lists inspections in the actor's reach, newest first (an
// operator account sees its own).
func (s *Service) Inspections(ctx context.Context, actor *auth.Actor, f InspectionFilter) ([]Inspection, error) {
	sc := auth.ListScope(actor, auth.ActInspectionRead)
	if err := sc.Err(actor, auth.ActInspectionRead); err != nil {
		return nil, err
	}
	if err := auth.Authorize(actor, auth.ActInspectionRead, auth.Resource{Region: f.Region}); err != nil {
		return nil, err
	}
	var v platform.Validator
	if f.Result != "" {
		v.OneOf("result", f.Result, InspectionResults...)
	}
	if f.Kind != "" {
		v.OneOf("kind", f.Kind, InspectionKinds...)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	w := auth.NewWhere()
	w.Scope(sc, auth.Columns{Region: []string{"i.region_code"}, Operator: []string{"i.operator_id"}})
	if auth.RegionPrefix(f.Region) != "" {
		w.Add(w.RegionCond(f.Region, "i.region_code"))
	}
	if f.OperatorID != 0 {
		w.Add("i.operator_id = " + w.Arg(f.OperatorID))
	}
	if f.BatchCode != "" {
		w.Add("i.id IN (SELECT inspection_id FROM inspection_batches WHERE code = " + w.Arg(f.BatchCode) + ")")
	}
	if f.Result != "" {
		w.Add("i.result = " + w.Arg(f.Result))
	}
	if f.Kind != "" {
		w.Add("i.kind = " + w.Arg(f.Kind))
	}
	if f.Inspector != "" {
		w.Add("i.inspector_login = " + w.Arg(f.Inspector))
	}
	rows, err := s.db.Query(ctx, `SELECT `+inspectionColumns+inspectionFrom+w.SQL()+` ORDER BY i.at DESC, i.id DESC LIMIT `+w.Arg(f.Limit)+
		` OFFSET `+w.Arg(max(f.Offset, 0)), w.Args()...)
	out, err := platform.Collect(rows, err, scanInspection)
	if out == nil {
		out = []Inspection{}
	}
	return out, err
}

// OpenPhoto returns a photo of an inspection the actor may read.
func (s *Service) OpenPhoto(ctx context.Context, actor *auth.Actor, inspectionID, photoID int64) (Photo, io.ReadCloser, error) {
	x, err := s.Inspection(ctx, actor, inspectionID)
	if err != nil {
		return Photo{}, nil, err
	}
	for _, p := range x.Photos {
		if p.ID == photoID {
			f, err := s.blobs.Open(p.SHA256)
			return p, f, err
		}
	}
	return Photo{}, nil, platform.NotFound("照片不存在", "photo not found")
}
