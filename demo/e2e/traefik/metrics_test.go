package traefik

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// TestMetricsCountLiveSessionsAsTheBackendsDo holds WebSockets of 20 stores open
// through Traefik, reads the middleware's metrics on the entry point that the
// provider's metrics option names, checks them with promtool, and compares the live
// sessions per member with what each replica counts itself. The app's own entry
// point does not serve them.
func TestMetricsCountLiveSessionsAsTheBackendsDo(t *testing.T) {
	replicas, err := stack.StartReplicas("pos-0", "pos-1", "pos-2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(replicas.Close)
	config := stack.ProviderConfig(stack.App{Static: replicas.StaticServers()})
	config["metrics"] = map[string]any{"entryPoint": "metrics"}
	traefik := stack.TraefikForTest(t, stack.TraefikOptions{Provider: config, Plugins: installPlugins, EntryPoints: []string{"metrics"}})
	if err := traefik.API.WaitMembers(t.Context(), middlewareName, members(replicas.Names())); err != nil {
		t.Fatalf("%v\n%s", err, traefik.Trouble())
	}
	if err := traefik.API.WaitEnabled(t.Context(), stack.Routers, provider.MetricsObject+stack.ProviderObjectAt); err != nil {
		t.Fatalf("%v\n%s", err, traefik.Trouble())
	}
	f := fleet.NewClient(traefik.WebURL).Connect(t.Context(), fleet.StoreIDs(20))
	defer f.Close()
	waitConnected(t, f, 20*time.Second)
	for i := 0; i < 5; i++ {
		if _, err := fleet.NewClient(traefik.WebURL).Get(t.Context(), "/api/appId/pos/deviceId/bad!id/x"); err != nil {
			t.Fatal(err)
		}
	}

	var text string
	err = stack.Poll(t.Context(), 10*time.Second, func(ctx context.Context) error {
		text, err = stack.Fetch(ctx, traefik.URLs["metrics"]+"/storeaffinity/metrics")
		if err != nil {
			return err
		}
		for _, r := range replicas {
			live := 0
			for _, s := range r.Report().Sessions {
				if s.Live() {
					live++
				}
			}
			name := r.Report().Replica
			if got := stack.MetricValue(text, `storeaffinity_live_sessions{app="pos",member="`+name+`"}`); got != live {
				return fmt.Errorf("member %s: the metrics count %d live sessions, the replica %d", name, got, live)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if got := stack.MetricValue(text, `storeaffinity_refusals_total{app="pos",reason="bad_device_id"}`); got != 5 {
		t.Errorf("%d refusals for a bad device ID, want 5", got)
	}
	if got := stack.MetricValue(text, `storeaffinity_members{app="pos"}`); got != 3 {
		t.Errorf("%d members, want 3", got)
	}
	promtool, err := stack.InstallTool("install-promtool.sh")
	if err != nil {
		t.Fatal(err)
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(text)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, text)
	}
	if on, _ := stack.Fetch(t.Context(), traefik.WebURL+"/storeaffinity/metrics"); strings.Contains(on, "storeaffinity_live_sessions") {
		t.Error("the app's own entry point serves the metrics")
	}
}
