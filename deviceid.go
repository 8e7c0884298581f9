package storeaffinity

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
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
	errQueryParamRepeat = fmt.Errorf("the device-ID query parameter is repeated with different values, or more than %d times", maxDeviceQueryValues)
	errEncodedPrefix    = errors.New("the path is under a device-affinity prefix only once percent-decoded")
	errPathParameters   = errors.New("the device ID in the path carries ';' parameters")
	errEncodedSlash     = errors.New("the device ID in the path holds an encoded '/'")
	errQueryTooLong     = fmt.Errorf("the query has %d parameters or more", maxQueryParameters)
	errQueryBadEscape   = errors.New("the query has a bad percent-escape, which backends read differently")
)

// headerOrQueryDeviceID returns the device ID that the header or the query carries,
// and whether either carries one.
func (a *Affinity) headerOrQueryDeviceID(req *http.Request) (deviceID string, found bool, err error) {
	if values := req.Header[a.deviceHeader]; values != nil {
		found = true
		if deviceID, err = single(values, errHeaderRepeated); err != nil {
			return "", true, err
		}
	}
	if a.deviceQuery == "" || req.URL.RawQuery == "" || !mayCarryQuery(req.URL.RawQuery, a.deviceQueryStem) {
		return deviceID, found, nil
	}
	fromQuery, err := queryDeviceID(req.URL.RawQuery, a.deviceQueryPattern)
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

// pathParameters reports whether the request's path, as sent, is under a prefix and
// its device segment carries ';' parameters. An encoded ';' (%3B) is no parameter.
func (a *Affinity) pathParameters(req *http.Request) bool {
	match := a.pathPattern.FindStringSubmatch(req.URL.EscapedPath())
	return match != nil && strings.IndexByte(match[1], ';') >= 0
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

// pathParameter is a ';' path parameter, up to the end of its segment.
var pathParameter = regexp.MustCompile(`;[^/]*`)

// servletPath returns a path as sent the way servlet containers read it: each
// segment's ';' parameters removed, then percent-decoded ("" when it cannot be). Both
// steps are single compiled calls: a path can hold half a million segments.
func servletPath(escaped string) string {
	if strings.IndexByte(escaped, ';') >= 0 {
		escaped = pathParameter.ReplaceAllLiteralString(escaped, "")
	}
	decoded, err := url.PathUnescape(escaped)
	if err != nil {
		return ""
	}
	return decoded
}

// maxQueryParameters bounds the parameters of a query the middleware reads for a device
// ID, as PHP's max_input_vars does: past 10,000, url.ParseQuery returns nothing at all
// (GODEBUG urlmaxqueryparams), while a backend still reads the device ID.
const maxQueryParameters = 1000

// mayCarryQuery reports whether a raw query may hold the parameter whose name starts
// with stem, in any spelling: literally, or percent-encoded.
func mayCarryQuery(rawQuery, stem string) bool {
	return strings.Contains(rawQuery, stem) || strings.IndexByte(rawQuery, '%') >= 0
}

// maxDeviceQueryValues bounds the values of the device-ID parameter, in all its
// spellings, that a query may carry.
const maxDeviceQueryValues = 8

// queryDeviceID returns the device ID of the query parameter that pattern
// (queryNamePattern) matches in every spelling, decoded as url.ParseQuery decodes it,
// or "" when there is none. A query with more parameters than it reads is refused: the
// backend may read a device ID in it. The query is parsed, re-encoded and matched in
// compiled calls: under Yaegi, a loop over a thousand parameters would cost
// milliseconds.
func queryDeviceID(rawQuery string, pattern *regexp.Regexp) (string, error) {
	// Traefik's proxies forward a ';' in the query as '&', so the backend reads one
	// there; url.ParseQuery would drop the pair instead.
	query := rawQuery
	if strings.IndexByte(query, ';') >= 0 {
		query = strings.ReplaceAll(query, ";", "&")
	}
	if strings.Count(query, "&") >= maxQueryParameters {
		return "", errQueryTooLong
	}
	// Past its limit of parameters url.ParseQuery reads none at all, hence the bound
	// above. A pair it cannot read (a bad escape) reaches the backend as sent, and
	// PHP, Node and Python read it: the query is refused.
	values, err := url.ParseQuery(query)
	if err != nil {
		return "", errQueryBadEscape
	}
	matches := pattern.FindAllStringSubmatch(values.Encode(), maxDeviceQueryValues+1)
	if len(matches) > maxDeviceQueryValues {
		return "", errQueryParamRepeat
	}
	deviceID := ""
	for i, m := range matches {
		value, _ := url.QueryUnescape(m[1]) // Encode wrote it
		if i > 0 && value != deviceID {
			return "", errQueryParamRepeat
		}
		deviceID = value
	}
	return deviceID, nil
}

// queryNamePattern matches, in a query as url.Values.Encode writes it, every
// parameter that a common backend reads as name, and captures its value: the name
// itself; PHP's spellings of it (PHP drops leading spaces, reads ' ', '.' and a '['
// without a ']' as '_', files name[...] under name, and cuts a name at NUL: so with
// name device_id, ?device.id=, ?device+id=, ?device[id= and ?device_id%00x= carry the
// device ID too); and qs's [name] (Express).
func queryNamePattern(name string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?:^|&)\+*(?:%5B)?`)
	for _, c := range phpName(name) {
		if c == '_' {
			b.WriteString(`(?:_|\.|\+|%5B)`)
			continue
		}
		b.WriteString(regexp.QuoteMeta(url.QueryEscape(string(c))))
	}
	b.WriteString(`(?:%5D)?(?:%00[^=&]*|%5B[^=&]*%5D[^=&]*)?=([^&]*)`)
	return regexp.MustCompile(b.String())
}

// phpName returns a query parameter name with '.' read as '_', as PHP reads it.
func phpName(name string) string {
	return strings.ReplaceAll(name, ".", "_")
}

// queryStem returns the part of a query parameter name that every spelling of it
// holds: the name up to its first '_' or '.'.
func queryStem(name string) string {
	if i := strings.IndexAny(name, "_."); i >= 0 {
		return name[:i]
	}
	return name
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
