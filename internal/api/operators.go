package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

type registerResponse struct {
	Operator operator.Operator `json:"operator"`
	Token    string            `json:"token"`
}

type reasonRequest struct {
	Reason string `json:"reason" validate:"required"`
}

type issueRequest struct {
	TemplateID int64 `json:"template_id,omitempty" doc:"default: the newest template applying to the operator's region"`
}

type matchRequest struct {
	OperatorID int64 `json:"operator_id"`
}

type remindRequest struct {
	Channel string `json:"channel" doc:"visit | phone | sms | notice"`
	Note    string `json:"note"`
}

type queueResponse struct {
	Items []operator.QueueItem `json:"items"`
}

func listFilter(r *http.Request) operator.ListFilter {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	return operator.ListFilter{Region: q.Get("region"), Status: q.Get("status"), Q: q.Get("q"), Kind: q.Get("kind"), Category: q.Get("category"),
		Product: q.Get("product"), Flag: q.Get("flag"), Limit: limit, Offset: offset}
}

var listParams = []Param{{Name: "region", Description: "region subtree (default: your jurisdiction)"}, {Name: "status"}, {Name: "q", Description: "name, code or credit code contains"},
	{Name: "kind"}, {Name: "category"}, {Name: "product"}, {Name: "flag", Description: "leading | demo | certified | key"}, {Name: "limit"}, {Name: "offset"}}

// multipartFile reads the "file" part of a multipart upload (the service checks size and type).
func multipartFile(r *http.Request) (io.ReadCloser, string, error) {
	if err := r.ParseMultipartForm(2 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", operator.ErrDocumentTooLarge
		}
		return nil, "", platform.BadRequest("请以 multipart/form-data 上传，文件字段名为 file", "upload as multipart/form-data with the file in field \"file\"")
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return nil, "", platform.Invalid(platform.FieldError{Field: "file", Code: "required", ZH: "请选择文件", EN: "a file is required"})
	}
	return f, hdr.Filename, nil
}

// xlsx is the media type of Excel downloads.
const xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

func (s *Server) operatorRoutes() {
	s.registrationRoutes()
	s.reviewRoutes()
	s.changeRoutes()
	s.staffRoutes()
	s.rosterRoutes()
	s.agreementRoutes()
}

