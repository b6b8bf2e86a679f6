package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"agtrace/internal/auth"
	"agtrace/internal/operator"
	"agtrace/internal/trace"
)

// TestCatalogues: the Chinese and English catalogues have exactly the same
// keys and no empty text.
func TestCatalogues(t *testing.T) {
	cats := catalogues()
	zh, en := cats["zh"], cats["en"]
	if len(zh) < 100 {
		t.Fatalf("the Chinese catalogue has only %d keys", len(zh))
	}
	for k, v := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is in zh-CN.json but not in en.json", k)
		}
		if strings.TrimSpace(v) == "" {
			t.Errorf("zh-CN.json: %q is empty", k)
		}
	}
	for k, v := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("%q is in en.json but not in zh-CN.json", k)
		}
		if strings.TrimSpace(v) == "" {
			t.Errorf("en.json: %q is empty", k)
		}
	}
	// the same format verbs in both languages
	verb := regexp.MustCompile(`%[sdv]`)
	for k, v := range zh {
		if a, b := verb.FindAllString(v, -1), verb.FindAllString(en[k], -1); strings.Join(a, "") != strings.Join(b, "") {
			t.Errorf("%q: format verbs %v in Chinese, %v in English", k, a, b)
		}
	}
	if got := translate("en", "nav.home"); got != "Home" {
		t.Errorf(`translate("en", "nav.home") = %q`, got)
	}
	if got := translate("zh", "home.welcome", "张三"); got != "您好，张三" {
		t.Errorf(`translate("zh", "home.welcome") = %q`, got)
	}
}

var (
	// {{.T "key"}}, {{$p.T "key" …}}, (.T "key")
	tmplKey = regexp.MustCompile(`\bT\s+"([^"]+)"`)
	// {{.T (print "prefix." .X)}}: a key chosen at run time
	tmplPrefix = regexp.MustCompile(`\bT\s+\(print\s+"([^"]+)"`)
	// a message key as it appears in Go code
	goKey = regexp.MustCompile(`^[a-z]+\.[a-zA-Z0-9_.]*$`)
)

// TestEveryUsedKeyExists scans the templates for T calls and the Go code
// for string literals shaped like message keys (in a namespace the
// catalogue uses) and checks each exists; a literal ending in "." is a
// prefix completed at run time and needs at least one key under it.
func TestEveryUsedKeyExists(t *testing.T) {
	zh := catalogues()["zh"]
	namespaces := map[string]bool{}
	for k := range zh {
		namespaces[k[:strings.Index(k, ".")]] = true
	}
	hasPrefix := func(prefix string) bool {
		for k := range zh {
			if strings.HasPrefix(k, prefix) {
				return true
			}
		}
		return false
	}
	check := func(where, key string) {
		t.Helper()
		if strings.HasSuffix(key, ".") {
			if !hasPrefix(key) {
				t.Errorf("%s: no message key starts with %q", where, key)
			}
			return
		}
		if _, ok := zh[key]; !ok {
			t.Errorf("%s: message key %q is not in the catalogues", where, key)
		}
	}

	used := 0
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(templateFS, path)
		if err != nil {
			return err
		}
		for _, m := range tmplKey.FindAllStringSubmatch(string(raw), -1) {
			check(path, m[1])
			used++
		}
		for _, m := range tmplPrefix.FindAllStringSubmatch(string(raw), -1) {
			check(path, m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if used < 300 {
		t.Fatalf("found only %d translation calls in the templates; is the pattern still right?", used)
	}

	files, _ := os.ReadDir(".")
	fset := token.NewFileSet()
	goKeys := 0
	for _, f := range files {
		name := f.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !goKey.MatchString(s) || !namespaces[s[:strings.Index(s, ".")]] {
				return true
			}
			check(fset.Position(lit.Pos()).String(), s)
			goKeys++
			return true
		})
	}
	if goKeys < 50 {
		t.Fatalf("found only %d message keys in the Go code; is the pattern still right?", goKeys)
	}
}

// TestEnumerationsTranslated: every value the pages show through a key
// prefix ("op.kind." + kind) has its text.
func TestEnumerationsTranslated(t *testing.T) {
	zh := catalogues()["zh"]
	roles := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		roles[i] = string(r)
	}
	sets := map[string][]string{
		"role.":              roles,
		"admin.agency.kind.": auth.AgencyKinds,
		"op.kind.":           operator.Kinds,
		"op.cat.":            operator.Categories,
		"op.status.":         operator.Statuses,
		"op.cert.":           operator.CertKinds,
		"op.doc.":            operator.DocumentKinds,
		"op.leading.":        operator.LeadingLevels,
		"op.channel.":        operator.ReminderChannels,
		"tr.market.":         trace.MarketKinds,
		"tr.input.":          trace.InputKinds,
		"tr.basis.":          trace.Bases,
		"tr.scheme.":         trace.AliasSchemes,
		"tr.finding.":        trace.FindingKinds,
		"tr.status.":         trace.TransferStatuses,
	}
	var prefixes []string
	for p := range sets {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		for _, v := range sets[p] {
			if _, ok := zh[p+v]; !ok {
				t.Errorf("%q has no text", p+v)
			}
		}
	}
}
