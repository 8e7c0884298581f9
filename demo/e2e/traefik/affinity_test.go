package traefik

import (
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/hashing"
)

// TestStoreDevicesShareReplica: 200 stores, each with a POS and a CX device holding a
// WebSocket and making REST calls; every device of a store reaches the same replica,
// the replica the rendezvous placement names, and the stores spread evenly.
func TestStoreDevicesShareReplica(t *testing.T) {
	e := start(t, setup{})
	began := time.Now()
	stores := fleet.StoreIDs(200)
	f := e.client.Connect(e.ctx, stores)
	defer f.Close()
	waitConnected(t, f, 30*time.Second)

	owner, apart := f.Together()
	if len(apart) > 0 {
		t.Fatalf("%d stores have their WebSockets on different replicas, e.g. %s: %v", len(apart), apart[0], f.Placement()[apart[0]])
	}
	picker, err := hashing.New(hashing.StrategyRendezvous, members(e.replicas.Names()))
	if err != nil {
		t.Fatal(err)
	}
	for _, store := range stores {
		want := picker.Members()[picker.Pick(store)]
		if got := member(owner[store]); got != want {
			t.Errorf("store %s is on %s, rendezvous placement says %s", store, got, want)
		}
		for _, device := range fleet.Devices(store) {
			conn, _ := f.Sockets[device].Current()
			if conn.Affinity != affinity(store, want) {
				t.Errorf("WebSocket of %s: X-Store-Affinity %q, want %q", device, conn.Affinity, affinity(store, want))
			}
			resp, err := e.client.Ticket(e.ctx, device)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Reply.Replica != owner[store] {
				t.Errorf("REST call of %s reached %s, its store's WebSockets are on %s", device, resp.Reply.Replica, owner[store])
			}
			if got := resp.Header.Get("X-Store-Affinity"); got != affinity(store, want) {
				t.Errorf("REST call of %s: X-Store-Affinity %q, want %q", device, got, affinity(store, want))
			}
			if cookies := resp.Header.Values("Set-Cookie"); len(cookies) > 0 {
				t.Errorf("REST call of %s set cookies %v", device, cookies)
			}
		}
	}

	counts := e.countByReplica(owner)
	t.Logf("stores per replica: %v (mean %.1f)", counts, float64(len(stores))/float64(len(counts)))
	if !within(counts, 0.25) {
		t.Errorf("stores per replica %v: not within ±25%% of the mean", counts)
	}
	if splits := commerce.Splits(e.replicas.Reports(), began); len(splits) > 0 {
		t.Errorf("%d stores were served by two replicas at once, e.g. %+v", len(splits), splits[0])
	}
}