// registrationRoutes registers registration, search, temporary operators and documents.
func (s *Server) registrationRoutes() {
	ops := s.svc.Operators

	route(s, Route{Method: "POST", Path: "/api/v1/operators", Summary: "Self-registration: the main account and a draft operator", Tag: "operators", Public: true, Status: 201},
		func(ctx context.Context, _ *auth.Actor, _ *http.Request, in operator.Registration) (registerResponse, error) {
			o, u, err := ops.Register(ctx, in)
			if err != nil {
				return registerResponse{}, err
			}
			sess, err := s.svc.Auth.Login(ctx, u.Username, in.Password, platform.OriginFrom(ctx).Addr, "api")
			if err != nil {
				return registerResponse{}, err
			}
			return registerResponse{Operator: o, Token: sess.Token}, nil
		})
	route(s, Route{Method: "GET", Path: "/api/v1/operators", Summary: "Search operators in your jurisdiction (operators: their own)", Tag: "operators", Query: listParams},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[operator.Operator], error) {
			return itemsOf(ops.List(ctx, a, listFilter(r)))
		})
	raw(s, Route{Method: "GET", Path: "/api/v1/operators/export.xlsx", Summary: "Export the filtered operator list to Excel", Tag: "operators", Produces: xlsx, Query: listParams},
		func(w http.ResponseWriter, r *http.Request) error {
			var buf bytes.Buffer
			if err := ops.Export(r.Context(), httpx.Actor(r), listFilter(r), &buf); err != nil {
				return err
			}
			w.Header().Set("Content-Type", xlsx)
			w.Header().Set("Content-Disposition", `attachment; filename="operators.xlsx"`)
			_, err := buf.WriteTo(w)
			return err
		})
	route(s, Route{Method: "POST", Path: "/api/v1/operators/temporary", Summary: "Record an unregistered smallholder under a temporary code (category digit 4)", Tag: "operators", Status: 201},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in operator.TemporaryInput) (operator.Operator, error) {
			return ops.CreateTemporary(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/operators/{id}", Summary: "One operator (personal numbers masked)", Tag: "operators"},
		byID(ops.Get))
	route(s, Route{Method: "PATCH", Path: "/api/v1/operators/{id}", Summary: "Edit a draft or rejected registration (fields given replace the current ones)", Tag: "operators"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in Patch[operator.Details]) (operator.Operator, error) {
			id, d, err := editable(ctx, a, r, ops, in)
			if err != nil {
				return operator.Operator{}, err
			}
			return ops.Update(ctx, a, id, d)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/operators/{id}/documents", Summary: "Upload a proof document (multipart: file, kind = licence | id_photo | certificate | other); PDF, JPEG or PNG, ≤ 10 MB",
		Tag: "operators", Status: 201, Form: []Param{{Name: "file", Description: "PDF, JPEG or PNG, ≤ 10 MB", Required: true}, {Name: "kind", Description: "licence | id_photo | certificate | other"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ Multipart) (operator.Document, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return operator.Document{}, err
			}
			f, name, err := multipartFile(r)
			if err != nil {
				return operator.Document{}, err
			}
			defer f.Close()
			defer r.MultipartForm.RemoveAll()
			return ops.AddDocument(ctx, a, id, r.FormValue("kind"), name, f)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/operators/{id}/documents", Summary: "An operator's proof documents", Tag: "operators"},
		byID(listOf(ops.Documents)))
	raw(s, Route{Method: "GET", Path: "/api/v1/documents/{id}", Summary: "A document's content (the operator and officials with jurisdiction)", Tag: "operators", Produces: "application/octet-stream"},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			d, rc, err := ops.OpenDocument(r.Context(), httpx.Actor(r), id)
			if err != nil {
				return err
			}
			defer rc.Close()
			w.Header().Set("Content-Type", d.ContentType)
			w.Header().Set("Content-Length", strconv.FormatInt(d.Size, 10))
			w.Header().Set("Cache-Control", "private, no-store")
			w.Header().Set("Content-Disposition", `inline; filename="document-`+strconv.FormatInt(d.ID, 10)+extOf(d.ContentType)+`"`)
			_, err = io.Copy(w, rc)
			return err
		}))
}

