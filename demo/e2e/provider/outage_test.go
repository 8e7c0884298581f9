package provider

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/kubeapi"
	"github.com/storeaffinity/storeaffinity/demo/harness/netns"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

const (
	outageStores   = 30
	outageLength   = 30 * time.Second
	outageInterval = 100 * time.Millisecond // between one store's rounds of calls
	// outageChangeBound is how soon the first EndpointSlice change after the API
	// server's return must reach Traefik: the provider's next retry comes at most its
	// longest backoff (10 s) after the return, then Traefik's 2 s throttle applies.
	// The 410 Gone that the restarted API server answers must not add a backoff of
	// its own (provider unit test TestKubernetesListsAtOnceAfterAnOutage pins that).
	outageChangeBound = 10*time.Second + 2*time.Second + time.Second
)

// TestAPIServerOutageUnderTraffic runs three demo Commerce replicas in network
// namespaces, discovered through a real API server by the provider inside real
// Traefik, and sends every device of 30 stores through Traefik while the API server is
// down for 30 s. Routing must go on with the last configuration, Traefik must never
// lose its members, and after the return the watch must resume: the first change (pos-2
// no longer ready) must reach Traefik within outageChangeBound.
func TestAPIServerOutageUnderTraffic(t *testing.T) {
	var hosts []*netns.Host
	for i := 0; i < 3; i++ {
		hosts = append(hosts, netns.NewHost(t, i))
	}
	binary := buildCommerce(t)
	var ready []endpoint
	for i, h := range hosts {
		pod := fmt.Sprintf("pos-%d", i)
		h.Start(t, binary, "serve", pod+"="+net.JoinHostPort(h.Addr, "8080"))
		ready = append(ready, endpoint{Pod: pod, Hostname: pod, Address: h.Addr, Ready: true})
	}
	for _, h := range hosts {
		h.WaitPort(t, 8080, 10*time.Second)
	}

	f := newKubeFixture(t)
	f.apply(t, kubeapi.EndpointSlice("pos-x7k2p", "pos", "http", 8080, ready...))
	traefik := startTraefik(t, 0, map[string]any{
		"name": "pos",
		"kubernetes": map[string]any{
			"namespace": f.namespace, "service": "pos", "port": "http",
			"endpoint": f.server.Endpoint, "tokenFile": f.tokenFile, "certAuthFilePath": f.server.CAFile,
		},
		"deviceAffinityPrefixes": []string{commerce.Prefix},
		"router":                 map[string]any{"rule": "PathPrefix(`/`)", "entryPoints": []string{"web"}},
	})
	all := "members=pos-pos-0,pos-pos-1,pos-pos-2 children=pos-pos-0,pos-pos-1,pos-pos-2"
	withoutPos2 := "members=pos-pos-0,pos-pos-1 children=pos-pos-0,pos-pos-1"
	waitTraefik(t, traefik.API, "pos", all, 60*time.Second)
	if err := traefik.API.WaitEnabled(t.Context(), stack.Routers, "pos"+stack.ProviderObjectAt); err != nil {
		t.Fatal(err)
	}

	// Traffic and the watch on Traefik's members run until stopTraffic, bounded in time.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	rec := &outageRecorder{phase: "before", owner: map[string]string{}, origin: map[string]string{},
		sent: map[string]int{}, failed: map[string]int{}, movedFrom: "pos-2"}
	mon := &memberMonitor{}
	var wg sync.WaitGroup
	client := fleet.NewClient(traefik.WebURL)
	for i, store := range fleet.StoreIDs(outageStores) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec.drive(ctx, client, store, time.Duration(i)*outageInterval/outageStores)
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); mon.watch(ctx, traefik, rec) }()
	stopTraffic := func() { cancel(); wg.Wait() }
	t.Cleanup(stopTraffic)

	time.Sleep(3 * time.Second)
	if owners := rec.owners(); len(owners) != outageStores {
		t.Fatalf("%d of %d stores answered before the outage", len(owners), outageStores)
	}

	// The outage.
	rec.setPhase("outage")
	stopping := time.Now()
	f.server.StopAPIServer()
	down := time.Now()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = f.server.StartAPIServer()
		}
	})
	time.Sleep(time.Until(stopping.Add(outageLength))) // the server stops answering at once
	restarting := time.Now()
	if err := f.server.StartAPIServer(); err != nil {
		t.Fatalf("restart the API server: %v", err)
	}
	restarted = true
	back := time.Now()

	// The first change after the return: pos-2 is no longer ready.
	rec.setPhase("changed")
	notReady := append([]endpoint(nil), ready...)
	notReady[2].Ready = false
	sent := f.apply(t, kubeapi.EndpointSlice("pos-x7k2p", "pos", "http", 8080, notReady...))
	applied, ok := waitMembersFor(traefik.API, "pos", withoutPos2, 30*time.Second)
	time.Sleep(3 * time.Second) // traffic goes on after the change
	stopTraffic()

	t.Logf("API server: StopAPIServer took %v; restarted %v after the stop began, ready %v later",
		down.Sub(stopping).Round(time.Millisecond), restarting.Sub(stopping).Round(time.Millisecond), back.Sub(restarting).Round(time.Millisecond))
	t.Logf("requests sent/failed: before the outage %d/%d, during it %d/%d, after the return %d/%d",
		rec.sent["before"], rec.failed["before"], rec.sent["outage"], rec.failed["outage"],
		rec.sent["changed"], rec.failed["changed"])
	t.Logf("Traefik's members polled %d times every %v: %d empty, %d unanswered; values seen: %s",
		mon.polls, outageInterval, len(mon.empty), mon.unanswered, strings.Join(mon.seen, " -> "))
	t.Logf("provider retries in Traefik's log: %s", retrySummary(traefik.Log()))
	for _, line := range mon.providerLines {
		if line.at.After(restarting) {
			t.Logf("provider logged at %+v from the API server's readiness: ...%s", line.at.Sub(back).Round(100*time.Millisecond), line.text)
		}
	}
	if ok {
		t.Logf("first change after the return (pos-2 not ready) reached Traefik %v after it was sent, %v after the API server was ready",
			applied.Sub(sent).Round(time.Millisecond), applied.Sub(back).Round(time.Millisecond))
	}
	if !rec.firstMove.IsZero() {
		t.Logf("first store of pos-2 answered by its new owner %v after the change was sent; %d of pos-2's stores moved",
			rec.firstMove.Sub(sent).Round(time.Millisecond), len(rec.moved))
	}

	for _, failure := range rec.failures {
		t.Errorf("request failed: %s", failure)
	}
	for _, wrong := range rec.wrong {
		t.Errorf("store left its replica: %s", wrong)
	}
	for _, empty := range mon.empty {
		t.Errorf("Traefik showed no members: %s", empty)
	}
	for _, value := range mon.seen {
		if value != all && value != withoutPos2 {
			t.Errorf("Traefik showed %q", value)
		}
	}
	if !ok {
		t.Fatalf("Traefik did not apply the first change after the return within 30s")
	}
	if d := applied.Sub(sent); d > outageChangeBound {
		t.Errorf("the first change after the return reached Traefik after %v, want within %v", d.Round(time.Millisecond), outageChangeBound)
	}
	for store, replica := range rec.owners() {
		if replica == rec.movedFrom {
			t.Errorf("store %s is still on %s after it left", store, replica)
		}
	}
}

