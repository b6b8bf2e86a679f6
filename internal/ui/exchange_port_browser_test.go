package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/codes"
	"agtrace/internal/exchange/port"
	"agtrace/internal/platform"
	"agtrace/internal/trace"
)

// portFiles records two operators and a batch in 栖霞 on a node and
// returns its operators and batches exports, the batches file with one
// more row naming an operator nobody registered.
func portFiles(t *testing.T, a *app.App) (ops, batches []byte) {
	t.Helper()
	ctx := context.Background()
	farm, u, _ := apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞苹果合作社", Kind: "cooperative", RegionCode: "370686"})
	apptest.ApprovedOperator(t, a, apptest.OperatorSpec{Name: "栖霞果品商贸", Category: "trader", RegionCode: "370686"})
	owner, err := a.Auth.GetUserByName(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Trace.CreateBatch(ctx, apptest.ActorOf(owner), trace.NewBatch{ProductCode: "apple", Quantity: 80, Unit: "kg",
		ProducedAt: platform.Today(time.Now()), Origin: "3号地"}); err != nil {
		t.Fatal(err)
	}
	adm := &auth.Actor{UserID: 0, Username: "system", Role: auth.RoleSystem, Region: "000000"}
	read := func(kind string) []byte {
		ex, err := a.Port.Export(ctx, adm, port.ExportQuery{Kind: kind, Region: "370686"})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := ex.WriteTo(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	ops, batches = read(port.KindOperators), read(port.KindBatches)
	var doc map[string]any
	if err := json.Unmarshal(batches, &doc); err != nil {
		t.Fatal(err)
	}
	rows := doc["rows"].([]any)
	bad := map[string]any{}
	for k, v := range rows[0].(map[string]any) {
		bad[k] = v
	}
	code, _ := codes.NewTraceCode(codes.Production, "370686", 900000001)
	nobody, _ := codes.NewOperatorCode(codes.Producer, "370686", 9999999)
	if farm.Code == nobody {
		t.Fatal("the made-up operator code is taken")
	}
	bad["trace_code"], bad["operator_code"] = code, nobody
	doc["rows"] = append(rows, bad)
	batches, _ = json.Marshal(doc)
	return ops, batches
}

// TestBrowserPortPages: on a phone-sized screen an administrator of an
// empty node uploads the operators file as a background job and watches
// its progress end on the job page (static/port.js), uploads the batches
// file and reads the refused row with its field in words, finds both jobs
// in the list, and downloads an export from the form.
func TestBrowserPortPages(t *testing.T) {
	ops, batches := portFiles(t, apptest.NewApp(t, "sqlite"))
	dir := t.TempDir()
	opsFile, batchFile := filepath.Join(dir, "operators.json"), filepath.Join(dir, "batches.json")
	if err := os.WriteFile(opsFile, ops, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(batchFile, batches, 0o644); err != nil {
		t.Fatal(err)
	}

	b := apptest.NewApp(t, "sqlite")
	b.Port.SyncRows = 1 // every file here runs as a background job
	const pw = "port-page-2026"
	if _, err := b.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: "xp-admin", Password: pw, Name: "交换管理员", Role: "admin", RegionCode: "000000"}); err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, b)
	ctx := apptest.Browser(t, 390, 844)
	apptest.BrowserLogin(t, ctx, base, "xp-admin", pw)
	apptest.Do(t, ctx, chromedp.Navigate(base+"/"), chromedp.Click(chromedp.CSS(`a[href="/admin/exchange/port"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#xp-import`)))
	upload := func(file, mode string) {
		t.Helper()
		apptest.Do(t, ctx,
			chromedp.SetUploadFiles(chromedp.CSS(`#xp-import input[type=file]`), []string{file}),
			chromedp.Click(chromedp.CSS(`#xp-import input[value=`+mode+`]`)),
			chromedp.Click(chromedp.CSS(`#xp-import button.primary`)))
	}
	upload(opsFile, "all_or_nothing")
	apptest.WaitText(t, ctx, `#xp-job-status`, "已完成")
	if got := apptest.Text(t, ctx, `#xp-job-accepted`); got != "2" {
		t.Fatalf("operators written: %q", got)
	}
	apptest.Screenshot(t, ctx, "port-job")

	apptest.Do(t, ctx, chromedp.Navigate(base+"/admin/exchange/port"), chromedp.WaitVisible(chromedp.CSS(`#xp-import`)))
	upload(batchFile, "valid_rows")
	apptest.WaitText(t, ctx, `#xp-job-status`, "已完成")
	if got := apptest.Text(t, ctx, `#xp-job-rejected`); got != "1" {
		t.Fatalf("refused rows: %q", got)
	}
	errs := apptest.WaitText(t, ctx, `#xp-errors`, "没有主体使用此编码")
	if !strings.Contains(errs, "主体身份码") || !strings.Contains(errs, "2") {
		t.Fatalf("the refused row does not name its row and field in words: %q", errs)
	}

	apptest.Do(t, ctx, chromedp.Navigate(base+"/admin/exchange/port"), chromedp.WaitVisible(chromedp.CSS(`#xp-jobs`)))
	if list := apptest.Text(t, ctx, `#xp-jobs`); strings.Count(list, "已完成") != 2 || !strings.Contains(list, "batches.json") {
		t.Fatalf("the job list: %q", list)
	}
	apptest.Screenshot(t, ctx, "port-page")
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch('/admin/exchange/port/export?kind=operators&region=370686&format=xlsx').then(r =>
		r.status + ' ' + r.headers.get('content-disposition'))`, chromedp.EvalAwaitPromise))
	if err != nil || got != `200 attachment; filename="agtrace-operators-370686.xlsx"` {
		t.Fatalf("export from the page: %q %v", got, err)
	}
	// a refused export comes back on the page, the field named
	apptest.Do(t, ctx, chromedp.Navigate(base+"/admin/exchange/port/export?kind=operators&from=2026-05-01&to=2026-04-01"),
		chromedp.WaitVisible(chromedp.CSS(`#xp-export`)))
	if msg := apptest.Text(t, ctx, `#xp-export`); !strings.Contains(msg, "结束日期不能早于开始日期") {
		t.Fatalf("refused export: %q", msg)
	}
}
