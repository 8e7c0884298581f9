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

// withStickyCookie returns one Cookie header value that starts with pair and keeps the
// client's cookies, less any cookie called name. It returns false when the client's
// cookies pass a bound.
func withStickyCookie(values []string, name, pair string) (string, bool) {
	joined := strings.Join(values, "; ") // "" for an empty slice, which an earlier middleware may leave
	if len(values) == 1 {
		joined = values[0]
	}
	// pastCookieBounds, written out: under Yaegi the call would cost more than the check.
	if len(joined) > maxClientCookieBytes || strings.Count(joined, ";") >= maxClientCookies {
		return "", false
	}
	if len(values) == 1 && !strings.Contains(joined, name) {
		return pair + "; " + joined, true
	}
	return replaceStickyCookie(joined, name, pair), true
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

// setStickyCookie sets the request's Cookie header to pair and the client's cookies,
// or answers 431 and returns false when the client's cookies pass a bound.
func setStickyCookie(rw http.ResponseWriter, req *http.Request, values []string, name, pair string) bool {
	merged, ok := withStickyCookie(values, name, pair)
	if !ok {
		refuseCookies(rw)
		return false
	}
	req.Header["Cookie"] = []string{merged}
	return true
}

// refuseCookies answers a request whose cookies pass a bound.
func refuseCookies(rw http.ResponseWriter) {
	http.Error(rw, cookieRefusal, http.StatusRequestHeaderFieldsTooLarge)
}
