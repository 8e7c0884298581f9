package chaos

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

// The scenario's parameters. A dead replica leaves the member list after
// healthFails probes, one every healthInterval; servedBound is the spec's bound for
// every store to be served again after a kill.
const (
	app            = "pos"
	storeCount     = 200
	healthInterval = 500 * time.Millisecond
	healthFails    = 2
	rebalanceGrace = time.Second
	servedBound    = healthFails*healthInterval + 2*time.Second
	settle         = rebalanceGrace + 5*time.Second
	downFor        = 5 * time.Second // how long a stopped replica stays down
	restEvery      = 500 * time.Millisecond
	sampleEvery    = 100 * time.Millisecond
)

var replicaNames = []string{"pos-0", "pos-1", "pos-2"}

// TestStoresFailOverAndComeBackWholeWhenReplicasDie: 200 stores, each with a POS
// WebSocket through Traefik A and a CX WebSocket through Traefik B and REST calls
// through both, while replica processes die. Phase 1 kills (SIGKILL) the replica that
// owns the most stores and starts it again on its port 5 s later; phase 2 restarts
// every replica in turn (SIGTERM, 5 s down, start again). After every stop, the dead
// replica's stores are served again within fails x interval + 2 s by their next-ranked
// member and no other store sees an error or a reconnection; after every change, once
// its transition is over (that bound after a stop, rebalanceGrace + 5 s after a
// start), no store is split, both proxies name the same member for every store, and
// every store is whole on its rendezvous owner, its original one once all replicas run.
func TestStoresFailOverAndComeBackWholeWhenReplicasDie(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c := startCluster(ctx, t)
	stores := fleet.StoreIDs(storeCount)
	original := placement(t, stores, replicaNames)

	proxyA, proxyB := fleet.NewClient(c.proxies[0].WebURL), fleet.NewClient(c.proxies[1].WebURL)
	f := fleet.ConnectVia(ctx, stores, proxyA, proxyB)
	defer f.Close()
	waitSockets(t, f, original, 30*time.Second)
	pos, cx := fleet.NewClient(c.proxies[0].WebURL), fleet.NewClient(c.proxies[1].WebURL)
	var devices []string
	for _, store := range stores {
		devices = append(devices, fleet.Devices(store)...)
	}
	// Each store's POS calls through one proxy and its CX through the other.
	load := fleet.StartLoad(ctx, devices, func(device string) *fleet.Client {
		if strings.HasSuffix(device, "-"+fleet.CX) {
			return cx
		}
		return pos
	}, restEvery)
	defer load.Stop()
	time.Sleep(restEvery + 500*time.Millisecond) // every device has made a REST call
	rec := startRecorder(ctx, c, f, load, stores)
	defer rec.stop()
	began := time.Now()
	time.Sleep(2 * time.Second) // a baseline before the first change

	victim := busiest(original)
	var changes []*change
	record := func(ch *change) {
		ch.dialErrors = dialErrors(f)
		changes = append(changes, ch)
	}
	up := func(except string) []string {
		var live []string
		for _, name := range replicaNames {
			if name != except {
				live = append(live, name)
			}
		}
		return live
	}
	restart := func(phase int, name string, stopped time.Time) {
		time.Sleep(time.Until(stopped.Add(downFor)))
		ch := &change{phase: phase, what: "start " + name, replica: name, live: replicaNames}
		ch.at = c.start(name)
		ch.healthy = time.Now()
		record(ch)
		time.Sleep(time.Until(ch.at.Add(settle + time.Second))) // settle, then one more second to check
	}

	// Phase 1: a crash. The replica's process is killed; it comes back on its port.
	ch := &change{phase: 1, what: "kill -9 " + victim, replica: victim, down: true, live: up(victim)}
	record(ch)
	ch.at = c.stop(victim, syscall.SIGKILL)
	restart(1, victim, ch.at)

	// Phase 2: a rolling restart, one replica after the other.
	for _, name := range replicaNames {
		ch := &change{phase: 2, what: "SIGTERM " + name, replica: name, down: true, live: up(name)}
		record(ch)
		ch.at = c.stop(name, syscall.SIGTERM)
		restart(2, name, ch.at)
	}

	end := time.Now()
	endErrors := dialErrors(f)
	load.Stop()
	rec.stop()
	f.Close()
	time.Sleep(200 * time.Millisecond) // let the replicas log the closed WebSockets
	reports := c.reports()

	a := &analysis{t: t, stores: stores, original: original, fleet: f, load: load, rec: rec, reports: reports}
	a.baseline(began, changes[0].at)
	for i, ch := range changes {
		ch.next, ch.nextErrors = end, endErrors
		if i+1 < len(changes) {
			ch.next, ch.nextErrors = changes[i+1].at, changes[i+1].dialErrors
		}
		a.check(ch, changes[i-i%2]) // each start is timed from the stop before it
	}
	a.perPhase()
	for i, proxy := range c.proxies {
		for _, line := range strings.Split(proxy.Log(), "\n") {
			if strings.Contains(line, "panicThreshold") {
				t.Logf("Traefik %c's log: %s", 'A'+i, line)
			}
		}
	}
}

// waitSockets waits until every store's two WebSockets are open on its owner.
func waitSockets(t *testing.T, f *fleet.Fleet, owner map[string]string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		placed, apart := f.Together()
		wrong := len(apart)
		for store, replica := range placed {
			if replica != owner[store] {
				wrong++
			}
		}
		if wrong == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %d stores are not connected to their owner (e.g. %v)", timeout, wrong, apart[:min(3, len(apart))])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// busiest returns the replica that owns the most stores.
func busiest(owner map[string]string) string {
	counts := map[string]int{}
	for _, replica := range owner {
		counts[replica]++
	}
	best := replicaNames[0]
	for _, name := range replicaNames {
		if counts[name] > counts[best] {
			best = name
		}
	}
	return best
}

// dialErrors returns every device's count of failed WebSocket dials so far.
func dialErrors(f *fleet.Fleet) map[string]int {
	out := map[string]int{}
	for device, s := range f.Sockets {
		out[device] = s.Errors()
	}
	return out
}
