package compose

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/dockerd"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

const (
	stores = 100
	// grace is rebalanceGrace in demo/compose/traefik.yml: how long a moved store's
	// live requests stay on its old member.
	grace = 5 * time.Second
	// drain is the commerce service's -drain in demo/compose/docker-compose.yml: how
	// long a stopping replica keeps serving with its /healthz failing.
	drain = 15 * time.Second
	// failoverBound is what a killed replica's stores' REST calls may take to be
	// answered elsewhere: the health check's 2 failed probes (interval 500ms, timeout
	// 400ms), Traefik's providers throttle (2s), and the calls' own 1s pace.
	failoverBound = 5 * time.Second
)

// TestComposeScalesLosesAndRegainsAReplica runs the compose demo with 3 Commerce
// replicas and 100 stores, each with a POS and a customer display holding a
// WebSocket and making REST calls, then scales to 5, kills a replica and starts it
// again, and at last stops one as compose does. After each step every store is in one
// place; the scale moves about 2/5 of the stores, all to the new replicas; no store is
// served by two replicas once the grace has passed; the killed replica's stores' REST
// calls are answered elsewhere within the failover bound, and their WebSockets within
// the bound and the grace; the restarted replica, which keeps its container name, gets
// its stores back; and the stopped replica drains: no call fails, and its stores are
// together elsewhere before it exits.
func TestComposeScalesLosesAndRegainsAReplica(t *testing.T) {
	engine := dockerd.Start(t)
	traefikImage := buildImages(t, engine)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	p := startProject(t, engine, traefikImage, 3)
	p.waitMembers(ctx, replicas(1, 2, 3))
	ids := fleet.StoreIDs(stores)
	var devices []string
	for _, store := range ids {
		devices = append(devices, fleet.Devices(store)...)
	}
	sockets := p.client.Connect(ctx, ids)
	defer sockets.Close()
	load := fleet.StartLoad(ctx, devices, func(string) *fleet.Client { return p.client }, time.Second)
	defer load.Stop()
	placed := p.waitPlacement(ctx, sockets, load, time.Now())
	t.Logf("3 replicas: %s", countBy(placed))

	// Scale to 5: only stores whose new owner is an added replica move.
	scaled := time.Now()
	p.compose("up", "-d", "--scale", "commerce=5")
	changed := p.waitMembers(ctx, replicas(1, 2, 3, 4, 5))
	after := p.waitPlacement(ctx, sockets, load, changed.Add(grace+time.Second))
	moved := 0
	for store, c := range after {
		if c != placed[store] {
			moved++
			if c != replica(4) && c != replica(5) {
				t.Errorf("store %s moved from %s to %s, which was there before the scale", store, placed[store], c)
			}
		}
	}
	t.Logf("scale 3 -> 5: members changed %v after the command; %d of %d stores moved (2/5 expected); %s", changed.Sub(scaled).Round(time.Millisecond), moved, stores, countBy(after))
	if moved < stores*25/100 || moved > stores*55/100 {
		t.Errorf("%d of %d stores moved, want about 2/5", moved, stores)
	}
	checkNoSplits(ctx, t, p, changed.Add(grace+time.Second))

	// Kill the replica with the most stores: its stores go to their next-ranked
	// replicas. REST calls follow as soon as the health check drops it. A killed
	// container closes none of its connections, so its WebSockets hang until the
	// middleware ends them, rebalanceGrace after the change.
	victim, victimStores := busiest(after)
	names := p.containerNames()
	killed := time.Now()
	p.docker("kill", victim)
	var restFailover, socketFailover time.Duration
	err := stack.Poll(ctx, 30*time.Second, func(context.Context) error {
		for _, store := range victimStores {
			for _, device := range fleet.Devices(store) {
				call, ok := load.Last(device)
				if !ok || !call.OK || call.At.Before(killed) || names[call.Replica] == victim {
					return fmt.Errorf("the latest REST call of %s: %+v", device, call)
				}
			}
		}
		restFailover = time.Since(killed)
		return nil
	})
	if err != nil {
		t.Fatalf("the REST calls of the killed %s's stores did not fail over: %v", victim, err)
	}
	err = stack.Poll(ctx, 30*time.Second, func(context.Context) error {
		now, err := p.placement(sockets, load, killed)
		if err != nil {
			return err
		}
		for _, store := range victimStores {
			if now[store] == victim {
				return fmt.Errorf("store %s is still on %s", store, victim)
			}
		}
		socketFailover = time.Since(killed)
		return nil
	})
	if err != nil {
		t.Fatalf("the stores of the killed %s were not served together elsewhere: %v", victim, err)
	}
	t.Logf("docker kill %s: the REST calls of its %d stores were answered elsewhere %v later, and their WebSockets were together there %v later",
		victim, len(victimStores), restFailover.Round(time.Millisecond), socketFailover.Round(time.Millisecond))
	if restFailover > failoverBound {
		t.Errorf("REST failover took %v, want at most %v", restFailover, failoverBound)
	}
	if socketFailover > failoverBound+grace {
		t.Errorf("WebSocket failover took %v, want at most %v", socketFailover, failoverBound+grace)
	}

	// Start it again: it keeps its name, so its stores come home.
	restarted := time.Now()
	p.docker("start", victim)
	back := p.waitMembers(ctx, replicas(1, 2, 3, 4, 5))
	home := p.waitPlacement(ctx, sockets, load, back.Add(grace+time.Second))
	returned := 0
	for store, c := range home {
		if c != after[store] {
			t.Errorf("store %s is on %s after the restart, on %s before the kill", store, c, after[store])
		} else if c == victim {
			returned++
		}
	}
	t.Logf("docker start %s: a member again %v later; %d of its %d stores came home; %s", victim, back.Sub(restarted).Round(time.Millisecond), returned, len(victimStores), countBy(home))
	checkNoSplits(ctx, t, p, back.Add(grace+time.Second))

	checkStopDrains(ctx, t, p, sockets, load, home)
}

