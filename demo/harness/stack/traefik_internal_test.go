package stack

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// TestTraefikOnATakenPortSaysSo checks that Traefik ending because its port is taken is
// told apart at once (StartTraefik then retries on fresh ports), not after the wait.
func TestTraefikOnATakenPortSaysSo(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	api, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	start := time.Now()
	traefik, err := StartTraefikArgs(t.Context(), dir, []string{
		"--entryPoints.web.address=" + taken.Addr().String(),
		"--entryPoints.traefik.address=" + api, "--api.insecure=true",
	}, "http://"+api+"/api/version")
	if err == nil {
		traefik.Stop()
		t.Fatal("Traefik came up on a taken port")
	}
	if !errors.Is(err, errPortTaken) {
		t.Fatalf("got %v, want errPortTaken", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("took %v to see that Traefik exited", took)
	}
}

// TestAnotherTraefikOnOurAPIPortIsNoStart: when another Traefik holds the API port we
// chose, its answer to the readiness check is not taken for ours.
func TestAnotherTraefikOnOurAPIPortIsNoStart(t *testing.T) {
	other, err := StartTraefik(t.Context(), TraefikOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Stop()
	addrs, err := freeAddrs([]string{"web"})
	if err != nil {
		t.Fatal(err)
	}
	addrs["traefik"] = strings.TrimPrefix(other.API.BaseURL, "http://")
	dir := t.TempDir()
	if err := InstallPlugins(dir); err != nil {
		t.Fatal(err)
	}
	ours, err := startOn(t.Context(), TraefikOptions{Dir: dir}, addrs)
	if err == nil {
		ours.Stop()
		t.Fatal("started, with another Traefik answering on its API port")
	}
	if !errors.Is(err, errPortTaken) {
		t.Fatalf("got %v, want errPortTaken", err)
	}
}
