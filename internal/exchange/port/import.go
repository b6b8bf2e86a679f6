package port

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// ImportInput is a file to import.
type ImportInput struct {
	Kind     string // optional: the file's kind must be this one
	Mode     string // all_or_nothing (default) | valid_rows
	FileName string
	Body     []byte
}

var errTooLarge = platform.TooLarge(fmt.Sprintf("文件过大（最大 %d MB）", MaxFileBytes>>20), fmt.Sprintf("file too large (at most %d MB)", MaxFileBytes>>20))

// Import reads an exchange file and imports its rows through the services,
// as the actor (exchange.import; each row also needs the region of the
// operator it writes for in the actor's jurisdiction). A file of at most
// SyncRows rows is done when Import returns; a larger one is returned
// running and goes on in the background (poll Job).
func (s *Service) Import(ctx context.Context, actor *auth.Actor, in ImportInput) (Job, error) {
	if err := auth.Authorize(actor, auth.ActExchangeImport, auth.Resource{}); err != nil {
		return Job{}, err
	}
	mode := strings.TrimSpace(in.Mode)
	if mode == "" {
		mode = ModeAllOrNothing
	}
	var v platform.Validator
	v.OneOf("mode", mode, Modes...)
	if err := v.Err(); err != nil {
		return Job{}, err
	}
	if len(in.Body) > MaxFileBytes {
		return Job{}, errTooLarge
	}
	p, err := parseFile(bytes.TrimSpace(in.Body), strings.TrimSpace(in.Kind))
	if err != nil {
		return Job{}, err
	}
	sum := sha256.Sum256(in.Body)
	j := &Job{Kind: p.kind, Mode: mode, Format: p.format, FileName: strings.TrimSpace(in.FileName), SHA256: hex.EncodeToString(sum[:]), Rows: len(p.rows)}
	if len([]rune(j.FileName)) > 200 {
		j.FileName = string([]rune(j.FileName)[:200])
	}
	if err := s.createJob(ctx, actor, j); err != nil {
		return Job{}, err
	}
	r := &runner{s: s, actor: actor, job: j, prog: s.track(j.ID), ops: map[string]operator.Operator{}}
	r.items = decodeRows(p.kind, p.rows)
	if len(p.rows) <= s.SyncRows {
		defer s.untrack(j.ID)
		r.run(ctx)
		return *j, nil
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(s.stop, cancel)
	out := *j
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		defer stop()
		defer s.untrack(j.ID)
		defer func() {
			if p := recover(); p != nil {
				slog.Error("port: import job panicked", "job", j.ID, "panic", p)
				s.failJob(bg, j, "导入中断（内部错误）", "the import stopped (internal error)")
			}
		}()
		r.run(bg)
	}()
	return out, nil
}

// item is one row of the file on its way through the import.
type item struct {
	n    int
	row  any                    // *OperatorRow, *BatchRow or *EventRow
	prep operator.ImportRequest // operators: the validated, sealed record
	err  error                  // the last refusal
	done bool
}

// decodeRows decodes every row into its kind's type; a row that does not
// decode keeps its error (and is refused without being tried).
func decodeRows(kind string, rows []rawRow) []*item {
	out := make([]*item, len(rows))
	for i, raw := range rows {
		it := &item{n: raw.n, row: newRow(kind)}
		var bad struct {
			Error string `json:"__error"`
		}
		if json.Unmarshal(raw.obj, &bad) == nil && bad.Error != "" {
			it.err = platform.Invalid(platform.FieldError{Field: bad.Error, Code: "format", ZH: "单元格内容无法读取", EN: "cannot read this cell"})
		} else {
			dec := json.NewDecoder(bytes.NewReader(raw.obj))
			dec.DisallowUnknownFields()
			if err := dec.Decode(it.row); err != nil {
				it.err = decodeError(err)
			}
		}
		out[i] = it
	}
	return out
}

func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return platform.Invalid(platform.FieldError{Field: te.Field, Code: "type", ZH: "类型不对（应为 " + te.Type.String() + "）", EN: "wrong type (want " + te.Type.String() + ")"})
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return platform.Invalid(platform.FieldError{Field: f, Code: "unknown", ZH: "没有这个字段", EN: "no such field"})
	}
	return platform.Invalid(platform.FieldError{Field: "", Code: "format", ZH: "无法解析该行", EN: "cannot parse the row: " + msg})
}

// runner imports one file.
type runner struct {
	s     *Service
	actor *auth.Actor
	job   *Job
	prog  *progress
	items []*item
	ops   map[string]operator.Operator // operators by code, read once per file
}

