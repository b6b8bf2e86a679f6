package supervision

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// Inspection kinds and results.
const (
	KindSite        = "site"        // 基地巡查
	KindEnforcement = "enforcement" // 执法检查

	ResultPass      = "pass"
	ResultRectify   = "rectify"
	ResultViolation = "violation"
)

// InspectionKinds and InspectionResults list them in display order.
var (
	InspectionKinds   = []string{KindSite, KindEnforcement}
	InspectionResults = []string{ResultPass, ResultRectify, ResultViolation}
)

// Limits of an inspection.
const (
	MaxRectifyDays      = 60       // working days a rectification may be given
	MaxPhotoSize        = 10 << 20 // 10 MB per photo
	MaxPhotos           = 20       // per inspection
	maxInspectedBatches = 50
)

// CheckResult is one answered checklist item.
type CheckResult struct {
	Item string `json:"item" doc:"a checklist key (GET /api/v1/operators/{id}/checklist)"`
	OK   bool   `json:"ok"`
	Note string `json:"note,omitempty" doc:"required when ok is false: what was wrong"`
}

// InspectionInput is an inspection as the inspector records it.
type InspectionInput struct {
	OperatorCode string        `json:"operator_code" validate:"required" doc:"18-digit operator code (as scanned from its e-ID)"`
	Kind         string        `json:"kind" validate:"required" doc:"site (基地巡查) | enforcement (执法检查)"`
	BatchCodes   []string      `json:"batch_codes,omitempty" doc:"the batches looked at: any code type or alias, as scanned from their labels"`
	Checklist    []CheckResult `json:"checklist,omitempty"`
	Result       string        `json:"result" validate:"required" doc:"pass | rectify | violation"`
	RectifyDays  int           `json:"rectify_days,omitempty" doc:"working days to rectify; required with result rectify (1–60)"`
	Notes        string        `json:"notes,omitempty" doc:"findings in words (≤ 2000 characters)"`
	Lat          *float64      `json:"lat,omitempty" doc:"GPS position when the phone gives it"`
	Lng          *float64      `json:"lng,omitempty"`
	AccuracyM    *float64      `json:"accuracy_m,omitempty"`
	TaskID       int64         `json:"task_id,omitempty" doc:"the random-draw task this inspection carries out"`
}

// InspectedBatch is a batch an inspection looked at.
type InspectedBatch struct {
	Code        string `json:"code"`
	ProductName string `json:"product_name"`
}

// Photo is a photo of an inspection (its content is served separately).
type Photo struct {
	ID          int64  `json:"id"`
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Filename    string `json:"filename,omitempty"`
	Signature   string `json:"signature"`
}

// Inspection is a recorded inspection, signed by the platform.
type Inspection struct {
	ID             int64            `json:"id"`
	Number         string           `json:"number"`
	OperatorID     int64            `json:"operator_id"`
	OperatorCode   string           `json:"operator_code"`
	OperatorName   string           `json:"operator_name"`
	RegionCode     string           `json:"region_code"`
	Kind           string           `json:"kind" doc:"site | enforcement"`
	Checklist      []CheckResult    `json:"checklist"`
	Result         string           `json:"result" doc:"pass | rectify | violation"`
	RectifyDays    int              `json:"rectify_days,omitempty"`
	RectifyDue     string           `json:"rectify_due,omitempty" doc:"YYYY-MM-DD on the working-day calendar"`
	Notes          string           `json:"notes,omitempty"`
	Lat            *float64         `json:"lat,omitempty"`
	Lng            *float64         `json:"lng,omitempty"`
	AccuracyM      *float64         `json:"accuracy_m,omitempty"`
	TaskID         int64            `json:"task_id,omitempty"`
	InspectorLogin string           `json:"inspector"`
	InspectorName  string           `json:"inspector_name"`
	Agency         string           `json:"agency,omitempty"`
	Date           string           `json:"date"`
	At             time.Time        `json:"at"`
	Batches        []InspectedBatch `json:"batches"`
	Photos         []Photo          `json:"photos"`
	SignedText     string           `json:"signed_text" doc:"the canonical JSON the signature covers"`
	Signature      string           `json:"signature" doc:"base64 SM2 signature by the platform key (GET /api/v1/public/keys)"`
}

