package chaos

import "strings"

// memberOf returns the replica that an X-Store-Affinity value names ("" if none).
func memberOf(affinity string) string {
	_, m, ok := strings.Cut(affinity, "member=")
	if !ok {
		return ""
	}
	m, _, _ = strings.Cut(m, ";")
	return strings.TrimPrefix(strings.TrimSpace(m), app+"-")
}