// outcome is what a row did.
type outcome int

const (
	wrote outcome = iota + 1
	same
)

// errRefused rolls an all_or_nothing import back when a row was refused.
var errRefused = errors.New("port: rows refused")

// maxPasses bounds how often a row waiting for another row is tried.
const maxPasses = 8

func (r *runner) run(ctx context.Context) {
	j := r.job
	for _, it := range r.items {
		if it.err == nil && j.Kind == KindOperators {
			it.prep, it.err = r.s.ops.PrepareImport(ctx, operatorInput(*it.row.(*OperatorRow)))
		}
		if it.err != nil {
			it.done = true
			r.refuse(it, it.err)
			r.prog.processed.Add(1)
		}
	}
	var err error
	if j.Mode == ModeAllOrNothing {
		err = r.allOrNothing(ctx)
	} else {
		err = r.validRows(ctx)
	}
	switch {
	case errors.Is(err, errRefused):
		j.Accepted, j.Unchanged = 0, 0
		r.s.failJob(ctx, j, fmt.Sprintf("有 %d 行被拒绝，整份文件未写入（全部成功或全部不写）", j.Rejected),
			fmt.Sprintf("%d rows refused: nothing from the file was written (all or nothing)", j.Rejected))
	case err != nil:
		slog.Error("port: import failed", "job", j.ID, "err", err)
		if j.Mode == ModeAllOrNothing {
			j.Accepted, j.Unchanged = 0, 0
		}
		r.s.failJob(ctx, j, "导入中断，请稍后重新提交同一文件（已写入的行不会重复）", "the import stopped; send the same file again later (rows written are not written twice)")
	}
}

// allOrNothing imports the file in one transaction: every row is tried
// (each in a savepoint, so a refused row leaves nothing and the rows after
// it are still checked) and the transaction commits only when none was
// refused.
func (r *runner) allOrNothing(ctx context.Context) error {
	return r.s.trace.Import(ctx, func(im *trace.Importer) error {
		for pass := 1; ; pass++ {
			pending := r.pending()
			if len(pending) == 0 || !r.pass(im, pending, pass) {
				break
			}
		}
		r.refuseWaiting()
		if r.job.Rejected > 0 {
			return errRefused
		}
		return r.finish(im.Context(), im.Tx())
	})
}

// validRows imports the file in transactions of chunkRows rows; each
// commits the rows that passed and the job's progress together.
func (r *runner) validRows(ctx context.Context) error {
	for pass := 1; ; pass++ {
		pending := r.pending()
		if len(pending) == 0 {
			break
		}
		progressed := false
		for start := 0; start < len(pending); start += chunkRows {
			chunk := pending[start:min(start+chunkRows, len(pending))]
			err := r.s.trace.Import(ctx, func(im *trace.Importer) error {
				if r.pass(im, chunk, pass) {
					progressed = true
				}
				r.sync()
				return saveJob(im.Context(), im.Tx(), r.job)
			})
			if err != nil {
				return err
			}
		}
		if !progressed {
			break
		}
	}
	r.refuseWaiting()
	return r.s.db.InTx(ctx, func(tx *platform.Tx) error { return r.finish(ctx, tx) })
}

// pending lists the rows not yet written, unchanged or refused.
func (r *runner) pending() []*item {
	var out []*item
	for _, it := range r.items {
		if !it.done {
			out = append(out, it)
		}
	}
	return out
}

// pass tries rows once, each in its own savepoint; it reports whether any
// row went through. A row refused because a record it names is not there
// yet (a batch a later row creates) waits for the next pass.
func (r *runner) pass(im *trace.Importer, rows []*item, pass int) bool {
	progressed := false
	for _, it := range rows {
		if pass == 1 {
			r.prog.processed.Add(1)
		}
		var res outcome
		err := savepoint(im.Context(), im.Tx(), func() error {
			var err error
			res, err = r.apply(im, it)
			return err
		})
		switch {
		case err == nil:
			it.done, progressed = true, true
			if res == wrote {
				r.prog.accepted.Add(1)
			} else {
				r.prog.unchanged.Add(1)
			}
		case waiting(err) && pass < maxPasses:
			it.err = err
		default:
			it.done = true
			r.refuse(it, err)
		}
	}
	return progressed
}

// refuseWaiting refuses the rows still waiting, with their last reason.
func (r *runner) refuseWaiting() {
	for _, it := range r.pending() {
		it.done = true
		r.refuse(it, it.err)
	}
	r.sync()
}

