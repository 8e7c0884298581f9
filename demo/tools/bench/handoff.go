package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// runHandoff measures a scale from 3 to 4 replicas through real Traefik with both
// plugins, under stores' live WebSockets (a POS and a CX display each, device IDs in
// the path): when the moved stores' sockets end and reconnect on the new replica over
// rebalanceSpread, how many stores are apart once grace + spread + 5 s have passed, and
// Traefik's CPU. The replicas run as processes of their own, so that no process holds
// more than about 16,000 sockets.
func runHandoff(stores int, grace, spread time.Duration) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "storeaffinity-handoff-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	binary, err := stack.BuildCommerce(dir)
	if err != nil {
		return err
	}
	dns, err := stack.StartDNS()
	if err != nil {
		return err
	}
	defer func() { _ = dns.Close() }()
	var records []stack.SRV
	for i := 0; i < 4; i++ {
		addr, err := stack.FreeAddr()
		if err != nil {
			return err
		}
		name := "pos-" + strconv.Itoa(i)
		p, err := stack.StartReplicaProcess(ctx, binary, name, addr, filepath.Join(dir, name+".log"))
		if err != nil {
			return err
		}
		defer p.Stop(syscall.SIGKILL)
		_, port, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(port)
		dns.SetA(name+".handoff", "127.0.0.1")
		records = append(records, stack.SRV{Target: name + ".handoff", Port: n})
	}
	const srvName = "_http._tcp.pos.handoff"
	dns.SetSRV(srvName, records[:3]...)
	traefik, err := stack.StartTraefik(ctx, stack.TraefikOptions{
		Dir: dir, LogLevel: "ERROR",
		Provider: stack.ProviderConfig(stack.App{
			Name:           "pos",
			DNS:            map[string]any{"name": srvName, "interval": "250ms", "resolver": dns.Addr},
			RebalanceGrace: grace.String(),
			Extra:          map[string]any{"rebalanceSpread": spread.String()},
		}),
		Plugins: stack.InstallPlugins,
	})
	if err != nil {
		return err
	}
	defer traefik.Stop()
	_, _, middleware := stack.Objects("pos")
	member := func(i int) string { return "pos-pos-" + strconv.Itoa(i) + ".handoff" }
	if err := traefik.API.WaitMembers(ctx, middleware, []string{member(0), member(1), member(2)}); err != nil {
		return err
	}
	client := fleet.NewClient(traefik.WebURL)
	f := client.Connect(ctx, fleet.StoreIDs(stores))
	defer f.Close()
	started := time.Now()
	if err := stack.Poll(ctx, 5*time.Minute, func(context.Context) error {
		if owner, apart := f.Together(); len(owner) != stores {
			return fmt.Errorf("%d of %d stores together, %d apart", len(owner), stores, len(apart))
		}
		return nil
	}); err != nil {
		return err
	}
	fmt.Printf("- %d stores (%d WebSockets) connected through Traefik in %v\n", stores, 2*stores, time.Since(started).Round(100*time.Millisecond))
	before, _ := f.Together()
	idleStart, err := cpuTime(traefik.PID())
	if err != nil {
		return err
	}
	time.Sleep(10 * time.Second)
	idleEnd, err := cpuTime(traefik.PID())
	if err != nil {
		return err
	}
	fmt.Printf("- Traefik's CPU over 10 s with the sockets open and no change: %v\n", (idleEnd - idleStart).Round(10*time.Millisecond))
	cpuBefore, err := cpuTime(traefik.PID())
	if err != nil {
		return err
	}
	changed := time.Now()
	dns.SetSRV(srvName, records...)
	if err := traefik.API.WaitMembers(ctx, middleware, []string{member(0), member(1), member(2), member(3)}); err != nil {
		return err
	}
	fmt.Printf("- 3 -> 4 replicas: Traefik routes over 4 members %v after the DNS change; rebalanceGrace %v, rebalanceSpread %v\n",
		time.Since(changed).Round(time.Millisecond), grace, spread)
	time.Sleep(time.Until(changed.Add(grace + spread + 5*time.Second)))
	cpuAfter, err := cpuTime(traefik.PID())
	if err != nil {
		return err
	}
	after, apart := f.Together()
	moved := 0
	for store, replica := range after {
		if before[store] != replica {
			moved++
		}
	}
	// Arrivals on the new replica, per second of the window.
	perSecond := map[int]int{}
	arrivals := 0
	var first, last time.Duration = 1 << 62, 0
	for _, s := range f.Sockets {
		for _, c := range s.Connections() {
			if c.Replica != "pos-3" || c.Start.Before(changed) {
				continue
			}
			at := c.Start.Sub(changed)
			perSecond[int(at/time.Second)]++
			arrivals++
			if at < first {
				first = at
			}
			if at > last {
				last = at
			}
		}
	}
	seconds := make([]int, 0, len(perSecond))
	busiest := 0
	for sec, n := range perSecond {
		seconds = append(seconds, sec)
		if n > busiest {
			busiest = n
		}
	}
	sort.Ints(seconds)
	even := float64(arrivals) / spread.Seconds()
	fmt.Printf("- %d stores moved (%d sockets reconnected on pos-3 between %v and %v after the change); busiest second %d arrivals, %.2f x the even share of %.0f a second\n",
		moved, arrivals, first.Round(10*time.Millisecond), last.Round(10*time.Millisecond), busiest, float64(busiest)/even, even)
	fmt.Printf("- %d stores apart %v after the change (grace + spread + 5 s); Traefik's CPU from the change until then: %v\n",
		len(apart), (grace + spread + 5*time.Second), (cpuAfter - cpuBefore).Round(10*time.Millisecond))
	if len(apart) > 0 || moved == 0 {
		return fmt.Errorf("%d stores apart, %d moved", len(apart), moved)
	}
	return nil
}
