package storeaffinity

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
)

// The request path, top to bottom: ServeHTTP dispatches on how the path was sent and
// whether it lies under a device-affinity prefix; each way of reading a device ID
// follows (an encoded path, a plain path, the header or query); then the routing of a
// stateful request to its store's member, or of a stateless one to the next member in
// turn; then the refusals. The readers themselves, which only return
// (deviceID, found, err), are in deviceid.go.
//
// Under Yaegi v0.16.1 a call costs its callee's whole frame, and how it is called
// counts too: with the same values, a method call costs 31 allocations, a method value
// kept in a func field 21, a function 11 (make bench-yaegi's InterpretedConstructs).
// So the steps of a device's request are functions (serveStore, then routeOf), and
// the choices made once in New (serveUnmatched, serveNoDevice) are method values.

// ServeHTTP stamps the request with its member's sticky cookie and passes rw on
// unchanged: a stateful request gets its store's member, any other the next member in
// turn, so Traefik's weighted service never picks or sets a cookie itself.
//
// ServeHTTP only dispatches, and each path lives in a small function of its own.
func (a *Affinity) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	if req.URL.RawPath != "" {
		serveEncodedPath(a, rw, req)
		return
	}
	match := a.pathPattern.FindStringSubmatch(req.URL.Path)
	if match == nil {
		a.serveUnmatched(rw, req)
		return
	}
	if a.headerOrQuery {
		servePath(a, rw, req, match[1])
		return
	}
	serveStore(a, rw, req, match[1])
}

// serveEncodedPath serves a request whose path was sent with an encoding of its own
// (URL.RawPath is set): its device segment is matched as sent, then percent-decoded.
// An encoded '/' in it is refused: a router that splits the decoded path reads a
// device ID before it.
func serveEncodedPath(a *Affinity, rw http.ResponseWriter, req *http.Request) {
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
		a.refuse(rw, errEncodedSlash)
	default:
		serveCheckedPath(a, rw, req, deviceID)
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
		a.refuse(rw, errEncodedPrefix)
		return
	}
	a.serveUnmatched(rw, req)
}

// servePath serves the device of a plain path when a device-ID header or query
// parameter is configured: one that the request carries must name the same device.
// The path as sent is the plain encoding of URL.Path, so its device segment reads the
// same decoded: a '%' left in it is a literal one, which CheckDeviceID refuses.
func servePath(a *Affinity, rw http.ResponseWriter, req *http.Request, deviceID string) {
	if req.URL.RawQuery != "" || req.Header[a.deviceHeader] != nil {
		serveCheckedPath(a, rw, req, deviceID)
		return
	}
	serveStore(a, rw, req, deviceID)
}

// serveCheckedPath serves the device ID of a path, after checking that the request's
// header or query, when configured, names no other device.
func serveCheckedPath(a *Affinity, rw http.ResponseWriter, req *http.Request, deviceID string) {
	if strings.IndexByte(deviceID, ';') >= 0 && a.pathParameters(req) {
		a.refuse(rw, errPathParameters)
		return
	}
	if a.headerOrQuery {
		if err := a.checkSameDevice(req, deviceID); err != nil {
			a.refuse(rw, err)
			return
		}
	}
	serveStore(a, rw, req, deviceID)
}

// serveHeaderOrQuery serves a request that may carry the device ID in the configured
// header or query parameter.
func (a *Affinity) serveHeaderOrQuery(rw http.ResponseWriter, req *http.Request) {
	deviceID, found, err := a.headerOrQueryDeviceID(req)
	switch {
	case err != nil:
		a.refuse(rw, err)
	case found && len(a.stompPaths) != 0:
		a.serveFoundStomp(rw, req, deviceID)
	case found:
		serveStore(a, rw, req, deviceID)
	default:
		a.serveNoDevice(rw, req)
	}
}

