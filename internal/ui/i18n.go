package ui

import (
	"embed"
	"encoding/json"
	"fmt"
	"sync"
)

// The page texts live in one message catalogue per language
// (messages/zh-CN.json, messages/en.json): a flat object of key → text, the
// text a fmt format when the page passes arguments. Both catalogues have the
// same keys (TestCatalogues); they are read once, on first use.
//
//go:embed messages/*.json
var messageFS embed.FS

// catalogueFiles maps a page language to its catalogue.
var catalogueFiles = map[string]string{"zh": "messages/zh-CN.json", "en": "messages/en.json"}

// loadCatalogues reads the catalogues once; Register reports an error.
var loadCatalogues = sync.OnceValues(func() (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for lang, file := range catalogueFiles {
		raw, err := messageFS.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("ui: message catalogue %s: %w", file, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("ui: message catalogue %s: %w", file, err)
		}
		out[lang] = m
	}
	return out, nil
})

// catalogues is lang → key → text (empty if they could not be read).
func catalogues() map[string]map[string]string {
	c, _ := loadCatalogues()
	return c
}

// translate returns the text for key in lang ("zh" or "en"); a missing key
// shows itself so it is noticed.
func translate(lang, key string, args ...any) string {
	if lang != "en" {
		lang = "zh"
	}
	s, ok := catalogues()[lang][key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
