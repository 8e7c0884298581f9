// Command commerce runs demo Commerce replicas on loopback ports, or checks running
// replicas for stores that two replicas served at the same time.
//
//	commerce serve pos-0=127.0.0.1:8081 pos-1=127.0.0.1:8082 pos-2=127.0.0.1:0
//	commerce serve 0.0.0.0:8080          (one replica named by the hostname, as in a container)
//	commerce serve -drain 15s 0.0.0.0:8080
//	commerce check http://127.0.0.1:8081 http://127.0.0.1:8082 http://127.0.0.1:8083
//
// serve prints one line per replica, "<name> <url>", and runs until interrupted. With
// -drain, SIGTERM or an interrupt starts a drain: /healthz answers 503, so that a
// health-checking proxy stops sending new stores, while everything else is served
// until the window has passed (or a second signal comes); then the replicas close,
// ending their WebSockets and streams.
// check prints every replica's stores and the split stores, and exits 1 if any.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
)

const usage = `usage:
  commerce serve [-drain <duration>] [<name>=]<host:port>...
                                         run replicas (port 0 picks a free one; the
                                         name defaults to the hostname); on SIGTERM,
                                         fail /healthz and keep serving for -drain
  commerce check <replica-url>...        report stores per replica and split stores`

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "check":
		var split bool
		split, err = check(os.Args[2:])
		if err == nil && split {
			os.Exit(1)
		}
	default:
		err = fmt.Errorf("unknown command %q\n%s", os.Args[1], usage)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "commerce:", err)
		os.Exit(2)
	}
}

func serve(args []string) error {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	drain := flags.Duration("drain", 0, "on SIGTERM, fail /healthz and keep serving this long before closing")
	if err := flags.Parse(args); err != nil {
		return err
	}
	specs := flags.Args()
	if len(specs) == 0 {
		return fmt.Errorf("serve names no replica\n%s", usage)
	}
	// Listen for signals before the replicas announce themselves, so that a signal
	// that comes right after is a stop, not a crash.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	var replicas []*commerce.Replica
	defer func() {
		for _, r := range replicas {
			_ = r.Close()
		}
	}()
	for _, spec := range specs {
		name, addr, ok := strings.Cut(spec, "=")
		if !ok {
			hostname, err := os.Hostname()
			if err != nil {
				return fmt.Errorf("%q names no replica, and the hostname: %w", spec, err)
			}
			name, addr = hostname, spec
		}
		if name == "" {
			return fmt.Errorf("%q is not [<name>=]<host:port>", spec)
		}
		r, err := commerce.Start(name, addr)
		if err != nil {
			return fmt.Errorf("replica %s: %w", name, err)
		}
		replicas = append(replicas, r)
		fmt.Println(name, r.URL())
	}
	<-signals
	if *drain > 0 {
		for _, r := range replicas {
			r.SetHealthy(false)
		}
		fmt.Println("draining for", *drain)
		select {
		case <-time.After(*drain):
		case <-signals:
		}
	}
	return nil
}

func check(urls []string) (split bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &http.Client{}
	var reports []commerce.Report
	for _, url := range urls {
		report, err := commerce.FetchReport(ctx, client, strings.TrimSuffix(url, "/"))
		if err != nil {
			return false, err
		}
		reports = append(reports, report)
		fmt.Printf("%s: %d stores, %d live sessions\n", report.Replica, len(report.Stores), live(report))
	}
	splits := commerce.Splits(reports, time.Time{})
	for _, s := range splits {
		fmt.Printf("split: store %s on %s (%s %s) and %s (%s %s) from %s\n",
			s.Store, s.A.Replica, s.A.Device, s.A.Kind, s.B.Replica, s.B.Device, s.B.Kind, s.From.Format(time.RFC3339Nano))
	}
	fmt.Printf("%d stores split\n", len(splits))
	return len(splits) > 0, nil
}

func live(report commerce.Report) int {
	n := 0
	for _, s := range report.Sessions {
		if s.Live() {
			n++
		}
	}
	return n
}
