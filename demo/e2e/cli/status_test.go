package cli

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/hashing"
)

// cli runs the binary with args and returns its output, failing the test on an error.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(cliBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("storeaffinity %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// TestStatusShowsWhatTraefikRoutesBy runs a real Traefik with both plugins over three
// static replicas with a health check, makes one replica fail it, and reads the live
// member list with status and route --traefik: the failed replica is gone from what
// Traefik routes by, although discovery (the static list) still names it, and the CLI
// answers as the proxy does.
func TestStatusShowsWhatTraefikRoutesBy(t *testing.T) {
	replicas, err := stack.StartReplicas("pos-0", "pos-1", "pos-2")
	if err != nil {
		t.Fatal(err)
	}
	defer replicas.Close()
	traefik := stack.TraefikForTest(t, stack.TraefikOptions{
		Provider: stack.ProviderConfig(stack.App{Name: "pos", Static: replicas.StaticServers(), Extra: map[string]any{
			"healthCheck": map[string]any{"path": "/healthz", "interval": "250ms", "timeout": "1s", "fails": 1, "passes": 1},
		}}),
		Plugins: stack.InstallPlugins,
	})
	_, _, middleware := stack.Objects("pos")
	all := []string{"pos-pos-0", "pos-pos-1", "pos-pos-2"}
	if err := traefik.API.WaitMembers(t.Context(), middleware, all); err != nil {
		t.Fatal(err)
	}
	out := cli(t, "status", "--traefik="+traefik.API.BaseURL, "--stores=3000")
	t.Logf("status with every replica healthy:\n%s", out)
	for _, want := range []string{middleware + ": 3 members (rendezvous)", "pos-pos-1@plugin-storeaffinityprovider", replicas[1].URL() + " UP"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	replicas[1].SetHealthy(false)
	live := []string{"pos-pos-0", "pos-pos-2"}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	if err := traefik.API.WaitMembers(ctx, middleware, live); err != nil {
		t.Fatal(err)
	}
	out = cli(t, "status", "--traefik="+traefik.API.BaseURL, "--stores=3000")
	t.Logf("status while pos-1 fails its health check (the static list still names it):\n%s", out)
	if !strings.Contains(out, middleware+": 2 members") || strings.Contains(out, "pos-pos-1") {
		t.Errorf("status during pos-1's health failure:\n%s", out)
	}
	picker, err := hashing.New(hashing.StrategyRendezvous, live)
	if err != nil {
		t.Fatal(err)
	}
	routed := cli(t, "route", "--traefik="+traefik.API.BaseURL, "00123-001", "00456-001")
	for _, store := range []string{"00123", "00456"} {
		want := picker.Members()[picker.Pick(store)]
		found := false
		for _, line := range strings.Split(routed, "\n") {
			fields := strings.Fields(line)
			if len(fields) >= 3 && fields[1] == store {
				found = fields[2] == want
			}
		}
		if !found {
			t.Errorf("route --traefik: store %s not on %s:\n%s", store, want, routed)
		}
	}
	plan := cli(t, "plan", "--traefik="+traefik.API.BaseURL, "--to=pos-pos-0,pos-pos-1,pos-pos-2", "--stores=3000")
	if !strings.Contains(plan, "2 -> 3 members") {
		t.Errorf("plan --traefik from the live list:\n%s", plan)
	}
}
