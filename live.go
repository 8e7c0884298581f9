package storeaffinity

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// maxTrackedStores bounds the stores whose live requests one middleware tracks at
// once. A store is tracked only while it has a live request, so the bound is used up
// only by that many streams held open at the same time, never for good. Requests of
// further stores are served but not ended on a membership change.
const maxTrackedStores = 200000

// storeLife is the lifetime of a store's live requests on one member. Its context is
// the parent of every live request of the store, and ends when the store moves.
type storeLife struct {
	ctx      context.Context
	cancel   context.CancelFunc
	member   string
	requests int // live requests holding it; guarded by liveStores.mu
}

func newStoreLife(member string) *storeLife {
	ctx, cancel := context.WithCancel(context.Background())
	return &storeLife{ctx: ctx, cancel: cancel, member: member}
}

// endAfter ends the store's live requests after grace; a zero grace keeps them.
func (l *storeLife) endAfter(grace time.Duration) {
	if grace > 0 {
		time.AfterFunc(grace, l.cancel)
	}
}

// liveStores tracks the live requests of one middleware name. Traefik rebuilds a
// middleware on every configuration change, so this state lives at package level,
// where successive instances of the same name find it.
type liveStores struct {
	mu        sync.Mutex
	placement string // everything that decides a device's route, for the newest instance
	grace     time.Duration
	lives     map[string]*storeLife // by store
	routes    *routeCache           // routes under placement
	// turn is the round-robin turn of stateless requests: kept here, it goes on where
	// the replaced instance left it, instead of sending the first request after every
	// rebuild to the same member.
	turn atomic.Uint64
}

var (
	liveMu     sync.Mutex
	liveByName = map[string]*liveStores{}
)

// trackLive returns the live stores of name and the route cache of placement, and
// applies the newest placement: when it differs from the previous one, the live
// requests of every store whose member changed are ended after grace. The check runs in
// the background, so that New stays cheap.
func trackLive(name, placement string, picker hashing.Picker, grace time.Duration) (*liveStores, *routeCache) {
	liveMu.Lock()
	ls := liveByName[name]
	if ls == nil {
		ls = &liveStores{lives: map[string]*storeLife{}}
		liveByName[name] = ls
	}
	liveMu.Unlock()

	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.grace = grace
	if ls.placement == placement {
		return ls, ls.routes
	}
	ls.placement = placement
	ls.routes = newRouteCache()
	snapshot := make(map[string]*storeLife, len(ls.lives))
	for store, life := range ls.lives {
		snapshot[store] = life
	}
	go ls.endMoved(placement, picker, snapshot)
	return ls, ls.routes
}

// endMoved ends, after the grace period, the live requests of the stores in snapshot
// whose member under picker differs from the one they run on.
func (ls *liveStores) endMoved(placement string, picker hashing.Picker, snapshot map[string]*storeLife) {
	names := picker.Members()
	for store, life := range snapshot {
		if names[picker.Pick(store)] == life.member {
			continue
		}
		ls.mu.Lock()
		if ls.placement != placement {
			ls.mu.Unlock()
			return // a newer placement checks every store again
		}
		if ls.lives[store] == life {
			delete(ls.lives, store)
			life.endAfter(ls.grace)
		}
		ls.mu.Unlock()
	}
}

// acquire returns the lifetime for a live request of store routed to member by
// placement, and counts the request, or returns nil when no more stores can be
// tracked. A request routed by an outdated placement (an instance Traefik is
// replacing) gets a lifetime of its own that ends after the grace period.
func (ls *liveStores) acquire(store, member, placement string) *storeLife {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if placement != ls.placement {
		life := newStoreLife(member)
		life.endAfter(ls.grace)
		return life
	}
	current := ls.lives[store]
	if current != nil && current.member == member {
		current.requests++
		return current
	}
	if current != nil {
		delete(ls.lives, store)
		current.endAfter(ls.grace)
	} else if len(ls.lives) >= maxTrackedStores {
		return nil
	}
	life := newStoreLife(member)
	life.requests = 1
	ls.lives[store] = life
	return life
}

// release ends a request's hold on life; the store is no longer tracked once its last
// live request has ended.
func (ls *liveStores) release(store string, life *storeLife) {
	ls.mu.Lock()
	life.requests--
	if life.requests <= 0 && ls.lives[store] == life {
		delete(ls.lives, store)
	}
	ls.mu.Unlock()
}

// LiveStores returns how many stores have live requests tracked under the middleware
// name now: a store is tracked only while one of its requests is open.
func LiveStores(name string) int {
	liveMu.Lock()
	ls := liveByName[name]
	liveMu.Unlock()
	if ls == nil {
		return 0
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return len(ls.lives)
}
