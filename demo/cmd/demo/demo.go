package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/hashing"
)

// The replicas run on 127.0.0.1, each on a port of its own. The provider discovers them
// through the SRV records of srvName on the demo's own DNS server, as it would the pods
// of a headless Service, so that adding a record is a scale event the provider sees
// while everything keeps running.
var replicaNames = []string{"pos-0", "pos-1", "pos-2", "pos-3"}

const (
	app     = "pos"
	srvName = "_http._tcp.pos.demo"
	zone    = ".demo"
)

type demo struct {
	storeCount int
	grace      time.Duration
	out        io.Writer

	replicas stack.Replicas
	dns      *stack.DNS
	traefik  *stack.Traefik
	fleet    *fleet.Fleet
	load     *fleet.Load
	workDir  string
}

// run performs the demonstration and returns its one-line summary.
func (d *demo) run(ctx context.Context) (string, error) {
	d.step("Traefik %s with the storeaffinity plugins (built once into the cache)", stack.TraefikVersion())
	if _, err := stack.TraefikBinary(); err != nil {
		return "", err
	}
	var err error
	if d.replicas, err = stack.StartReplicas(replicaNames...); err != nil {
		return "", err
	}
	if d.dns, err = stack.StartDNS(); err != nil {
		return "", err
	}
	for _, r := range d.replicas {
		d.dns.SetA(r.Name()+zone, "127.0.0.1")
	}
	d.dns.SetSRV(srvName, d.records(3)...)
	if d.workDir, err = os.MkdirTemp("", "storeaffinity-demo-"); err != nil {
		return "", err
	}
	d.traefik, err = stack.StartTraefik(ctx, stack.TraefikOptions{
		Dir: d.workDir,
		Provider: stack.ProviderConfig(stack.App{
			Name:           app,
			DNS:            map[string]any{"name": srvName, "interval": "250ms", "resolver": d.dns.Addr},
			RebalanceGrace: d.grace.String(),
			Extra:          map[string]any{"stompConnectPaths": commerce.StompPath},
		}),
		Plugins: stack.InstallPlugins,
	})
	if err != nil {
		return "", err
	}
	_, _, middleware := stack.Objects(app)
	if err := d.traefik.API.WaitMembers(ctx, middleware, memberNames(replicaNames[:3])); err != nil {
		return "", err
	}
	fmt.Fprintf(d.out, "    replicas %s on 127.0.0.1, discovered through DNS SRV records; Traefik at %s\n",
		strings.Join(replicaNames[:3], ", "), d.traefik.WebURL)

	d.step("%d stores connect a POS and a CX display over the OpenPOS WebSocket, and make REST calls", d.storeCount)
	fmt.Fprintf(d.out, "    as the OpenPOS client does: %s with the STOMP subprotocols, the device named only in the CONNECT frame\n", commerce.StompPath)
	client := fleet.NewClient(d.traefik.WebURL)
	client.Stomp = true
	stores := fleet.StoreIDs(d.storeCount)
	d.fleet = client.Connect(ctx, stores)
	var posDevices []string
	for _, store := range stores {
		posDevices = append(posDevices, fleet.Devices(store)[0])
	}
	d.load = fleet.StartLoad(ctx, posDevices, func(string) *fleet.Client { return client }, 300*time.Millisecond)
	if err := d.waitTogether(ctx, 30*time.Second); err != nil {
		return "", err
	}
	time.Sleep(time.Second) // let the first REST calls land
	before, _ := d.fleet.Together()
	d.printPlacement(before, nil)

	d.step("scaling to 4 replicas: the SRV records now list %s too", replicaNames[3])
	changed := time.Now()
	d.dns.SetSRV(srvName, d.records(4)...)
	if err := d.traefik.API.WaitMembers(ctx, middleware, memberNames(replicaNames)); err != nil {
		return "", err
	}
	fmt.Fprintf(d.out, "    Traefik routes over 4 members %v after the change; moved stores' STOMP sessions close (1012) after the %v grace\n",
		time.Since(changed).Round(time.Millisecond), d.grace)
	moved := movedStores(before, replicaNames)
	if err := d.waitMoved(ctx, before, moved, d.grace+15*time.Second); err != nil {
		return "", err
	}
	converged := time.Since(changed)
	time.Sleep(time.Second) // let the REST calls of reconnected devices land
	after, apart := d.fleet.Together()
	d.printPlacement(after, before)
	splits := commerce.Splits(d.replicas.Reports(), changed.Add(d.grace+5*time.Second))
	requests, failures := d.load.Counts()
	moduloMoved := moduloMoves(stores, 3, 4)

	d.step("summary")
	summary := fmt.Sprintf("storeaffinity demo: %d stores, 3 -> 4 replicas: %d moved (%.0f%%; StateLB-style modulo would move %d, %.0f%%), every store's devices together again %v after the change, %d apart, %d split after the grace, %d of %d REST calls failed",
		len(stores), len(moved), percent(len(moved), len(stores)), moduloMoved, percent(moduloMoved, len(stores)),
		converged.Round(100*time.Millisecond), len(apart), len(splits), failures, requests)
	if len(apart) > 0 || len(splits) > 0 || failures > 0 {
		return "", fmt.Errorf("%s", summary)
	}
	return summary, nil
}

