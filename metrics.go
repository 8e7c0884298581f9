package storeaffinity

import (
	"github.com/storeaffinity/storeaffinity/wire"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// The middleware's own metrics, in Prometheus's text format. Traefik counts no
// plugin's sessions and a plugin cannot add to Traefik's metrics, so a middleware
// built with serveMetrics answers every request with the metrics of every
// storeaffinity middleware of this Traefik (package-level state, shared by them all).
// The provider routes it on an entry point the operator names, never on an app's.

// memberCounters counts the requests of one member under one middleware name. The
// request path adds to its counts with atomic.AddUint64, without a lock: under Yaegi
// that costs one allocation fewer than atomic.Uint64's Add.
type memberCounters struct {
	stateful  uint64
	stateless uint64
	moved     uint64 // stores whose live requests ended because they left it; guarded by liveStores.mu
}

// Refusal reasons, the bounded set of the refusals' reason label.
const (
	reasonDeviceID   = "bad_device_id"
	reasonTwoDevices = "two_device_ids"
	reasonEncoding   = "path_encoding"
	reasonQuery      = "query"
	reasonCookies    = "cookies"
	reasonHandshake  = "websocket_handshake"
	reasonConnect    = "stomp_connect"
)

var refusalReasons = []string{reasonDeviceID, reasonTwoDevices, reasonEncoding, reasonQuery, reasonCookies, reasonHandshake, reasonConnect}

// reasonOf returns the reason label of a refusal's error.
func reasonOf(err error) string {
	switch err {
	case errDeviceIDTwice, errHeaderRepeated, errQueryParamRepeat:
		return reasonTwoDevices
	case errEncodedPrefix, errPathParameters, errEncodedSlash, errStompPathParameters, errBadPathEncoding:
		return reasonEncoding
	case errQueryTooLong, errQueryBadEscape:
		return reasonQuery
	case wire.ErrNotWebSocket, wire.ErrWebSocketKey, wire.ErrNoStompOffer, wire.ErrUpgradeBody:
		return reasonHandshake
	}
	return reasonDeviceID
}

// newRefusalCounters returns a counter for each refusal reason.
func newRefusalCounters() map[string]*atomic.Uint64 {
	counters := map[string]*atomic.Uint64{}
	for _, reason := range refusalReasons {
		counters[reason] = &atomic.Uint64{}
	}
	return counters
}

// countersFor returns the counters of members, in their order, and forgets those of
// members that are gone and have no live stores. ls.mu is held.
func (ls *liveStores) countersFor(members []string) []*memberCounters {
	current := map[string]bool{}
	counters := make([]*memberCounters, len(members))
	for i, member := range members {
		current[member] = true
		if ls.counters[member] == nil {
			ls.counters[member] = &memberCounters{}
		}
		counters[i] = ls.counters[member]
	}
	for member := range ls.counters {
		if !current[member] && len(ls.byMember[member]) == 0 {
			delete(ls.counters, member)
		}
	}
	return counters
}

// metricsHandler serves the metrics of every storeaffinity middleware of this Traefik.
type metricsHandler struct{}

// ServeHTTP writes the metrics in Prometheus's text format.
func (metricsHandler) ServeHTTP(rw http.ResponseWriter, _ *http.Request) {
	rw.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = io.WriteString(rw, metricsText())
}

// metricFamilies are the families, in the order they are written: name, type, help.
var metricFamilies = [][3]string{
	{"storeaffinity_members", "gauge", "Members of the app's weighted service, as this Traefik replica routes by them."},
	{"storeaffinity_live_sessions", "gauge", "Live requests (WebSockets, STOMP sessions, SSE streams) that this Traefik replica holds open to the member."},
	{"storeaffinity_live_stores", "gauge", "Stores with live requests that this Traefik replica holds open to the member."},
	{"storeaffinity_requests_total", "counter", "Requests through the affinity middleware: routed by store (stateful), round-robin (stateless), or refused."},
	{"storeaffinity_refusals_total", "counter", "Requests the affinity middleware refused, by reason."},
	{"storeaffinity_moved_stores_total", "counter", "Stores whose live requests this Traefik replica ended because they moved away from the member."},
}

// metricsText returns the metrics of every middleware name, each family once.
func metricsText() string {
	liveMu.Lock()
	names := make([]string, 0, len(liveByName))
	for name := range liveByName {
		names = append(names, name)
	}
	all := make([]*liveStores, 0, len(names))
	sort.Strings(names)
	for _, name := range names {
		all = append(all, liveByName[name])
	}
	liveMu.Unlock()
	samples := make([][]string, len(metricFamilies))
	for _, ls := range all {
		ls.mu.Lock()
		ls.addSamples(samples)
		ls.mu.Unlock()
	}
	var b strings.Builder
	for i, family := range metricFamilies {
		b.WriteString("# HELP " + family[0] + " " + family[2] + "\n# TYPE " + family[0] + " " + family[1] + "\n")
		for _, sample := range samples[i] {
			b.WriteString(sample)
		}
	}
	return b.String()
}

// addSamples adds the middleware's samples to each family's. ls.mu is held.
func (ls *liveStores) addSamples(samples [][]string) {
	if ls.picker == nil {
		return
	}
	app := `app="` + labelValue(ls.app) + `"`
	samples[0] = append(samples[0], sample("storeaffinity_members", app, uint64(len(ls.picker.Members()))))
	members := make([]string, 0, len(ls.counters))
	for member := range ls.counters {
		members = append(members, member)
	}
	sort.Strings(members)
	for _, member := range members {
		labels := app + `,member="` + labelValue(strings.TrimPrefix(member, ls.app+"-")) + `"`
		sessions := 0
		for _, life := range ls.byMember[member] {
			sessions += life.requests
		}
		c := ls.counters[member]
		samples[1] = append(samples[1], sample("storeaffinity_live_sessions", labels, uint64(sessions)))
		samples[2] = append(samples[2], sample("storeaffinity_live_stores", labels, uint64(len(ls.byMember[member]))))
		samples[3] = append(samples[3], sample("storeaffinity_requests_total", labels+`,kind="stateful"`, atomic.LoadUint64(&c.stateful)),
			sample("storeaffinity_requests_total", labels+`,kind="stateless"`, atomic.LoadUint64(&c.stateless)))
		samples[5] = append(samples[5], sample("storeaffinity_moved_stores_total", labels, c.moved))
	}
	refused := uint64(0)
	for _, reason := range refusalReasons {
		n := ls.refusals[reason].Load()
		refused += n
		samples[4] = append(samples[4], sample("storeaffinity_refusals_total", app+`,reason="`+reason+`"`, n))
	}
	samples[3] = append(samples[3], sample("storeaffinity_requests_total", app+`,kind="refused"`, refused))
}

func sample(name, labels string, value uint64) string {
	return name + "{" + labels + "} " + strconv.FormatUint(value, 10) + "\n"
}

// labelValue escapes a label value as the text format asks: '\', '"' and newlines.
func labelValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// count gives p's members their counters and sets the app label: p's app, or the
// middleware's name. ls.mu is held.
func (ls *liveStores) count(p *placement, name string) {
	ls.app = p.app
	if ls.app == "" {
		ls.app = name
	}
	names := make([]string, len(p.members))
	for i, m := range p.members {
		names[i] = m.name
	}
	for i, c := range ls.countersFor(names) {
		p.members[i].stateful = &c.stateful
		p.members[i].stateless = &c.stateless
	}
}