// signedInspection is what the platform signs: who inspected what, when,
// and what they found. Photos are signed one by one as they arrive.
type signedInspection struct {
	Number       string        `json:"number"`
	OperatorCode string        `json:"operator_code"`
	OperatorName string        `json:"operator_name"`
	Kind         string        `json:"kind"`
	Result       string        `json:"result"`
	RectifyDue   string        `json:"rectify_due,omitempty"`
	Checklist    []CheckResult `json:"checklist"`
	Batches      []string      `json:"batches"`
	Notes        string        `json:"notes,omitempty"`
	Lat          *float64      `json:"lat,omitempty"`
	Lng          *float64      `json:"lng,omitempty"`
	Inspector    string        `json:"inspector"`
	InspectorID  int64         `json:"inspector_id"`
	Name         string        `json:"inspector_name"`
	Date         string        `json:"date"`
	At           string        `json:"at"`
}

// PhotoUpload is a photo as it arrives.
type PhotoUpload struct {
	Filename string
	Body     io.Reader
}

var (
	errPhotoTooLarge      = platform.TooLarge("照片不能超过 10 MB", "a photo must be at most 10 MB")
	errPhotoType          = platform.Unsupported("照片只接受 JPEG 或 PNG", "photos must be JPEG or PNG")
	errPhotoEmpty         = platform.Invalid(platform.FieldError{Field: "photos", Code: "empty", ZH: "照片文件是空的（0 字节）", EN: "the photo is empty (0 bytes)"})
	errInspectionNotFound = platform.NotFound("检查记录不存在", "inspection not found")
)

var photoLimits = platform.BlobLimits{Types: []string{platform.TypeJPEG, platform.TypePNG}, MaxBytes: MaxPhotoSize,
	TooLarge: errPhotoTooLarge, Unsupported: errPhotoType, Empty: errPhotoEmpty}

// inspectionPlan is a validated inspection, ready for its transaction.
type inspectionPlan struct {
	in      InspectionInput
	op      operator.Operator
	batches []InspectedBatch
	scanned map[string]string
	due     string
	today   string
}

// prepareInspection authorizes and validates an inspection before its
// transaction: the operator must be in the inspector's jurisdiction (404
// otherwise), the checklist items its own, the batches its own.
func (s *Service) prepareInspection(ctx context.Context, actor *auth.Actor, in InspectionInput) (inspectionPlan, error) {
	if err := auth.Authorize(actor, auth.ActInspect, auth.Resource{}); err != nil {
		return inspectionPlan{}, err
	}
	in.OperatorCode = strings.TrimSpace(in.OperatorCode)
	in.Notes = strings.TrimSpace(in.Notes)
	o, err := s.operatorInReach(ctx, actor, auth.ActInspect, operatorCodeOf(in.OperatorCode))
	if err != nil {
		return inspectionPlan{}, err
	}
	p := inspectionPlan{in: in, op: o, today: s.Today(), scanned: map[string]string{}}
	var v platform.Validator
	if v.Require("kind", in.Kind) {
		v.OneOf("kind", in.Kind, InspectionKinds...)
	}
	if v.Require("result", in.Result) {
		v.OneOf("result", in.Result, InspectionResults...)
	}
	v.MaxLen("notes", in.Notes, 2000)
	s.checkChecklist(ctx, &v, &p)
	switch {
	case in.Result == ResultRectify && in.RectifyDays == 0:
		v.Add("rectify_days", "required", "责令整改时请填写整改期限（工作日）", "a rectify result needs a deadline in working days")
	case in.Result == ResultRectify:
		v.Check(in.RectifyDays >= 1 && in.RectifyDays <= MaxRectifyDays, "rectify_days", "range",
			fmt.Sprintf("整改期限应为 1–%d 个工作日", MaxRectifyDays), fmt.Sprintf("must be 1–%d working days", MaxRectifyDays))
	case in.RectifyDays != 0:
		v.Add("rectify_days", "not_allowed", "只有“责令整改”才设整改期限", "a deadline goes with result rectify only")
	}
	checkPosition(&v, in.Lat, in.Lng, in.AccuracyM)
	if err := s.resolveBatches(ctx, &v, &p); err != nil {
		return inspectionPlan{}, err
	}
	if err := v.Err(); err != nil {
		return inspectionPlan{}, err
	}
	if in.Result == ResultRectify {
		if p.due, err = s.addWorkdays(ctx, p.today, in.RectifyDays); err != nil {
			return inspectionPlan{}, err
		}
	}
	return p, nil
}

