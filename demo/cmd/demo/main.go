// Command demo is the one-command demonstration of storeaffinity: three Commerce
// replicas behind a real Traefik with both plugins, a fleet of stores whose POS and
// customer display hold WebSockets and make REST calls, and a live scale to four
// replicas that moves only the stores the new replica wins, each store's devices
// together.
//
// Usage: go run ./cmd/demo [-stores 100] [-grace 2s] [-hold]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	stores := flag.Int("stores", 100, "number of simulated stores (each has a POS and a CX display)")
	grace := flag.Duration("grace", 2*time.Second, "the middleware's rebalanceGrace")
	hold := flag.Bool("hold", false, "keep everything running after the summary, until Ctrl-C")
	flag.Parse()
	if *stores < 1 || *stores > 2000 {
		fmt.Fprintln(os.Stderr, "demo: -stores must be between 1 and 2000")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &demo{storeCount: *stores, grace: *grace, out: os.Stdout}
	summary, err := d.run(ctx)
	defer d.close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		if d.traefik != nil {
			fmt.Fprintf(os.Stderr, "Traefik's log: %s\n%s", d.traefik.LogPath, d.traefik.LogTail(20))
		}
		d.close()
		os.Exit(1)
	}
	fmt.Fprintln(d.out, summary)
	if *hold {
		d.printTryIt()
		<-ctx.Done()
	}
}
