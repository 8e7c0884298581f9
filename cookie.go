package storeaffinity

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// StickyValue returns the sticky cookie value by which Traefik v3.6's weighted round
// robin recognises a child service: the first 16 hex characters of the SHA-256 of the
// child service name, exactly as written in weighted.services[].name.
func StickyValue(childService string) string {
	sum := sha256.Sum256([]byte(childService))
	return hex.EncodeToString(sum[:8])
}

// withStickyCookie returns one Cookie header value that starts with pair and keeps the
// client's cookies, less any cookie called name.
func withStickyCookie(values []string, name, pair string) string {
	if len(values) == 1 && !strings.Contains(values[0], name) {
		return pair + "; " + values[0]
	}
	return replaceStickyCookie(strings.Join(values, "; "), name, pair)
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
