package operator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// DocumentKinds are the kinds of proof documents.
var DocumentKinds = []string{"licence", "id_photo", "certificate", "other"}

// Document is an uploaded proof document (its content is served separately).
type Document struct {
	ID          int64     `json:"id"`
	OperatorID  int64     `json:"operator_id"`
	Kind        string    `json:"kind" doc:"licence | id_photo | certificate | other"`
	Filename    string    `json:"filename"`
	SHA256      string    `json:"sha256"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	CreatedAt   time.Time `json:"created_at"`
}

var (
	errTooLarge    = platform.TooLarge("文件不能超过 10 MB", "a document must be at most 10 MB")
	errEmptyFile   = platform.Invalid(platform.FieldError{Field: "file", Code: "empty", ZH: "文件是空的（0 字节），请重新选择", EN: "the file is empty (0 bytes); choose it again"})
	errUnsupported = platform.Unsupported("只接受 PDF、JPEG 或 PNG 文件", "only PDF, JPEG or PNG files are accepted")
)

// ErrDocumentTooLarge is the 413 for an oversize document (transports that
// cut the body themselves return it too).
var ErrDocumentTooLarge = errTooLarge

// AddDocument stores a proof document for the operator (its own account):
// PDF, JPEG or PNG by content, at most 10 MB (413), other types 415. The
// file is stored content-addressed: <docsDir>/<sha256[0:2]>/<sha256>.
func (s *Service) AddDocument(ctx context.Context, actor *auth.Actor, operatorID int64, kind, filename string, r io.Reader) (Document, error) {
	o, err := s.readable(ctx, actor, operatorID, auth.ActOperatorEdit)
	if err != nil {
		return Document{}, err
	}
	if o.Status == StatusCancelled {
		return Document{}, platform.Conflict("主体已注销", "the operator is cancelled")
	}
	if kind == "" {
		kind = "other"
	}
	var v platform.Validator
	v.OneOf("kind", kind, DocumentKinds...)
	if err := v.Err(); err != nil {
		return Document{}, err
	}
	blob, err := platform.BlobStore{Dir: s.docsDir}.Put(r, documentLimits)
	if err != nil {
		return Document{}, err
	}
	sum, size, ctype := blob.SHA256, blob.Size, blob.ContentType
	filename = cleanFilename(filename)
	d := Document{OperatorID: operatorID, Kind: kind, Filename: filename, SHA256: sum, Size: size, ContentType: ctype}
	err = s.db.InTx(ctx, func(tx *platform.Tx) error {
		d.CreatedAt = tx.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO operator_documents (operator_id, kind, filename, sha256, size, content_type, uploaded_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, operatorID, kind, filename, sum, size, ctype, platform.NullInt(actor.UserID), d.CreatedAt).Scan(&d.ID); err != nil {
			return err
		}
		return tx.Emit(ctx, platform.Event{Action: "operator.document.add", ResourceType: "operator", ResourceID: fmt.Sprint(operatorID),
			Data: map[string]any{"document_id": d.ID, "kind": kind, "sha256": sum, "size": size, "content_type": ctype}})
	})
	return d, err
}

// documentLimits: PDF, JPEG or PNG by content, at most 10 MB.
var documentLimits = platform.BlobLimits{Types: []string{platform.TypePDF, platform.TypeJPEG, platform.TypePNG},
	MaxBytes: MaxDocumentSize, TooLarge: errTooLarge, Unsupported: errUnsupported, Empty: errEmptyFile}

func cleanFilename(name string) string { return platform.CleanFilename(name) }

// Documents lists an operator's documents (the operator and officials with jurisdiction).
func (s *Service) Documents(ctx context.Context, actor *auth.Actor, operatorID int64) ([]Document, error) {
	o, err := s.Get(ctx, actor, operatorID)
	if err != nil {
		return nil, err
	}
	if err := auth.Authorize(actor, auth.ActDocumentRead, o.resource()); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, operator_id, kind, filename, sha256, size, content_type, created_at
		FROM operator_documents WHERE operator_id = $1 ORDER BY id`, operatorID)
	return platform.Collect(rows, err, func(r *sql.Rows) (Document, error) {
		var d Document
		err := r.Scan(&d.ID, &d.OperatorID, &d.Kind, &d.Filename, &d.SHA256, &d.Size, &d.ContentType, &d.CreatedAt)
		return d, err
	})
}

// OpenDocument returns a document and its content, for the operator and
// officials with jurisdiction only (404 for everyone else).
func (s *Service) OpenDocument(ctx context.Context, actor *auth.Actor, docID int64) (Document, io.ReadCloser, error) {
	if actor == nil {
		return Document{}, nil, auth.Authorize(nil, auth.ActDocumentRead, auth.Resource{})
	}
	var d Document
	err := s.db.QueryRow(ctx, `SELECT id, operator_id, kind, filename, sha256, size, content_type, created_at
		FROM operator_documents WHERE id = $1`, docID).Scan(&d.ID, &d.OperatorID, &d.Kind, &d.Filename, &d.SHA256, &d.Size, &d.ContentType, &d.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, nil, platform.NotFound("文件不存在", "document not found")
	}
	if err != nil {
		return Document{}, nil, err
	}
	o, err := s.ByID(ctx, d.OperatorID)
	if err != nil {
		return Document{}, nil, err
	}
	if err := auth.Authorize(actor, auth.ActDocumentRead, o.resource()); err != nil {
		return Document{}, nil, err
	}
	f, err := platform.BlobStore{Dir: s.docsDir}.Open(d.SHA256)
	if err != nil {
		return Document{}, nil, fmt.Errorf("document %d content: %w", d.ID, err)
	}
	return d, f, nil
}
