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
	member      string
}

// routeCache maps device IDs to their routes under one placement. It is shared by the
// middleware instances Traefik builds with that placement.
type routeCache struct {
	mu     sync.RWMutex
	routes map[string]*route
}

func newRouteCache() *routeCache { return &routeCache{routes: map[string]*route{}} }

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
