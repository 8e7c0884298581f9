package traefik

import (
	"strings"
	"testing"
)

// TestStatelessRequestsAreRoundRobined: REST calls outside the device-affinity prefix
// spread evenly over the replicas, and no answer sets the sticky cookie, with the
// provider's two routers (the round-robin service, outside the interpreter) and with
// one router (the middleware picks the next member's sticky cookie).
func TestStatelessRequestsAreRoundRobined(t *testing.T) {
	t.Run("split routers", func(t *testing.T) { checkRoundRobin(t, setup{}, 0) })
	t.Run("one router", func(t *testing.T) { checkRoundRobin(t, setup{app: deviceSources}, 1) })
}

// checkRoundRobin checks the round robin of s, whose replicas must each get
// stickyCookies sticky cookies.
func checkRoundRobin(t *testing.T, s setup, stickyCookies int) {
	e := start(t, s)
	const requests = 300
	counts := map[string]int{}
	for _, name := range e.replicas.Names() {
		counts[name] = 0
	}
	for i := 0; i < requests; i++ {
		resp, err := e.client.Get(e.ctx, "/api/catalog/items")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != 200 {
			t.Fatalf("status %d: %s", resp.Status, resp.Body)
		}
		counts[resp.Reply.Replica]++
		if cookies := resp.Header.Values("Set-Cookie"); len(cookies) > 0 {
			t.Fatalf("answer sets cookies %v", cookies)
		}
		if n := strings.Count(resp.Reply.Cookie, stickyCookie+"="); n != stickyCookies {
			t.Fatalf("replica got Cookie %q: %d sticky cookies, want %d", resp.Reply.Cookie, n, stickyCookies)
		}
	}
	t.Logf("stateless requests per replica: %v", counts)
	if len(counts) != len(e.replicas) || !within(counts, 0.20) {
		t.Errorf("requests per replica %v: not within ±20%% of the mean", counts)
	}
}
