package httpx

import "testing"

func TestSafeRedirect(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"/", "/"},
		{"/batches", "/batches"},
		{"/batches?status=pending&q=%E8%8B%B9%E6%9E%9C", "/batches?status=pending&q=%E8%8B%B9%E6%9E%9C"},
		{"/q/13706860000000000012#top", "/q/13706860000000000012#top"},
		{"/operators/37/edit", "/operators/37/edit"},
		{"/%E5%B8%AE%E5%8A%A9", "/%E5%B8%AE%E5%8A%A9"},
		// refused
		{"", "/"},
		{"batches", "/"},
		{"//evil.example", "/"},
		{"//evil.example/path", "/"},
		{"/\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/a\\b", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/%0a/evil.example", "/"},
		{"/%0d%0a/evil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%2f%2fevil.example", "/"},
		{"/%5C/evil.example", "/"},
		{"/%5c%5cevil.example", "/"},
		{"/%00", "/"},
		{"/ /evil.example", "/"},
		{"/\u00a0/evil.example", "/"},
		{"/\u202e/evil.example", "/"},
		{"/\x7f", "/"},
		{"/\u0085", "/"},
		{"/%zz", "/"},
		{"https://evil.example", "/"},
		{"http:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/javascript:alert(1)", "/javascript:alert(1)"}, // a path, harmless
		{" /batches", "/"},
		{"\x00/batches", "/"},
		{"/\xff", "/"},
	}
	for _, c := range cases {
		if got := SafeRedirect(c.in); got != c.want {
			t.Errorf("SafeRedirect(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
