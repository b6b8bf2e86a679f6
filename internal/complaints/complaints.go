// Package complaints is the public's channel (举报, notice §4(5), annex art.
// 19): anyone reports a problem with a product or a label, with photos and
// an optional contact, and follows it by ticket; the officials of the
// operator's jurisdiction (or the region the reporter chose) assign, reply,
// close, or file an enforcement case from it (docs/public.md).
package complaints

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"agtrace/internal/codes"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
	"agtrace/internal/region"
	"agtrace/internal/secure"
	"agtrace/internal/trace"
)

// Categories, statuses and steps.
const (
	CategoryQuality     = "quality"     // the food itself: spoiled, residues, illness
	CategoryCounterfeit = "counterfeit" // a forged or copied trace code
	CategoryFalseInfo   = "false_info"  // the page says something the product is not
	CategoryOther       = "other"

	StatusReceived = "received"
	StatusAssigned = "assigned"
	StatusReplied  = "replied"
	StatusClosed   = "closed"

	StepAssign = "assign"
	StepReply  = "reply"
	StepClose  = "close"

	MaxPhotos      = 5
	MaxPhotoSize   = 10 << 20
	MaxDescription = 2000
)

// The lists, in display order.
var (
	Categories = []string{CategoryQuality, CategoryCounterfeit, CategoryFalseInfo, CategoryOther}
	Statuses   = []string{StatusReceived, StatusAssigned, StatusReplied, StatusClosed}
	Steps      = []string{StepAssign, StepReply, StepClose}
)

// Service files and handles complaints.
type Service struct {
	db      *platform.DB
	clock   platform.Clock
	tr      *trace.Service
	ops     *operator.Service
	regions *region.Service
	cipher  secure.Cipher
	blobs   platform.BlobStore
}

// NewService returns the complaints service; photos go to docsDir.
func NewService(db *platform.DB, clock platform.Clock, tr *trace.Service, ops *operator.Service, regions *region.Service, cipher secure.Cipher, docsDir string) *Service {
	return &Service{db: db, clock: clock, tr: tr, ops: ops, regions: regions, cipher: cipher, blobs: platform.BlobStore{Dir: docsDir}}
}

// Input is a report from the public.
type Input struct {
	Category    string `json:"category" validate:"required" doc:"quality | counterfeit | false_info | other"`
	Description string `json:"description" validate:"required" doc:"what happened (≤ 2000 characters)"`
	Code        string `json:"code,omitempty" doc:"the trace code (any code type or alias), if any; an unknown well-formed code is kept as a suspected counterfeit"`
	Region      string `json:"region,omitempty" doc:"the county (6 digits) where it happened; required without a code that resolves"`
	Contact     string `json:"contact,omitempty" doc:"phone or e-mail to be called back (optional; encrypted, shown masked)"`
}

// Photo is an uploaded photo before it is stored.
type Photo struct {
	Filename string
	Body     io.Reader
}

// Ticket is what the reporter sees when following a report: no personal
// data, no operator, no official's name.
type Ticket struct {
	Ticket    string    `json:"ticket"`
	Category  string    `json:"category"`
	Status    string    `json:"status" doc:"received | assigned | replied | closed"`
	Reply     string    `json:"reply,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Complaint is what officials see.
type Complaint struct {
	ID           int64     `json:"id"`
	Ticket       string    `json:"ticket"`
	Category     string    `json:"category"`
	Description  string    `json:"description"`
	Code         string    `json:"code,omitempty"`
	TypedCode    string    `json:"typed_code,omitempty" doc:"a code that did not resolve (suspected counterfeit)"`
	OperatorID   int64     `json:"operator_id,omitempty"`
	OperatorCode string    `json:"operator_code,omitempty"`
	OperatorName string    `json:"operator_name,omitempty"`
	RegionCode   string    `json:"region_code"`
	Contact      string    `json:"contact,omitempty" doc:"masked"`
	Status       string    `json:"status"`
	AssigneeName string    `json:"assignee_name,omitempty"`
	Reply        string    `json:"reply,omitempty"`
	CaseID       int64     `json:"case_id,omitempty"`
	Photos       []string  `json:"photos" doc:"sha256 of each photo"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Next         []string  `json:"next" doc:"the steps that may come next"`
}

var (
	errNotFound      = platform.NotFound("举报不存在，或不在您的管辖范围内", "complaint not found or outside your jurisdiction")
	errTicketUnknown = platform.NotFound("没有这个举报编号", "no such ticket")
	photoLimits      = platform.BlobLimits{Types: []string{platform.TypeJPEG, platform.TypePNG}, MaxBytes: MaxPhotoSize,
		TooLarge:    platform.TooLarge("照片不能超过 10 MB", "a photo must be at most 10 MB"),
		Unsupported: platform.Unsupported("照片须为 JPEG 或 PNG", "photos must be JPEG or PNG"),
		Empty:       platform.Invalid(platform.FieldError{Field: "photos", Code: "empty", ZH: "照片是空文件", EN: "a photo is empty"})}
)

// plan is a validated report ready for its transaction.
type plan struct {
	in        Input
	code      string
	typedCode string
	op        *operator.Operator
	region    string
	contact   string // encrypted
}

