package storeaffinity

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// The device ID is read as the backend will read it: a path segment percent-decoded
// as a router decodes it, a header value literally (headers are not percent-encoded),
// and a query parameter after decoding names and values as url.ParseQuery does (which
// is also how Traefik's proxy cleans a query it forwards). A request that carries the
// device ID twice with different values, in one place or in two, is refused: a backend
// might read either.
var (
	errDeviceIDTwice    = errors.New("the request carries two different device IDs")
	errBadPathEncoding  = errors.New("device ID has a bad percent-encoding")
	errDeviceIDTooLong  = fmt.Errorf("device ID longer than %d bytes", hashing.MaxDeviceIDLength)
	errHeaderRepeated   = errors.New("the device-ID header is repeated with different values")
	errQueryParamRepeat = errors.New("the device-ID query parameter is repeated with different values")
	errEncodedPrefix    = errors.New("the path is under a device-affinity prefix only once percent-decoded")
	errPathParameters   = errors.New("the device ID in the path carries ';' parameters")
	errEncodedSlash     = errors.New("the device ID in the path holds an encoded '/'")
)

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

// pathParameters reports whether the request's path, as sent, is under a prefix and
// its device segment carries ';' parameters. An encoded ';' (%3B) is no parameter.
func (a *Affinity) pathParameters(req *http.Request) bool {
	match := a.pathPattern.FindStringSubmatch(req.URL.EscapedPath())
	return match != nil && strings.IndexByte(match[1], ';') >= 0
}

// servletPath returns a path as sent the way servlet containers read it: each
// segment's ';' parameters removed, then percent-decoded ("" when it cannot be).
func servletPath(escaped string) string {
	segments := strings.Split(escaped, "/")
	for i, segment := range segments {
		segments[i], _, _ = strings.Cut(segment, ";")
	}
	decoded, err := url.PathUnescape(strings.Join(segments, "/"))
	if err != nil {
		return ""
	}
	return decoded
}

// pathDeviceID decodes the still percent-encoded path segment that follows a prefix.
func pathDeviceID(segment string) (string, error) {
	if strings.IndexByte(segment, '%') < 0 {
		return segment, nil
	}
	if len(segment) > 3*hashing.MaxDeviceIDLength {
		return "", errDeviceIDTooLong
	}
	decoded, err := url.PathUnescape(segment)
	if err != nil {
		return "", errBadPathEncoding
	}
	return decoded, nil
}

// mayCarryQuery reports whether a raw query may hold the parameter name: literally,
// or percent-encoded.
func mayCarryQuery(rawQuery, name string) bool {
	return strings.Contains(rawQuery, name) || strings.IndexByte(rawQuery, '%') >= 0
}

// queryDeviceID returns the device ID of the query parameter name, decoded as
// url.ParseQuery decodes it, or "" when there is none.
func queryDeviceID(rawQuery, name string) (string, error) {
	values, _ := url.ParseQuery(rawQuery) // pairs it cannot parse are dropped by the proxy too
	return single(values[name], errQueryParamRepeat)
}

// single returns the one value of values ("" for none), or errRepeated when they differ.
func single(values []string, errRepeated error) (string, error) {
	if len(values) == 0 {
		return "", nil
	}
	for _, v := range values[1:] {
		if v != values[0] {
			return "", errRepeated
		}
	}
	return values[0], nil
}
