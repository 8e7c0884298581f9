package storeaffinity

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
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
	store    string
	hash     uint64 // hashing.Hash64(store): a change scores it without hashing again
	score    uint64 // its member's score for it (hashing's PickScore)
	member   string
	requests int    // live requests holding it; guarded by liveStores.mu
	ending   string // the placement that scheduled its end, or ""; guarded by liveStores.mu
	regroup  bool   // a storeIdPattern change ends it: no later placement forgives it; guarded by liveStores.mu
}

func newStoreLife(r *route) *storeLife {
	ctx, cancel := context.WithCancel(context.Background())
	return &storeLife{ctx: ctx, cancel: cancel, store: r.store, hash: r.hash, score: r.score, member: r.member.name}
}

// endAfter ends the store's live requests after grace; a zero grace keeps them.
func (l *storeLife) endAfter(grace time.Duration) {
	if grace > 0 {
		time.AfterFunc(grace, l.cancel)
	}
}

// The live requests of moved stores, and their ends: which requests are tracked, how a
// change of placement finds the stores that moved, when each ends (the grace, then
// its share of the spread), and the one log line per change.

// liveStores tracks the live requests of one middleware name. Traefik rebuilds a
// middleware on every configuration change, so this state lives at package level,
// where successive instances of the same name find it.
type liveStores struct {
	name     string
	log      io.Writer                 // where each change's line goes: os.Stdout, which Traefik logs
	refusals map[string]*atomic.Uint64 // by reason (metrics.go); filled once, read without the lock

	mu        sync.Mutex
	placement string         // everything that decides a device's route, for the newest instance
	rules     string         // the same, less the member list
	pattern   string         // its storeIdPattern
	checking  string         // the placement whose moved stores are being looked for, or ""
	picker    hashing.Picker // the newest instance's
	grace     time.Duration
	spread    time.Duration
	app       string                           // the metrics' app label
	counters  map[string]*memberCounters       // by member (metrics.go)
	lives     map[string]*storeLife            // by store
	byMember  map[string]map[string]*storeLife // by member, then store: a change reads one member at a time
	routes    *routeCache                      // routes under placement
	// turn is the round-robin turn of stateless requests: kept here, it goes on where
	// the replaced instance left it, instead of sending the first request after every
	// rebuild to the same member.
	turn atomic.Uint64
}

var (
	liveMu     sync.Mutex
	liveByName = map[string]*liveStores{}
)

// trackLive returns the live stores of name, and applies the newest placement p: it
// gives p its route cache and its members' counters. When p differs from the previous
// placement, the live requests of every store whose member changed are ended after the
// grace and the store's share of the spread; the stores are found in the background,
// so New costs the same whatever the number of live stores. When only the members
// changed, the new route cache takes over the routes of unmoved devices as they come.
func trackLive(name string, p *placement, grace, spread time.Duration) *liveStores {
	liveMu.Lock()
	ls := liveByName[name]
	if ls == nil {
		ls = &liveStores{name: name, log: os.Stdout, refusals: newRefusalCounters(), counters: map[string]*memberCounters{},
			lives: map[string]*storeLife{}, byMember: map[string]map[string]*storeLife{}}
		liveByName[name] = ls
	}
	liveMu.Unlock()

	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.grace, ls.spread = grace, spread
	ls.count(p, name)
	if ls.placement == p.key {
		p.routes = ls.routes
		return ls
	}
	previous, previousRules, previousPattern, previousRoutes := ls.picker, ls.rules, ls.pattern, ls.routes
	ls.placement, ls.rules, ls.pattern, ls.picker = p.key, p.rules, p.pattern, p.picker
	ls.routes = newRouteCache()
	p.routes = ls.routes
	if previous == nil {
		return ls
	}
	change := hashing.NewChange(previous, p.picker)
	if previousRules == p.rules {
		ls.routes.carryFrom(previousRoutes, change)
	}
	// Only the members changed, and the last change was checked to its end: score
	// the added members. Otherwise check every store against the new list: the last
	// change's moves were not all found, or the strategy changed. A new storeIdPattern
	// regroups devices into other stores: every live store ends.
	check := change
	members := previous.Members()
	if ls.checking != "" || previousRules != p.rules {
		// One assignment a statement: under Yaegi v0.16.1 a multiple one with nil
		// assigns neither.
		check = hashing.NewFullChange(p.picker)
		members = nil
	}
	ls.checking = p.key
	go ls.endMoved(p.key, check, change, members, previousPattern != p.pattern, time.Now())
	return ls
}

