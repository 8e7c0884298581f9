// Package storeaffinity is a Traefik middleware plugin that sends every device of a
// store to the same member of a sticky weighted service, chosen by rendezvous hashing
// of the store ID over the member names, and spreads stateless requests round-robin.
//
// Traefik interprets this package with Yaegi: it imports the standard library only
// (and this module's hashing package), and never wraps the http.ResponseWriter.
package storeaffinity

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
)

// Affinity is the middleware handler.
type Affinity struct {
	next           http.Handler
	prefixes       []string
	deviceHeader   string
	deviceQuery    string
	affinityHeader string
	cookieName     string
	roundRobinBad  bool
	placement      string
	settings       *settings
	members        []member
	live           *liveStores
	routes         *routeCache
	turn           atomic.Uint64
}

// member is a child service with its precomputed cookie.
type member struct {
	name   string
	cookie string // "cookieName=stickyValue"
}

// New builds the middleware. Traefik calls it on every dynamic configuration change,
// so it only validates the configuration and precomputes the members' cookies.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	s, err := config.parse()
	if err != nil {
		return nil, fmt.Errorf("storeaffinity middleware %q: %w", name, err)
	}
	names := s.picker.Members()
	a := &Affinity{
		next:           next,
		prefixes:       s.prefixes,
		deviceHeader:   http.CanonicalHeaderKey(s.deviceHeader),
		deviceQuery:    s.deviceQuery,
		affinityHeader: s.affinityHeader,
		cookieName:     s.cookieName,
		roundRobinBad:  s.roundRobinBad,
		placement:      s.placement(),
		settings:       s,
		members:        make([]member, len(names)),
	}
	for i, n := range names {
		a.members[i] = member{name: n, cookie: s.cookieName + "=" + StickyValue(n)}
	}
	a.live, a.routes = trackLive(name, a.placement, s.picker, s.grace)
	return a, nil
}

// ServeHTTP stamps the request with its member's sticky cookie and passes rw on unchanged.
func (a *Affinity) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	rawDeviceID, stateful := a.deviceID(req)
	if !stateful {
		a.serveRoundRobin(rw, req)
		return
	}
	r, err := a.route(rawDeviceID)
	if err != nil {
		if a.roundRobinBad {
			a.serveRoundRobin(rw, req)
			return
		}
		http.Error(rw, "storeaffinity: "+err.Error(), http.StatusBadRequest)
		return
	}
	req.Header[a.affinityHeader] = r.header
	rw.Header()[a.affinityHeader] = r.header
	setStickyCookie(req.Header, a.cookieName, r.cookie)
	if r.life == nil {
		a.next.ServeHTTP(rw, req)
		return
	}
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(r.life.ctx, cancel)
	a.next.ServeHTTP(rw, req.WithContext(ctx))
	stop()
	cancel()
}

// serveRoundRobin sends a stateless request to the next member in turn.
func (a *Affinity) serveRoundRobin(rw http.ResponseWriter, req *http.Request) {
	delete(req.Header, a.affinityHeader)
	m := a.members[a.turn.Add(1)%uint64(len(a.members))]
	setStickyCookie(req.Header, a.cookieName, m.cookie)
	a.next.ServeHTTP(rw, req)
}

// route returns the device's route, computing and caching it on first use.
func (a *Affinity) route(rawDeviceID string) (*route, error) {
	if r := a.routes.get(rawDeviceID); r != nil {
		return r, nil
	}
	store, err := storeOf(a.settings.stores, rawDeviceID)
	if err != nil {
		return nil, err
	}
	m := a.members[a.settings.picker.Pick(store)]
	r := &route{
		cookie: m.cookie,
		header: []string{"store=" + store + "; member=" + m.name},
		life:   a.live.life(store, m.name, a.placement),
	}
	a.routes.put(rawDeviceID, r)
	return r, nil
}
