package ui_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"agtrace/internal/app"
	"agtrace/internal/apptest"
	"agtrace/internal/auth"
	"agtrace/internal/demo"
	"agtrace/internal/operator"
	"agtrace/internal/trace"
	"agtrace/internal/ui"
)

// TestEveryPageInWords walks every page reachable by links from the home
// page of one demo account per role, in Chinese and in English, and fails on
// any text a person would see that is a message key ("tr.status.pending"),
// a raw stored value ("cold", "in_stock", "kg/head", "record"), raw JSON, or
// Go's plain "404 page not found".
func TestEveryPageInWords(t *testing.T) {
	if testing.Short() {
		t.Skip("walks the demo dataset")
	}
	a := apptest.NewApp(t, "sqlite")
	const pw = "demo-pass-2026"
	l, err := demo.Load(context.Background(), a, pw)
	if err != nil {
		t.Fatal(err)
	}
	srv := apptest.Server(t, a)
	raw := rawValues(t, a)
	keys := keyPattern()

	// one account per role (the first the demo lists)
	seen := map[string]bool{}
	var users []demo.Account
	for _, acc := range l.Accounts {
		if !seen[acc.Role] && acc.Role != string(auth.RoleIntegration) {
			seen[acc.Role] = true
			users = append(users, acc)
		}
	}
	if len(users) < 8 {
		t.Fatalf("the demo has accounts for only %d roles", len(users))
	}
	// account names are data, not stored codes ("admin" is a role and a username)
	for _, acc := range l.Accounts {
		rawAllowed[acc.Username] = true
	}
	pages := 0
	for _, lang := range []string{"zh", "en"} {
		for _, acc := range users {
			c := walker(t, srv.URL, lang)
			if acc.Username != "" {
				c.login(acc.Username, pw)
			}
			for _, pg := range c.walk("/", 60) {
				pages++
				for _, problem := range wordProblems(lang, pg.text, keys, raw) {
					t.Errorf("%s %s %s: %s", lang, acc.Username, pg.path, problem)
				}
			}
		}
		// visitors, and a page that does not exist
		c := walker(t, srv.URL, lang)
		for _, pg := range c.walk("/", 10) {
			pages++
			for _, problem := range wordProblems(lang, pg.text, keys, raw) {
				t.Errorf("%s visitor %s: %s", lang, pg.path, problem)
			}
		}
		status, body := c.get("/no-such-page")
		if status != http.StatusNotFound || !strings.Contains(body, `<link rel="stylesheet"`) || strings.Contains(body, "404 page not found") {
			t.Errorf("%s: an unknown page answers %d with an unstyled page:\n%.300s", lang, status, body)
		}
	}
	t.Logf("%d pages walked", pages)
	if pages < 150 {
		t.Errorf("only %d pages walked; are the links still found?", pages)
	}
}

// readPage is one page the walk read: its path and the text a person sees.
type readPage struct{ path, text string }

type pageWalker struct {
	t    *testing.T
	base string
	http *http.Client
}

func walker(t *testing.T, base, lang string) *pageWalker {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base)
	jar.SetCookies(u, []*http.Cookie{{Name: "lang", Value: lang, Path: "/"}})
	return &pageWalker{t: t, base: base, http: &http.Client{Jar: jar}}
}

func (w *pageWalker) login(user, pw string) {
	w.t.Helper()
	resp, err := w.http.PostForm(w.base+"/login", url.Values{"username": {user}, "password": {pw}})
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/" {
		w.t.Fatalf("login %s ended at %s", user, resp.Request.URL)
	}
}

func (w *pageWalker) get(path string) (int, string) {
	w.t.Helper()
	resp, err := w.http.Get(w.base + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, string(b)
}

var (
	hrefRe  = regexp.MustCompile(`<a [^>]*href="([^"#]+)`)
	digitRe = regexp.MustCompile(`[0-9]+`)
)

// walk reads pages breadth-first from start, following same-site links to
// pages (not files, not the API, not logging out), at most two pages of one
// shape (/batches/123 and /batches/456 are one shape) and limit in all.
func (w *pageWalker) walk(start string, limit int) []readPage {
	var out []readPage
	queue, queued, shapes := []string{start}, map[string]bool{start: true}, map[string]int{}
	for len(queue) > 0 && len(out) < limit {
		p := queue[0]
		queue = queue[1:]
		status, body := w.get(p)
		if body == "" {
			continue
		}
		if status >= 500 {
			w.t.Errorf("%s answers %d", p, status)
		}
		out = append(out, readPage{path: p, text: visibleText(body)})
		for _, m := range hrefRe.FindAllStringSubmatch(body, -1) {
			link := html.UnescapeString(m[1])
			u, err := url.Parse(link)
			if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") || skipLink(u.Path) {
				continue
			}
			shape := digitRe.ReplaceAllString(u.Path, "#")
			if queued[link] || shapes[shape] >= 2 {
				continue
			}
			queued[link] = true
			shapes[shape]++
			queue = append(queue, link)
		}
	}
	return out
}