// buildCommerce builds demo/cmd/commerce into a temporary folder.
func buildCommerce(t *testing.T) string {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "commerce")
	cmd := exec.Command("go", "build", "-o", binary, "./cmd/commerce")
	cmd.Dir = filepath.Join(stack.RepoRoot(), "demo")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build commerce: %v\n%s", err, out)
	}
	return binary
}

// waitMembersFor polls Traefik's members every 20 ms until they are want.
func waitMembersFor(api *stack.API, app, want string, timeout time.Duration) (time.Time, bool) {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if traefikMembers(api, app) == want {
			return time.Now(), true
		}
	}
	return time.Time{}, false
}

// outageRecorder checks every answer: it must succeed and come from the store's
// replica. Only stores of movedFrom may move, once, after the phase "changed".
type outageRecorder struct {
	mu        sync.Mutex
	phase     string
	sent      map[string]int // by phase
	failed    map[string]int
	failures  []string          // the first few
	owner     map[string]string // store -> replica now
	origin    map[string]string // store -> replica before the outage
	movedFrom string
	moved     []string
	firstMove time.Time
	wrong     []string
}

func (r *outageRecorder) setPhase(phase string) {
	r.mu.Lock()
	r.phase = phase
	r.mu.Unlock()
}

func (r *outageRecorder) owners() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for store, replica := range r.owner {
		out[store] = replica
	}
	return out
}

