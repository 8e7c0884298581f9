package traefik

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/hashing"
)

// stompApp routes the OpenPOS WebSocket by the device its CONNECT frame names.
var stompApp = stack.App{Extra: map[string]any{"stompConnectPaths": commerce.StompPath}}

// openPOS returns a POS and a CX display session of every store, as the OpenPOS
// client names them in CONNECT.
func openPOS(stores []string) []stack.StompSession {
	var sessions []stack.StompSession
	for _, store := range stores {
		sessions = append(sessions,
			stack.StompSession{DeviceID: store + "-" + fleet.POS, AppID: "pos"},
			stack.StompSession{DeviceID: store + "-" + fleet.CX, AppID: "customerdisplay"})
	}
	return sessions
}

// startStomp starts the real @stomp/stompjs client with sessions against e's Traefik
// and waits until every session is connected.
func startStomp(t *testing.T, e *env, sessions []stack.StompSession) *stack.StompClients {
	t.Helper()
	url := "ws" + strings.TrimPrefix(e.traefik.WebURL, "http") + commerce.StompPath
	clients, err := stack.StartStompClients(url, sessions, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(clients.Close)
	waitStompConnected(t, clients, len(sessions), 30*time.Second)
	return clients
}

// waitStompConnected waits until n sessions are connected.
func waitStompConnected(t *testing.T, clients *stack.StompClients, n int, timeout time.Duration) {
	t.Helper()
	err := stack.Poll(t.Context(), timeout, func(context.Context) error {
		if got := len(clients.Connected()); got < n {
			return fmt.Errorf("%d of %d STOMP sessions connected", got, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStompSessionsMeetOnTheirStoresMember connects 30 stores' POS and CX display with
// the real OpenPOS client library, which names its device only in the CONNECT frame,
// and checks that both sessions of every store reach the replica that serves the
// store's REST calls, with the agreed subprotocol and the middleware's stamp.
func TestStompSessionsMeetOnTheirStoresMember(t *testing.T) {
	e := start(t, setup{app: stompApp})
	stores := fleet.StoreIDs(30)
	clients := startStomp(t, e, openPOS(stores))
	owners := e.restOwners(t, stores)
	connected := clients.Connected()
	together := 0
	for _, store := range stores {
		pos, cx := connected[store+"-"+fleet.POS], connected[store+"-"+fleet.CX]
		if pos == owners[store] && cx == owners[store] {
			together++
			continue
		}
		t.Errorf("store %s: POS on %q, CX display on %q, REST on %q", store, pos, cx, owners[store])
	}
	t.Logf("%d of %d stores had their POS and CX display on their REST owner", together, len(stores))
}

// TestStompScalingMovesStoresTogether scales 3 -> 4 replicas under 100 stores' POS and
// CX display STOMP sessions of the real client. The moved stores' sessions are closed
// with 1012 after the grace and reconnect together on the new owner; the others stay
// open; and no store is split once the grace plus 5 s have passed.
func TestStompScalingMovesStoresTogether(t *testing.T) {
	hosts, dns, e := startScalable(t, stompApp.Extra)
	stores := fleet.StoreIDs(100)
	clients := startStomp(t, e, openPOS(stores))
	before := placement(t, stores, hosts[:3], hashing.StrategyRendezvous)
	after := placement(t, stores, hosts, hashing.StrategyRendezvous)
	for device, replica := range clients.Connected() {
		store, _ := commerce.StoreOf(device)
		if replica != before[store] {
			t.Fatalf("device %s on %s before the change, want %s", device, replica, before[store])
		}
	}
	changed := time.Now()
	dns.SetA("pos.test", hosts...)
	if err := e.traefik.API.WaitMembers(e.ctx, middlewareName, members(hosts)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(rebalanceGrace + 5*time.Second)
	waitPlaced(t, e, clients, stores, after, time.Until(deadline))
	time.Sleep(time.Until(deadline))
	moved := 0
	closes := map[string][]stack.StompEvent{}
	for _, ev := range clients.Events() {
		if ev.Event == "closed" && ev.T >= changed.UnixMilli() {
			closes[ev.DeviceID] = append(closes[ev.DeviceID], ev)
		}
	}
	for _, store := range stores {
		for _, device := range fleet.Devices(store) {
			got := closes[device]
			if before[store] == after[store] {
				if len(got) != 0 {
					t.Errorf("device %s of an unmoved store was closed: %+v", device, got)
				}
				continue
			}
			if len(got) != 1 || got[0].Code != 1012 || time.UnixMilli(got[0].T).Sub(changed) < rebalanceGrace {
				t.Errorf("device %s of a moved store: closes %+v, want one 1012 after the %v grace", device, got, rebalanceGrace)
			}
		}
		if before[store] != after[store] {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("no store moved: the test proves nothing")
	}
	if splits := commerce.Splits(e.replicas.Reports(), deadline); len(splits) > 0 {
		t.Errorf("%d stores served by two replicas at once after the grace + 5 s, e.g. %+v", len(splits), splits[0])
	}
	t.Logf("3 -> 4: %d of %d stores moved; each of their sessions closed with 1012 and reconnected on the new owner", moved, len(stores))
}

// TestStompKillNineMovesStoresTogether runs the replicas as processes, holds 30 stores'
// POS and CX display STOMP sessions of the real client, and kills one replica with
// SIGKILL. Its stores' sessions end, and both devices of each reconnect, together, on
// the store's next-ranked replica once the health check has removed the dead one; the
// other stores' sessions stay open.
func TestStompKillNineMovesStoresTogether(t *testing.T) {
	binary, err := stack.BuildCommerce(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"k0", "k1", "k2"}
	var servers []string
	procs := map[string]*stack.ReplicaProcess{}
	for _, name := range names {
		addr, err := stack.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		p, err := stack.StartReplicaProcess(t.Context(), binary, name, addr, filepath.Join(t.TempDir(), name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Stop(syscall.SIGKILL) })
		procs[name] = p
		servers = append(servers, name+"=http://"+addr)
	}
	e := start(t, setup{replicas: 1, members: names, app: stack.App{Static: servers, Extra: map[string]any{
		"stompConnectPaths": commerce.StompPath,
		"healthCheck":       map[string]any{"path": "/healthz", "interval": "250ms", "timeout": "1s", "fails": 1, "passes": 2},
	}}})
	stores := fleet.StoreIDs(30)
	clients := startStomp(t, e, openPOS(stores))
	before := placement(t, stores, names, hashing.StrategyRendezvous)
	victim := before[stores[0]]
	var survivors []string
	for _, n := range names {
		if n != victim {
			survivors = append(survivors, n)
		}
	}
	after := placement(t, stores, survivors, hashing.StrategyRendezvous)
	killed := time.Now()
	procs[victim].Stop(syscall.SIGKILL)
	waitPlaced(t, e, clients, stores, after, 15*time.Second)
	recovered := time.Since(killed)
	moved := 0
	for _, ev := range clients.Events() {
		if ev.Event != "closed" || ev.T < killed.UnixMilli() {
			continue
		}
		store, _ := commerce.StoreOf(ev.DeviceID)
		if before[store] != victim {
			t.Errorf("device %s of a store on a live replica was closed: %+v", ev.DeviceID, ev)
		}
	}
	for _, store := range stores {
		if before[store] == victim {
			moved++
		}
	}
	t.Logf("kill -9 of %s: its %d stores' sessions were on their next-ranked replicas, devices together, %v later",
		victim, moved, recovered.Round(time.Millisecond))
}

// waitPlaced waits until every device of stores is connected to its store's replica
// in placement.
func waitPlaced(t *testing.T, e *env, clients *stack.StompClients, stores []string, placement map[string]string, timeout time.Duration) {
	t.Helper()
	err := stack.Poll(e.ctx, timeout, func(context.Context) error {
		connected := clients.Connected()
		for _, s := range openPOS(stores) {
			store, _ := commerce.StoreOf(s.DeviceID)
			if connected[s.DeviceID] != placement[store] {
				return fmt.Errorf("device %s on %q, want %s", s.DeviceID, connected[s.DeviceID], placement[store])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
