// Package storeaffinity is a Traefik middleware plugin that sends every device of a
// store to the same member of a sticky weighted service, chosen by rendezvous hashing
// of the store ID over the member names, and spreads stateless requests round-robin.
//
// Traefik interprets this package with Yaegi: it imports the standard library only
// (and this module's hashing package), and never wraps the http.ResponseWriter. Under
// Yaegi every call allocates the callee's whole frame, so ServeHTTP only dispatches to
// a small function per case, and the work is done once in New or once per device.
package storeaffinity

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
)

// Affinity is the middleware handler.
type Affinity struct {
	next           http.Handler
	pathPattern    *regexp.Regexp // a prefix, its segments with any ';' parameters, then the device segment as group 1
	plainPattern   *regexp.Regexp // a prefix without parameters, then the device segment
	deviceHeader   string         // canonical key, or "" when not configured
	deviceQuery    string         // query parameter name, or "" when not configured
	affinityHeader string
	forgedHeaders  []string // other spellings a backend may read as affinityHeader or deviceHeader
	cookieName     string
	roundRobinBad  bool
	placement      string
	settings       *settings
	names          []string
	cookies        []string   // per member: "cookieName=stickyValue"
	cookieValues   [][]string // per member: the Cookie header of a request without cookies
	cookiesFirst   []string   // per member: "cookieName=stickyValue; ", put before the client's
	headerOrQuery  bool       // a device-ID header or query parameter is configured
	count          uint64
	live           *liveStores
	routes         *routeCache
	turn           atomic.Uint64
	serveUnmatched func(http.ResponseWriter, *http.Request)         // a path under no prefix
	serveMatched   func(http.ResponseWriter, *http.Request, string) // a plain path's device
}

// New builds the middleware. Traefik calls it on every dynamic configuration change,
// so it only validates the configuration and precomputes the members' cookies.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	s, err := config.parse()
	if err != nil {
		return nil, fmt.Errorf("storeaffinity middleware %q: %w", name, err)
	}
	if s.picker == nil {
		return &noMembers{next: next, affinityHeader: s.affinityHeader, forgedHeaders: s.forgedHeaders, cookieName: s.cookieName}, nil
	}
	a := &Affinity{
		next:           next,
		pathPattern:    prefixPattern(s.prefixes, true),
		plainPattern:   prefixPattern(s.prefixes, false),
		deviceHeader:   s.deviceHeader,
		deviceQuery:    s.deviceQuery,
		affinityHeader: s.affinityHeader,
		forgedHeaders:  s.forgedHeaders,
		cookieName:     s.cookieName,
		roundRobinBad:  s.roundRobinBad,
		placement:      s.placement(),
		settings:       s,
		names:          s.picker.Members(),
		headerOrQuery:  s.deviceHeader != "" || s.deviceQuery != "",
	}
	for _, n := range a.names {
		pair := s.cookieName + "=" + StickyValue(n)
		a.cookies = append(a.cookies, pair)
		a.cookieValues = append(a.cookieValues, []string{pair})
		a.cookiesFirst = append(a.cookiesFirst, pair+"; ")
	}
	a.count = uint64(len(a.cookies))
	a.serveUnmatched, a.serveMatched = a.serveRoundRobin, a.serveStore
	if a.headerOrQuery {
		a.serveUnmatched, a.serveMatched = a.serveHeaderOrQuery, a.servePath
	}
	a.live, a.routes = trackLive(name, a.placement, s.picker, s.grace)
	return a, nil
}

// ServeHTTP stamps the request with its member's sticky cookie and passes rw on
// unchanged: a stateful request gets its store's member, any other the next member in
// turn, so Traefik's weighted service never picks or sets a cookie itself.
//
// Yaegi allocates every local and temporary of a function on each call, so ServeHTTP
// only dispatches, and each path lives in a small function of its own.
func (a *Affinity) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	if req.URL.RawPath != "" {
		a.serveEncodedPath(rw, req)
		return
	}
	match := a.pathPattern.FindStringSubmatch(req.URL.Path)
	if match == nil {
		a.serveUnmatched(rw, req)
		return
	}
	a.serveMatched(rw, req, match[1])
}

