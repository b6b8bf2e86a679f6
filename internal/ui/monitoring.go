package ui

import (
	"net/http"
	"strconv"
	"strings"

	"agtrace/internal/httpx"
	"agtrace/internal/platform"
	"agtrace/internal/supervision"
)

// monitorPages: the online-monitoring rules and their thresholds per region.
type monitorPages struct{ *Server }

func (s monitorPages) routes() []route {
	return []route{
		{"GET /admin/monitoring", loggedIn, s.show},
		{"POST /admin/monitoring", loggedIn, s.set},
	}
}

type svMonitorData struct {
	Region   string
	Settings []supervision.Setting
}

func (s monitorPages) show(w http.ResponseWriter, r *http.Request) {
	a := httpx.Actor(r)
	region := r.URL.Query().Get("region")
	if region == "" {
		region = a.Region
	}
	list, err := s.svc.Supervision.Settings(r.Context(), a, region)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "sv_monitoring", s.page(r, "sv.monitoring", svMonitorData{Region: region, Settings: list}))
}

func (s monitorPages) set(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	on := f.Get("enabled") == "on"
	in := supervision.SettingInput{Region: f.Get("region_code"), Rule: f.Get("rule"), Enabled: &on}
	v, err := strconv.ParseFloat(strings.TrimSpace(f.Get("threshold")), 64)
	if err != nil {
		s.refuse(w, r, platform.Invalid(platform.FieldError{Field: "threshold", Code: "number", ZH: "请填写数字", EN: "enter a number"}),
			s.show, "/admin/monitoring?region="+in.Region)
		return
	}
	in.Threshold = v
	if _, err := s.svc.Supervision.SetThreshold(r.Context(), httpx.Actor(r), in); err != nil {
		s.refuse(w, r, err, s.show, "/admin/monitoring?region="+in.Region)
		return
	}
	redirect(w, r, "/admin/monitoring?region="+in.Region, "sv.monitoring.saved")
}
