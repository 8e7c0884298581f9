package storeaffinity

import (
	"net/http"
	"strings"
)

// maxSpelledSeparators bounds the '-' and '_' of a header whose spellings are removed:
// 4 give 15 other spellings, each a map delete on every request.
const maxSpelledSeparators = 4

// tooManySeparators reports whether header has more '-' and '_' than
// forgedSpellings varies.
func tooManySeparators(header string) bool {
	return strings.Count(header, "-")+strings.Count(header, "_") > maxSpelledSeparators
}

// forgedSpellings returns the canonical header keys, other than header itself, that a
// backend may read as header: CGI-style servers turn '-' into '_', so X_Store-Affinity
// and X-Store_Affinity reach them as X-Store-Affinity. Header keys arrive canonicalised,
// so case needs no variants. Every separator is varied; config refuses headers with
// more than maxSpelledSeparators.
func forgedSpellings(header string) []string {
	spellings := []string{""}
	for _, c := range header {
		if c == '-' || c == '_' {
			var next []string
			for _, s := range spellings {
				next = append(next, s+"-", s+"_")
			}
			spellings = next
			continue
		}
		for i := range spellings {
			spellings[i] += string(c)
		}
	}
	var forged []string
	for _, s := range spellings {
		if key := http.CanonicalHeaderKey(s); key != header && !strings.EqualFold(key, header) {
			forged = append(forged, key)
		}
	}
	return forged
}

// dropAffinityHeaders removes the client's affinity header (when header is not empty)
// and every forged spelling of it.
func dropAffinityHeaders(h http.Header, header string, forged []string) {
	if header != "" {
		delete(h, header)
	}
	for _, key := range forged {
		delete(h, key)
	}
}
