package httpx

import (
	"net/http"
	"strings"

	"agtrace/internal/auth"
	"agtrace/internal/platform"
)

// SessionCookie is the browser session cookie's name.
const SessionCookie = "agtrace_session"

// RequestToken returns the bearer token or the session cookie of r.
func RequestToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// Authenticate resolves the request's token (if any) to an actor and stores
// it, with the client address, in the request context. An invalid bearer
// token is refused at once; an invalid cookie just means "anonymous" (the
// page will ask to log in).
func Authenticate(svc *auth.Service, proxies *TrustedProxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := proxies.ClientAddr(r)
		var actor *auth.Actor
		if tok := RequestToken(r); tok != "" {
			a, err := svc.Authenticate(r.Context(), tok)
			switch {
			case err == nil:
				actor = a
			case platform.IsUnavailable(err) || strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "):
				// A bad bearer token is refused at once; an outage is a 503 for
				// everyone (a session cookie must not turn into "please log in").
				r = r.WithContext(WithActor(r.Context(), nil, addr))
				WriteProblem(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(WithActor(r.Context(), actor, addr)))
	})
}
