package kubernetes

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

const trafficStores = 24

// testTraffic: REST, WebSocket and SSE requests of every device of 24 stores, through
// the IngressRoute and through the HTTPRoute, reach the store's one replica; all three
// replicas get stores; and the WebSockets of a store's POS (IngressRoute) and customer
// display (HTTPRoute) meet on that replica.
func (c *cluster) testTraffic(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	routes := map[string]*fleet.Client{"IngressRoute": c.ingress, "HTTPRoute": c.gateway}
	owners := map[string]string{}
	perReplica := map[string]int{}
	for _, store := range fleet.StoreIDs(trafficStores) {
		seen := map[string]bool{}
		for route, client := range routes {
			for _, device := range fleet.Devices(store) {
				for kind, replica := range c.callAllKinds(ctx, t, client, device) {
					seen[replica] = true
					if replica == "" {
						t.Errorf("%s %s through the %s got no replica", kind, device, route)
					}
				}
			}
		}
		if len(seen) != 1 {
			t.Errorf("store %s reached replicas %v, want one", store, keys(seen))
		}
		for replica := range seen {
			owners[store] = replica
			perReplica[replica]++
		}
	}
	t.Logf("REST, WebSocket and SSE through both routes: %d stores, per replica %v", trafficStores, perReplica)
	if len(perReplica) != firstHosts {
		t.Errorf("stores reached %d replicas, want %d", len(perReplica), firstHosts)
	}

	f := fleet.ConnectVia(ctx, fleet.StoreIDs(trafficStores), c.ingress, c.gateway)
	defer f.Close()
	together, apart := waitTogether(f, 15*time.Second)
	if len(apart) > 0 {
		t.Errorf("stores whose POS (IngressRoute) and CX (HTTPRoute) did not meet: %v (placement %v)", apart, f.Placement())
	}
	for store, replica := range together {
		if owners[store] != replica {
			t.Errorf("store %s met on %s, its REST calls went to %s", store, replica, owners[store])
		}
	}
}

// callAllKinds makes a REST call, a WebSocket and an SSE stream for device and
// returns the replica of each.
func (c *cluster) callAllKinds(ctx context.Context, t *testing.T, client *fleet.Client, device string) map[string]string {
	t.Helper()
	out := map[string]string{}
	resp, err := client.Ticket(ctx, device)
	if err != nil || resp.Status != http.StatusOK {
		t.Errorf("REST %s: %v %d %s", device, err, resp.Status, resp.Body)
	}
	out["REST"] = resp.Reply.Replica
	conn, hello, _, err := client.Dial(ctx, device)
	if err != nil {
		t.Errorf("WebSocket %s: %v", device, err)
	} else {
		conn.CloseNow()
	}
	out["WebSocket"] = hello.Replica
	replica, err := sseReplica(ctx, client, device)
	if err != nil {
		t.Errorf("SSE %s: %v", device, err)
	}
	out["SSE"] = replica
	return out
}

// sseReplica reads two events of device's stream and returns their replica.
func sseReplica(ctx context.Context, client *fleet.Client, device string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, client.BaseURL+fleet.DevicePath(device, commerce.EventsPath)+"?count=2&interval=20ms", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		return "", fmt.Errorf("status %d, content type %q", resp.StatusCode, ct)
	}
	replicas := map[string]bool{}
	if err := commerce.ReadEvents(resp.Body, func(event commerce.Event) error {
		replicas[event.Replica] = true
		return nil
	}); err != nil {
		return "", err
	}
	if len(replicas) != 1 {
		return "", fmt.Errorf("events from replicas %v", keys(replicas))
	}
	return keys(replicas)[0], nil
}

// waitTogether polls the fleet until every store's devices are together or timeout.
func waitTogether(f *fleet.Fleet, timeout time.Duration) (map[string]string, []string) {
	deadline := time.Now().Add(timeout)
	for {
		together, apart := f.Together()
		if len(apart) == 0 || time.Now().After(deadline) {
			return together, apart
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