// prepare validates a report and routes it: the code's operator's region,
// else the county chosen.
func (s *Service) prepare(ctx context.Context, in Input) (plan, error) {
	in.Description, in.Code, in.Region, in.Contact = strings.TrimSpace(in.Description), strings.TrimSpace(in.Code), strings.TrimSpace(in.Region), strings.TrimSpace(in.Contact)
	p := plan{in: in}
	var v platform.Validator
	if v.Require("category", in.Category) {
		v.OneOf("category", in.Category, Categories...)
	}
	if v.Require("description", in.Description) {
		v.Check(utf8.RuneCountInString(in.Description) <= MaxDescription, "description", "too_long",
			fmt.Sprintf("描述不能超过 %d 字", MaxDescription), fmt.Sprintf("at most %d characters", MaxDescription))
	}
	v.MaxLen("contact", in.Contact, 100)
	v.MaxLen("code", in.Code, 100)
	if in.Code != "" {
		code, err := s.tr.Resolve(ctx, in.Code)
		switch {
		case err == nil:
			holder, err := s.holderOf(ctx, code)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				p.typedCode = code // well formed, never issued: a suspected counterfeit
			case err != nil:
				return plan{}, err
			default:
				p.code, p.op = code, &holder
			}
		case platform.KindOf(err) == platform.KindNotFound:
			p.typedCode = in.Code // well formed but unknown: a suspected counterfeit, kept as typed
		case platform.KindOf(err) == platform.KindInvalid || platform.KindOf(err) == platform.KindBadRequest:
			v.Add("code", "invalid", "追溯码无效，请核对（可不填）", "not a valid trace code; check it (or leave it empty)")
		default:
			return plan{}, err
		}
	}
	switch {
	case p.op != nil:
		p.region = p.op.RegionCode
	case in.Region == "":
		v.Add("region", "required", "请选择发生地所在的县（区）", "choose the county where it happened")
	case !codes.ValidCounty(in.Region):
		v.Add("region", "format", "地区代码应为 6 位县级代码", "region must be a 6-digit county code")
	default:
		if _, err := s.regions.Get(ctx, in.Region); err != nil {
			v.Add("region", "unknown", "没有这个县（区）", "no such county")
		}
		p.region = in.Region
	}
	if err := v.Err(); err != nil {
		return plan{}, err
	}
	if in.Contact != "" {
		enc, err := secure.EncryptString(s.cipher, in.Contact, "complaint.contact")
		if err != nil {
			return plan{}, err
		}
		p.contact = enc
	}
	return p, nil
}

// holderOf is the operator holding a code.
func (s *Service) holderOf(ctx context.Context, code string) (operator.Operator, error) {
	var id int64
	if err := s.db.QueryRow(ctx, `SELECT operator_id FROM trace_codes WHERE code = $1`, code).Scan(&id); err != nil {
		return operator.Operator{}, err
	}
	return s.ops.ByID(ctx, id)
}

// File records a report from the public and returns its ticket. Photos are
// checked by content and size and stored before the transaction that names
// them; a refused photo stores nothing of the report.
func (s *Service) File(ctx context.Context, in Input, photos []Photo) (Ticket, error) {
	p, err := s.prepare(ctx, in)
	if err != nil {
		return Ticket{}, err
	}
	if len(photos) > MaxPhotos {
		return Ticket{}, platform.Invalid(platform.FieldError{Field: "photos", Code: "too_many", ZH: fmt.Sprintf("最多 %d 张照片", MaxPhotos), EN: fmt.Sprintf("at most %d photos", MaxPhotos)})
	}
	var blobs []platform.Blob
	for _, ph := range photos {
		b, err := s.blobs.Put(ph.Body, photoLimits)
		if err != nil {
			return Ticket{}, err
		}
		blobs = append(blobs, b)
	}
	var ticket string
	err = s.db.InTxRetry(ctx, func(tx *platform.Tx) error {
		var err error
		ticket, err = s.fileTx(ctx, tx, p, blobs)
		return err
	})
	if err != nil {
		return Ticket{}, err
	}
	return s.Follow(ctx, ticket)
}

func (s *Service) fileTx(ctx context.Context, tx *platform.Tx, p plan, blobs []platform.Blob) (string, error) {
	now := tx.Now()
	ticket := "JB-" + platform.Today(now)[:4] + "-" + randomTicket()
	var opID any
	if p.op != nil {
		opID = p.op.ID
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO complaints (ticket, category, description, code, typed_code, operator_id, region_code, contact, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id`, ticket, p.in.Category, p.in.Description, p.code, p.typedCode, opID,
		p.region, p.contact, StatusReceived, now).Scan(&id); err != nil {
		return "", err
	}
	for _, b := range blobs {
		if _, err := tx.Exec(ctx, `INSERT INTO complaint_photos (complaint_id, sha256, content_type, size_bytes) VALUES ($1, $2, $3, $4)`,
			id, b.SHA256, b.ContentType, b.Size); err != nil {
			return "", err
		}
	}
	return ticket, tx.Emit(ctx, platform.Event{Action: "complaint.file", ResourceType: "complaint", ResourceID: fmt.Sprint(id),
		Data: map[string]any{"ticket": ticket, "category": p.in.Category, "code": p.code + p.typedCode, "region": p.region, "photos": len(blobs)}})
}

// ticketAlphabet leaves out characters people confuse (0/O, 1/I/L).
const ticketAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// randomTicket is 10 characters from a 31-letter alphabet (~49 bits): a
// ticket cannot be guessed to read someone else's report.
func randomTicket() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = ticketAlphabet[int(b[i])%len(ticketAlphabet)]
	}
	return string(b)
}

// Follow is the reporter's view of a ticket.
func (s *Service) Follow(ctx context.Context, ticket string) (Ticket, error) {
	ticket = strings.ToUpper(strings.TrimSpace(ticket))
	if len(ticket) > 40 {
		return Ticket{}, errTicketUnknown
	}
	var t Ticket
	err := s.db.QueryRow(ctx, `SELECT ticket, category, status, reply, created_at, updated_at FROM complaints WHERE ticket = $1`, ticket).Scan(
		&t.Ticket, &t.Category, &t.Status, &t.Reply, &t.CreatedAt, &t.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, errTicketUnknown
	}
	return t, err
}
