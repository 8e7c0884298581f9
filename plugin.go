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
	"sync/atomic"
)

// Affinity is the middleware handler.
type Affinity struct {
	next               http.Handler
	place              *placement     // where each device goes, and the members' cookies
	pathPattern        *regexp.Regexp // a prefix, its segments with any ';' parameters, then the device segment as group 1
	plainPattern       *regexp.Regexp // a prefix without parameters, then the device segment
	deviceHeader       string         // canonical key, or "" when not configured
	deviceQuery        string         // query parameter name, or "" when not configured
	deviceQueryPattern *regexp.Regexp // every spelling of deviceQuery, in an encoded query
	deviceQueryStem    string         // the part of deviceQuery every spelling holds
	affinityHeader     string
	forgedHeaders      []string // other spellings a backend may read as affinityHeader or deviceHeader
	cookieName         string
	roundRobinBad      bool
	headerOrQuery      bool // a device-ID header or query parameter is configured
	stompPaths         map[string]bool
	stompDeviceHeader  string
	count              uint64 // members
	live               *liveStores
	turn               *atomic.Uint64                           // the round-robin turn, kept across rebuilds with the live stores
	serveUnmatched     func(http.ResponseWriter, *http.Request) // a path under no prefix
	serveNoDevice      func(http.ResponseWriter, *http.Request) // a request that names no device
}

// New builds the middleware. Traefik calls it on every dynamic configuration change,
// so it only validates the configuration and precomputes the members' cookies.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	if config.ServeMetrics {
		return metricsHandler{}, nil
	}
	s, err := config.parse()
	if err != nil {
		return nil, fmt.Errorf("storeaffinity middleware %q: %w", name, err)
	}
	if s.picker == nil {
		return &noMembers{next: next, affinityHeader: s.affinityHeader, forgedHeaders: s.forgedHeaders, cookieName: s.cookieName}, nil
	}
	a := &Affinity{
		next:               next,
		place:              newPlacement(s),
		pathPattern:        prefixPattern(s.prefixes, true),
		plainPattern:       prefixPattern(s.prefixes, false),
		deviceHeader:       s.deviceHeader,
		deviceQuery:        s.deviceQuery,
		deviceQueryPattern: queryNamePattern(s.deviceQuery),
		deviceQueryStem:    queryStem(s.deviceQuery),
		affinityHeader:     s.affinityHeader,
		forgedHeaders:      s.forgedHeaders,
		cookieName:         s.cookieName,
		roundRobinBad:      s.roundRobinBad,
		headerOrQuery:      s.deviceHeader != "" || s.deviceQuery != "",
		stompPaths:         s.stompPaths,
		stompDeviceHeader:  s.stompDeviceHeader,
	}
	a.count = uint64(len(a.place.members))
	// The dispatch of a path under no prefix (serveUnmatched), chosen once: without a
	// device-ID header or query parameter it is stateless, unless a STOMP upgrade names
	// its device in its CONNECT frame (serveNoDevice); with one, it reads them. These
	// are method values, which Yaegi calls for less than a method; a device's path is
	// tested and served by functions, which cost less still (request.go).
	a.serveNoDevice = a.serveRoundRobin
	if len(a.stompPaths) != 0 {
		a.serveNoDevice = a.serveNoDeviceStomp
	}
	a.serveUnmatched = a.serveNoDevice
	if a.headerOrQuery {
		a.serveUnmatched = a.serveHeaderOrQuery
	}
	a.live = trackLive(name, a.place, s.grace, s.spread)
	a.turn = &a.live.turn
	return a, nil
}
