package traefik

import (
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// TestTwoProxiesRouteStoresIdentically: two Traefik processes with the same discovery
// send all 200 stores to the same replicas, even when a store's POS talks to one proxy
// and its customer display to the other.
func TestTwoProxiesRouteStoresIdentically(t *testing.T) {
	e := start(t, setup{})
	second := e.startTraefik(t, stack.App{Static: e.replicas.StaticServers()}, 0)
	if err := second.API.WaitMembers(e.ctx, middlewareName, members(e.replicas.Names())); err != nil {
		t.Fatal(err)
	}
	other := fleet.NewClient(second.WebURL)
	began := time.Now()
	stores := fleet.StoreIDs(200)
	differ := 0
	for _, store := range stores {
		pos, cx := fleet.Devices(store)[0], fleet.Devices(store)[1]
		first, err := e.client.Ticket(e.ctx, pos)
		if err != nil {
			t.Fatal(err)
		}
		again, err := other.Ticket(e.ctx, pos)
		if err != nil {
			t.Fatal(err)
		}
		conn, hello, _, err := other.Dial(e.ctx, cx)
		if err != nil {
			t.Fatal(err)
		}
		conn.CloseNow()
		if first.Reply.Replica != again.Reply.Replica || hello.Replica != first.Reply.Replica ||
			first.Header.Get("X-Store-Affinity") != again.Header.Get("X-Store-Affinity") {
			differ++
			t.Errorf("store %s: proxy 1 sent REST to %s (%s), proxy 2 sent REST to %s (%s) and the WebSocket to %s",
				store, first.Reply.Replica, first.Header.Get("X-Store-Affinity"), again.Reply.Replica, again.Header.Get("X-Store-Affinity"), hello.Replica)
		}
	}
	t.Logf("stores routed differently by the two proxies: %d of %d", differ, len(stores))
	if splits := commerce.Splits(e.replicas.Reports(), began); len(splits) > 0 {
		t.Errorf("%d stores were served by two replicas at once", len(splits))
	}
}
