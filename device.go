package storeaffinity

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// prefixPattern matches a path under one of prefixes and captures the device segment
// that follows it (empty when there is none). Longer prefixes are tried first.
func prefixPattern(prefixes []string) *regexp.Regexp {
	quoted := make([]string, len(prefixes))
	for i, p := range prefixes {
		quoted[i] = regexp.QuoteMeta(p)
	}
	sort.Slice(quoted, func(i, j int) bool { return len(quoted[i]) > len(quoted[j]) })
	return regexp.MustCompile(`^(?:` + strings.Join(quoted, "|") + `)(?:$|/([^/]*))`)
}

// commonPrefix returns the longest common prefix of prefixes: a request whose path
// lacks it is under none of them. Without prefixes it returns a prefix no path has.
func commonPrefix(prefixes []string) string {
	if len(prefixes) == 0 {
		return "\x00"
	}
	common := prefixes[0]
	for _, p := range prefixes[1:] {
		for !strings.HasPrefix(p, common) {
			common = common[:len(common)-1]
		}
	}
	return common
}

// storeOf decodes and checks a raw device ID and derives its store, or returns an
// error with a one-line reason.
func storeOf(stores *hashing.StoreDeriver, rawDeviceID string) (string, error) {
	if len(rawDeviceID) > 3*hashing.MaxDeviceIDLength {
		return "", fmt.Errorf("device ID longer than %d bytes", hashing.MaxDeviceIDLength)
	}
	deviceID := rawDeviceID
	if strings.IndexByte(rawDeviceID, '%') >= 0 {
		decoded, err := url.PathUnescape(rawDeviceID)
		if err != nil {
			return "", fmt.Errorf("device ID %q has a bad percent-encoding", rawDeviceID)
		}
		if strings.ContainsAny(decoded, "/\\") {
			return "", fmt.Errorf("device ID %q contains a percent-encoded separator", rawDeviceID)
		}
		deviceID = decoded
	}
	if err := hashing.CheckDeviceID(deviceID); err != nil {
		return "", err
	}
	return stores.Store(deviceID)
}