// reviewRoutes registers submission, the review queue, decisions, the e-ID card and the public operator view.
func (s *Server) reviewRoutes() {
	ops := s.svc.Operators

	route(s, Route{Method: "POST", Path: "/api/v1/operators/{id}/submit", Summary: "Submit for review: pending, review_due = today + 5 working days", Tag: "operators"},
		byID(ops.Submit))
	route(s, Route{Method: "GET", Path: "/api/v1/reviews", Summary: "Reviewer's queue: pending registrations and changes in the jurisdiction, earliest due first", Tag: "operators"},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, _ NoBody) (queueResponse, error) {
			list, err := ops.Queue(ctx, a)
			return queueResponse{Items: list}, err
		})
	route(s, Route{Method: "POST", Path: "/api/v1/operators/{id}/approve", Summary: "Approve: issues the operator code (signed decision)", Tag: "operators"},
		byID(ops.Approve))
	for _, st := range []struct{ path, action, summary string }{
		{"reject", "", "Reject a pending registration with a reason"},
		{"suspend", "suspend", "Suspend an approved operator (reason required)"},
		{"cancel", "cancel", "Cancel an operator (reason required)"},
		{"reinstate", "reinstate", "Reinstate a suspended operator (reason required)"},
	} {
		route(s, Route{Method: "POST", Path: "/api/v1/operators/{id}/" + st.path, Summary: st.summary, Tag: "operators"},
			func(ctx context.Context, a *auth.Actor, r *http.Request, in reasonRequest) (operator.Operator, error) {
				id, err := pathID(r, "id")
				if err != nil {
					return operator.Operator{}, err
				}
				if st.action == "" {
					return ops.Reject(ctx, a, id, in.Reason)
				}
				return ops.SetStatus(ctx, a, id, st.action, in.Reason)
			})
	}
	route(s, Route{Method: "GET", Path: "/api/v1/operators/{id}/decisions", Summary: "Decision history (who, when, reason, SM2 signature)", Tag: "operators"},
		byID(listOf(ops.Decisions)))
	for _, f := range []string{"png", "svg"} {
		raw(s, Route{Method: "GET", Path: "/api/v1/operators/{id}/qr." + f, Summary: "QR code of the operator's /o/{code} URL (" + strings.ToUpper(f) + ")", Tag: "operators",
			Produces: map[string]string{"png": "image/png", "svg": "image/svg+xml"}[f]},
			withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
				b, ct, err := ops.QR(r.Context(), httpx.Actor(r), id, f)
				if err != nil {
					return err
				}
				w.Header().Set("Content-Type", ct)
				_, err = w.Write(b)
				return err
			}))
	}
	raw(s, Route{Method: "GET", Path: "/api/v1/operators/{id}/ecard.pdf", Summary: "Printable e-ID card (PDF)", Tag: "operators", Produces: "application/pdf"},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			var buf bytes.Buffer
			if err := ops.ECard(r.Context(), httpx.Actor(r), id, &buf); err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", `inline; filename="ecard-`+strconv.FormatInt(id, 10)+`.pdf"`)
			_, err := buf.WriteTo(w)
			return err
		}))
	route(s, Route{Method: "GET", Path: "/api/v1/public/operators/{code}", Summary: "Public view of an operator by code (no personal data); a wrong check digit is 422", Tag: "public", Public: true},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (operator.Public, error) {
			return ops.PublicByCode(ctx, r.PathValue("code"))
		})
}

// changeRoutes registers change requests after approval.
func (s *Server) changeRoutes() {
	ops := s.svc.Operators

	route(s, Route{Method: "POST", Path: "/api/v1/operators/{id}/changes", Summary: "Request a change of an approved operator's details (the approved details stay in force until approved)", Tag: "operators", Status: 201},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in Patch[operator.Details]) (operator.Change, error) {
			id, d, err := editable(ctx, a, r, ops, in)
			if err != nil {
				return operator.Change{}, err
			}
			return ops.RequestChange(ctx, a, id, d)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/operators/{id}/changes", Summary: "Change requests with their diff", Tag: "operators"},
		byID(listOf(ops.Changes)))
	route(s, Route{Method: "POST", Path: "/api/v1/changes/{id}/approve", Summary: "Approve a change request (details replaced)", Tag: "operators"},
		byID(func(ctx context.Context, a *auth.Actor, id int64) (operator.Operator, error) {
			return ops.DecideChange(ctx, a, id, true, "")
		}))
	route(s, Route{Method: "POST", Path: "/api/v1/changes/{id}/reject", Summary: "Reject a change request with a reason", Tag: "operators"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in reasonRequest) (operator.Operator, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return operator.Operator{}, err
			}
			return ops.DecideChange(ctx, a, id, false, in.Reason)
		})
}

// staffRoutes registers staff accounts.
func (s *Server) staffRoutes() {
	ops := s.svc.Operators

	route(s, Route{Method: "GET", Path: "/api/v1/operators/{id}/staff", Summary: "The operator's staff accounts (main account)", Tag: "operators"},
		byID(listOf(ops.Staff)))
	route(s, Route{Method: "POST", Path: "/api/v1/operators/{id}/staff", Summary: "Create a staff account with permissions record | sell | print", Tag: "operators", Status: 201},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in operator.StaffInput) (auth.User, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return auth.User{}, err
			}
			return ops.CreateStaff(ctx, a, id, in)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/operators/{id}/staff/{user}/status", Summary: "Enable or disable a staff account", Tag: "operators"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in statusRequest) (NoContent, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return NoContent{}, err
			}
			uid, err := pathID(r, "user")
			if err != nil {
				return NoContent{}, err
			}
			return NoContent{}, ops.SetStaffStatus(ctx, a, id, uid, in.Status)
		})
}

