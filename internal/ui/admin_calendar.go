package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"agtrace/internal/auth"
	"agtrace/internal/httpx"
	"agtrace/internal/platform"
	"agtrace/internal/region"
)

// adminCalendarPages: the working-day calendar.
type adminCalendarPages struct{ *Server }

func (s adminCalendarPages) routes() []route {
	return []route{
		{"GET /admin/calendar", loggedIn, s.calendar},
		{"POST /admin/calendar/day", loggedIn, s.setDay},
	}
}

type calendarData struct {
	Year     int
	Complete bool
	Days     []region.Day
	Years    []int
	From     string
	N        string
	Result   string
	Fallback bool
}

func (s adminCalendarPages) calendar(w http.ResponseWriter, r *http.Request) {
	if err := auth.Authorize(httpx.Actor(r), auth.ActCalendarEdit, auth.Resource{}); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	year, err := strconv.Atoi(q.Get("year"))
	if err != nil {
		year = time.Now().In(platform.ChinaTZ).Year()
	}
	days, complete, err := s.svc.Calendar.Year(r.Context(), year)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	years, _ := s.svc.Calendar.Years(r.Context())
	d := calendarData{Year: year, Complete: complete, Days: days, Years: years, From: q.Get("from"), N: q.Get("days")}
	p := s.page(r, "admin.calendar", &d)
	if d.From != "" {
		from, err1 := time.Parse(time.DateOnly, d.From)
		n, err2 := strconv.Atoi(d.N)
		if err1 == nil && err2 == nil {
			res, ok, err := s.svc.Calendar.AddWorkdays(r.Context(), from, n)
			if err == nil {
				d.Result, d.Fallback = res.Format(time.DateOnly), !ok
			} else {
				p.Error = err.Error()
			}
		}
	}
	s.render(w, r, "admin_calendar", p)
}

func (s adminCalendarPages) setDay(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	date := f.Get("date")
	year := date
	if len(date) >= 4 {
		year = date[:4]
	}
	var err error
	if f.Get("mark_year") != "" {
		y, _ := strconv.Atoi(f.Get("year"))
		days, _, yerr := s.svc.Calendar.Year(r.Context(), y)
		if yerr != nil {
			s.fail(w, r, yerr)
			return
		}
		var in region.YearInput
		for _, d := range days {
			if d.Kind == "holiday" {
				in.Holidays = append(in.Holidays, d)
			} else {
				in.Workdays = append(in.Workdays, d)
			}
		}
		err = s.svc.Calendar.SetYear(r.Context(), httpx.Actor(r), y, in)
		year = f.Get("year")
	} else {
		err = s.svc.Calendar.SetDay(r.Context(), httpx.Actor(r), date, f.Get("kind"), strings.TrimSpace(f.Get("name")))
	}
	if err != nil {
		s.refuse(w, r, err, s.calendar, "/admin/calendar?year="+url.QueryEscape(year))
		return
	}
	redirect(w, r, "/admin/calendar?year="+url.QueryEscape(year), "common.saved")
}
