package storeaffinity

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// deviceID returns the request's device ID as it arrived (still percent-encoded when it
// came from the path) and whether the request asks for store affinity at all: a path
// under a device-affinity prefix, the device-ID header, or the device-ID query parameter.
func (a *Affinity) deviceID(req *http.Request) (string, bool) {
	if len(a.prefixes) != 0 {
		path := req.URL.RawPath
		if path == "" {
			path = req.URL.Path
		}
		for _, prefix := range a.prefixes {
			if strings.HasPrefix(path, prefix) && (len(path) == len(prefix) || path[len(prefix)] == '/') {
				return pathSegment(path[len(prefix):]), true
			}
		}
	}
	if a.deviceHeader != "" {
		if values := req.Header[a.deviceHeader]; len(values) != 0 {
			return values[0], true
		}
	}
	if a.deviceQuery != "" && req.URL.RawQuery != "" {
		if values := req.URL.Query()[a.deviceQuery]; len(values) != 0 {
			return values[0], true
		}
	}
	return "", false
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

// pathSegment returns the first segment of rest, which is empty or starts with '/'.
func pathSegment(rest string) string {
	if rest == "" {
		return ""
	}
	rest = rest[1:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return rest
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
