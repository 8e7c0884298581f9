package storeaffinity

import (
	"net/http"
	"strings"
)

// noMembers serves while the weighted service has no member: it only removes the
// client's sticky cookie and affinity header, and the weighted service answers 503.
type noMembers struct {
	next           http.Handler
	affinityHeader string
	forgedHeaders  []string
	cookieName     string
}

func (n *noMembers) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	dropAffinityHeaders(req.Header, n.affinityHeader, n.forgedHeaders)
	if values := req.Header["Cookie"]; values != nil {
		joined := strings.Join(values, "; ")
		if pastCookieBounds(joined) {
			refuseCookies(rw)
			return
		}
		if rest := replaceStickyCookie(joined, n.cookieName, ""); rest != "" {
			req.Header["Cookie"] = []string{rest}
		} else {
			delete(req.Header, "Cookie")
		}
	}
	n.next.ServeHTTP(rw, req)
}
