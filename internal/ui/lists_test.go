package ui

import (
	"net/http/httptest"
	"testing"
)

func TestPager(t *testing.T) {
	for _, c := range []struct {
		url          string
		fetched      int
		offset, show int
		prev, next   string
		shown        bool
	}{
		{"/batches", 10, 0, 10, "", "", false},
		{"/batches?status=all", pageSize + 1, 0, pageSize, "", "/batches?page=2&status=all", true},
		{"/batches?page=2&status=all&msg=x", pageSize + 1, pageSize, pageSize, "/batches?status=all", "/batches?page=3&status=all", true},
		{"/batches?page=3", 7, 2 * pageSize, 7, "/batches?page=2", "", true},
		{"/batches?page=0", 3, 0, 3, "", "", false},
		{"/batches?page=x", 3, 0, 3, "", "", false},
	} {
		offset, fetch, p := listPage(httptest.NewRequest("GET", c.url, nil))
		if fetch != pageSize+1 || offset != c.offset {
			t.Errorf("%s: offset %d fetch %d", c.url, offset, fetch)
		}
		if show := p.more(c.fetched); show != c.show || p.Prev != c.prev || p.Next != c.next || p.Shown() != c.shown {
			t.Errorf("%s: show %d prev %q next %q shown %v; want %d %q %q %v", c.url, show, p.Prev, p.Next, p.Shown(), c.show, c.prev, c.next, c.shown)
		}
	}
}
