// Command bench measures the storeaffinity middleware inside real Traefik: wrk
// against every chain of variants.go, the variants alternating over several rounds,
// with req/s, p50, p99 and the CPU time per request of every proxy process (from
// /proc); then WebSocket connects per second, SSE event delay under load, and
// Traefik's resident memory after 10k and 100k distinct stores. It writes the results
// into BENCHMARKS.md. With -only it runs only the variants named, without the extras,
// and writes their table and what the middleware's counting for the metrics costs (the
// -nometrics chains) into BENCHMARKS.md's metrics cost section. With -profile it
// captures Traefik's CPU and allocation profiles under stateful and stateless load
// instead, and prints the interpreted code's top costs. With -stomp it measures only the OpenPOS STOMP WebSocket (session set-up and
// round trips, against a URL-routed WebSocket), and with -handoff N a 3 -> 4 scale
// through Traefik under N stores' WebSockets with a rebalanceSpread.
//
//	go run ./tools/bench -rounds 9 -duration 3s -out ../BENCHMARKS.md
//	go run ./tools/bench -rounds 9 -duration 3s -only floor,ours-stateful-3,ours-stateful-3-nometrics,ours-stateless-3,ours-stateless-3-nometrics -out ../BENCHMARKS.md
//	go run ./tools/bench -profile -duration 12s
//	go run ./tools/bench -stomp -duration 3s
//	go run ./tools/bench -handoff 4000 -spread 30s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/demo/tools/probes"
)

func main() {
	rounds := flag.Int("rounds", 9, "alternating rounds of every variant")
	duration := flag.Duration("duration", 3*time.Second, "wrk duration per variant and round")
	out := flag.String("out", "", "BENCHMARKS.md to write the results into (default: print them)")
	only := flag.String("only", "", "run only these variants (comma-separated), without the extras; -out then writes the metrics cost section")
	profile := flag.Bool("profile", false, "capture Traefik's CPU and allocation profiles instead")
	stomp := flag.Bool("stomp", false, "only measure the OpenPOS STOMP WebSocket, and print its figures")
	handoff := flag.Int("handoff", 0, "only measure a 3 -> 4 scale through Traefik under this many stores' WebSockets (two each), and print its figures")
	spread := flag.Duration("spread", 30*time.Second, "rebalanceSpread of -handoff")
	shard := flag.String("shard-proxy", "", "run as the sharding proxy on this address (internal)")
	backends := flag.String("backends", "", "the sharding proxy's backends (internal)")
	flag.Parse()
	var err error
	switch {
	case *shard != "":
		err = runShardProxy(*shard, strings.Split(*backends, ","))
	case *profile:
		err = runProfile(*duration)
	case *stomp:
		err = runStomp(*duration)
	case *handoff > 0:
		err = runHandoff(*handoff, 2*time.Second, *spread)
	default:
		err = runBench(*rounds, *duration, *out, *only)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// setup is the running chain: backends, the sharding proxy and one Traefik with an
// entry point per variant.
type setup struct {
	dir      string
	replicas stack.Replicas
	traefik  *stack.Traefik
	proxyPID int
	stop     func()
}

func start(ctx context.Context, debug bool) (*setup, error) {
	dir, err := os.MkdirTemp("", "storeaffinity-bench-")
	if err != nil {
		return nil, err
	}
	replicas, err := stack.StartReplicas("b0", "b1", "b2")
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, r := range replicas {
		urls = append(urls, r.URL())
	}
	proxyURL, proxy, err := startShardProxy(urls)
	if err != nil {
		replicas.Close()
		return nil, err
	}
	var names []string
	for _, v := range variants {
		names = append(names, v.name)
	}
	traefik, err := stack.StartTraefik(ctx, stack.TraefikOptions{
		Dir: dir, Dynamic: dynamicConfig(urls, proxyURL), Provider: providerConfig(urls), LogLevel: "ERROR", Debug: debug,
		Plugins: installPlugins, EntryPoints: append(names, stompEntryPoint),
		LocalPlugins: map[string]string{stack.MiddlewareAlias: stack.MiddlewareModule, stack.ProviderAlias: stack.ProviderModule,
			noMetricsAlias: noMetricsModule, probes.FloorAlias: probes.FloorAlias, probes.LeastAlias: probes.LeastAlias},
	})
	if err != nil {
		_ = proxy.Process.Kill()
		replicas.Close()
		return nil, err
	}
	s := &setup{dir: dir, replicas: replicas, traefik: traefik, proxyPID: proxy.Process.Pid}
	s.stop = func() {
		traefik.Stop()
		_ = proxy.Process.Kill()
		_ = proxy.Wait()
		replicas.Close()
		_ = os.RemoveAll(dir)
	}
	// Wait until every entry point routes.
	for _, v := range variants {
		script, err := wrkScript(dir, v)
		if err != nil {
			s.stop()
			return nil, err
		}
		if err := stack.Poll(ctx, 30*time.Second, func(context.Context) error {
			_, err := runWrk(traefik.URLs[v.name], script, time.Second)
			return err
		}); err != nil {
			s.stop()
			return nil, fmt.Errorf("variant %s: %w\n%s", v.name, err, traefik.Trouble())
		}
	}
	return s, nil
}
