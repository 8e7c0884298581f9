package storeaffinity

import (
	"strings"
	"sync"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// placement decides where devices go under one configuration: it owns the picker,
// the store deriver, the members (their names, cookies and counters), the stamp, and
// the route cache that the instances Traefik builds with the same placement share.
// routeOf is the one way from a device ID to its member; it never answers a request.
type placement struct {
	key     string // everything that decides a device's route
	rules   string // the same, less the member list
	pattern string // storeIdPattern
	stores  *hashing.StoreDeriver
	picker  hashing.Picker
	members []*member // in the picker's order
	stamp   string    // responseStamp
	app     string    // the metrics' app label
	routes  *routeCache
}

// member is what a request needs of one member.
type member struct {
	name        string
	cookie      string   // "cookieName=stickyValue"
	cookieValue []string // the Cookie header of a request without cookies, shared
	cookieFirst string   // cookie + "; ", put before the client's cookies
	stateful    *uint64  // its count of stateful requests (metrics.go), atomic
	stateless   *uint64  // its count of stateless requests, atomic
}

// route is everything a stateful request of one device needs, computed once.
type route struct {
	member *member
	stamp  []string // the affinity header, "store=<id>; member=<name>", shared
	shown  []string // the affinity header the client gets (responseStamp), nil for none
	store  string
	hash   uint64 // hashing.Hash64(store)
	score  uint64 // the member's score for the store (hashing's PickScore)
}

// newPlacement returns the placement of validated settings; its route cache and its
// members' counters come from the live stores of its middleware name (trackLive).
func newPlacement(s *settings) *placement {
	p := &placement{key: s.placement(), rules: s.rules(), pattern: s.storePattern, stores: s.stores, picker: s.picker, stamp: s.responseStamp, app: s.app}
	for _, name := range s.picker.Members() {
		pair := s.cookieName + "=" + StickyValue(name)
		p.members = append(p.members, &member{name: name, cookie: pair, cookieValue: []string{pair}, cookieFirst: pair + "; "})
	}
	return p
}

// routeOf returns the route of a device: cached, carried over from the placement
// before the last change of members when its store did not move, or new. A bad
// device ID gets an error with a one-line reason.
//
// The request path (serveStore) and the STOMP session (stompRoute) each call it once.
// It and the two it calls are functions, not methods: under Yaegi v0.16.1 a method
// call with two arguments costs 31 allocations, the call of a function with the same
// three values 11 (make bench-yaegi's InterpretedConstructs).
func routeOf(p *placement, deviceID string) (*route, error) {
	c := p.routes
	c.mu.RLock()
	r := c.routes[deviceID]
	c.mu.RUnlock()
	if r != nil {
		return r, nil
	}
	if r = carried(c, deviceID); r != nil {
		return r, nil
	}
	return newRoute(p, deviceID)
}

// newRoute computes a device's route and caches it.
func newRoute(p *placement, deviceID string) (*route, error) {
	deviceID, store, err := storeOf(p.stores, deviceID)
	if err != nil {
		return nil, err
	}
	hash := hashing.Hash64(store)
	i, score := p.picker.PickScore(hash)
	m := p.members[i]
	r := &route{member: m, stamp: []string{"store=" + store + "; member=" + m.name}, store: store, hash: hash, score: score}
	switch p.stamp {
	case stampMember:
		r.shown = r.stamp
	case stampStore:
		r.shown = []string{"store=" + store}
	}
	p.routes.put(deviceID, r)
	return r, nil
}

// storeOf checks a device ID and derives its store, or returns an error with a
// one-line reason. The device ID it returns is a copy, and the store a substring of
// that copy: the request's device ID is a substring of its request line, which a cached
// route must not keep alive.
func storeOf(stores *hashing.StoreDeriver, deviceID string) (owned, store string, err error) {
	if err := hashing.CheckDeviceID(deviceID); err != nil {
		return "", "", err
	}
	owned = strings.Clone(deviceID)
	store, err = stores.Store(owned)
	return owned, store, err
}

// maxCachedDevices bounds a route cache; a full cache starts again empty.
const maxCachedDevices = 100000

// routeCache maps device IDs to their routes under one placement.
type routeCache struct {
	mu     sync.RWMutex
	routes map[string]*route
	// previous is the cache of the placement before, whose routes of unmoved stores
	// this one takes over as their devices come (only the members changed); nil once
	// the next change comes, so that caches never chain.
	previous *routeCache
	change   *hashing.Change
}

func newRouteCache() *routeCache { return &routeCache{routes: map[string]*route{}} }

// carryFrom lets c take over previous's routes of the stores that change leaves where
// they are.
func (c *routeCache) carryFrom(previous *routeCache, change *hashing.Change) {
	// One assignment a statement: Yaegi v0.16.1 panics on a multiple one of nils.
	previous.mu.Lock()
	previous.previous = nil
	previous.mu.Unlock()
	c.previous = previous
	c.change = change
}

// carried returns the route of deviceID under the placement before the last change
// of members when its store did not move, and caches it; or nil.
func carried(c *routeCache, deviceID string) *route {
	c.mu.RLock()
	previous := c.previous
	c.mu.RUnlock()
	if previous == nil {
		return nil
	}
	previous.mu.RLock()
	r := previous.routes[deviceID]
	previous.mu.RUnlock()
	if r == nil || c.change.Moves(r.hash, r.member.name) { // c.change is set before c is shared
		return nil
	}
	c.put(strings.Clone(deviceID), r) // the request's device ID is a substring of its request line
	return r
}

func (c *routeCache) put(deviceID string, r *route) {
	c.mu.Lock()
	if len(c.routes) >= maxCachedDevices {
		c.routes = map[string]*route{}
	}
	c.routes[deviceID] = r
	c.mu.Unlock()
}