// operatorCodeOf takes the code out of a scanned e-ID URL (…/o/{code}).
func operatorCodeOf(s string) string { return codes.OperatorCodeFromScan(s) }

// checkChecklist: known items of this operator's checklist, each once; a
// failed item says what was wrong; a failed item cannot pass.
func (s *Service) checkChecklist(ctx context.Context, v *platform.Validator, p *inspectionPlan) {
	items := s.Checklist(ctx, p.op)
	seen := map[string]bool{}
	failed := false
	for i, c := range p.in.Checklist {
		f := fmt.Sprintf("checklist[%d]", i)
		p.in.Checklist[i].Note = strings.TrimSpace(c.Note)
		switch {
		case !hasItem(items, c.Item):
			v.Add(f+".item", "unknown", "检查项“"+c.Item+"”不适用于该主体", "checklist item "+c.Item+" does not apply to this operator")
		case seen[c.Item]:
			v.Add(f+".item", "duplicate", "检查项重复", "the item is listed twice")
		case !c.OK && p.in.Checklist[i].Note == "":
			v.Add(f+".note", "required", "不合格项请写明问题", "say what was wrong")
		}
		v.MaxLen(f+".note", p.in.Checklist[i].Note, 500)
		seen[c.Item] = true
		failed = failed || !c.OK
	}
	if failed && p.in.Result == ResultPass {
		v.Add("result", "inconsistent", "有不合格检查项时结论不能为“合格”", "the result cannot be pass with a failed item")
	}
}

func checkPosition(v *platform.Validator, lat, lng, acc *float64) {
	if (lat == nil) != (lng == nil) {
		v.Add("lat", "pair", "经纬度需同时提供", "give both latitude and longitude")
		return
	}
	if lat != nil {
		v.Check(!math.IsNaN(*lat) && *lat >= -90 && *lat <= 90, "lat", "range", "纬度应在 −90 到 90 之间", "latitude must be within −90…90")
		v.Check(!math.IsNaN(*lng) && *lng >= -180 && *lng <= 180, "lng", "range", "经度应在 −180 到 180 之间", "longitude must be within −180…180")
	}
	if acc != nil {
		v.Check(!math.IsNaN(*acc) && *acc >= 0, "accuracy_m", "range", "定位精度不能为负数", "accuracy cannot be negative")
	}
}

// resolveBatches turns the scanned codes into the operator's batches.
func (s *Service) resolveBatches(ctx context.Context, v *platform.Validator, p *inspectionPlan) error {
	if len(p.in.BatchCodes) > maxInspectedBatches {
		v.Add("batch_codes", "too_many", fmt.Sprintf("一次最多登记 %d 个批次", maxInspectedBatches), fmt.Sprintf("at most %d batches", maxInspectedBatches))
		return nil
	}
	seen := map[string]bool{}
	for i, raw := range p.in.BatchCodes {
		f := fmt.Sprintf("batch_codes[%d]", i)
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		code, err := s.tr.Resolve(ctx, raw)
		if err != nil {
			if k := platform.KindOf(err); k == platform.KindNotFound || k == platform.KindInvalid {
				v.Add(f, "unknown", "追溯码“"+raw+"”无效或不存在", "no batch has the code "+raw)
				continue
			}
			return err
		}
		var holder int64
		var product string
		err = s.db.QueryRow(ctx, `SELECT tc.operator_id, p.name FROM trace_codes tc JOIN products p ON p.code = tc.product_code WHERE tc.code = $1`, code).Scan(&holder, &product)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && holder != p.op.ID) {
			v.Add(f, "not_operator", "批次 "+raw+" 不属于被检查主体", "batch "+raw+" is not this operator's")
			continue
		}
		if err != nil {
			return err
		}
		if seen[code] {
			continue
		}
		seen[code] = true
		p.batches = append(p.batches, InspectedBatch{Code: code, ProductName: product})
		if raw != code {
			p.scanned[code] = raw
		}
	}
	return nil
}

