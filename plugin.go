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
	pathFilter     string         // common prefix of the device-affinity prefixes
	pathPattern    *regexp.Regexp // a prefix, then the device segment as group 1
	deviceHeader   string         // canonical key, or "" when not configured
	deviceQuery    string         // query parameter name, or "" when not configured
	queryFilter    string         // "name=", a cheap pre-check on the raw query
	affinityHeader string
	cookieName     string
	roundRobinBad  bool
	placement      string
	settings       *settings
	names          []string
	cookies        []string // per member: "cookieName=stickyValue"
	headerOrQuery  bool     // a device-ID header or query parameter is configured
	count          uint64
	live           *liveStores
	routes         *routeCache
	turn           atomic.Uint64
}

// New builds the middleware. Traefik calls it on every dynamic configuration change,
// so it only validates the configuration and precomputes the members' cookies.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	s, err := config.parse()
	if err != nil {
		return nil, fmt.Errorf("storeaffinity middleware %q: %w", name, err)
	}
	if s.picker == nil {
		return &noMembers{next: next, affinityHeader: s.affinityHeader, cookieName: s.cookieName}, nil
	}
	a := &Affinity{
		next:           next,
		pathFilter:     commonPrefix(s.prefixes),
		pathPattern:    prefixPattern(s.prefixes),
		deviceQuery:    s.deviceQuery,
		affinityHeader: s.affinityHeader,
		cookieName:     s.cookieName,
		roundRobinBad:  s.roundRobinBad,
		placement:      s.placement(),
		settings:       s,
		names:          s.picker.Members(),
	}
	if s.deviceHeader != "" {
		a.deviceHeader = http.CanonicalHeaderKey(s.deviceHeader)
	}
	if s.deviceQuery != "" {
		a.queryFilter = s.deviceQuery + "="
	}
	for _, n := range a.names {
		a.cookies = append(a.cookies, s.cookieName+"="+StickyValue(n))
	}
	a.count = uint64(len(a.cookies))
	a.headerOrQuery = a.deviceHeader != "" || a.queryFilter != ""
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
	if strings.HasPrefix(req.URL.Path, a.pathFilter) {
		a.servePath(rw, req)
		return
	}
	if a.headerOrQuery {
		a.serveHeaderOrQuery(rw, req)
		return
	}
	a.serveRoundRobin(rw, req)
}

// servePath serves a request whose path may be under a device-affinity prefix; the
// device ID is the (still percent-encoded) segment after the prefix.
func (a *Affinity) servePath(rw http.ResponseWriter, req *http.Request) {
	match := a.pathPattern.FindStringSubmatch(req.URL.EscapedPath())
	if match != nil {
		a.serveStore(rw, req, match[1])
		return
	}
	if a.headerOrQuery {
		a.serveHeaderOrQuery(rw, req)
		return
	}
	a.serveRoundRobin(rw, req)
}

// serveHeaderOrQuery serves a request that may carry the device ID in the configured
// header or query parameter.
func (a *Affinity) serveHeaderOrQuery(rw http.ResponseWriter, req *http.Request) {
	if values := req.Header[a.deviceHeader]; values != nil {
		a.serveStore(rw, req, values[0])
		return
	}
	if a.queryFilter != "" && strings.Contains(req.URL.RawQuery, a.queryFilter) {
		if values := req.URL.Query()[a.deviceQuery]; values != nil {
			a.serveStore(rw, req, values[0])
			return
		}
	}
	a.serveRoundRobin(rw, req)
}

// serveRoundRobin sends a stateless request to the next member in turn.
func (a *Affinity) serveRoundRobin(rw http.ResponseWriter, req *http.Request) {
	delete(req.Header, a.affinityHeader)
	cookie := a.cookies[a.turn.Add(1)%a.count]
	if req.Header["Cookie"] != nil {
		cookie = withStickyCookie(req.Header["Cookie"], a.cookieName, cookie)
	}
	req.Header["Cookie"] = []string{cookie}
	a.next.ServeHTTP(rw, req)
}

// serveStore sends a request of the device to its store's member.
func (a *Affinity) serveStore(rw http.ResponseWriter, req *http.Request, rawDeviceID string) {
	c := a.routes
	c.mu.RLock()
	r := c.routes[rawDeviceID]
	c.mu.RUnlock()
	if r == nil {
		r = a.newRoute(rw, req, rawDeviceID)
		if r == nil {
			return
		}
	}
	req.Header[a.affinityHeader] = []string{r.header}
	rw.Header()[a.affinityHeader] = []string{r.header}
	if req.Header["Cookie"] != nil {
		req.Header["Cookie"] = []string{withStickyCookie(req.Header["Cookie"], a.cookieName, r.cookie)}
	} else {
		req.Header["Cookie"] = []string{r.cookie}
	}
	// Only requests that can stay open are ended when their store moves: upgrades
	// (WebSockets) and SSE streams.
	if r.life != nil && (req.Header["Upgrade"] != nil || strings.Contains(req.Header.Get("Accept"), "text/event-stream")) {
		a.serveTracked(rw, req, r.life)
		return
	}
	a.next.ServeHTTP(rw, req)
}

// serveTracked serves a request that may stay open, under a context that ends when
// its store moves.
func (a *Affinity) serveTracked(rw http.ResponseWriter, req *http.Request, life *storeLife) {
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(life.ctx, cancel)
	a.next.ServeHTTP(rw, req.WithContext(ctx))
	stop()
	cancel()
}

// newRoute computes a device's route and caches it. For a bad device ID it answers 400
// (or serves the request round-robin, as configured) and returns nil.
func (a *Affinity) newRoute(rw http.ResponseWriter, req *http.Request, rawDeviceID string) *route {
	store, err := storeOf(a.settings.stores, rawDeviceID)
	if err != nil {
		if a.roundRobinBad {
			a.serveRoundRobin(rw, req)
		} else {
			http.Error(rw, "storeaffinity: "+err.Error(), http.StatusBadRequest)
		}
		return nil
	}
	i := a.settings.picker.Pick(store)
	r := &route{
		cookie: a.cookies[i],
		header: "store=" + store + "; member=" + a.names[i],
		life:   a.live.life(store, a.names[i], a.placement),
	}
	a.routes.put(rawDeviceID, r)
	return r
}
