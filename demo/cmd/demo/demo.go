package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/fleet"
	"github.com/storeaffinity/storeaffinity/demo/stack"
	"github.com/storeaffinity/storeaffinity/hashing"
)

// The replicas run on loopback addresses, one port for all, like pods behind a
// headless Service; the provider discovers them by DNS A records of dnsName, so that
// adding a record is a scale event the provider sees while everything keeps running.
var hosts = []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}

const (
	app     = "pos"
	dnsName = "pos.demo"
)

type demo struct {
	storeCount int
	grace      time.Duration
	out        io.Writer

	replicas stack.Replicas
	dns      *stack.DNS
	traefik  *stack.Traefik
	fleet    *fleet.Fleet
	load     *restLoad
	workDir  string
}

// run performs the demonstration and returns its one-line summary.
func (d *demo) run(ctx context.Context) (string, error) {
	d.step("Traefik %s with the storeaffinity plugins (built once into the cache)", stack.TraefikVersion)
	if _, err := stack.TraefikBinary(); err != nil {
		return "", err
	}
	var port int
	var err error
	if d.replicas, port, err = stack.StartReplicasOnHosts(hosts...); err != nil {
		return "", err
	}
	if d.dns, err = stack.StartDNS(); err != nil {
		return "", err
	}
	d.dns.SetA(dnsName, hosts[:3]...)
	if d.workDir, err = os.MkdirTemp("", "storeaffinity-demo-"); err != nil {
		return "", err
	}
	d.traefik, err = stack.StartTraefik(ctx, stack.TraefikOptions{
		Dir: d.workDir,
		Provider: stack.ProviderConfig(stack.App{
			Name:           app,
			DNS:            map[string]any{"name": dnsName, "port": strconv.Itoa(port), "interval": "250ms", "resolver": d.dns.Addr},
			RebalanceGrace: d.grace.String(),
		}),
		Plugins: stack.InstallPlugins,
	})
	if err != nil {
		return "", err
	}
	_, _, middleware := stack.Objects(app)
	if err := d.traefik.API.WaitMembers(ctx, middleware, memberNames(hosts[:3])); err != nil {
		return "", err
	}
	fmt.Fprintf(d.out, "    3 replicas at %s (port %d), Traefik at %s\n", strings.Join(hosts[:3], ", "), port, d.traefik.WebURL)

	d.step("%d stores connect a POS and a CX display over WebSocket, and make REST calls", d.storeCount)
	client := fleet.NewClient(d.traefik.WebURL)
	stores := fleet.StoreIDs(d.storeCount)
	d.fleet = client.Connect(ctx, stores)
	d.load = startRESTLoad(ctx, client, stores)
	if err := d.waitTogether(ctx, 30*time.Second); err != nil {
		return "", err
	}
	time.Sleep(time.Second) // let the first REST calls land
	before, _ := d.fleet.Together()
	d.printPlacement(before, nil)

	d.step("scaling to 4 replicas: the DNS name now lists %s too", hosts[3])
	changed := time.Now()
	d.dns.SetA(dnsName, hosts...)
	if err := d.traefik.API.WaitMembers(ctx, middleware, memberNames(hosts)); err != nil {
		return "", err
	}
	fmt.Fprintf(d.out, "    Traefik routes over 4 members %v after the change; moved stores' WebSockets close after the %v grace\n",
		time.Since(changed).Round(time.Millisecond), d.grace)
	moved := movedStores(before, hosts)
	if err := d.waitMoved(ctx, before, moved, d.grace+15*time.Second); err != nil {
		return "", err
	}
	converged := time.Since(changed)
	time.Sleep(time.Second) // let the REST calls of reconnected devices land
	after, apart := d.fleet.Together()
	d.printPlacement(after, before)
	splits := commerce.Splits(d.replicas.Reports(), changed.Add(d.grace+5*time.Second))
	requests, failures := d.load.counts()
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
		d.load.stop()
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

// memberNames returns the members the provider makes of replica hosts.
func memberNames(replicas []string) []string {
	out := make([]string, len(replicas))
	for i, r := range replicas {
		out[i] = app + "-" + r
	}
	return out
}

// movedStores returns the stores whose rendezvous owner differs among replicas.
func movedStores(before map[string]string, replicas []string) []string {
	picker, _ := hashing.New(hashing.StrategyRendezvous, hashing.Names(memberNames(replicas)))
	var moved []string
	for store, replica := range before {
		if picker.Members()[picker.Pick(store)] != app+"-"+replica {
			moved = append(moved, store)
		}
	}
	sort.Strings(moved)
	return moved
}

// moduloMoves counts the stores that modulo placement would move from n to m members.
func moduloMoves(stores []string, n, m int) int {
	from, _ := hashing.New(hashing.StrategyModulo, hashing.Names(memberNames(hosts[:n])))
	to, _ := hashing.New(hashing.StrategyModulo, hashing.Names(memberNames(hosts[:m])))
	moved := 0
	for _, store := range stores {
		if from.Members()[from.Pick(store)] != to.Members()[to.Pick(store)] {
			moved++
		}
	}
	return moved
}

func percent(part, whole int) float64 { return 100 * float64(part) / float64(whole) }
