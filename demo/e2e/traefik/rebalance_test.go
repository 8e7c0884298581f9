package traefik

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/hashing"
)

// rebalanceGrace is the middleware's grace period in the rebalancing scenario.
const rebalanceGrace = 2 * time.Second

// startScalable starts four replicas, on hosts of their own, and a Traefik whose
// provider finds them through DNS records the test changes: the first three at the
// start. extra are more middleware options.
func startScalable(t *testing.T, extra map[string]any) ([]string, *stack.DNS, *env) {
	t.Helper()
	hosts := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}
	replicas, port, err := stack.StartReplicasOnHosts(hosts...)
	if err != nil {
		t.Fatal(err)
	}
	dns, err := stack.StartDNS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dns.Close() })
	dns.SetA("pos.test", hosts[:3]...)
	e := start(t, setup{
		started: replicas,
		members: hosts[:3],
		app: stack.App{
			DNS:            map[string]any{"name": "pos.test", "port": strconv.Itoa(port), "interval": "250ms", "resolver": dns.Addr},
			RebalanceGrace: rebalanceGrace.String(),
			Extra:          extra,
		},
		throttle: 500 * time.Millisecond,
	})
	return hosts, dns, e
}

// TestScalingMovesFewStoresAndKeepsDevicesTogether scales 3 -> 4 -> 3 replicas by
// changing the DNS records the provider's discovery reads, while 200 stores hold a POS
// and a CX WebSocket each and make REST calls. On each change only the stores whose
// rendezvous owner changed move; their WebSockets close after rebalanceGrace and both
// devices reconnect to the new owner; the other stores' WebSockets stay open; and no
// store is split once rebalanceGrace plus 5 s have passed. Scaling back returns every
// store to its first replica.
func TestScalingMovesFewStoresAndKeepsDevicesTogether(t *testing.T) {
	hosts, dns, e := startScalable(t, nil)
	stores := fleet.StoreIDs(200)
	f := e.client.Connect(e.ctx, stores)
	defer f.Close()
	waitConnected(t, f, 30*time.Second)
	var devices []string
	for _, store := range stores {
		devices = append(devices, fleet.Devices(store)...)
	}
	load := fleet.StartLoad(e.ctx, devices, func(string) *fleet.Client { return e.client }, 500*time.Millisecond)
	defer load.Stop()

	first := e.owners(t, f)
	up := e.scale(t, f, dns, hosts)
	up.report(t, "3 -> 4")
	if limit := 1.05 / 4; up.movedFraction() > limit {
		t.Errorf("3 -> 4 moved %.3f of the stores, want at most %.3f", up.movedFraction(), limit)
	}
	down := e.scale(t, f, dns, hosts[:3])
	down.report(t, "4 -> 3")
	for _, store := range stores {
		if down.after[store] != first[store] {
			t.Errorf("store %s is on %s after scaling back, was on %s", store, down.after[store], first[store])
		}
	}
	load.Stop()
	requests, failures := load.Counts()
	t.Logf("REST calls during the scenario: %d, failed: %d", requests, failures)
	if failures > 0 {
		t.Errorf("%d of %d REST calls failed", failures, requests)
	}
}

// scaling is what one membership change did.
type scaling struct {
	changed, applied, converged time.Time
	before, after               map[string]string // store -> replica
	moved                       []string
	moduloMoved                 int
	splitDuringGrace            int           // stores served by two replicas at once after the change
	reconnectGap                time.Duration // worst gap between a moved store's two reconnections
}

func (s scaling) movedFraction() float64 { return float64(len(s.moved)) / float64(len(s.before)) }

func (s scaling) report(t *testing.T, name string) {
	t.Logf("%s: moved %d of %d stores (%.3f; modulo would move %d); discovery %v; every store's devices together on its new owner %v after the change was applied (worst gap between a store's two reconnections %v); %d stores split during the grace period, 0 after it",
		name, len(s.moved), len(s.before), s.movedFraction(), s.moduloMoved,
		s.applied.Sub(s.changed).Round(time.Millisecond), s.converged.Sub(s.applied).Round(time.Millisecond),
		s.reconnectGap.Round(time.Millisecond), s.splitDuringGrace)
}

// owners returns every store's replica, failing if a store's devices are apart.
func (e *env) owners(t *testing.T, f *fleet.Fleet) map[string]string {
	t.Helper()
	owner, apart := f.Together()
	if len(apart) > 0 {
		t.Fatalf("%d stores have devices on different replicas: %v", len(apart), apart)
	}
	return owner
}

