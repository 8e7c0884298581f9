package storeaffinity

import (
	"net/http"
	"strings"
)

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
