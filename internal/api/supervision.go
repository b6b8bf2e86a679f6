package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
)

// supervisionRoutes registers inspections, draws, cases, credit and the
// monitoring settings (annex art. 15–17).
func (s *Server) supervisionRoutes() {
	s.inspectionRoutes()
	s.drawRoutes()
	s.caseRoutes()
	s.monitorRoutes()
	s.supervisionExports()
}

func (s *Server) inspectionRoutes() {
	sv := s.svc.Supervision
	route(s, Route{Method: "POST", Path: "/api/v1/inspections", Summary: "Record a site or enforcement inspection of an operator in your jurisdiction (404 outside it); signed SM2 by the platform",
		Tag: "supervision", Status: http.StatusCreated},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in supervision.InspectionInput) (supervision.Inspection, error) {
			return sv.RecordInspection(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/inspections", Summary: "Inspections in your jurisdiction, newest first", Tag: "supervision",
		Query: []Param{{Name: "region"}, {Name: "result", Description: "pass | rectify | violation"}, {Name: "kind", Description: "site | enforcement"},
			{Name: "inspector", Description: "username"}, {Name: "batch", Description: "inspections that looked at this trace code"}, {Name: "limit"}, {Name: "offset"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[supervision.Inspection], error) {
			q := r.URL.Query()
			limit, offset, err := pageArgs(r)
			if err != nil {
				return Items[supervision.Inspection]{}, err
			}
			return itemsOf(sv.Inspections(ctx, a, supervision.InspectionFilter{Region: q.Get("region"), Result: q.Get("result"), Kind: q.Get("kind"),
				Inspector: q.Get("inspector"), BatchCode: q.Get("batch"), Limit: limit, Offset: offset}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/inspections/{id}", Summary: "One inspection with its batches, photos, signed text and signature", Tag: "supervision"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (supervision.Inspection, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return supervision.Inspection{}, err
			}
			return sv.Inspection(ctx, a, id)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/inspections/{id}/photos", Summary: "Add photos to your inspection (multipart, field file, repeatable): JPEG or PNG by content (415 otherwise), ≤ 10 MB each (413)",
		Tag: "supervision", Status: http.StatusCreated, Form: []Param{{Name: "file", Description: "a JPEG or PNG photo; repeat the field for several"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ Multipart) (supervision.Inspection, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return supervision.Inspection{}, err
			}
			photos, done, err := multipartPhotos(r, "file")
			if err != nil {
				return supervision.Inspection{}, err
			}
			defer done()
			return sv.AddPhotos(ctx, a, id, photos...)
		})
	raw(s, Route{Method: "GET", Path: "/api/v1/inspections/{id}/photos/{photo}", Summary: "A photo's content", Tag: "supervision", Produces: "image/jpeg"},
		func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			pid, err := pathID(r, "photo")
			if err != nil {
				return err
			}
			return ServePhoto(w, r, sv, id, pid)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/operators/{id}/inspections", Summary: "An operator's inspections (officials with jurisdiction, and the operator)", Tag: "supervision"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[supervision.Inspection], error) {
			id, err := pathID(r, "id")
			if err != nil {
				return Items[supervision.Inspection]{}, err
			}
			if _, err := s.svc.Operators.Get(ctx, a, id); err != nil {
				return Items[supervision.Inspection]{}, err
			}
			return itemsOf(sv.Inspections(ctx, a, supervision.InspectionFilter{OperatorID: id}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/operators/{id}/checklist", Summary: "The inspection checklist for this operator (by kind, trade and products)", Tag: "supervision"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[supervision.CheckItem], error) {
			id, err := pathID(r, "id")
			if err != nil {
				return Items[supervision.CheckItem]{}, err
			}
			o, err := s.svc.Operators.Get(ctx, a, id)
			if err != nil {
				return Items[supervision.CheckItem]{}, err
			}
			return items(sv.Checklist(ctx, o)), nil
		})
	route(s, Route{Method: "GET", Path: "/api/v1/operators/{id}/credit", Summary: "An operator's credit record: level and entries (the operator and officials with jurisdiction)", Tag: "supervision"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (supervision.Credit, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return supervision.Credit{}, err
			}
			return sv.Credit(ctx, a, id)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/credit/rules", Summary: "The credit rules: what moves an operator between levels, for how long", Tag: "supervision", Public: true},
		func(context.Context, *auth.Actor, *http.Request, NoBody) (Items[supervision.CreditRule], error) {
			return items(supervision.CreditRules), nil
		})
}

// ServePhoto writes an inspection photo the actor may read.
func ServePhoto(w http.ResponseWriter, r *http.Request, sv *supervision.Service, id, photoID int64) error {
	p, f, err := sv.OpenPhoto(r.Context(), httpx.Actor(r), id, photoID)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", p.ContentType)
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = io.Copy(w, f)
	return err
}

// multipartPhotos reads every part named field of a multipart upload.
func multipartPhotos(r *http.Request, field string) ([]supervision.PhotoUpload, func(), error) {
	if err := r.ParseMultipartForm(2 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, func() {}, platform.TooLarge("照片不能超过 10 MB，一次最多 5 张", "photos must be at most 10 MB each, 5 at a time")
		}
		return nil, func() {}, platform.BadRequest("请以 multipart/form-data 上传，文件字段名为 "+field, "upload as multipart/form-data in field \""+field+"\"")
	}
	var files []multipart.File
	done := func() {
		for _, f := range files {
			f.Close()
		}
		_ = r.MultipartForm.RemoveAll()
	}
	var out []supervision.PhotoUpload
	for _, h := range r.MultipartForm.File[field] {
		f, err := h.Open()
		if err != nil {
			done()
			return nil, func() {}, platform.BadRequest("读取上传文件失败", "cannot read the uploaded file")
		}
		files = append(files, f)
		out = append(out, supervision.PhotoUpload{Filename: h.Filename, Body: f})
	}
	return out, done, nil
}

func (s *Server) drawRoutes() {
	sv := s.svc.Supervision
	route(s, Route{Method: "POST", Path: "/api/v1/draws", Summary: "Run a random draw (双随机): operators by a documented, seeded algorithm, inspectors per task; the same seed and inputs give the same selections",
		Tag: "supervision", Status: http.StatusCreated},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in supervision.DrawInput) (supervision.Draw, error) {
			return sv.CreateDraw(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/draws", Summary: "Draws in your jurisdiction, newest first", Tag: "supervision",
		Query: []Param{{Name: "region"}, {Name: "status", Description: "open | closed"}, {Name: "limit"}, {Name: "offset"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[supervision.Draw], error) {
			limit, offset, err := pageArgs(r)
			if err != nil {
				return Items[supervision.Draw]{}, err
			}
			q := r.URL.Query()
			return itemsOf(sv.Draws(ctx, a, supervision.DrawFilterList{Region: q.Get("region"), Status: q.Get("status"), Limit: limit, Offset: offset}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/draws/{id}", Summary: "A draw: seed, algorithm, population (codes and SHA-256), selections and tasks", Tag: "supervision"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (supervision.Draw, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return supervision.Draw{}, err
			}
			return sv.Draw(ctx, a, id)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/tasks", Summary: "Inspection tasks from draws in your jurisdiction (mine=true: those you are assigned to)", Tag: "supervision",
		Query: []Param{{Name: "status", Description: "pending (default) | done | all"}, {Name: "mine", Description: "true: only your tasks"}, {Name: "region"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[supervision.Task], error) {
			q := r.URL.Query()
			return itemsOf(sv.Tasks(ctx, a, supervision.TaskFilter{Mine: q.Get("mine") == "true", Status: q.Get("status"), Region: q.Get("region")}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/public/draws", Summary: "Closed draws, published (一公开): what was checked and the outcome", Tag: "public", Public: true, CORS: true,
		Query: []Param{{Name: "region"}, {Name: "limit", Description: "1–100 (default 20)"}}},
		func(ctx context.Context, _ *auth.Actor, r *http.Request, _ NoBody) (Items[supervision.PublicDraw], error) {
			limit, err := queryInt(r, "limit")
			if err != nil {
				return Items[supervision.PublicDraw]{}, err
			}
			return itemsOf(sv.PublicDraws(ctx, r.URL.Query().Get("region"), limit))
		})
}

func (s *Server) caseRoutes() {
	sv := s.svc.Supervision
	route(s, Route{Method: "POST", Path: "/api/v1/cases", Summary: "File an enforcement case (立案) from an inspection, sample, complaint, monitoring finding or by hand",
		Tag: "supervision", Status: http.StatusCreated},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in supervision.CaseInput) (supervision.Case, error) {
			return sv.FileCase(ctx, a, in)
		})
	route(s, Route{Method: "GET", Path: "/api/v1/cases", Summary: "Cases in your jurisdiction: overdue and soonest due first", Tag: "supervision",
		Query: []Param{{Name: "region"}, {Name: "status", Description: "open | " + strings.Join(supervision.CaseStatuses, " | ")},
			{Name: "overdue", Description: "true: only cases past their open step's deadline"}, {Name: "violation"}, {Name: "operator_id"}, {Name: "limit"}, {Name: "offset"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[supervision.Case], error) {
			q := r.URL.Query()
			limit, offset, err := pageArgs(r)
			if err != nil {
				return Items[supervision.Case]{}, err
			}
			opID, err := queryInt(r, "operator_id")
			if err != nil {
				return Items[supervision.Case]{}, err
			}
			return itemsOf(sv.Cases(ctx, a, supervision.CaseFilter{Region: q.Get("region"), Status: q.Get("status"), Overdue: q.Get("overdue") == "true",
				Violation: q.Get("violation"), OperatorID: int64(opID), Limit: limit, Offset: offset}))
		})
	route(s, Route{Method: "GET", Path: "/api/v1/cases/{id}", Summary: "A case with its operators, evidence, steps and deadline", Tag: "supervision"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (supervision.Case, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return supervision.Case{}, err
			}
			return sv.Case(ctx, a, id)
		})
	route(s, Route{Method: "POST", Path: "/api/v1/cases/{id}/steps", Summary: "Take a case's next step: (a draft: filed, or closed to decline it) investigated → decision → follow_up → closed (422 out of order); deadlines in working days",
		Tag: "supervision"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in supervision.StepInput) (supervision.Case, error) {
			id, err := pathID(r, "id")
			if err != nil {
				return supervision.Case{}, err
			}
			return sv.TakeStep(ctx, a, id, in)
		})
	raw(s, Route{Method: "GET", Path: "/api/v1/cases/{id}/documents/{doc}", Summary: "A case document as PDF: filing (立案审批表), rectify (责令整改通知书), penalty (行政处罚决定书)",
		Tag: "supervision", Produces: "application/pdf"},
		func(w http.ResponseWriter, r *http.Request) error {
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			b, name, err := sv.CaseDocumentPDF(r.Context(), httpx.Actor(r), id, strings.TrimSuffix(r.PathValue("doc"), ".pdf"))
			if err != nil {
				return err
			}
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", name))
			_, err = w.Write(b)
			return err
		})
}

func (s *Server) monitorRoutes() {
	sv := s.svc.Supervision
	route(s, Route{Method: "GET", Path: "/api/v1/monitoring/settings", Summary: "The online-monitoring rules and their thresholds as they apply in a region", Tag: "supervision",
		Query: []Param{{Name: "region", Description: "default: your jurisdiction"}}},
		func(ctx context.Context, a *auth.Actor, r *http.Request, _ NoBody) (Items[supervision.Setting], error) {
			return itemsOf(sv.Settings(ctx, a, r.URL.Query().Get("region")))
		})
	route(s, Route{Method: "POST", Path: "/api/v1/monitoring/settings", Summary: "Set a rule's threshold in a region (000000 = national default)", Tag: "supervision"},
		func(ctx context.Context, a *auth.Actor, r *http.Request, in supervision.SettingInput) (supervision.Setting, error) {
			return sv.SetThreshold(ctx, a, in)
		})
}

// supervisionExports registers the CSV exports of inspections, cases and
// draw tasks (the lists' filters; streamed page by page).
func (s *Server) supervisionExports() {
	sv := s.svc.Supervision
	raw(s, Route{Method: "GET", Path: "/api/v1/inspections/export.csv", Summary: "The inspections list (same filters) as CSV, streamed", Tag: "supervision", Produces: csvType,
		Query: []Param{{Name: "region"}, {Name: "result"}, {Name: "kind"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q, a := r.URL.Query(), httpx.Actor(r)
			return streamCSV(w, r, "inspections.csv", []string{"编号 number", "日期 date", "类型 kind", "结论 result", "整改期限 rectify_due", "主体码 operator_code",
				"主体 operator", "地区 region_code", "检查人员 inspector", "批次 batches", "照片 photos", "不符合项 failed_items", "检查情况 notes"},
				func(ctx context.Context, offset, limit int) ([][]string, int, error) {
					list, err := sv.Inspections(ctx, a, supervision.InspectionFilter{Region: q.Get("region"), Result: q.Get("result"), Kind: q.Get("kind"),
						Limit: limit, Offset: offset})
					out := make([][]string, len(list))
					for i, x := range list {
						var failed []string
						for _, c := range x.Checklist {
							if !c.OK {
								failed = append(failed, supervision.ItemName(c.Item, "zh")+"："+c.Note)
							}
						}
						out[i] = []string{x.Number, x.Date, x.Kind, x.Result, x.RectifyDue, x.OperatorCode, x.OperatorName, x.RegionCode, x.InspectorName,
							strconv.Itoa(len(x.Batches)), strconv.Itoa(len(x.Photos)), strings.Join(failed, "；"), x.Notes}
					}
					return out, len(list), err
				})
		})
	raw(s, Route{Method: "GET", Path: "/api/v1/cases/export.csv", Summary: "The cases list (same filters) as CSV, streamed", Tag: "supervision", Produces: csvType,
		Query: []Param{{Name: "region"}, {Name: "status"}, {Name: "overdue"}}},
		func(w http.ResponseWriter, r *http.Request) error {
			q, a := r.URL.Query(), httpx.Actor(r)
			return streamCSV(w, r, "cases.csv", []string{"编号 number", "立案日期 filed_on", "来源 source", "违法类型 violation", "主体码 operator_codes", "主体 operators",
				"状态 status", "期限 due_on", "超期 overdue", "决定 decision", "罚款 penalty_yuan", "法律依据 legal_basis", "违法事实 summary"},
				func(ctx context.Context, offset, limit int) ([][]string, int, error) {
					list, err := sv.Cases(ctx, a, supervision.CaseFilter{Region: q.Get("region"), Status: q.Get("status"), Overdue: q.Get("overdue") == "true",
						Limit: limit, Offset: offset})
					out := make([][]string, len(list))
					for i, c := range list {
						var codes, names []string
						for _, o := range c.Operators {
							codes, names = append(codes, o.Code), append(names, o.Name)
						}
						penalty := ""
						if c.PenaltyAmount > 0 {
							penalty = strconv.FormatFloat(c.PenaltyAmount, 'f', 2, 64)
						}
						out[i] = []string{c.Number, c.FiledOn, c.Source, c.Violation, strings.Join(codes, " "), strings.Join(names, "、"), c.Status, c.DueOn,
							strconv.FormatBool(c.Overdue), c.Decision, penalty, c.LegalBasis, c.Summary}
					}
					return out, len(list), err
				})
		})
}
