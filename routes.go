package storeaffinity

import "sync"

// maxCachedDevices bounds a route cache; a full cache starts again empty.
const maxCachedDevices = 100000

// route is everything a stateful request of one device needs, computed once.
type route struct {
	cookie string // the member's "cookieName=stickyValue"
	header string // the affinity header: "store=<id>; member=<name>"
	life   *storeLife
}

// routeCache maps raw device IDs to their routes under one placement. It is shared by
// the middleware instances Traefik builds with that placement.
type routeCache struct {
	mu     sync.RWMutex
	routes map[string]*route
}

func newRouteCache() *routeCache { return &routeCache{routes: map[string]*route{}} }

func (c *routeCache) put(rawDeviceID string, r *route) {
	c.mu.Lock()
	if len(c.routes) >= maxCachedDevices {
		c.routes = map[string]*route{}
	}
	c.routes[rawDeviceID] = r
	c.mu.Unlock()
}
