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
	errPathParameters   = errors.New("the device segment of the path carries ';' parameters")
	errEncodedSlash     = errors.New("the device segment of the path holds an encoded '/'")
)

// prefixPattern matches a path under one of prefixes and captures the device segment
// that follows it (empty when there is none). Longer prefixes are tried first. With
// parameters true, each segment of a prefix may carry ';' parameters, which servlet
// containers remove: /api;v=1/pos/00123-001 is under /api/pos. The pattern stays one
// that Go matches in a single pass (the next byte always decides the branch), so a
// long hostile path costs little. Without prefixes it matches no path.
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

// servePath serves the device of a plain path when a device-ID header or query
// parameter is configured: one that the request carries must name the same device.
// The path as sent is the plain encoding of URL.Path, so its device segment reads the
// same decoded: a '%' left in it is a literal one, which CheckDeviceID refuses.
func (a *Affinity) servePath(rw http.ResponseWriter, req *http.Request, deviceID string) {
	if req.URL.RawQuery != "" || req.Header[a.deviceHeader] != nil {
		a.serveCheckedPath(rw, req, deviceID)
		return
	}
	a.serveStore(rw, req, deviceID)
}

// serveEncodedPath serves a request whose path was sent with an encoding of its own
// (URL.RawPath is set): its device segment is matched as sent, then percent-decoded.
// An encoded '/' in it is refused: a router that splits the decoded path reads a
// device ID before it.
func (a *Affinity) serveEncodedPath(rw http.ResponseWriter, req *http.Request) {
	match := a.pathPattern.FindStringSubmatch(req.URL.EscapedPath())
	if match == nil {
		a.serveOutsidePrefixes(rw, req)
		return
	}
	deviceID, err := pathDeviceID(match[1])
	switch {
	case err != nil:
		a.serveBad(rw, req, err)
	case strings.IndexByte(deviceID, '/') >= 0:
		refuse(rw, errEncodedSlash)
	default:
		a.serveCheckedPath(rw, req, deviceID)
	}
}

// serveOutsidePrefixes serves a request whose path, as sent, is under no prefix. When
// a router that decodes the path
// (/api/appId/pos%2FdeviceId/00123-001), or a servlet container that also removes ';'
// parameters, reads a device ID the middleware did not, the request is refused.
// Otherwise (an encoded ';' in a prefix, which nobody removes) the path is under no
// prefix for anyone.
func (a *Affinity) serveOutsidePrefixes(rw http.ResponseWriter, req *http.Request) {
	if a.plainPattern.MatchString(req.URL.Path) || a.plainPattern.MatchString(servletPath(req.URL.EscapedPath())) {
		refuse(rw, errEncodedPrefix)
		return
	}
	a.serveUnmatched(rw, req)
}

// serveCheckedPath serves the device ID of a path, after checking that the request's
// header or query, when configured, names no other device.
func (a *Affinity) serveCheckedPath(rw http.ResponseWriter, req *http.Request, deviceID string) {
	if strings.IndexByte(deviceID, ';') >= 0 && a.pathParameters(req) {
		refuse(rw, errPathParameters)
		return
	}
	if a.headerOrQuery {
		if err := a.checkSameDevice(req, deviceID); err != nil {
			refuse(rw, err)
			return
		}
	}
	a.serveStore(rw, req, deviceID)
}

// serveHeaderOrQuery serves a request that may carry the device ID in the configured
// header or query parameter.
func (a *Affinity) serveHeaderOrQuery(rw http.ResponseWriter, req *http.Request) {
	deviceID, found, err := a.headerOrQueryDeviceID(req)
	switch {
	case err != nil:
		refuse(rw, err)
	case found:
		a.serveStore(rw, req, deviceID)
	default:
		a.serveRoundRobin(rw, req)
	}
}

// headerOrQueryDeviceID returns the device ID that the header or the query carries,
// and whether either carries one.
func (a *Affinity) headerOrQueryDeviceID(req *http.Request) (deviceID string, found bool, err error) {
	if values := req.Header[a.deviceHeader]; values != nil {
		found = true
		if deviceID, err = single(values, errHeaderRepeated); err != nil {
			return "", true, err
		}
	}
	if a.deviceQuery == "" || req.URL.RawQuery == "" || !mayCarryQuery(req.URL.RawQuery, a.deviceQuery) {
		return deviceID, found, nil
	}
	fromQuery, err := queryDeviceID(req.URL.RawQuery, a.deviceQuery)
	switch {
	case err != nil:
		return "", true, err
	case fromQuery == "":
		return deviceID, found, nil
	case found && fromQuery != deviceID:
		return "", true, errDeviceIDTwice
	}
	return fromQuery, true, nil
}

// checkSameDevice refuses a request whose header or query names another device than
// its path.
func (a *Affinity) checkSameDevice(req *http.Request, deviceID string) error {
	other, found, err := a.headerOrQueryDeviceID(req)
	if err == nil && found && other != deviceID {
		err = errDeviceIDTwice
	}
	return err
}

// serveBad answers a request whose device ID is missing or bad with 400 and a one-line
// reason, or serves it round-robin when missingDeviceId is roundRobin.
func (a *Affinity) serveBad(rw http.ResponseWriter, req *http.Request, err error) {
	if a.roundRobinBad {
		a.serveRoundRobin(rw, req)
		return
	}
	refuse(rw, err)
}

// serveBadDeviceID answers a request whose device ID is not one. When the path's device
// segment carries ';' parameters, the reason is those, and the request is refused: a
// servlet backend removes them and reads a device ID.
func (a *Affinity) serveBadDeviceID(rw http.ResponseWriter, req *http.Request, err error) {
	if a.pathParameters(req) {
		refuse(rw, errPathParameters)
		return
	}
	a.serveBad(rw, req, err)
}

// refuse answers 400 with a one-line reason, whatever missingDeviceId says: the request
// names a device in a way a backend may read differently.
func refuse(rw http.ResponseWriter, err error) {
	http.Error(rw, "storeaffinity: "+err.Error(), http.StatusBadRequest)
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