// checkStopDrains stops the replica with the most stores as compose stops one
// (SIGTERM, then SIGKILL after stop_grace_period). It drains: its /healthz fails, the
// health check drops it, and it keeps serving until its stores' WebSockets have been
// ended and reconnected elsewhere. No REST call of any store fails meanwhile.
func checkStopDrains(ctx context.Context, t *testing.T, p *project, sockets *fleet.Fleet, load *fleet.Load, placed map[string]string) {
	t.Helper()
	drained, drainedStores := busiest(placed)
	stopping := time.Now()
	stopped := make(chan time.Duration, 1)
	go func() {
		if _, err := p.engine.Docker("stop", drained); err != nil {
			t.Error(err)
		}
		stopped <- time.Since(stopping)
	}()
	var together time.Duration
	err := stack.Poll(ctx, drain+30*time.Second, func(context.Context) error {
		now, err := p.placement(sockets, load, stopping)
		if err != nil {
			return err
		}
		for _, store := range drainedStores {
			if now[store] == drained {
				return fmt.Errorf("store %s is still on %s", store, drained)
			}
		}
		together = time.Since(stopping)
		return nil
	})
	if err != nil {
		t.Errorf("the stores of the stopping %s were not served together elsewhere: %v", drained, err)
	}
	took := <-stopped
	failed := 0
	for _, store := range sockets.Stores {
		for _, device := range fleet.Devices(store) {
			for _, call := range load.Between(device, stopping, time.Now()) {
				if !call.OK {
					failed++
				}
			}
		}
	}
	t.Logf("docker stop %s: its %d stores were together elsewhere %v later; it stopped %v later; %d REST calls failed meanwhile",
		drained, len(drainedStores), together.Round(time.Millisecond), took.Round(time.Millisecond), failed)
	if failed > 0 {
		t.Errorf("%d REST calls failed while %s stopped, want 0", failed, drained)
	}
	if took < drain {
		t.Errorf("%s stopped %v after docker stop, before its %v drain", drained, took.Round(time.Millisecond), drain)
	}
	if together > took {
		t.Errorf("the stores of %s were together elsewhere only %v after docker stop, after it had stopped (%v)", drained, together.Round(time.Millisecond), took.Round(time.Millisecond))
	}
}

// checkNoSplits fails the test if two replicas served one store at the same time
// since the given time, by the replicas' own session reports.
func checkNoSplits(ctx context.Context, t *testing.T, p *project, since time.Time) {
	t.Helper()
	if splits := commerce.Splits(p.reports(ctx), since); len(splits) > 0 {
		t.Errorf("%d stores were served by two replicas at once after the grace, such as %+v", len(splits), splits[0])
	}
}

// busiest returns the container with the most stores, and its stores.
func busiest(placed map[string]string) (string, []string) {
	by := map[string][]string{}
	best := ""
	for store, c := range placed {
		by[c] = append(by[c], store)
		if best == "" || len(by[c]) > len(by[best]) || (len(by[c]) == len(by[best]) && c < best) {
			best = c
		}
	}
	return best, by[best]
}