// serveRoundRobin sends a stateless request to the next member in turn.
func (a *Affinity) serveRoundRobin(rw http.ResponseWriter, req *http.Request) {
	i := a.turn.Add(1) % a.count
	if values := req.Header["Cookie"]; values == nil {
		req.Header["Cookie"] = a.cookieValues[i]
	} else if len(values) == 1 && len(values[0]) <= maxClientCookieBytes && strings.Count(values[0], ";") < maxClientCookies && !strings.Contains(values[0], a.cookieName) {
		req.Header["Cookie"] = []string{a.cookiesFirst[i] + values[0]}
	} else if !setStickyCookie(rw, req, values, a.cookieName, a.cookies[i]) {
		return
	}
	delete(req.Header, a.affinityHeader)
	for _, key := range a.forgedHeaders {
		delete(req.Header, key)
	}
	a.next.ServeHTTP(rw, req)
}

// serveStore sends a request of the device to its store's member.
func (a *Affinity) serveStore(rw http.ResponseWriter, req *http.Request, deviceID string) {
	c := a.routes
	c.mu.RLock()
	r := c.routes[deviceID]
	c.mu.RUnlock()
	if r == nil {
		if r = a.newRoute(rw, req, deviceID); r == nil {
			return
		}
	}
	// The common case, one Cookie line within the bounds and without the sticky
	// cookie, is written out: under Yaegi a call costs more than the work.
	if values := req.Header["Cookie"]; values == nil {
		req.Header["Cookie"] = r.cookieValue
	} else if len(values) == 1 && len(values[0]) <= maxClientCookieBytes && strings.Count(values[0], ";") < maxClientCookies && !strings.Contains(values[0], a.cookieName) {
		req.Header["Cookie"] = []string{r.cookieFirst + values[0]}
	} else if !setStickyCookie(rw, req, values, a.cookieName, r.cookie) {
		return
	}
	for _, key := range a.forgedHeaders {
		delete(req.Header, key)
	}
	// The stamp's slice is shared by every request of the device: Traefik's proxy
	// copies request headers, and adds to response headers without writing into it.
	req.Header[a.affinityHeader] = r.stamp
	rw.Header()[a.affinityHeader] = r.stamp
	// Only requests that can stay open are ended when their store moves: upgrades
	// (WebSockets) and SSE streams.
	if req.Header["Upgrade"] != nil || strings.Contains(req.Header.Get("Accept"), "text/event-stream") {
		a.serveTracked(rw, req, r)
		return
	}
	a.next.ServeHTTP(rw, req)
}

// serveTracked serves a request that may stay open, under a context that ends when
// its store moves. Everything is released in defers: Traefik's proxy panics with
// http.ErrAbortHandler whenever a streamed response is cut.
func (a *Affinity) serveTracked(rw http.ResponseWriter, req *http.Request, r *route) {
	life := a.live.acquire(r.store, r.member, a.placement)
	if life == nil {
		a.next.ServeHTTP(rw, req) // the table is full: served, not tracked
		return
	}
	defer a.live.release(r.store, life)
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	stop := context.AfterFunc(life.ctx, cancel)
	defer stop()
	a.next.ServeHTTP(rw, req.WithContext(ctx))
}

// newRoute computes a device's route and caches it. For a bad device ID it answers 400
// (or serves the request round-robin, as configured) and returns nil.
func (a *Affinity) newRoute(rw http.ResponseWriter, req *http.Request, deviceID string) *route {
	store, err := storeOf(a.settings.stores, deviceID)
	if err != nil {
		a.serveBadDeviceID(rw, req, err)
		return nil
	}
	i := a.settings.picker.Pick(store)
	r := &route{
		cookie:      a.cookies[i],
		cookieValue: a.cookieValues[i],
		cookieFirst: a.cookiesFirst[i],
		stamp:       []string{"store=" + store + "; member=" + a.names[i]},
		store:       store,
		member:      a.names[i],
	}
	a.routes.put(deviceID, r)
	return r
}