// RecordInspection records an inspection, signs it with the platform key,
// stores its photos (JPEG/PNG by content, ≤ 10 MB each, content-addressed)
// and, when it carries out a draw task, marks the task done — all in one
// transaction: nothing is written when anything is refused.
func (s *Service) RecordInspection(ctx context.Context, actor *auth.Actor, in InspectionInput, photos ...PhotoUpload) (Inspection, error) {
	p, err := s.prepareInspection(ctx, actor, in)
	if err != nil {
		return Inspection{}, err
	}
	blobs, err := s.storePhotos(photos)
	if err != nil {
		return Inspection{}, err
	}
	agency := s.agencyName(ctx, actor.UserID)
	var id int64
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		var err error
		id, err = s.recordInspectionTx(ctx, tx, actor, p, agency, blobs)
		return err
	})
	if err != nil {
		return Inspection{}, err
	}
	return s.inspection(ctx, id)
}

type storedPhoto struct {
	platform.Blob
	filename string
}

// storePhotos checks and stores photos before the transaction that names them.
func (s *Service) storePhotos(photos []PhotoUpload) ([]storedPhoto, error) {
	if len(photos) > MaxPhotos {
		return nil, platform.Invalid(platform.FieldError{Field: "photos", Code: "too_many",
			ZH: fmt.Sprintf("每次检查最多 %d 张照片", MaxPhotos), EN: fmt.Sprintf("at most %d photos per inspection", MaxPhotos)})
	}
	var out []storedPhoto
	for _, ph := range photos {
		b, err := s.blobs.Put(ph.Body, photoLimits)
		if err != nil {
			return nil, err
		}
		out = append(out, storedPhoto{Blob: b, filename: platform.CleanFilename(ph.Filename)})
	}
	return out, nil
}

