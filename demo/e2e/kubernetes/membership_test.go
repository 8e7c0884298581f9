package kubernetes

import (
	"context"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

const (
	probeStores = 40
	// changeBound is how soon an EndpointSlice change must change routing in Traefik.
	changeBound = 3 * time.Second
)

// testMembershipChanges adds an endpoint (pos-3), marks it not ready, makes it ready
// again and marks it terminating, and measures through Traefik how soon each write
// changes where the stores go: within changeBound each.
func (c *cluster) testMembershipChanges(t *testing.T) {
	stores := fleet.StoreIDs(probeStores)
	c.startPod(t, 3, extraHost)
	address := c.hosts[extraHost].Addr
	base := append([]pod(nil), c.pods...)
	defer func() {
		c.pods = base
		writeSlice(t, c.server.Client, c.pods)
		c.hosts[extraHost].Stop()
	}()

	var moved []string // the stores pos-3 takes
	c.pods = append(append([]pod(nil), base...), readyPod("pos-3", address))
	c.measure(t, "adding pos-3", stores, func(owners map[string]string) bool {
		moved = moved[:0]
		for store, replica := range owners {
			if replica == "pos-3" {
				moved = append(moved, store)
			}
		}
		return len(moved) > 0
	})
	moved = moved[:0] // the round that saw the change may have begun before it
	for store, replica := range c.probe(stores) {
		if replica == "pos-3" {
			moved = append(moved, store)
		}
	}
	t.Logf("pos-3 took %d of %d stores", len(moved), probeStores)
	gone := func(owners map[string]string) bool {
		for _, replica := range owners {
			if replica == "pos-3" || replica == "" {
				return false
			}
		}
		return true
	}
	back := func(owners map[string]string) bool { return !gone(owners) }

	c.pods[3] = pod{Name: "pos-3", Address: address}
	c.measure(t, "marking pos-3 not ready", moved, gone)
	c.pods[3] = readyPod("pos-3", address)
	c.measure(t, "marking pos-3 ready again", moved, back)
	c.pods[3] = terminatingPod("pos-3", address)
	c.measure(t, "marking pos-3 terminating (serving, not ready)", moved, gone)
}

// measure writes c.pods and probes stores through the IngressRoute until done holds,
// then logs and bounds the time from the write.
func (c *cluster) measure(t *testing.T, change string, stores []string, done func(map[string]string) bool) {
	t.Helper()
	sent := writeSlice(t, c.server.Client, c.pods)
	rounds := 0
	for time.Since(sent) < 15*time.Second {
		owners := c.probe(stores)
		rounds++
		if done(owners) {
			took := time.Since(sent)
			t.Logf("%s changed routing %v after the EndpointSlice write (%d probe rounds of %d stores)",
				change, took.Round(10*time.Millisecond), rounds, len(stores))
			if took > changeBound {
				t.Errorf("%s took %v, want within %v", change, took.Round(10*time.Millisecond), changeBound)
			}
			return
		}
	}
	t.Fatalf("%s did not change routing within 15s", change)
}

// probe makes one REST call per store (its POS, through the IngressRoute) and returns
// the replica that answered each ("" for a failure).
func (c *cluster) probe(stores []string) map[string]string {
	owners := map[string]string{}
	for _, store := range stores {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := c.ingress.Ticket(ctx, fleet.Devices(store)[0])
		cancel()
		if err == nil && resp.Status == 200 {
			owners[store] = resp.Reply.Replica
		} else {
			owners[store] = ""
		}
	}
	return owners
}
