package probes

// LeastAlias is the plugin alias and module name of the least store-routing
// middleware.
const LeastAlias = "least"

// leastSource is the least an interpreted middleware must do to route by store through
// Traefik's sticky weighted service: find the device segment with one regular
// expression, look its route up under a read lock, put the member's sticky cookie
// before the client's cookies, stamp the request and the response, and call next; a
// request without a device ID gets the next member's cookie in turn. It has none of
// storeaffinity's checks (cookie bounds, forged stamps, two device IDs, encodings) and
// tracks no live request, so its cost is a lower bound for any interpreted design that
// routes this way.
const leastSource = `package least

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
)

// Config names the members, their weighted service's sticky cookie and the prefix
// that the device segment follows.
type Config struct {
	Members      []string
	StickyCookie string
	Prefix       string
}

// CreateConfig returns an empty configuration.
func CreateConfig() *Config { return &Config{} }

type route struct {
	cookieFirst string
	stamp       []string
}

type least struct {
	next    http.Handler
	pattern *regexp.Regexp
	first   []string
	mu      sync.RWMutex
	routes  map[string]*route
	turn    atomic.Uint64
	count   uint64
	// Under Yaegi a call through a func field costs less than a method call.
	serveStore func(http.ResponseWriter, *http.Request, string)
	serveAny   func(http.ResponseWriter, *http.Request)
}

// New builds the middleware.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	l := &least{next: next, routes: map[string]*route{}, count: uint64(len(config.Members)),
		pattern: regexp.MustCompile("^" + regexp.QuoteMeta(config.Prefix) + "/([^/]+)")}
	for _, m := range config.Members {
		sum := sha256.Sum256([]byte(m))
		l.first = append(l.first, config.StickyCookie+"="+hex.EncodeToString(sum[:8])+"; ")
	}
	l.serveStore, l.serveAny = l.routeStore, l.routeAny
	return l, nil
}

func (l *least) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	if m := l.pattern.FindStringSubmatch(req.URL.Path); m != nil {
		l.serveStore(rw, req, m[1])
		return
	}
	l.serveAny(rw, req)
}

func (l *least) routeStore(rw http.ResponseWriter, req *http.Request, deviceID string) {
	l.mu.RLock()
	r := l.routes[deviceID]
	l.mu.RUnlock()
	if r == nil {
		r = l.add(deviceID)
	}
	req.Header["Cookie"] = []string{r.cookieFirst + req.Header.Get("Cookie")}
	req.Header["X-Store-Affinity"] = r.stamp
	rw.Header()["X-Store-Affinity"] = r.stamp
	l.next.ServeHTTP(rw, req)
}

func (l *least) routeAny(rw http.ResponseWriter, req *http.Request) {
	req.Header["Cookie"] = []string{l.first[l.turn.Add(1)%l.count] + req.Header.Get("Cookie")}
	l.next.ServeHTTP(rw, req)
}

func (l *least) add(deviceID string) *route {
	i := crc32.ChecksumIEEE([]byte(deviceID[:5])) % uint32(l.count)
	r := &route{cookieFirst: l.first[i], stamp: []string{"store=" + deviceID[:5]}}
	l.mu.Lock()
	l.routes[deviceID] = r
	l.mu.Unlock()
	return r
}
`

// InstallLeastPlugin lays out the least store-routing middleware as the local plugin
// "least" in gopath/src/least, with its manifest.
func InstallLeastPlugin(gopath string) error {
	return installLocalPlugin(gopath, LeastAlias, leastSource)
}
