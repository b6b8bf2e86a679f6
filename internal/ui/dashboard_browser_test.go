package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/demo"
)

// TestBrowserDashboard: the ministry analyst's home page is the nation's
// dashboard with their task tiles above it; it renders the map of China and a chart per figure from the JSON API, drills down nation →
// province → prefecture → county through the child-region table, and
// exports that table to Excel.
func TestBrowserDashboard(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	const pw = "demo-pass-2026"
	if _, err := demo.Load(context.Background(), a, pw); err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	ctx := apptest.Browser(t, 1280, 1000)
	apptest.BrowserLogin(t, ctx, base, "ministry-analyst", pw)
	apptest.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`#st-map[data-rendered="1"]`)))
	if tiles := apptest.Text(t, ctx, `#st-tasks`); !strings.Contains(tiles, "预警") {
		t.Errorf("the dashboard home page lacks the analyst's tiles: %q", tiles)
	}
	waitCharts(t, ctx)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#st-map canvas').length`)); err != nil || n == 0 {
		t.Fatalf("the map drew no canvas: %d %v", n, err)
	}
	if kpi := apptest.Text(t, ctx, `#kpi-batches strong`); kpi == "0" || kpi == "" {
		t.Errorf("batches KPI %q: the demo's batches are not counted", kpi)
	}
	apptest.Screenshot(t, ctx, "dashboard-nation")
	for _, step := range []struct{ link, name string }{{"山东省", "山东省"}, {"烟台市", "烟台市"}, {"栖霞市", "栖霞市"}} {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const a = [...document.querySelectorAll('#st-regions a.st-drill')]
			.find(x => x.textContent.includes('`+step.link+`')); if (!a) return false; a.click(); return true })()`))
		if err != nil || !ok {
			t.Fatalf("no drill-down link to %s: %v", step.link, err)
		}
		apptest.WaitText(t, ctx, `#st-region-name`, step.name)
		apptest.Do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#st-map[data-rendered="1"]`)))
		mapOf(t, ctx, step.name)
	}
	waitCharts(t, ctx)
	apptest.Screenshot(t, ctx, "dashboard-county")
	// the charts and exports are the county's, not the analyst's whole
	// jurisdiction: the batches chart sums to the county's KPI
	sum, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector('#fig-batches .st-chart').getAttribute('data-src'))
		.then(r => r.json()).then(a => a.region + ' ' + a.series.reduce((n, s) => n + s.values.reduce((m, v) => m + v.value, 0), 0))`, chromedp.EvalAwaitPromise))
	if kpi := apptest.Text(t, ctx, `#kpi-batches strong`); err != nil || sum != "370686 "+kpi {
		t.Errorf("栖霞's batches chart: %q %v, want region 370686 and the KPI's %s", sum, err, kpi)
	}
	if !strings.Contains(apptest.Location(t, ctx), "region=370686") {
		t.Errorf("drill-down ended at %s", apptest.Location(t, ctx))
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector('#export-regions').href).then(r => r.arrayBuffer().then(b =>
		r.status + ' ' + r.headers.get('content-type') + ' ' + new Uint8Array(b).slice(0, 2).join(',')))`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(got, "200 application/vnd.openxmlformats") || !strings.HasSuffix(got, "80,75") {
		t.Errorf("export: %q %v (want 200, xlsx, a zip)", got, err)
	}
}

// mapOf checks the map a dashboard drew: the province and the prefecture
// by county (a choropleth keyed by county code, the demo's 栖霞 counted),
// the county as bars.
func mapOf(t *testing.T, ctx context.Context, region string) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const o = echarts.getInstanceByDom(document.getElementById('st-map')).getOption(), s = o.series[0];
		if (s.type !== 'map') return s.type;
		const g = echarts.getMap(s.map), fs = (g.geoJSON || g.geoJson).features;
		const qixia = (s.data.find(d => d.name === '370686') || {}).value || 0;
		return s.map + ' ' + fs.length + ' ' + fs.every(f => /^\d{6}$/.test(String(f.id))) + ' ' + (qixia > 0) + ' ' + fs.every(f => String(f.id).startsWith(s.map.slice(9, 13).replace(/00$/, '')));
	})()`))
	if err != nil {
		t.Fatalf("%s: map: %v", region, err)
	}
	f := strings.Fields(got)
	switch region {
	case "山东省": // 137 counties of Shandong
		if len(f) != 5 || f[0] != "counties-370000" || f[1] < "100" || f[2] != "true" || f[3] != "true" {
			t.Errorf("Shandong's map: %q, want its counties keyed by code with 栖霞 counted", got)
		}
	case "烟台市":
		if len(f) != 5 || f[0] != "counties-370600" || f[2] != "true" || f[3] != "true" || f[4] != "true" {
			t.Errorf("Yantai's map: %q, want only Yantai's counties with 栖霞 counted", got)
		}
	default:
		if got != "bar" {
			t.Errorf("%s: map %q, want bars (a county is its own only child)", region, got)
		}
	}
}

// waitCharts waits until every figure's chart has drawn.
func waitCharts(t *testing.T, ctx context.Context) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.st-chart:not([data-rendered="1"])').length`))
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d charts not drawn: %v", n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
