package chaos

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// storeState is what one sample saw of a store; index 0 is the POS (through proxy
// A), index 1 the CX (through proxy B).
type storeState struct {
	socket       [2]string // replica of each device's open WebSocket ("" when not connected)
	socketMember [2]string // the replica its 101 answer's X-Store-Affinity named
	rest         [2]string // the replica the latest REST answer's X-Store-Affinity named
	restReplica  [2]string // the replica that sent the latest REST answer ("" on failure)
	restOK       [2]bool   // whether the latest REST call succeeded
}

// split reports whether both WebSockets are open, on different replicas.
func (s storeState) split() bool {
	return s.socket[0] != "" && s.socket[1] != "" && s.socket[0] != s.socket[1]
}

// disagree reports whether the two proxies named different members for the store.
func (s storeState) disagree() bool {
	differ := func(a, b string) bool { return a != "" && b != "" && a != b }
	return differ(s.rest[0], s.rest[1]) || differ(s.socketMember[0], s.socketMember[1])
}

// whole reports whether every device of the store is on owner: both WebSockets, their
// affinity stamps, and both latest REST answers with their stamps.
func (s storeState) whole(owner string) bool {
	for i := range 2 {
		if s.socket[i] != owner || s.socketMember[i] != owner || s.rest[i] != owner || s.restReplica[i] != owner || !s.restOK[i] {
			return false
		}
	}
	return true
}

// sample is every store's state at one moment.
type sample struct {
	at     time.Time
	stores []storeState     // in the order of recorder.stores
	cpu    [2]time.Duration // CPU time each Traefik process has used so far
}

// probe is one /healthz request the test itself made to a running replica, beside
// the providers' probes, to tell a slow replica from a slow prober.
type probe struct {
	at      time.Time
	replica string
	latency time.Duration
	ok      bool
}

// membership is a member list a proxy's API showed from a moment on.
type membership struct {
	at      time.Time
	members []string // replica names, sorted
}

// recorder samples the stores every 100 ms and watches both proxies' member lists.
type recorder struct {
	stores []string
	mu     sync.Mutex
	sample []sample
	lists  [2][]membership
	probes []probe
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func startRecorder(ctx context.Context, c *cluster, f *fleet.Fleet, load *fleet.Load, stores []string) *recorder {
	ctx, cancel := context.WithCancel(ctx)
	r := &recorder{stores: stores, cancel: cancel}
	pids := [2]int{c.proxies[0].PID(), c.proxies[1].PID()}
	r.done.Add(4)
	go func() {
		defer r.done.Done()
		every(ctx, func(now time.Time) { r.take(now, f, load, pids) })
	}()
	urls := map[string]string{}
	for name, addr := range c.addrs {
		urls[name] = "http://" + addr + "/healthz"
	}
	go func() {
		defer r.done.Done()
		client := &http.Client{Timeout: 300 * time.Millisecond}
		every(ctx, func(time.Time) { r.probe(ctx, client, urls) })
	}()
	for i, proxy := range c.proxies {
		go func() {
			defer r.done.Done()
			every(ctx, func(now time.Time) { r.watch(ctx, i, proxy.API) })
		}()
	}
	return r
}

// every calls fn every 100 ms until ctx ends.
func every(ctx context.Context, fn func(time.Time)) {
	ticker := time.NewTicker(sampleEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			fn(now)
		}
	}
}

func (r *recorder) take(now time.Time, f *fleet.Fleet, load *fleet.Load, pids [2]int) {
	s := sample{at: now, stores: make([]storeState, len(r.stores))}
	for i, pid := range pids {
		s.cpu[i] = cpuTime(pid)
	}
	for i, store := range r.stores {
		for d, device := range fleet.Devices(store) {
			if conn, ok := f.Sockets[device].Current(); ok {
				s.stores[i].socket[d] = conn.Replica
				s.stores[i].socketMember[d] = memberOf(conn.Affinity)
			}
			if last, ok := load.Last(device); ok {
				s.stores[i].rest[d], s.stores[i].restReplica[d], s.stores[i].restOK[d] = strings.TrimPrefix(last.Member, app+"-"), last.Replica, last.OK
			}
		}
	}
	r.mu.Lock()
	r.sample = append(r.sample, s)
	r.mu.Unlock()
}

func (r *recorder) watch(ctx context.Context, proxy int, api *stack.API) {
	_, _, middleware := stack.Objects(app)
	got, err := api.Members(ctx, middleware)
	if err != nil {
		return
	}
	for i, m := range got {
		got[i] = replicaOf(m)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	lists := r.lists[proxy]
	if n := len(lists); n == 0 || !slices.Equal(lists[n-1].members, got) {
		r.lists[proxy] = append(lists, membership{at: time.Now(), members: got})
	}
}

// probe requests every replica's /healthz once, concurrently, as the providers do.
func (r *recorder) probe(ctx context.Context, client *http.Client, urls map[string]string) {
	var wg sync.WaitGroup
	for name, url := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			began := time.Now()
			resp, err := client.Do(req)
			p := probe{at: began, replica: name, latency: time.Since(began), ok: err == nil}
			if err == nil {
				p.ok = resp.StatusCode == http.StatusOK
				resp.Body.Close()
			}
			if ctx.Err() == nil {
				r.mu.Lock()
				r.probes = append(r.probes, p)
				r.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// probesOf returns the test's own probes of replica made in [from, to).
func (r *recorder) probesOf(replica string, from, to time.Time) []probe {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []probe
	for _, p := range r.probes {
		if p.replica == replica && !p.at.Before(from) && p.at.Before(to) {
			out = append(out, p)
		}
	}
	return out
}

// history returns proxy's member lists from from on, each with its time relative to t0.
func (r *recorder) history(proxy int, from, to, t0 time.Time) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var parts []string
	for _, l := range r.lists[proxy] {
		if !l.at.Before(from) && l.at.Before(to) {
			parts = append(parts, fmt.Sprintf("%+.2fs %v", l.at.Sub(t0).Seconds(), l.members))
		}
	}
	return strings.Join(parts, ", ")
}

// cpuTime returns the CPU time (user and system) a process has used, from /proc.
func cpuTime(pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return 0
	}
	user, _ := strconv.ParseInt(fields[11], 10, 64)
	system, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(user+system) * time.Second / 100 // USER_HZ is 100 on Linux
}

// stop ends the sampling.
func (r *recorder) stop() {
	r.cancel()
	r.done.Wait()
}

// samples returns the samples taken in [from, to).
func (r *recorder) samples(from, to time.Time) []sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sample
	for _, s := range r.sample {
		if !s.at.Before(from) && s.at.Before(to) {
			out = append(out, s)
		}
	}
	return out
}

// listedAt returns when proxy's API first showed want after from, to within the 100 ms
// of the polling (zero if never).
func (r *recorder) listedAt(proxy int, from time.Time, want []string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	want = slices.Sorted(slices.Values(want))
	for _, l := range r.lists[proxy] {
		if !l.at.Before(from) && slices.Equal(l.members, want) {
			return l.at
		}
	}
	return time.Time{}
}