// endMoved schedules the end of the live requests of every store that check moves
// (every store, with endAll), reading the stores one member at a time, so that the
// lock is never held for the whole table: the members given, or, when nil, every
// member that has live stores. A newer placement stops it, and then checks every
// store itself. The log line tells of change.
func (ls *liveStores) endMoved(placement string, check, change *hashing.Change, members []string, endAll bool, changed time.Time) {
	if members == nil {
		ls.mu.Lock()
		for member := range ls.byMember {
			members = append(members, member)
		}
		ls.mu.Unlock()
	}
	moved := 0
	for _, member := range members {
		ls.mu.Lock()
		if ls.placement != placement {
			ls.mu.Unlock()
			return
		}
		n := len(ls.byMember[member])
		lives, hashes, scores := make([]*storeLife, 0, n), make([]uint64, 0, n), make([]uint64, 0, n)
		for _, life := range ls.byMember[member] {
			lives, hashes, scores = append(lives, life), append(hashes, life.hash), append(scores, life.score)
		}
		ls.mu.Unlock()
		if n == 0 {
			continue
		}
		leaving := check.Moved(member, hashes, scores) // a full check also rescores
		ls.mu.Lock()
		for i, life := range lives {
			switch {
			case ls.lives[life.store] != life:
			case endAll && life.ending != "":
				// Its end is already scheduled, by an older placement that would
				// forgive it by the old pattern's store: this one ends it.
				life.ending = placement
				life.regroup = true
				moved++
			case life.ending != "":
			case leaving[i] || endAll:
				life.regroup = endAll
				ls.scheduleEnd(life, placement, changed)
				moved++
			default:
				life.score = scores[i]
			}
		}
		ls.mu.Unlock()
	}
	ls.mu.Lock()
	if ls.checking == placement {
		ls.checking = ""
	}
	grace, spread, log := ls.grace, ls.spread, ls.log
	ls.mu.Unlock()
	logChange(log, ls.name, change, moved, grace, changed.Add(grace), changed.Add(grace+spread))
}

// scheduleEnd ends a moved store's live requests at the grace plus its share of the
// spread after the change: a fixed fraction of the store's hash, so that every proxy
// ends a store at the same moment, and all its devices together. ls.mu is held.
func (ls *liveStores) scheduleEnd(life *storeLife, placement string, changed time.Time) {
	if ls.grace <= 0 {
		return // rebalanceGrace off keeps live requests
	}
	life.ending = placement
	at := changed.Add(ls.grace + time.Duration(float64(ls.spread)*spreadShare(life.hash)))
	time.AfterFunc(time.Until(at), func() { ls.endIfMoved(life) })
}

// spreadShare returns a store's fixed place in the spread window, in [0, 1).
func spreadShare(storeHash uint64) float64 {
	x := storeHash ^ 0x9e3779b97f4a7c15 // another stream than placement's
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return float64(x>>11) / (1 << 53)
}

// endIfMoved ends a store's live requests unless the newest placement puts the store
// back on the member they run on: a member that left and came back within the grace
// (a readiness blip, a DNS flap) ends nothing.
func (ls *liveStores) endIfMoved(life *storeLife) {
	ls.mu.Lock()
	if life.ending != ls.placement && !life.regroup {
		if owner := ls.picker.Members()[ls.picker.PickHash(life.hash)]; owner == life.member {
			life.ending = ""
			ls.mu.Unlock()
			return
		}
	}
	ls.remove(life)
	if c := ls.counters[life.member]; c != nil {
		c.moved++
	}
	ls.mu.Unlock()
	life.cancel()
}

// acquire returns the lifetime for a live request of store routed to member by
// placement, and counts the request, or returns nil when no more stores can be
// tracked. A request routed by an outdated placement (an instance Traefik is
// replacing) gets a lifetime of its own that ends after the grace period.
func (ls *liveStores) acquire(r *route, placement string) *storeLife {
	store, member := r.store, r.member.name
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if placement != ls.placement {
		life := newStoreLife(r)
		life.endAfter(ls.grace)
		return life
	}
	current := ls.lives[store]
	if current != nil && current.member == member {
		current.requests++
		return current
	}
	if current != nil {
		ls.remove(current)
		current.endAfter(ls.grace)
	} else if len(ls.lives) >= maxTrackedStores {
		return nil
	}
	life := newStoreLife(r)
	life.requests = 1
	ls.lives[store] = life
	if ls.byMember[member] == nil {
		ls.byMember[member] = map[string]*storeLife{}
	}
	ls.byMember[member][store] = life
	return life
}

// release ends a request's hold on life; the store is no longer tracked once its last
// live request has ended.
func (ls *liveStores) release(life *storeLife) {
	ls.mu.Lock()
	life.requests--
	if life.requests <= 0 {
		ls.remove(life)
	}
	ls.mu.Unlock()
}

// remove stops tracking life, if it is its store's current one. ls.mu is held.
func (ls *liveStores) remove(life *storeLife) {
	if ls.lives[life.store] != life {
		return
	}
	delete(ls.lives, life.store)
	stores := ls.byMember[life.member]
	delete(stores, life.store)
	if len(stores) == 0 {
		delete(ls.byMember, life.member)
	}
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

// logChange writes one line per membership change to Traefik's log (a plugin's
// standard output, which Traefik logs at DEBUG): the members added and removed, how
// many live stores moved, and when their requests end. Never a line per store.
func logChange(w io.Writer, name string, change *hashing.Change, moved int, grace time.Duration, from, to time.Time) {
	added, removed := change.Added(), change.Removed()
	sort.Strings(removed)
	when := "keep running (rebalanceGrace off)"
	switch {
	case moved == 0:
		when = "nothing to end"
	case grace <= 0:
	case from.Equal(to):
		when = "their live requests end at " + from.UTC().Format("15:04:05.000")
	default:
		when = "their live requests end between " + from.UTC().Format("15:04:05.000") + " and " + to.UTC().Format("15:04:05.000")
	}
	_, _ = fmt.Fprintf(w, "storeaffinity %s: members +[%s] -[%s]; %d live stores moved; %s\n",
		name, strings.Join(added, " "), strings.Join(removed, " "), moved, when)
}