// drive makes a stateful call for each device of store every outageInterval until ctx ends.
func (r *outageRecorder) drive(ctx context.Context, client *fleet.Client, store string, offset time.Duration) {
	time.Sleep(offset)
	ticker := time.NewTicker(outageInterval)
	defer ticker.Stop()
	for {
		for _, device := range fleet.Devices(store) {
			callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			resp, err := client.Ticket(callCtx, device)
			cancel()
			if ctx.Err() != nil {
				return
			}
			r.record(store, device, resp, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (r *outageRecorder) record(store, device string, resp fleet.Response, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent[r.phase]++
	replica := resp.Reply.Replica
	if err == nil && (resp.Status != 200 || resp.Reply.Store != store || replica == "") {
		err = fmt.Errorf("status %d, replica %q, store %q: %s", resp.Status, replica, resp.Reply.Store, strings.TrimSpace(resp.Body))
	}
	if err != nil {
		r.failed[r.phase]++
		if len(r.failures) < 10 {
			r.failures = append(r.failures, fmt.Sprintf("%s %s during phase %s: %v", time.Now().Format("15:04:05.000"), device, r.phase, err))
		}
		return
	}
	previous, known := r.owner[store]
	switch {
	case !known:
		r.owner[store], r.origin[store] = replica, replica
		if r.phase != "before" {
			r.wrong = append(r.wrong, fmt.Sprintf("store %s first answered during phase %s", store, r.phase))
		}
	case replica == previous:
	case r.phase == "changed" && previous == r.movedFrom && r.origin[store] == r.movedFrom:
		r.owner[store] = replica
		r.moved = append(r.moved, store)
		if r.firstMove.IsZero() {
			r.firstMove = time.Now()
		}
	default:
		if len(r.wrong) < 10 {
			r.wrong = append(r.wrong, fmt.Sprintf("%s %s answered by %s, was %s, during phase %s", time.Now().Format("15:04:05.000"), device, replica, previous, r.phase))
		}
	}
}

// memberMonitor polls Traefik's members of "pos" and records every value it shows,
// and when each line of the provider's (Traefik has no timestamps for plugin output).
type memberMonitor struct {
	polls         int
	unanswered    int      // Traefik's API did not answer at all
	empty         []string // no members, no middleware, or not enabled
	seen          []string // distinct values, in order
	providerLines []timedLine
}

type timedLine struct {
	at   time.Time
	text string
}

func (m *memberMonitor) watch(ctx context.Context, traefik *stack.Traefik, rec *outageRecorder) {
	api, logged := traefik.API, 0
	for ctx.Err() == nil {
		lines := strings.Split(traefik.Log(), "\n")
		complete := lines[:len(lines)-1] // the last piece is an unfinished line, or ""
		for _, line := range complete[min(logged, len(complete)):] {
			if strings.Contains(line, "kubernetes discovery") {
				m.providerLines = append(m.providerLines, timedLine{time.Now(), line[max(0, len(line)-70):]})
			}
		}
		logged = max(logged, len(complete))
		value := traefikMembers(api, "pos")
		m.polls++
		if value == "" {
			callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := api.Version(callCtx)
			cancel()
			if err != nil {
				m.unanswered++
			} else {
				rec.mu.Lock()
				phase := rec.phase
				rec.mu.Unlock()
				m.empty = append(m.empty, time.Now().Format("15:04:05.000")+" during phase "+phase)
			}
		} else if len(m.seen) == 0 || m.seen[len(m.seen)-1] != value {
			m.seen = append(m.seen, value)
		}
		select {
		case <-ctx.Done():
		case <-time.After(outageInterval):
		}
	}
}

var retryDelay = regexp.MustCompile(`retry in ([0-9.]+m?s)`)

// retrySummary counts the provider's retry lines in Traefik's log and lists their delays.
func retrySummary(log string) string {
	var delays []string
	for _, m := range retryDelay.FindAllStringSubmatch(log, -1) {
		delays = append(delays, m[1])
	}
	if len(delays) == 0 {
		return "none"
	}
	counts := map[string]int{}
	for _, d := range delays {
		counts[d]++
	}
	var parts []string
	for d, n := range counts {
		parts = append(parts, fmt.Sprintf("%s x%d", d, n))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d (%s)", len(delays), strings.Join(parts, ", "))
}
