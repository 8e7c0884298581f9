package yaegi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/hashing"
)

// holder is a next handler that holds every request open until its context ends,
// and records when each store's request ended.
type holder struct {
	started sync.WaitGroup
	mu      sync.Mutex
	ended   map[string]time.Time
}

func (h *holder) ServeHTTP(_ http.ResponseWriter, req *http.Request) {
	h.started.Done()
	<-req.Context().Done()
	store := req.Header.Get("X-Store")
	h.mu.Lock()
	h.ended[store] = time.Now()
	h.mu.Unlock()
}

// BenchmarkHandoff measures a change of members under Yaegi, as Traefik runs the
// middleware, with one live WebSocket request per store held open through it: how long
// New takes, the CPU the change costs, and when the last moved store ends after the
// grace. HANDOFF_SIZES lists stores:from:to triples (default 10000:3:4,100000:100:101).
//
//	go test -run '^$' -bench Handoff -benchtime 1x ./e2e/yaegi/
func BenchmarkHandoff(b *testing.B) {
	sizes := os.Getenv("HANDOFF_SIZES")
	if sizes == "" {
		sizes = "10000:3:4,100000:100:101"
	}
	var triples [][3]int
	for _, triple := range splitComma(sizes) {
		var stores, from, to int
		if _, err := fmt.Sscanf(triple, "%d:%d:%d", &stores, &from, &to); err != nil {
			b.Fatalf("HANDOFF_SIZES: %q: %v", triple, err)
		}
		triples = append(triples, [3]int{stores, from, to})
	}
	for _, t := range triples {
		b.Run(fmt.Sprintf("%dstores_%dto%d", t[0], t[1], t[2]), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				handoff(b, t[0], t[1], t[2])
			}
		})
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func handoff(b *testing.B, stores, from, to int) {
	const grace = 2 * time.Second
	i := newInterpreter(b, stack.MiddlewareModule)
	build := interpretedBuilder(b, i, "storeaffinity")
	members := func(n int) []any {
		out := make([]any, n)
		for k := range out {
			out[k] = "pos-pos-" + strconv.Itoa(k)
		}
		return out
	}
	config := benchConfig(from)
	config["members"] = members(from)
	config["rebalanceGrace"] = grace.String()
	name := fmt.Sprintf("handoff-%d-%d", stores, from)
	next := &holder{ended: map[string]time.Time{}}
	h, err := build(context.Background(), next, config, name)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	storeIDs := make([]string, stores)
	next.started.Add(stores)
	for k := range storeIDs {
		storeIDs[k] = fmt.Sprintf("h%06d", k)
		req := httptest.NewRequest(http.MethodGet, "/api/appId/pos/deviceId/"+storeIDs[k]+"-001/ws", nil).WithContext(ctx)
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("X-Store", storeIDs[k])
		go h.ServeHTTP(httptest.NewRecorder(), req)
	}
	next.started.Wait()
	before, _ := hashing.New("", asStrings(members(from)))
	after, _ := hashing.New("", asStrings(members(to)))
	moved := 0
	for _, s := range storeIDs {
		if before.Members()[before.Pick(s)] != after.Members()[after.Pick(s)] {
			moved++
		}
	}
	config["members"] = members(to)
	// The same wait without a change: what the process spends on its own (the
	// garbage collector scanning the held requests' goroutines).
	runtime.GC()
	idleBefore := cpuTime()
	time.Sleep(grace - 100*time.Millisecond)
	idleCPU := time.Duration(cpuTime() - idleBefore)
	if path := os.Getenv("HANDOFF_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		_ = pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	cpuBefore := cpuTime()
	changed := time.Now()
	if _, err := build(context.Background(), next, config, name); err != nil {
		b.Fatal(err)
	}
	newTook := time.Since(changed)
	time.Sleep(grace - 100*time.Millisecond)
	changeCPU := time.Duration(cpuTime() - cpuBefore)
	deadline := changed.Add(grace + 10*time.Second)
	for {
		next.mu.Lock()
		ended := len(next.ended)
		next.mu.Unlock()
		if ended >= moved || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	next.mu.Lock()
	var last time.Time
	for _, at := range next.ended {
		if at.After(last) {
			last = at
		}
	}
	ended := len(next.ended)
	next.mu.Unlock()
	b.ReportMetric(float64(newTook.Microseconds())/1000, "New-ms")
	b.ReportMetric(float64(changeCPU.Microseconds())/1000, "change-CPU-ms")
	b.ReportMetric(float64(idleCPU.Microseconds())/1000, "idle-CPU-ms")
	b.ReportMetric(float64(last.Sub(changed.Add(grace)).Microseconds())/1000, "last-end-after-grace-ms")
	b.ReportMetric(float64(ended), "ended")
	b.ReportMetric(float64(moved), "moved")
	if ended != moved {
		b.Errorf("%d stores ended, %d moved", ended, moved)
	}
}

func asStrings(in []any) []string {
	out := make([]string, len(in))
	for k, v := range in {
		out[k] = v.(string)
	}
	return out
}
