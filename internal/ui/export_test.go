package ui

import "agtrace/internal/auth"

// TileLinks is the home page of a role, as (key, link, action) triples, for
// the HTTP tests of package ui_test.
func TileLinks(role auth.Role) [][3]string {
	var out [][3]string
	for _, t := range homeTiles[role] {
		out = append(out, [3]string{t.Key, t.Href, string(t.Action)})
	}
	return out
}

// Catalogue is the message catalogue of lang ("zh" or "en") for the page
// walk of package ui_test.
func Catalogue(lang string) map[string]string { return catalogues()[lang] }