// sync copies the live counts into the job.
func (r *runner) sync() {
	j := r.job
	j.Processed, j.Accepted, j.Unchanged, j.Rejected = int(r.prog.processed.Load()), int(r.prog.accepted.Load()), int(r.prog.unchanged.Load()), int(r.prog.rejected.Load())
}

// finish ends a job that ran to its end (inside tx): when it wrote
// anything, the import itself is an event (who pushed how many rows of
// what); a file that changed nothing leaves the outbox as it was.
func (r *runner) finish(ctx context.Context, tx *platform.Tx) error {
	r.sync()
	j := r.job
	j.Status = JobDone
	if err := saveJob(ctx, tx, j); err != nil {
		return err
	}
	if j.Accepted == 0 {
		return nil
	}
	return tx.Emit(ctx, platform.Event{Action: "exchange.import", ResourceType: "import_job", ResourceID: fmt.Sprint(j.ID), Data: map[string]any{
		"kind": j.Kind, "mode": j.Mode, "format": j.Format, "file_sha256": j.SHA256, "rows": j.Rows, "accepted": j.Accepted,
		"unchanged": j.Unchanged, "rejected": j.Rejected}})
}

// refuse records a row's refusal.
func (r *runner) refuse(it *item, err error) {
	r.prog.rejected.Add(1)
	j := r.job
	for _, e := range rowErrors(it, err) {
		if len(j.Errors) < maxStoredErrors {
			j.Errors = append(j.Errors, e)
		}
	}
}

// savepoint runs fn so that, when it fails, nothing it wrote stays in tx.
func savepoint(ctx context.Context, tx *platform.Tx, fn func() error) error {
	if _, err := tx.Exec(ctx, `SAVEPOINT port_row`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT port_row`); rerr != nil {
			return fmt.Errorf("%w (and rolling the row back: %v)", err, rerr)
		}
		_, _ = tx.Exec(ctx, `RELEASE SAVEPOINT port_row`)
		return err
	}
	_, err := tx.Exec(ctx, `RELEASE SAVEPOINT port_row`)
	return err
}

// waiting reports whether a refusal may be a record the file creates in a
// later row (an unknown code, a sale not confirmed yet).
func waiting(err error) bool {
	var pe *platform.Error
	if !errors.As(err, &pe) {
		return false
	}
	if pe.Kind == platform.KindNotFound {
		return true
	}
	for _, f := range pe.Fields {
		if f.Code == "unknown" || f.Code == "not_confirmed" {
			return true
		}
	}
	return false
}

// rowErrors turns a refusal into the row's errors, naming the row's own fields.
func rowErrors(it *item, err error) []RowError {
	mapField := fieldMapper(it.row)
	var pe *platform.Error
	if !errors.As(err, &pe) {
		slog.Error("port: import row failed", "row", it.n, "err", err)
		return []RowError{{Row: it.n, Code: "internal", Message: "internal error", MessageZH: "内部错误"}}
	}
	if len(pe.Fields) == 0 {
		f, _ := pe.Extra["field"].(string)
		return []RowError{{Row: it.n, Field: mapField(f), Code: kindCode(pe.Kind), Message: pe.EN, MessageZH: pe.ZH}}
	}
	out := make([]RowError, len(pe.Fields))
	for i, f := range pe.Fields {
		out[i] = RowError{Row: it.n, Field: mapField(f.Field), Code: f.Code, Message: f.EN, MessageZH: f.ZH}
	}
	return out
}

func kindCode(k platform.Kind) string {
	switch k {
	case platform.KindForbidden:
		return "forbidden"
	case platform.KindNotFound:
		return "not_found"
	case platform.KindConflict:
		return "conflict"
	case platform.KindInvalid:
		return "invalid"
	}
	return "refused"
}

func operatorInput(o OperatorRow) operator.Imported {
	return operator.Imported{Code: o.OperatorCode, Name: o.Name, Kind: o.Kind, Category: o.Category, CreditCode: o.CreditCode,
		IDNumber: o.IDNumber, IDNumberMasked: o.IDNumberMasked, LegalRep: o.LegalRep, ContactName: o.ContactName, Phone: o.Phone,
		PhoneMasked: o.PhoneMasked, RegionCode: o.RegionCode, Address: o.Address, Products: o.Products, LeadingEnterprise: o.LeadingEnterprise,
		DemoCooperative: o.DemoCooperative, Certifications: o.Certifications, Status: o.Status}
}