func (d *demo) step(format string, args ...any) {
	fmt.Fprintf(d.out, "\n==> "+format+"\n", args...)
}

// waitTogether waits until every store's devices are connected to one replica.
func (d *demo) waitTogether(ctx context.Context, timeout time.Duration) error {
	return stack.Poll(ctx, timeout, func(context.Context) error {
		owner, apart := d.fleet.Together()
		if len(apart) > 0 || len(owner) != d.storeCount {
			return fmt.Errorf("%d of %d stores have both devices together", len(owner), d.storeCount)
		}
		return nil
	})
}

// waitMoved waits until every moved store's devices are together on the new replica.
func (d *demo) waitMoved(ctx context.Context, before map[string]string, moved []string, timeout time.Duration) error {
	return stack.Poll(ctx, timeout, func(context.Context) error {
		owner, apart := d.fleet.Together()
		for _, store := range moved {
			if owner[store] == before[store] || owner[store] == "" {
				return fmt.Errorf("store %s has not moved yet (%d stores apart)", store, len(apart))
			}
		}
		return nil
	})
}

func (d *demo) close() {
	if d.load != nil {
		d.load.Stop()
		d.load = nil
	}
	if d.fleet != nil {
		d.fleet.Close()
		d.fleet = nil
	}
	if d.traefik != nil {
		d.traefik.Stop()
		d.traefik = nil
	}
	if d.dns != nil {
		_ = d.dns.Close()
		d.dns = nil
	}
	if d.replicas != nil {
		d.replicas.Close()
		d.replicas = nil
	}
	if d.workDir != "" {
		_ = os.RemoveAll(d.workDir)
		d.workDir = ""
	}
}

// records returns the SRV records of the first n replicas.
func (d *demo) records(n int) []stack.SRV {
	var records []stack.SRV
	for _, r := range d.replicas[:n] {
		_, port, _ := net.SplitHostPort(r.Addr())
		p, _ := strconv.Atoi(port)
		records = append(records, stack.SRV{Target: r.Name() + zone, Port: p})
	}
	return records
}

// memberName returns the member (child service) the provider makes of a replica: the
// app name, then the SRV target.
func memberName(replica string) string { return app + "-" + replica + zone }

// memberNames returns the members of replicas.
func memberNames(replicas []string) []string {
	out := make([]string, len(replicas))
	for i, r := range replicas {
		out[i] = memberName(r)
	}
	return out
}

// movedStores returns the stores whose rendezvous owner differs among replicas.
func movedStores(before map[string]string, replicas []string) []string {
	picker, _ := hashing.New(hashing.StrategyRendezvous, memberNames(replicas))
	var moved []string
	for store, replica := range before {
		if picker.Members()[picker.Pick(store)] != memberName(replica) {
			moved = append(moved, store)
		}
	}
	sort.Strings(moved)
	return moved
}

// moduloMoves counts the stores that modulo placement would move from n to m members.
func moduloMoves(stores []string, n, m int) int {
	from, _ := hashing.New(hashing.StrategyModulo, memberNames(replicaNames[:n]))
	to, _ := hashing.New(hashing.StrategyModulo, memberNames(replicaNames[:m]))
	moved := 0
	for _, store := range stores {
		if from.Members()[from.Pick(store)] != to.Members()[to.Pick(store)] {
			moved++
		}
	}
	return moved
}

func percent(part, whole int) float64 { return 100 * float64(part) / float64(whole) }
