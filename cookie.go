package storeaffinity

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// Bounds of the client's cookies. Go's net/http finds no cookie at all in a request
// with more than 3000 (GODEBUG httpcookiemaxnum), and Traefik would then pick a member
// itself; a browser keeps at most about 180 cookies for a site, of at most 4 KiB each.
// Past either bound the request gets 431 with a one-line reason, so the merge below
// never costs more than one pass over 32 KiB.
const (
	maxClientCookies     = 200
	maxClientCookieBytes = 32 << 10
)

// cookieRefusal is the 431 body: one line a support engineer can act on.
var cookieRefusal = "storeaffinity: the request carries more than " + strconv.Itoa(maxClientCookies) +
	" cookies or more than " + strconv.Itoa(maxClientCookieBytes>>10) + " KiB of them"

// StickyValue returns the sticky cookie value by which Traefik v3.6's weighted round
// robin recognises a child service: the first 16 hex characters of the SHA-256 of the
// child service name, exactly as written in weighted.services[].name.
func StickyValue(childService string) string {
	sum := sha256.Sum256([]byte(childService))
	return hex.EncodeToString(sum[:8])
}

// stickCookie puts the member's sticky cookie first in the request's Cookie header,
// keeping the client's other cookies and dropping any sticky cookie of theirs, or
// answers 431 and returns false when the client's cookies pass a bound. It is the one
// cookie merge of every path. The common case, one short Cookie line without the
// sticky cookie, costs one concatenation: a line shorter than maxClientCookies bytes
// holds fewer cookies than that bound, so only a longer one needs counting.
//
// Under Yaegi a call allocates every local and temporary of the callee, so this one
// holds the common cases only, and the rest is mergeCookies.
func (a *Affinity) stickCookie(rw http.ResponseWriter, req *http.Request, m *member) bool {
	values := req.Header["Cookie"]
	if values == nil {
		req.Header["Cookie"] = m.cookieValue
		return true
	}
	if len(values) == 1 && len(values[0]) < maxClientCookies && !strings.Contains(values[0], a.cookieName) {
		req.Header["Cookie"] = []string{m.cookieFirst + values[0]}
		return true
	}
	return a.mergeCookies(rw, req, values, m)
}

// mergeCookies is stickCookie for many or long Cookie lines, or one that carries a
// sticky cookie.
func (a *Affinity) mergeCookies(rw http.ResponseWriter, req *http.Request, values []string, m *member) bool {
	joined := strings.Join(values, "; ") // "" for an empty slice, which an earlier middleware may leave
	if pastCookieBounds(joined) {
		a.live.refusals[reasonCookies].Add(1)
		refuseCookies(rw)
		return false
	}
	if len(values) == 1 && !strings.Contains(joined, a.cookieName) {
		req.Header["Cookie"] = []string{m.cookieFirst + joined} // a long line, passed on as it came
		return true
	}
	req.Header["Cookie"] = []string{replaceStickyCookie(joined, a.cookieName, m.cookie)}
	return true
}

// pastCookieBounds reports whether joined, all of a request's Cookie headers, holds
// more cookies or bytes than the bounds allow.
func pastCookieBounds(joined string) bool {
	return len(joined) > maxClientCookieBytes || strings.Count(joined, ";") >= maxClientCookies
}

// replaceStickyCookie returns joined, a Cookie header value, with pair in front and
// without any cookie called name.
func replaceStickyCookie(joined, name, pair string) string {
	var kept []string
	if pair != "" {
		kept = append(kept, pair)
	}
	for _, part := range strings.Split(joined, ";") {
		part = strings.TrimSpace(part)
		cookieName, _, _ := strings.Cut(part, "=")
		if part == "" || strings.TrimSpace(cookieName) == name {
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, "; ")
}

// refuseCookies answers a request whose cookies pass a bound.
func refuseCookies(rw http.ResponseWriter) {
	http.Error(rw, cookieRefusal, http.StatusRequestHeaderFieldsTooLarge)
}
