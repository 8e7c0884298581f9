package storeaffinity

import (
	"strings"
	"sync"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// maxCachedDevices bounds a route cache; a full cache starts again empty.
const maxCachedDevices = 100000

// route is everything a stateful request of one device needs, computed once.
type route struct {
	cookie      string   // the member's "cookieName=stickyValue"
	cookieValue []string // the Cookie header of a request without cookies, shared
	cookieFirst string   // cookie + "; ", put before the client's cookies
	stamp       []string // the affinity header, "store=<id>; member=<name>", shared
	shown       []string // the affinity header the client gets (responseStamp), nil for none
	store       string
	hash        uint64 // hashing.Hash64(store)
	score       uint64 // the member's score for the store (hashing's PickScore)
	member      string
	requests    *uint64 // the member's count of stateful requests (metrics.go), atomic
}

// routeCache maps device IDs to their routes under one placement. It is shared by the
// middleware instances Traefik builds with that placement.
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
func (c *routeCache) carried(deviceID string) *route {
	c.mu.RLock()
	previous := c.previous
	c.mu.RUnlock()
	if previous == nil {
		return nil
	}
	previous.mu.RLock()
	r := previous.routes[deviceID]
	previous.mu.RUnlock()
	if r == nil || c.change.Moves(r.hash, r.member) { // c.change is set before c is shared
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
