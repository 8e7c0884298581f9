package storeaffinity

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// parsePrefixes checks deviceAffinityPrefixes and returns them without a trailing '/'.
// No prefix may lie under another: the shorter one would read the longer one's next
// segment as a device ID.
func parsePrefixes(list []string) ([]string, error) {
	var prefixes []string
	for _, prefix := range list {
		if !strings.HasPrefix(prefix, "/") {
			return nil, fmt.Errorf("deviceAffinityPrefixes: %q does not start with '/'", prefix)
		}
		if !validPathPrefix(prefix) {
			return nil, fmt.Errorf("deviceAffinityPrefixes: %q has characters other than letters, digits and -._~$&+,/:=@ (a path carries others percent-encoded; ';' starts a path parameter)", prefix)
		}
		prefix = strings.TrimRight(prefix, "/")
		if prefix == "" {
			return nil, fmt.Errorf("deviceAffinityPrefixes: \"/\" would read every path's first segment as a device ID")
		}
		prefixes = append(prefixes, prefix)
	}
	for _, shorter := range prefixes {
		for _, longer := range prefixes {
			if strings.HasPrefix(longer, shorter+"/") {
				return nil, fmt.Errorf("deviceAffinityPrefixes: %q lies under %q, which would read its next segment as a device ID", longer, shorter)
			}
		}
	}
	return prefixes, nil
}

// validPathPrefix reports whether a path prefix reads the same percent-decoded and as
// sent, and to a servlet backend: it holds only characters that a path never carries
// encoded, and no ';'.
func validPathPrefix(prefix string) bool {
	return strings.Trim(prefix, letterDigits+"-._~$&+,/:=@") == ""
}

// prefixPattern matches a path under one of prefixes and captures the device segment
// that follows it (empty when there is none). Longer prefixes are tried first. With
// parameters true, each segment of a prefix may carry ';' parameters, which servlet
// containers remove: /api;v=1/pos/00123-001 is under /api/pos. One '^' anchors the
// whole pattern, so a path under no prefix fails at its first differing byte. Without
// prefixes it matches no path.
func prefixPattern(prefixes []string, parameters bool) *regexp.Regexp {
	if len(prefixes) == 0 {
		return regexp.MustCompile(`[^\x00-\x{10FFFF}]`)
	}
	sorted := append([]string(nil), prefixes...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	quoted := make([]string, len(sorted))
	for i, p := range sorted {
		segments := strings.Split(p, "/")
		for k, segment := range segments[1:] {
			segments[k+1] = regexp.QuoteMeta(segment)
			if parameters {
				segments[k+1] += `(?:;[^/]*)?`
			}
		}
		quoted[i] = strings.Join(segments, "/")
	}
	return regexp.MustCompile(`^(?:` + strings.Join(quoted, "|") + `)(?:$|/([^/]*))`)
}

// parseStompPaths checks stompConnectPaths: each is a whole request path that reads the
// same to every backend, and lies under no device-affinity prefix (whose next segment
// would be read as a device ID).
func parseStompPaths(list, prefixes []string) (map[string]bool, error) {
	if len(list) == 0 {
		return nil, nil
	}
	paths := map[string]bool{}
	for _, path := range list {
		if !strings.HasPrefix(path, "/") || !validPathPrefix(path) {
			return nil, fmt.Errorf("stompConnectPaths: %q is not a path of letters, digits and -._~$&+,/:=@ that starts with '/'", path)
		}
		for _, prefix := range prefixes {
			if path == prefix || strings.HasPrefix(path, prefix+"/") {
				return nil, fmt.Errorf("stompConnectPaths: %q lies under the device-affinity prefix %q", path, prefix)
			}
		}
		paths[path] = true
	}
	return paths, nil
}