func skipLink(path string) bool {
	for _, p := range []string{"/api/", "/static/", "/lang/", "/logout", "/o/", "/q/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	for _, ext := range []string{".pdf", ".png", ".svg", ".xlsx", ".csv", ".json"} {
		if strings.HasSuffix(path, ext) {
			return true
		}
	}
	return false
}

var (
	hiddenRe = regexp.MustCompile(`(?is)<(script|style|code|textarea)[^>]*>.*?</(script|style|code|textarea)>`)
	attrRe   = regexp.MustCompile(`(?i)\s(?:placeholder|title|aria-label)="([^"]*)"`)
	tagRe    = regexp.MustCompile(`(?s)<[^>]*>`)
)

// visibleText is the text of a page a person reads: text nodes, and the
// placeholders, titles and labels of its controls (not scripts, not code
// samples, not form values).
func visibleText(body string) string {
	body = hiddenRe.ReplaceAllString(body, " ")
	var attrs []string
	for _, m := range attrRe.FindAllStringSubmatch(body, -1) {
		attrs = append(attrs, m[1])
	}
	text := tagRe.ReplaceAllString(body, "\n")
	return html.UnescapeString(text + "\n" + strings.Join(attrs, "\n"))
}

// keyPattern matches a message key of the catalogues' namespaces.
func keyPattern() *regexp.Regexp {
	ns := map[string]bool{}
	for k := range ui.Catalogue("zh") {
		ns[k[:strings.Index(k, ".")]] = true
	}
	var names []string
	for n := range ns {
		names = append(names, regexp.QuoteMeta(n))
	}
	sort.Strings(names)
	return regexp.MustCompile(`\b(?:` + strings.Join(names, "|") + `)\.[a-z_]+(?:\.[a-zA-Z0-9_]+)*\b`)
}

// rawValues are the stored values that must never be shown as they are:
// every enumeration the pages translate, the product fields' options, the
// unit codes and the staff permissions.
func rawValues(t *testing.T, a *app.App) map[string]bool {
	out := map[string]bool{}
	add := func(vs ...string) {
		for _, v := range vs {
			out[v] = true
		}
	}
	for _, r := range auth.Roles {
		add(string(r))
	}
	add(auth.AgencyKinds...)
	add(auth.StaffPerms...)
	add(operator.Kinds...)
	add(operator.Categories...)
	add(operator.Statuses...)
	add(operator.CertKinds...)
	add(operator.DocumentKinds...)
	add(operator.LeadingLevels...)
	add(operator.ReminderChannels...)
	add(trace.MarketKinds...)
	add(trace.InputKinds...)
	add(trace.Bases...)
	add(trace.AliasSchemes...)
	add(trace.FindingKinds...)
	add(trace.TransferStatuses...)
	for code := range trace.Units {
		add(code)
	}
	products, err := a.Trace.Products(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range products {
		for _, f := range p.Schema {
			for _, o := range f.Options {
				add(o.Value)
			}
		}
	}
	return out
}

// rawAllowed are short Latin words a Chinese page may show as they are.
var rawAllowed = map[string]bool{"API": true, "PDF": true, "PNG": true, "SVG": true, "SM2": true, "QR": true, "GS1": true, "HTTP": true}

// rawJSON is a JSON object's start as it would show on a page: {"key":
var rawJSON = regexp.MustCompile(`\{\s*"[A-Za-z_]+"\s*:`)

var latinRe = regexp.MustCompile(`[A-Za-z][A-Za-z0-9_-]*(?:/[A-Za-z]+)?`)

// wordProblems lists what is wrong with a page's text.
func wordProblems(lang, text string, keys *regexp.Regexp, raw map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	report := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if !seen[msg] {
			seen[msg] = true
			out = append(out, msg)
		}
	}
	for _, k := range keys.FindAllString(text, -1) {
		report("message key %q shown untranslated", k)
	}
	if rawJSON.MatchString(text) {
		report("raw JSON shown")
	}
	if strings.Contains(text, "404 page not found") {
		report("Go's plain 404 text shown")
	}
	for _, line := range strings.Split(text, "\n") {
		for _, w := range latinRe.FindAllString(line, -1) {
			switch {
			case rawAllowed[w]:
			case strings.Contains(w, "/") && raw[w[:strings.Index(w, "/")]]:
				report("unit pair %q shown raw in %q", w, strings.TrimSpace(line))
			case lang == "zh" && raw[w]:
				report("stored value %q shown raw in %q", w, strings.TrimSpace(line))
			case lang == "en" && strings.Contains(w, "_") && raw[w]:
				report("stored value %q shown raw in %q", w, strings.TrimSpace(line))
			}
		}
	}
	return out
}
