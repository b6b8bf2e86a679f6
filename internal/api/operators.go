package api

import (
	"bytes"
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
	Reason string `json:"reason"`
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

func (s *Server) operatorRoutes() {
	ops := s.svc.Operators
	withID := func(fn func(w http.ResponseWriter, r *http.Request, id int64) error) HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			return fn(w, r, id)
		}
	}
	reply := func(w http.ResponseWriter, status int, v any, err error) error {
		if err != nil {
			return err
		}
		httpx.WriteJSON(w, status, v)
		return nil
	}

	s.handle(Route{Method: "POST", Path: "/api/v1/operators", Summary: "Self-registration: the main account and a draft operator", Tag: "operators", Public: true,
		Request: operator.Registration{}, Response: registerResponse{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in operator.Registration
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			o, u, err := ops.Register(r.Context(), in)
			if err != nil {
				return err
			}
			sess, err := s.svc.Auth.Login(r.Context(), u.Username, in.Password, platform.OriginFrom(r.Context()).Addr, "api")
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, http.StatusCreated, registerResponse{Operator: o, Token: sess.Token})
			return nil
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/operators", Summary: "Search operators in your jurisdiction (operators: their own)", Tag: "operators",
		Response: Items[operator.Operator]{}, Query: listParams},
		func(w http.ResponseWriter, r *http.Request) error {
			list, err := ops.List(r.Context(), httpx.Actor(r), listFilter(r))
			return reply(w, 200, items(list), err)
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/operators/export.xlsx", Summary: "Export the filtered operator list to Excel", Tag: "operators",
		Produces: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Query: listParams},
		func(w http.ResponseWriter, r *http.Request) error {
			var buf bytes.Buffer
			if err := ops.Export(r.Context(), httpx.Actor(r), listFilter(r), &buf); err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			w.Header().Set("Content-Disposition", `attachment; filename="operators.xlsx"`)
			_, err := buf.WriteTo(w)
			return err
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/operators/temporary", Summary: "Record an unregistered smallholder under a temporary code (category digit 4)", Tag: "operators",
		Request: operator.TemporaryInput{}, Response: operator.Operator{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in operator.TemporaryInput
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			o, err := ops.CreateTemporary(r.Context(), httpx.Actor(r), in)
			return reply(w, 201, o, err)
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/operators/{id}", Summary: "One operator (personal numbers masked)", Tag: "operators", Response: operator.Operator{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			o, err := ops.Get(r.Context(), httpx.Actor(r), id)
			return reply(w, 200, o, err)
		}))
	s.handle(Route{Method: "PATCH", Path: "/api/v1/operators/{id}", Summary: "Edit a draft or rejected registration (fields given replace the current ones)", Tag: "operators",
		Request: operator.Details{}, Response: operator.Operator{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			d, err := ops.Editable(r.Context(), httpx.Actor(r), id)
			if err != nil {
				return err
			}
			if err := httpx.DecodeJSON(w, r, &d); err != nil {
				return err
			}
			o, err := ops.Update(r.Context(), httpx.Actor(r), id, d)
			return reply(w, 200, o, err)
		}))
	s.handle(Route{Method: "POST", Path: "/api/v1/operators/{id}/documents", Summary: "Upload a proof document (multipart: file, kind = licence | id_photo | certificate | other); PDF, JPEG or PNG, ≤ 10 MB",
		Tag: "operators", Response: operator.Document{}, Status: 201},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			f, name, err := multipartFile(r)
			if err != nil {
				return err
			}
			defer f.Close()
			defer r.MultipartForm.RemoveAll()
			d, err := ops.AddDocument(r.Context(), httpx.Actor(r), id, r.FormValue("kind"), name, f)
			return reply(w, 201, d, err)
		}))
	s.handle(Route{Method: "GET", Path: "/api/v1/operators/{id}/documents", Summary: "An operator's proof documents", Tag: "operators", Response: Items[operator.Document]{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			list, err := ops.Documents(r.Context(), httpx.Actor(r), id)
			return reply(w, 200, items(list), err)
		}))
	s.handle(Route{Method: "GET", Path: "/api/v1/documents/{id}", Summary: "A document's content (the operator and officials with jurisdiction)", Tag: "operators", Produces: "application/octet-stream"},
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
	s.handle(Route{Method: "POST", Path: "/api/v1/operators/{id}/submit", Summary: "Submit for review: pending, review_due = today + 5 working days", Tag: "operators", Response: operator.Operator{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			o, err := ops.Submit(r.Context(), httpx.Actor(r), id)
			return reply(w, 200, o, err)
		}))
	s.handle(Route{Method: "GET", Path: "/api/v1/reviews", Summary: "Reviewer's queue: pending registrations and changes in the jurisdiction, earliest due first", Tag: "operators", Response: queueResponse{}},
		func(w http.ResponseWriter, r *http.Request) error {
			list, err := ops.Queue(r.Context(), httpx.Actor(r))
			return reply(w, 200, queueResponse{Items: list}, err)
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/operators/{id}/approve", Summary: "Approve: issues the operator code (signed decision)", Tag: "operators", Response: operator.Operator{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			o, err := ops.Approve(r.Context(), httpx.Actor(r), id)
			return reply(w, 200, o, err)
		}))
	for _, st := range []struct{ path, action, summary string }{
		{"reject", "", "Reject a pending registration with a reason"},
		{"suspend", "suspend", "Suspend an approved operator (reason required)"},
		{"cancel", "cancel", "Cancel an operator (reason required)"},
		{"reinstate", "reinstate", "Reinstate a suspended operator (reason required)"},
	} {
		s.handle(Route{Method: "POST", Path: "/api/v1/operators/{id}/" + st.path, Summary: st.summary, Tag: "operators", Request: reasonRequest{}, Response: operator.Operator{}},
			withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
				var in reasonRequest
				if err := httpx.DecodeJSON(w, r, &in); err != nil {
					return err
				}
				var o operator.Operator
				var err error
				if st.action == "" {
					o, err = ops.Reject(r.Context(), httpx.Actor(r), id, in.Reason)
				} else {
					o, err = ops.SetStatus(r.Context(), httpx.Actor(r), id, st.action, in.Reason)
				}
				return reply(w, 200, o, err)
			}))
	}
	s.handle(Route{Method: "GET", Path: "/api/v1/operators/{id}/decisions", Summary: "Decision history (who, when, reason, SM2 signature)", Tag: "operators", Response: Items[operator.Decision]{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			list, err := ops.Decisions(r.Context(), httpx.Actor(r), id)
			return reply(w, 200, items(list), err)
		}))
	for _, f := range []string{"png", "svg"} {
		s.handle(Route{Method: "GET", Path: "/api/v1/operators/{id}/qr." + f, Summary: "QR code of the operator's /o/{code} URL (" + strings.ToUpper(f) + ")", Tag: "operators",
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
	s.handle(Route{Method: "GET", Path: "/api/v1/operators/{id}/ecard.pdf", Summary: "Printable e-ID card (PDF)", Tag: "operators", Produces: "application/pdf"},
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
	s.handle(Route{Method: "GET", Path: "/api/v1/public/operators/{code}", Summary: "Public view of an operator by code (no personal data); a wrong check digit is 422", Tag: "public", Public: true,
		Response: operator.Public{}},
		func(w http.ResponseWriter, r *http.Request) error {
			p, err := ops.PublicByCode(r.Context(), r.PathValue("code"))
			return reply(w, 200, p, err)
		})

	// changes after approval
	s.handle(Route{Method: "POST", Path: "/api/v1/operators/{id}/changes", Summary: "Request a change of an approved operator's details (the approved details stay in force until approved)", Tag: "operators",
		Request: operator.Details{}, Response: operator.Change{}, Status: 201},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			d, err := ops.Editable(r.Context(), httpx.Actor(r), id)
			if err != nil {
				return err
			}
			if err := httpx.DecodeJSON(w, r, &d); err != nil {
				return err
			}
			c, err := ops.RequestChange(r.Context(), httpx.Actor(r), id, d)
			return reply(w, 201, c, err)
		}))
	s.handle(Route{Method: "GET", Path: "/api/v1/operators/{id}/changes", Summary: "Change requests with their diff", Tag: "operators", Response: Items[operator.Change]{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			list, err := ops.Changes(r.Context(), httpx.Actor(r), id)
			return reply(w, 200, items(list), err)
		}))
	s.handle(Route{Method: "POST", Path: "/api/v1/changes/{id}/approve", Summary: "Approve a change request (details replaced)", Tag: "operators", Response: operator.Operator{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			o, err := ops.DecideChange(r.Context(), httpx.Actor(r), id, true, "")
			return reply(w, 200, o, err)
		}))
	s.handle(Route{Method: "POST", Path: "/api/v1/changes/{id}/reject", Summary: "Reject a change request with a reason", Tag: "operators", Request: reasonRequest{}, Response: operator.Operator{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			var in reasonRequest
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			o, err := ops.DecideChange(r.Context(), httpx.Actor(r), id, false, in.Reason)
			return reply(w, 200, o, err)
		}))

	// staff accounts
	s.handle(Route{Method: "GET", Path: "/api/v1/operators/{id}/staff", Summary: "The operator's staff accounts (main account)", Tag: "operators", Response: Items[auth.User]{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			list, err := ops.Staff(r.Context(), httpx.Actor(r), id)
			return reply(w, 200, items(list), err)
		}))
	s.handle(Route{Method: "POST", Path: "/api/v1/operators/{id}/staff", Summary: "Create a staff account with permissions record | sell | print", Tag: "operators",
		Request: operator.StaffInput{}, Response: auth.User{}, Status: 201},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			var in operator.StaffInput
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			u, err := ops.CreateStaff(r.Context(), httpx.Actor(r), id, in)
			return reply(w, 201, u, err)
		}))
	s.handle(Route{Method: "POST", Path: "/api/v1/operators/{id}/staff/{user}/status", Summary: "Enable or disable a staff account", Tag: "operators", Request: statusRequest{}, Status: 204},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			uid, err := pathID(r, "user")
			if err != nil {
				return err
			}
			var in statusRequest
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			if err := ops.SetStaffStatus(r.Context(), httpx.Actor(r), id, uid, in.Status); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}))

	// rosters and coverage
	s.handle(Route{Method: "POST", Path: "/api/v1/roster", Summary: "Record a roster (监管名录) entry", Tag: "roster", Request: operator.RosterInput{}, Response: operator.RosterEntry{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in operator.RosterInput
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			e, err := ops.AddRoster(r.Context(), httpx.Actor(r), in)
			return reply(w, 201, e, err)
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/roster", Summary: "Roster entries with registration state and name suggestions", Tag: "roster", Response: Items[operator.RosterEntry]{},
		Query: []Param{{Name: "region"}, {Name: "registered", Description: "yes | no"}, {Name: "key", Description: "1: key operators only"}, {Name: "q"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			list, err := ops.Roster(r.Context(), httpx.Actor(r), operator.RosterFilter{Region: q.Get("region"), Registered: q.Get("registered"),
				Key: q.Get("key") == "1" || q.Get("key") == "true", Q: q.Get("q")})
			return reply(w, 200, items(list), err)
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/roster/template.xlsx", Summary: "Excel template for roster imports", Tag: "roster",
		Produces: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		func(w http.ResponseWriter, r *http.Request) error {
			var buf bytes.Buffer
			if err := operator.RosterTemplate(&buf); err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			w.Header().Set("Content-Disposition", `attachment; filename="roster-template.xlsx"`)
			_, err := buf.WriteTo(w)
			return err
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/roster/import", Summary: "Import an .xlsx roster (multipart: file, import_valid=true to import only the valid rows); a file with errors is refused with a row-by-row report",
		Tag: "roster", Response: operator.ImportReport{}},
		func(w http.ResponseWriter, r *http.Request) error {
			f, _, err := multipartFile(r)
			if err != nil {
				return err
			}
			defer f.Close()
			defer r.MultipartForm.RemoveAll()
			iv := r.FormValue("import_valid")
			rep, err := ops.ImportRoster(r.Context(), httpx.Actor(r), f, iv == "true" || iv == "1" || iv == "on")
			return reply(w, 200, rep, err)
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/roster/{id}/match", Summary: "Confirm that a roster entry is a registered operator (after a name suggestion)", Tag: "roster",
		Request: matchRequest{}, Response: operator.RosterEntry{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			var in matchRequest
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			e, err := ops.ConfirmMatch(r.Context(), httpx.Actor(r), id, in.OperatorID)
			return reply(w, 200, e, err)
		}))
	s.handle(Route{Method: "POST", Path: "/api/v1/roster/{id}/remind", Summary: "Record a reminder to register", Tag: "roster", Request: remindRequest{}, Response: operator.Reminder{}, Status: 201},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			var in remindRequest
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			rm, err := ops.Remind(r.Context(), httpx.Actor(r), id, in.Channel, in.Note)
			return reply(w, 201, rm, err)
		}))
	s.handle(Route{Method: "GET", Path: "/api/v1/roster/{id}/reminders", Summary: "Reminders recorded for a roster entry", Tag: "roster", Response: Items[operator.Reminder]{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			list, err := ops.Reminders(r.Context(), httpx.Actor(r), id)
			return reply(w, 200, items(list), err)
		}))
	s.handle(Route{Method: "GET", Path: "/api/v1/coverage", Summary: "Registration coverage (registered ÷ rostered), overall and for key operators, with subdivisions", Tag: "roster",
		Response: operator.Coverage{}, Query: []Param{{Name: "region", Description: "township, county, province or 000000 (default: your jurisdiction)"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			c, err := ops.Coverage(r.Context(), httpx.Actor(r), r.URL.Query().Get("region"))
			return reply(w, 200, c, err)
		})

	// agreements
	s.handle(Route{Method: "GET", Path: "/api/v1/agreement-templates", Summary: "Agreement templates applying in your jurisdiction", Tag: "agreements", Response: Items[operator.Template]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			list, err := ops.Templates(r.Context(), httpx.Actor(r))
			return reply(w, 200, items(list), err)
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/agreement-templates", Summary: "Publish a new template version", Tag: "agreements", Request: operator.TemplateInput{}, Response: operator.Template{}, Status: 201},
		func(w http.ResponseWriter, r *http.Request) error {
			var in operator.TemplateInput
			if err := httpx.DecodeJSON(w, r, &in); err != nil {
				return err
			}
			t, err := ops.CreateTemplate(r.Context(), httpx.Actor(r), in)
			return reply(w, 201, t, err)
		})
	s.handle(Route{Method: "POST", Path: "/api/v1/operators/{id}/agreements", Summary: "Issue a traceability agreement to an approved operator", Tag: "agreements",
		Request: issueRequest{}, Response: operator.Agreement{}, Status: 201},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			var in issueRequest
			if r.ContentLength != 0 {
				if err := httpx.DecodeJSON(w, r, &in); err != nil {
					return err
				}
			}
			a, err := ops.IssueAgreement(r.Context(), httpx.Actor(r), id, in.TemplateID)
			return reply(w, 201, a, err)
		}))
	s.handle(Route{Method: "GET", Path: "/api/v1/agreements", Summary: "Agreements (operators: their own; officials: in their jurisdiction)", Tag: "agreements",
		Response: Items[operator.Agreement]{}, Query: []Param{{Name: "region"}, {Name: "status", Description: "issued | signed"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			list, err := ops.Agreements(r.Context(), httpx.Actor(r), operator.AgreementFilter{Region: q.Get("region"), Status: q.Get("status")})
			return reply(w, 200, items(list), err)
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/agreements/unsigned", Summary: "Approved operators that have not signed an agreement", Tag: "agreements",
		Response: Items[operator.UnsignedItem]{}, Query: []Param{{Name: "region"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			list, err := ops.Unsigned(r.Context(), httpx.Actor(r), r.URL.Query().Get("region"))
			return reply(w, 200, items(list), err)
		})
	s.handle(Route{Method: "GET", Path: "/api/v1/agreements/{id}", Summary: "One agreement", Tag: "agreements", Response: operator.Agreement{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			a, err := ops.GetAgreement(r.Context(), httpx.Actor(r), id)
			return reply(w, 200, a, err)
		}))
	s.handle(Route{Method: "POST", Path: "/api/v1/agreements/{id}/sign", Summary: "Sign an agreement (operator): time + SM2 signature over the text's SM3 digest", Tag: "agreements", Response: operator.Agreement{}},
		withID(func(w http.ResponseWriter, r *http.Request, id int64) error {
			a, err := ops.SignAgreement(r.Context(), httpx.Actor(r), id)
			return reply(w, 200, a, err)
		}))
	s.handle(Route{Method: "GET", Path: "/api/v1/agreements/{id}/pdf", Summary: "The agreement as PDF", Tag: "agreements", Produces: "application/pdf"},
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
