package traefik

import (
	"net/http"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

// TestStreamedEventsArriveAtOnce: on a stateful SSE path through Traefik, each event
// reaches the client within 50 ms of the backend's flush, from the store's replica.
func TestStreamedEventsArriveAtOnce(t *testing.T) {
	e := start(t, setup{})
	const events = 20
	device := "00123-001"
	owner, err := e.client.Ticket(e.ctx, device)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.traefik.WebURL+fleet.DevicePath(device, commerce.EventsPath)+"?count=20&interval=50ms", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := e.client.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got, want := resp.Header.Get("X-Store-Affinity"), owner.Header.Get("X-Store-Affinity"); got != want {
		t.Errorf("stream X-Store-Affinity %q, the store's REST call got %q", got, want)
	}
	var worst time.Duration
	received := 0
	err = commerce.ReadEvents(resp.Body, func(event commerce.Event) error {
		delay := time.Since(time.Unix(0, event.Sent))
		worst = max(worst, delay)
		if delay > 50*time.Millisecond {
			t.Errorf("event %d arrived %v after the backend flushed it", received+1, delay)
		}
		if event.Replica != owner.Reply.Replica {
			t.Errorf("event from %s, the store's replica is %s", event.Replica, owner.Reply.Replica)
		}
		received++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events, worst delay from the backend's flush to the client: %v", received, worst)
	if received != events {
		t.Fatalf("received %d events, want %d", received, events)
	}
}