// recordInspectionTx writes an inspection inside tx: number, signature,
// batches, photos, the draw task, the credit rule and the event.
func (s *Service) recordInspectionTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, p inspectionPlan, agency string, photos []storedPhoto) (int64, error) {
	in, o := p.in, p.op
	year := p.today[:4]
	n, err := tx.NextSerial(ctx, "inspection:"+o.CountyCode+":"+year)
	if err != nil {
		return 0, err
	}
	number := fmt.Sprintf("XC-%s-%s-%05d", o.CountyCode, year, n)
	now := tx.Now()
	codes := make([]string, len(p.batches))
	for i, b := range p.batches {
		codes[i] = b.Code
	}
	checklist := in.Checklist
	if checklist == nil {
		checklist = []CheckResult{}
	}
	signed, err := json.Marshal(signedInspection{Number: number, OperatorCode: o.Code, OperatorName: o.Name, Kind: in.Kind, Result: in.Result,
		RectifyDue: p.due, Checklist: checklist, Batches: codes, Notes: in.Notes, Lat: in.Lat, Lng: in.Lng,
		Inspector: actor.Username, InspectorID: actor.UserID, Name: actor.Name, Date: p.today, At: now.UTC().Format(time.RFC3339)})
	if err != nil {
		return 0, err
	}
	sig, err := s.signer.Sign(signed)
	if err != nil {
		return 0, err
	}
	list, _ := json.Marshal(checklist)
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO inspections (number, operator_id, region_code, kind, checklist, result, rectify_days, rectify_due, notes,
		lat, lng, accuracy_m, task_id, inspector_id, inspector_login, inspector_name, agency, on_date, at, signed_text, signature)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING id`,
		number, o.ID, o.RegionCode, in.Kind, string(list), in.Result, nullDays(in.RectifyDays), platform.NullString(p.due), in.Notes,
		in.Lat, in.Lng, in.AccuracyM, platform.NullInt(in.TaskID), platform.NullInt(actor.UserID), actor.Username, actor.Name, agency,
		p.today, now, string(signed), base64.StdEncoding.EncodeToString(sig)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert inspection: %w", err)
	}
	for _, b := range p.batches {
		if _, err := tx.Exec(ctx, `INSERT INTO inspection_batches (inspection_id, code, scanned) VALUES ($1, $2, $3)`, id, b.Code, p.scanned[b.Code]); err != nil {
			return 0, err
		}
	}
	if err := s.addPhotosTx(ctx, tx, actor, id, number, photos); err != nil {
		return 0, err
	}
	if in.TaskID != 0 {
		if err := completeTaskTx(ctx, tx, actor, in.TaskID, o.ID, id, in.Result); err != nil {
			return 0, err
		}
	}
	if err := inspectionCreditTx(ctx, tx, o.ID, id, number, in.Result, p.today); err != nil {
		return 0, err
	}
	return id, tx.Emit(ctx, platform.Event{Action: "inspection.record", ResourceType: "inspection", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"number": number, "operator_code": o.Code, "kind": in.Kind, "result": in.Result, "batches": len(codes),
			"photos": len(photos), "rectify_due": p.due}})
}

func nullDays(n int) sql.NullInt64 { return sql.NullInt64{Int64: int64(n), Valid: n != 0} }

// addPhotosTx records stored photos of an inspection, each signed over the
// inspection's number and the photo's SHA-256.
func (s *Service) addPhotosTx(ctx context.Context, tx *platform.Tx, actor *auth.Actor, id int64, number string, photos []storedPhoto) error {
	for _, ph := range photos {
		sig, err := s.signer.Sign([]byte(number + "\n" + ph.SHA256))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO inspection_photos (inspection_id, sha256, size, content_type, filename, signature, uploaded_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, ph.SHA256, ph.Size, ph.ContentType, ph.filename,
			base64.StdEncoding.EncodeToString(sig), platform.NullInt(actor.UserID), tx.Now()); err != nil {
			return err
		}
	}
	return nil
}

// AddPhotos adds photos to an inspection the actor recorded (403 for
// anyone else; 404 out of reach); at most MaxPhotos in all.
func (s *Service) AddPhotos(ctx context.Context, actor *auth.Actor, id int64, photos ...PhotoUpload) (Inspection, error) {
	x, err := s.Inspection(ctx, actor, id)
	if err != nil {
		return Inspection{}, err
	}
	if err := auth.Authorize(actor, auth.ActInspect, auth.Resource{Region: x.RegionCode, OperatorID: x.OperatorID}); err != nil {
		return Inspection{}, err
	}
	if x.InspectorLogin != actor.Username {
		return Inspection{}, platform.Forbidden("只有检查人员本人可以补充照片", "only the inspector who recorded it may add photos")
	}
	if len(photos) == 0 {
		return Inspection{}, platform.Invalid(platform.FieldError{Field: "photos", Code: "required", ZH: "请选择照片", EN: "choose a photo"})
	}
	if len(x.Photos)+len(photos) > MaxPhotos {
		return Inspection{}, platform.Invalid(platform.FieldError{Field: "photos", Code: "too_many",
			ZH: fmt.Sprintf("每次检查最多 %d 张照片", MaxPhotos), EN: fmt.Sprintf("at most %d photos per inspection", MaxPhotos)})
	}
	blobs, err := s.storePhotos(photos)
	if err != nil {
		return Inspection{}, err
	}
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		// count again under the inspection's lock: two uploads at once must not pass the limit together
		var n int
		if err := tx.QueryRow(ctx, `SELECT id FROM inspections WHERE id = $1 FOR UPDATE`, id).Scan(&n); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM inspection_photos WHERE inspection_id = $1`, id).Scan(&n); err != nil {
			return err
		}
		if n+len(blobs) > MaxPhotos {
			return platform.Invalid(platform.FieldError{Field: "photos", Code: "too_many",
				ZH: fmt.Sprintf("每次检查最多 %d 张照片", MaxPhotos), EN: fmt.Sprintf("at most %d photos per inspection", MaxPhotos)})
		}
		if err := s.addPhotosTx(ctx, tx, actor, id, x.Number, blobs); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "inspection.photos", ResourceType: "inspection", ResourceID: fmt.Sprint(id),
			Data: map[string]any{"number": x.Number, "photos": len(blobs)}})
	})
	if err != nil {
		return Inspection{}, err
	}
	return s.inspection(ctx, id)
}
