package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"agtrace/internal/apptest"
	"agtrace/internal/auth"
)

// TestBrowserScanAndReport: at phone size, the scan page of a label opens
// in Chinese, switches to English (keeping the label's token), and its
// report link files a complaint whose ticket page shows; the county's
// supervisor then sees the complaint in the list and opens it.
func TestBrowserScanAndReport(t *testing.T) {
	a := apptest.NewApp(t, "sqlite")
	f := newFarm(t, a)
	lot := f.apples(t, a, 120)
	const pw = "report-pass-2026"
	if _, err := a.Auth.CreateUser(context.Background(), auth.System(), auth.NewUser{Username: "qixia-sup", Password: pw, Name: "栖霞监管", Role: "supervisor", RegionCode: "370686"}); err != nil {
		t.Fatal(err)
	}
	base := apptest.LiveServer(t, a)
	phone := apptest.Browser(t, 390, 844)
	apptest.Do(t, phone, chromedp.Navigate(base+"/q/"+lot.TraceCode+"?v="+a.Trace.Token(lot.TraceCode)), chromedp.WaitVisible(chromedp.CSS(`#product`)))
	if got := apptest.Text(t, phone, "#product"); got != "苹果" {
		t.Fatalf("product: %q", got)
	}
	if got := apptest.Text(t, phone, "main"); !strings.Contains(got, "120 千克") || !strings.Contains(got, "栖霞绿源苹果专业合作社") {
		t.Fatalf("the Chinese page: %q", got)
	}
	apptest.Screenshot(t, phone, "scan-page-phone-zh")
	apptest.Do(t, phone, chromedp.Click(chromedp.CSS(`#lang`)), chromedp.WaitVisible(chromedp.CSS(`#product`)))
	if got := apptest.Text(t, phone, "main"); !strings.Contains(got, "Batch quantity") || !strings.Contains(got, "120 ") {
		t.Fatalf("the English page (with the label's token kept): %q", got)
	}
	apptest.Screenshot(t, phone, "scan-page-phone-en")
	apptest.Do(t, phone,
		chromedp.Click(chromedp.CSS(`#report-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#report-form`)),
		chromedp.SetValue(chromedp.CSS(`#category`), "quality"),
		chromedp.SendKeys(chromedp.CSS(`#description`), "Apples smell of pesticide / 苹果有农药味"),
		chromedp.SendKeys(chromedp.CSS(`#contact`), "13912345678"),
		chromedp.Click(chromedp.CSS(`#report-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#ticket`)),
	)
	ticket := apptest.Text(t, phone, "#ticket")
	if !strings.HasPrefix(ticket, "JB-") || apptest.Text(t, phone, "#ticket-status") != "Received" {
		t.Fatalf("ticket page: %q / %q", ticket, apptest.Text(t, phone, "#ticket-status"))
	}
	apptest.Screenshot(t, phone, "report-ticket-phone")

	sup := apptest.Browser(t, 1280, 900)
	login(t, sup, base, "qixia-sup", pw)
	apptest.Do(t, sup, chromedp.Navigate(base+"/complaints"), chromedp.WaitVisible(chromedp.CSS(`#complaints`)))
	if got := apptest.Text(t, sup, "#complaints"); !strings.Contains(got, ticket) || !strings.Contains(got, "栖霞绿源苹果专业合作社") {
		t.Fatalf("the supervisor's list: %q", got)
	}
	apptest.Do(t, sup, chromedp.Click(chromedp.CSS(`#complaints td a`)), chromedp.WaitVisible(chromedp.CSS(`#complaint-facts`)))
	if got := apptest.Text(t, sup, "#complaint-facts"); !strings.Contains(got, "139****5678") || strings.Contains(got, "13912345678") {
		t.Fatalf("the contact is not masked: %q", got)
	}
}
