package ui

import (
	"net/http"
	"net/url"
	"strconv"
)

// Lists page: ?page=N (from 1) shows pageSize rows. A list asks its service
// for one row more than it shows, to know whether a next page exists.

// pageSize is how many rows a list page shows.
const pageSize = 50

// pager is a list page's place and the links to its neighbours.
type pager struct {
	Page       int
	Prev, Next string // "" at the ends
	r          *http.Request
}

// listPage reads ?page= and returns the rows to skip, how many to fetch
// (one more than a page) and the pager to finish with more().
func listPage(r *http.Request) (offset, fetch int, p *pager) {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		n = 1
	}
	return (n - 1) * pageSize, pageSize + 1, &pager{Page: n, r: r}
}

// more takes the number of rows fetched, sets the links and returns how
// many of them to show.
func (p *pager) more(fetched int) int {
	if p.Page > 1 {
		p.Prev = p.link(p.Page - 1)
	}
	if fetched > pageSize {
		p.Next = p.link(p.Page + 1)
		return pageSize
	}
	return fetched
}

// link is the current list with another page (its filters kept, the flash dropped).
func (p *pager) link(n int) string {
	q := p.r.URL.Query()
	q.Del("msg")
	if n <= 1 {
		q.Del("page")
	} else {
		q.Set("page", strconv.Itoa(n))
	}
	if len(q) == 0 {
		return p.r.URL.Path
	}
	return p.r.URL.Path + "?" + q.Encode()
}

// ExportLink is path (a list's CSV export) with the list's current filters
// (not its page or flash): the export holds every row the filters select.
func (p *Page) ExportLink(path string) string {
	q := url.Values{}
	for k, v := range p.Query {
		if k != "page" && k != "msg" {
			q[k] = v
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Shown reports whether the pager has anywhere to go (one page: no pager).
func (p *pager) Shown() bool { return p != nil && (p.Prev != "" || p.Next != "") }