// serveStore sends a request of the device to its store's member, which routeOf
// gives.
func serveStore(a *Affinity, rw http.ResponseWriter, req *http.Request, deviceID string) {
	r, err := routeOf(a.place, deviceID)
	if err != nil {
		a.serveBadDeviceID(rw, req, err)
		return
	}
	// The cookie merge of the common cases (stickCookie), written out here and in
	// serveRoundRobin: calling stickCookie as a function cost 9 more allocations and
	// 7 % more CPU on each path (median of 21 paired rounds of make bench-yaegi, 3
	// members).
	h := req.Header
	m := r.member
	if values := h["Cookie"]; values == nil {
		h["Cookie"] = m.cookieValue
	} else if len(values) == 1 && len(values[0]) < maxClientCookies && !strings.Contains(values[0], a.cookieName) {
		h["Cookie"] = []string{m.cookieFirst + values[0]}
	} else if !a.mergeCookies(rw, req, values, m) {
		return
	}
	atomic.AddUint64(m.stateful, 1)
	for _, key := range a.forgedHeaders {
		delete(h, key)
	}
	// The stamp's slice is shared by every request of the device: Traefik's proxy
	// copies request headers, and adds to response headers without writing into it.
	h[a.affinityHeader] = r.stamp
	rw.Header()[a.affinityHeader] = r.shown // nil (responseStamp: off) writes no header line
	// Only requests that can stay open are ended when their store moves: upgrades
	// (WebSockets) and SSE streams.
	if h["Upgrade"] != nil || strings.Contains(h.Get("Accept"), "text/event-stream") {
		a.serveTracked(rw, req, r)
		return
	}
	a.next.ServeHTTP(rw, req)
}

// serveTracked serves a request that may stay open, under a context that ends when
// its store moves, and reports whether it ended so. Everything is released in defers:
// Traefik's proxy panics with http.ErrAbortHandler whenever a streamed response is cut.
func (a *Affinity) serveTracked(rw http.ResponseWriter, req *http.Request, r *route) bool {
	life := a.live.acquire(r, a.place.key)
	if life == nil {
		a.next.ServeHTTP(rw, req) // the table is full: served, not tracked
		return false
	}
	defer a.live.release(life)
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	stop := context.AfterFunc(life.ctx, cancel)
	defer stop()
	a.next.ServeHTTP(rw, req.WithContext(ctx))
	return life.ctx.Err() != nil
}

// serveRoundRobin sends a stateless request to the next member in turn.
func (a *Affinity) serveRoundRobin(rw http.ResponseWriter, req *http.Request) {
	m := a.place.members[a.turn.Add(1)%a.count]
	h := req.Header
	// stickCookie, written out as in serveStore.
	if values := h["Cookie"]; values == nil {
		h["Cookie"] = m.cookieValue
	} else if len(values) == 1 && len(values[0]) < maxClientCookies && !strings.Contains(values[0], a.cookieName) {
		h["Cookie"] = []string{m.cookieFirst + values[0]}
	} else if !a.mergeCookies(rw, req, values, m) {
		return
	}
	atomic.AddUint64(m.stateless, 1)
	delete(h, a.affinityHeader)
	for _, key := range a.forgedHeaders {
		delete(h, key)
	}
	a.next.ServeHTTP(rw, req)
}

// serveBad answers a request whose device ID is missing or bad with 400 and a one-line
// reason, or serves it round-robin when missingDeviceId is roundRobin.
func (a *Affinity) serveBad(rw http.ResponseWriter, req *http.Request, err error) {
	if a.roundRobinBad {
		a.serveRoundRobin(rw, req)
		return
	}
	a.refuse(rw, err)
}

// serveBadDeviceID answers a request whose device ID is not one. When the path's device
// segment carries ';' parameters, the reason is those, and the request is refused: a
// servlet backend removes them and reads a device ID.
func (a *Affinity) serveBadDeviceID(rw http.ResponseWriter, req *http.Request, err error) {
	if a.pathParameters(req) {
		a.refuse(rw, errPathParameters)
		return
	}
	a.serveBad(rw, req, err)
}

// refuse answers 400 with a one-line reason, whatever missingDeviceId says: the request
// names a device in a way a backend may read differently.
func (a *Affinity) refuse(rw http.ResponseWriter, err error) {
	a.live.refusals[reasonOf(err)].Add(1)
	http.Error(rw, "storeaffinity: "+err.Error(), http.StatusBadRequest)
}