// rosterRoutes registers the supervision roster and coverage.
func (s *Server) rosterRoutes() {
	ops := s.svc.Operators

	route(s, Route{Method: "POST", Path: "/api/v1/roster", Summary: "Record a roster (监管名录) entry", Tag: "roster", Status: 201},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in operator.RosterInput) (operator.RosterEntry, error) {
			return ops.AddRoster(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/roster", Summary: "Roster entries with registration state and name suggestions", Tag: "roster",
		Query: []Param{{Name: "region"}, {Name: "registered", Description: "yes | no"}, {Name: "key", Description: "1: key operators only"}, {Name: "q"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[operator.RosterEntry], error) {
			q := r.URL.Query()
			return itemsOf(ops.Roster(ctx, a, operator.RosterFilter{Region: q.Get("region"), Registered: q.Get("registered"),
				Key: q.Get("key") == "1" || q.Get("key") == "true", Q: q.Get("q")}))
		})
	raw(s, Route{Method: "GET", Path: "/api/v1/roster/template.xlsx", Summary: "Excel template for roster imports", Tag: "roster", Produces: xlsx},
		func(w http.ResponseWriter, r *http.Request) error {
			var buf bytes.Buffer
			if err := operator.RosterTemplate(&buf); err != nil {
				return err
			}
			w.Header().Set("Content-Type", xlsx)
			w.Header().Set("Content-Disposition", `attachment; filename="roster-template.xlsx"`)
			_, err := buf.WriteTo(w)
			return err
		})
	route(s, Route{Method: "POST", Path: "/api/v1/roster/import", Summary: "Import an .xlsx roster (multipart: file, import_valid=true to import only the valid rows); a file with errors is refused with a row-by-row report",
		Tag: "roster", Form: []Param{{Name: "file", Description: ".xlsx (see GET /api/v1/roster/template.xlsx)", Required: true}, {Name: "import_valid", Description: "true: import only the valid rows"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ Multipart) (operator.ImportReport, error) {
			f, _, err := multipartFile(r)
			if err != nil {
				return operator.ImportReport{}, err
			}
			defer f.Close()
			defer r.MultipartForm.RemoveAll()
			iv := r.FormValue("import_valid")
			return ops.ImportRoster(ctx, a, f, iv == "true" || iv == "1" || iv == "on")
		})
	route(s, Route{Method: "POST", Path: "/api/v1/roster/{id}/match", Summary: "Confirm that a roster entry is a registered operator (after a name suggestion)", Tag: "roster"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in matchRequest) (operator.RosterEntry, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return operator.RosterEntry{}, err
			}
			return ops.ConfirmMatch(ctx, a, id, in.OperatorID)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/roster/{id}/remind", Summary: "Record a reminder to register", Tag: "roster", Status: 201},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in remindRequest) (operator.Reminder, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return operator.Reminder{}, err
			}
			return ops.Remind(ctx, a, id, in.Channel, in.Note)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/roster/{id}/reminders", Summary: "Reminders recorded for a roster entry", Tag: "roster"},
		byID(listOf(ops.Reminders)))
	route(s, Route{Method: "GET", Path: "/api/v1/coverage", Summary: "Registration coverage (registered ÷ rostered), overall and for key operators, with subdivisions", Tag: "roster",
		Query: []Param{{Name: "region", Description: "township, county, province or 000000 (default: your jurisdiction)"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (operator.Coverage, error) {
			return ops.Coverage(ctx, a, r.URL.Query().Get("region"))
		})
}

// agreementRoutes registers agreement templates and agreements.
func (s *Server) agreementRoutes() {
	ops := s.svc.Operators

	route(s, Route{Method: "GET", Path: "/api/v1/agreement-templates", Summary: "Agreement templates applying in your jurisdiction", Tag: "agreements"},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, _ NoBody) (Items[operator.Template], error) {
			return itemsOf(ops.Templates(ctx, a))
		})
	route(s, Route{Method: "POST", Path: "/api/v1/agreement-templates", Summary: "Publish a new template version", Tag: "agreements", Status: 201},
		func(ctx context.Context, a *auth.Actor, _ *http.Request, in operator.TemplateInput) (operator.Template, error) {
			return ops.CreateTemplate(ctx, a, in)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/operators/{id}/agreements", Summary: "Issue a traceability agreement to an approved operator", Tag: "agreements", Status: 201},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in Optional[issueRequest]) (operator.Agreement, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return operator.Agreement{}, err
			}
			return ops.IssueAgreement(ctx, a, id, in.Value.TemplateID)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/agreements", Summary: "Agreements (operators: their own; officials: in their jurisdiction)", Tag: "agreements",
		Query: []Param{{Name: "region"}, {Name: "status", Description: "issued | signed"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[operator.Agreement], error) {
			q := r.URL.Query()
			return itemsOf(ops.Agreements(ctx, a, operator.AgreementFilter{Region: q.Get("region"), Status: q.Get("status")}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/agreements/unsigned", Summary: "Approved operators that have not signed an agreement", Tag: "agreements",
		Query: []Param{{Name: "region"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[operator.UnsignedItem], error) {
			return itemsOf(ops.Unsigned(ctx, a, r.URL.Query().Get("region")))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/agreements/{id}", Summary: "One agreement", Tag: "agreements"},
		byID(ops.GetAgreement))
	route(s, Route{Method: "POST", Path: "/api/v1/agreements/{id}/sign", Summary: "Sign an agreement (operator): time + SM2 signature over the text's SM3 digest", Tag: "agreements"},
		byID(ops.SignAgreement))
	raw(s, Route{Method: "GET", Path: "/api/v1/agreements/{id}/pdf", Summary: "The agreement as PDF", Tag: "agreements", Produces: "application/pdf"},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			var buf bytes.Buffer
			if err := ops.AgreementPDF(r.Context(), httpx.Actor(r), id, &buf); err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", `inline; filename="agreement-`+strconv.FormatInt(id, 10)+`.pdf"`)
			_, err := buf.WriteTo(w)
			return err
		}))
}

// byID adapts a service method keyed by the {id} path value to a route
// without a request body.
func byID[Out any](fn func(ctx context.Context, a *auth.Actor, id int64) (Out, error)) func(context.Context, *auth.Actor, *http.Request, NoBody) (Out, error) {
	return func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Out, error) {
		id, err := pathID(r, "id")
		if err != nil {
			var zero Out
			return zero, err
		}
		return fn(ctx, a, id)
	}
}

// listOf wraps a list-returning service method's answer in Items.
func listOf[T any](fn func(ctx context.Context, a *auth.Actor, id int64) ([]T, error)) func(context.Context, *auth.Actor, int64) (Items[T], error) {
	return func(ctx context.Context, a *auth.Actor, id int64) (Items[T], error) { return itemsOf(fn(ctx, a, id)) }
}

// withID adapts a raw handler keyed by the {id} path value.
func withID(fn func(w http.ResponseWriter, r *http.Request, id int64) error) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		return fn(w, r, id)
	}
}

// editable loads the operator's current details and applies the body on them.
func editable(ctx context.Context, a *auth.Actor, r *http.Request, ops *operator.Service, in Patch[operator.Details]) (int64, operator.Details, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, operator.Details{}, err
	}
	d, err := ops.Editable(ctx, a, id)
	if err != nil {
		return 0, operator.Details{}, err
	}
	return id, d, in.Apply(&d)
}

func extOf(ct string) string {
	switch ct {
	case "application/pdf":
		return ".pdf"
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	}
	return ""
}
