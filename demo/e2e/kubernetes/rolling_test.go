package kubernetes

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/hashing"
)

const (
	rollStores = 30
	// rebalanceGrace is the provider's apps[0].rebalanceGrace in demo/k8s/values.yaml.
	rebalanceGrace = 2 * time.Second
)

// testRollingUpdate replaces pos-2, then pos-1, then pos-0 as the StatefulSet
// controller does (terminating for the pod's preStop sleep, then gone, then ready
// again under the same name at a new address) under REST and WebSocket traffic of 30
// stores. No call fails; the restarting pod holds no WebSocket when its preStop ends;
// a store moves at most twice per restart; rebalanceGrace + 5 s after each step no
// store is split.
func (c *cluster) testRollingUpdate(t *testing.T) {
	preStop, _ := podDrain(t)
	ctx, cancel := context.WithCancel(context.Background())
	stores := fleet.StoreIDs(rollStores)
	rec := newRollRecorder()
	var wg sync.WaitGroup
	for _, store := range stores {
		wg.Add(1)
		go func() { defer wg.Done(); rec.drive(ctx, store, c.ingress, c.gateway) }()
	}
	sockets := fleet.ConnectVia(ctx, stores, c.ingress, c.gateway)
	defer func() { cancel(); sockets.Close(); wg.Wait() }()
	if _, apart := waitTogether(sockets, 15*time.Second); len(apart) > 0 {
		t.Fatalf("stores apart before the update: %v", apart)
	}

	observed, modulo, rendezvous := 0, 0, 0
	for _, k := range []int{2, 1, 0} {
		name := podName(k)
		owners := rec.begin(name)
		oldHost := c.hostOf(name)

		c.pods[k] = terminatingPod(name, c.pods[k].Address)
		writeSlice(t, c.server.Client, c.pods)
		time.Sleep(preStop)
		if held := storesOn(sockets, name); len(held) > 0 {
			t.Errorf("%s: still holds the WebSockets of stores %v when its %v preStop ends", name, held, preStop)
		}
		c.hosts[oldHost].Stop()
		writeSlice(t, c.server.Client, without(c.pods, k))
		time.Sleep(time.Second)
		c.startPod(t, k, rolledHost0+k)
		c.pods[k] = readyPod(name, c.hosts[rolledHost0+k].Addr)
		writeSlice(t, c.server.Client, c.pods)
		time.Sleep(rebalanceGrace + 5*time.Second)

		moves, failures, calls := rec.result()
		stepMoves := 0
		for store, n := range moves {
			stepMoves += n
			if n > 2 {
				t.Errorf("%s: store %s moved %d times, want at most 2", name, store, n)
			}
		}
		for store, list := range failures {
			t.Errorf("%s: store %s (on %s) failed %d calls, first %s", name, store, owners[store], len(list), list[0])
		}
		_, apart := sockets.Together()
		split := c.splitStores(rec, stores)
		if len(apart) > 0 || len(split) > 0 {
			t.Errorf("%s: %v after each step: WebSockets apart %v, REST split %v", name, rebalanceGrace+5*time.Second, apart, split)
		}
		m, r := predictedMoves(t, "modulo", stores, k), predictedMoves(t, "rendezvous", stores, k)
		t.Logf("%s restarted at %s: %d calls, %d failed (stores of: %v), %d store moves (rendezvous predicts %d, modulo would make %d), 0 split: %v",
			name, c.pods[k].Address, calls, countFailures(failures), failedOwners(failures, owners), stepMoves, r, m, len(apart)+len(split) == 0)
		observed, modulo, rendezvous = observed+stepMoves, modulo+m, rendezvous+r
	}
	t.Logf("rolling update of 3 pods, %d stores: %d store moves observed, rendezvous predicts %d, modulo would have made %d",
		rollStores, observed, rendezvous, modulo)
}

// storesOn returns the stores with a device whose WebSocket is open on replica.
func storesOn(sockets *fleet.Fleet, replica string) []string {
	var stores []string
	for store, replicas := range sockets.Placement() {
		if slices.Contains(replicas, replica) {
			stores = append(stores, store)
		}
	}
	sort.Strings(stores)
	return stores
}

// hostOf returns the host index that runs pod name now.
func (c *cluster) hostOf(name string) int {
	for i, p := range c.pods {
		if p.Name == name {
			for h, host := range c.hosts {
				if host.Addr == c.pods[i].Address {
					return h
				}
			}
		}
	}
	return -1
}

// splitStores returns the stores whose two devices' last answers came from different
// replicas: it makes one call per device now.
func (c *cluster) splitStores(rec *rollRecorder, stores []string) []string {
	var split []string
	for _, store := range stores {
		devices := fleet.Devices(store)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		a, errA := c.ingress.Ticket(ctx, devices[0])
		b, errB := c.gateway.Ticket(ctx, devices[1])
		cancel()
		if errA != nil || errB != nil || a.Reply.Replica != b.Reply.Replica {
			split = append(split, fmt.Sprintf("%s(%s/%s)", store, a.Reply.Replica, b.Reply.Replica))
		}
	}
	return split
}

// predictedMoves counts the store moves strategy makes for restarting pod k: all
// members, then without k, then all again. Members are the child service names the
// middleware hashes.
func predictedMoves(t *testing.T, strategy string, stores []string, k int) int {
	t.Helper()
	all := []string{"pos-pos-0", "pos-pos-1", "pos-pos-2"}
	rest := append(append([]string(nil), all[:k]...), all[k+1:]...)
	owner := func(members []string, store string) string {
		picker, err := hashing.New(strategy, members)
		if err != nil {
			t.Fatal(err)
		}
		return picker.Members()[picker.Pick(store)]
	}
	moves := 0
	for _, store := range stores {
		a, b, c := owner(all, store), owner(rest, store), owner(all, store)
		if a != b {
			moves++
		}
		if b != c {
			moves++
		}
	}
	return moves
}

func without(pods []pod, k int) []pod {
	return append(append([]pod(nil), pods[:k]...), pods[k+1:]...)
}

func countFailures(failures map[string][]string) int {
	n := 0
	for _, list := range failures {
		n += len(list)
	}
	return n
}

func failedOwners(failures map[string][]string, owners map[string]string) map[string]bool {
	out := map[string]bool{}
	for store := range failures {
		out[owners[store]] = true
	}
	return out
}
