package provider

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// startTraefik runs Traefik with both plugins loaded from the working tree and the
// provider configured with apps, with the given providersThrottleDuration (0 for
// Traefik's default, 2s).
func startTraefik(t *testing.T, throttle time.Duration, apps ...any) *stack.Traefik {
	t.Helper()
	return stack.TraefikForTest(t, stack.TraefikOptions{
		Provider: map[string]any{"middlewarePlugin": stack.MiddlewareAlias, "apps": apps},
		LogLevel: "ERROR",
		Throttle: throttle,
	})
}

// traefikMembers reads the members of the app's affinity middleware from Traefik's
// API, with the children of its weighted service; "" when not (yet) present. The API
// answers each object alone, so a configuration that changes between the reads would
// pair the old members with the new children: the children are read before and after
// the members, and the read is repeated until both agree.
func traefikMembers(api *stack.API, app string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for {
		before, ok := weightedChildren(ctx, api, app)
		if !ok {
			return ""
		}
		middleware, err := api.Get(ctx, stack.Middlewares, app+"-affinity"+stack.ProviderObjectAt)
		if err != nil || middleware.Status != "enabled" {
			return ""
		}
		members, err := api.Members(ctx, app+"-affinity"+stack.ProviderObjectAt)
		if err != nil {
			return ""
		}
		if after, ok := weightedChildren(ctx, api, app); ok && after == before {
			return fmt.Sprintf("members=%s children=%s", strings.Join(members, ","), after)
		}
	}
}

// weightedChildren returns the sorted children of the app's weighted service.
func weightedChildren(ctx context.Context, api *stack.API, app string) (string, bool) {
	service, err := api.Get(ctx, stack.Services, app+stack.ProviderObjectAt)
	if err != nil || service.Weighted == nil {
		return "", false
	}
	var children []string
	for _, s := range service.Weighted.Services {
		children = append(children, s.Name)
	}
	sort.Strings(children)
	return strings.Join(children, ","), true
}

// waitTraefik polls Traefik's API until the app's members are want.
func waitTraefik(t *testing.T, api *stack.API, app, want string, timeout time.Duration) time.Time {
	t.Helper()
	at, ok := waitMembersFor(api, app, want, timeout)
	if !ok {
		t.Fatalf("Traefik's %s after %v: %q, want %q", app, timeout, traefikMembers(api, app), want)
	}
	return at
}

// TestTraefikFollowsEndpointSlices runs the provider inside Traefik v3.6.12 against the
// real API server and reports the time from an EndpointSlice update to Traefik's API
// showing the new members, with Traefik's default providersThrottleDuration (2s) and
// with 100ms.
func TestTraefikFollowsEndpointSlices(t *testing.T) {
	for _, throttle := range []time.Duration{0, 100 * time.Millisecond} {
		name := "throttle-" + throttle.String()
		if throttle == 0 {
			name = "default-throttle"
		}
		t.Run(name, func(t *testing.T) {
			f := newKubeFixture(t)
			f.apply(t, posA(true, true))
			api := startTraefik(t, throttle, map[string]any{
				"name": "pos",
				"kubernetes": map[string]any{
					"namespace": f.namespace, "service": "pos", "port": "http",
					"endpoint": f.server.Endpoint, "tokenFile": f.tokenFile, "certAuthFilePath": f.server.CAFile,
				},
				"deviceAffinityPrefixes": []string{"/api/appId/pos/deviceId"},
			}).API
			both := "members=pos-pos-0,pos-pos-1 children=pos-pos-0,pos-pos-1"
			one := "members=pos-pos-0 children=pos-pos-0"
			waitTraefik(t, api, "pos", both, 60*time.Second)
			var latencies []time.Duration
			for i := 0; i < 6; i++ {
				want, ready := one, false
				if i%2 == 1 {
					want, ready = both, true
				}
				sent := f.apply(t, posA(true, ready))
				latencies = append(latencies, waitTraefik(t, api, "pos", want, 10*time.Second).Sub(sent))
			}
			sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
			slowest := latencies[len(latencies)-1]
			t.Logf("EndpointSlice update to Traefik's API showing the members (%s), %d changes: min %v, median %v, max %v",
				name, len(latencies), latencies[0], latencies[len(latencies)/2], slowest)
			if slowest > 3*time.Second {
				t.Errorf("slowest change reached Traefik after %v, want under 3s", slowest)
			}
		})
	}
}