// scale points the DNS name at hosts and checks the rebalancing that follows.
func (e *env) scale(t *testing.T, f *fleet.Fleet, dns *stack.DNS, hosts []string) scaling {
	t.Helper()
	s := scaling{before: e.owners(t, f)}
	oldMembers, err := e.traefik.API.Members(e.ctx, middlewareName)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range oldMembers {
		oldMembers[i] = strings.TrimPrefix(m, app+"-")
	}
	open := map[string]int{} // device -> its number of connections before the change
	for device, socket := range f.Sockets {
		open[device] = len(socket.Connections())
	}
	s.changed = time.Now()
	dns.SetA("pos.test", hosts...)
	if err := e.traefik.API.WaitMembers(e.ctx, middlewareName, members(hosts)); err != nil {
		t.Fatal(err)
	}
	s.applied = time.Now()

	want := placement(t, f.Stores, hosts, hashing.StrategyRendezvous)
	deadline := s.applied.Add(rebalanceGrace + 5*time.Second)
	if err := e.waitPlacement(f, want, deadline); err != nil {
		t.Fatalf("not converged %v after the change was applied: %v", time.Since(s.applied).Round(time.Millisecond), err)
	}
	s.converged = time.Now()
	time.Sleep(time.Until(deadline.Add(time.Second))) // traffic goes on past the deadline
	s.after = e.owners(t, f)

	s.splitDuringGrace = len(commerce.Splits(e.replicas.Reports(), s.changed))
	if splits := commerce.Splits(e.replicas.Reports(), deadline); len(splits) > 0 {
		t.Errorf("%d stores served by two replicas at once after rebalanceGrace + 5 s, e.g. %+v", len(splits), splits[0])
	}
	for store, owner := range commerce.Owners(e.replicas.Reports()) {
		if len(owner) != 1 || owner[0] != want[store] {
			t.Errorf("store %s has live sessions on %v, want only %s", store, owner, want[store])
		}
	}
	oldModulo := placement(t, f.Stores, oldMembers, hashing.StrategyModulo)
	newModulo := placement(t, f.Stores, hosts, hashing.StrategyModulo)
	for _, store := range f.Stores {
		if oldModulo[store] != newModulo[store] {
			s.moduloMoved++
		}
		moved := s.before[store] != s.after[store]
		if moved {
			s.moved = append(s.moved, store)
		}
		var reconnected []time.Time
		for _, device := range fleet.Devices(store) {
			checkDevice(t, f.Sockets[device], open[device], moved, s.changed, s.applied)
			if conns := f.Sockets[device].Connections(); moved && len(conns) > open[device] {
				reconnected = append(reconnected, conns[open[device]].Start)
			}
		}
		if len(reconnected) == 2 {
			gap := reconnected[0].Sub(reconnected[1]).Abs()
			s.reconnectGap = max(s.reconnectGap, gap)
		}
	}
	return s
}

// checkDevice checks a device's connections across a change: a moved store's old
// connection ended rebalanceGrace after the change and exactly one new one followed; an
// unmoved store's connection never closed.
func checkDevice(t *testing.T, socket *fleet.Socket, before int, moved bool, changed, applied time.Time) {
	t.Helper()
	conns := socket.Connections()
	old := conns[before-1]
	if !moved {
		if len(conns) != before || !old.End.IsZero() {
			t.Errorf("device %s of an unmoved store was reconnected: %+v", socket.Device, conns[before-1:])
		}
		return
	}
	if len(conns) != before+1 {
		t.Errorf("device %s of a moved store has %d new connections, want 1: %+v", socket.Device, len(conns)-before, conns[before-1:])
		return
	}
	// Traefik rebuilt the middleware between the change and the moment its API showed
	// the new members, so the grace period ended between these two bounds.
	if early, late := old.End.Sub(changed), old.End.Sub(applied); early < rebalanceGrace || late > rebalanceGrace+2*time.Second {
		t.Errorf("device %s: its WebSocket closed %v after the DNS change and %v after Traefik showed it, want about %v",
			socket.Device, early, late, rebalanceGrace)
	}
}

// waitPlacement waits until every store's devices are connected to its wanted replica.
func (e *env) waitPlacement(f *fleet.Fleet, want map[string]string, deadline time.Time) error {
	for {
		var wrong []string
		for store, replicas := range f.Placement() {
			for _, r := range replicas {
				if r != want[store] {
					wrong = append(wrong, fmt.Sprintf("%s on %v want %s", store, replicas, want[store]))
					break
				}
			}
		}
		if len(wrong) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d stores not in place: %s", len(wrong), strings.Join(wrong[:min(5, len(wrong))], "; "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// placement returns each store's replica for replicas (named as their members' suffix)
// under a strategy.
func placement(t *testing.T, stores, replicas []string, strategy string) map[string]string {
	t.Helper()
	picker, err := hashing.New(strategy, members(replicas))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, store := range stores {
		out[store] = strings.TrimPrefix(picker.Members()[picker.Pick(store)], app+"-")
	}
	return out
}
