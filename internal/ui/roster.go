package ui

import (
	"errors"
	"net/http"
	"strconv"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/operator"
	"agtrace/internal/platform"
)

// rosterPages: the township roster (census, Excel import, matches,
// reminders) and registration coverage.
type rosterPages struct{ *Server }

func (s rosterPages) routes() []route {
	return []route{
		{"GET /roster", loggedIn, s.roster},
		{"POST /roster", loggedIn, s.add},
		{"POST /roster/import", loggedIn, s.importFile},
		{"POST /roster/{id}/match", loggedIn, s.match},
		{"POST /roster/{id}/remind", loggedIn, s.remind},
		{"GET /coverage", loggedIn, s.coverage},
	}
}

type opRosterData struct {
	Entries  []operator.RosterEntry
	Kinds    []string
	Leading  []string
	Channels []string
	Report   *operator.ImportReport
	CanWrite bool
	Failed   bool
}

func (s rosterPages) rosterPage(r *http.Request) (*Page, *opRosterData, error) {
	a := httpx.Actor(r)
	q := r.URL.Query()
	list, err := s.svc.Operators.Roster(r.Context(), a, operator.RosterFilter{Region: q.Get("region"), Registered: q.Get("registered"), Key: q.Get("key") != "", Q: q.Get("q")})
	if err != nil {
		return nil, nil, err
	}
	d := &opRosterData{Entries: list, Kinds: operator.Kinds, Leading: operator.LeadingLevels, Channels: operator.ReminderChannels, CanWrite: a.Can(auth.ActRosterWrite)}
	return s.page(r, "op.roster", d), d, nil
}

func (s rosterPages) roster(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.rosterPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "op_roster", p)
}

func (s rosterPages) add(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	in := operator.RosterInput{RegionCode: f.Get("region_code"), Name: f.Get("name"), Kind: f.Get("kind"), CreditCode: f.Get("credit_code"),
		IDNumber: f.Get("id_number"), Village: f.Get("village"), Products: []string{f.Get("products")}, ContactName: f.Get("contact_name"),
		Phone: f.Get("phone"), LeadingEnterprise: f.Get("leading_enterprise"), DemoCooperative: f.Get("demo_cooperative") != "", Certified: f.Get("certified") != ""}
	if _, err := s.svc.Operators.AddRoster(r.Context(), httpx.Actor(r), in); err != nil {
		p, _, perr := s.rosterPage(r)
		if perr != nil {
			s.fail(w, r, perr)
			return
		}
		st := formError(p, r, err)
		s.render(w, r, "op_roster", p, st)
		return
	}
	redirect(w, r, "/roster", "op.roster.added")
}

func (s rosterPages) importFile(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(2 << 20); err != nil {
		s.refuse(w, r, errNoFile, s.roster, "/roster")
		return
	}
	defer r.MultipartForm.RemoveAll()
	file, _, err := r.FormFile("file")
	if err != nil {
		s.refuse(w, r, errNoFile, s.roster, "/roster")
		return
	}
	defer file.Close()
	rep, ierr := s.svc.Operators.ImportRoster(r.Context(), httpx.Actor(r), file, r.FormValue("import_valid") != "")
	p, d, err := s.rosterPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if ierr != nil {
		var pe *platform.Error
		if !errors.As(ierr, &pe) || (pe.Kind != platform.KindInvalid) || len(rep.Rows) == 0 {
			s.refuse(w, r, ierr, s.roster, "/roster")
			return
		}
		d.Failed = true
		p.Error = p.T("op.roster.nothing")
		status = http.StatusUnprocessableEntity
	} else {
		p.Flash = p.T("op.roster.imported")
	}
	d.Report = &rep
	s.render(w, r, "op_roster", p, status)
}

func (s rosterPages) match(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	opID, _ := strconv.ParseInt(r.PostForm.Get("operator_id"), 10, 64)
	if _, err := s.svc.Operators.ConfirmMatch(r.Context(), httpx.Actor(r), pathInt(r, "id"), opID); err != nil {
		s.refuse(w, r, err, s.roster, "/roster")
		return
	}
	redirect(w, r, "/roster", "op.roster.matched")
}

func (s rosterPages) remind(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if _, err := s.svc.Operators.Remind(r.Context(), httpx.Actor(r), pathInt(r, "id"), r.PostForm.Get("channel"), r.PostForm.Get("note")); err != nil {
		s.refuse(w, r, err, s.roster, "/roster?registered=no")
		return
	}
	redirect(w, r, "/roster?registered=no", "op.roster.reminded")
}

type opCoverageData struct {
	C      operator.Coverage
	Parent string
}

func (s rosterPages) coverage(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	c, err := s.svc.Operators.Coverage(r.Context(), a, r.URL.Query().Get("region"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := opCoverageData{C: c}
	if c.Region != a.Region && c.Region != "000000" {
		if reg, err := s.svc.Regions.Get(r.Context(), c.Region); err == nil && reg.ParentCode != "" && auth.Within(reg.ParentCode, a.Region) {
			d.Parent = reg.ParentCode
		}
	}
	s.render(w, r, "op_coverage", s.page(r, "op.coverage", d))
}
