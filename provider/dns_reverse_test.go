package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// startDNSApp runs a provider over one app, commerce, discovered by A/AAAA lookups of
// "commerce" through the responder, named by reverse lookup.
func startDNSApp(t *testing.T, responder *dnsResponder, interval string) chan json.Marshaler {
	t.Helper()
	cfg := CreateConfig()
	cfg.Apps = []App{{Name: "commerce", DNS: &DNSDiscovery{
		Name: "commerce", Port: "8080", Interval: interval, MemberNames: "reverse",
		Resolver: responder.conn.LocalAddr().String(),
	}}}
	_, cfgChan := startProvider(t, cfg)
	return cfgChan
}

// receiveMembers returns the members of app in the next configuration, as sorted
// "name=url" pairs, or nil after timeout.
func receiveMembers(t *testing.T, cfgChan chan json.Marshaler, app string, timeout time.Duration) []string {
	t.Helper()
	cfg, data := nextConfig(t, cfgChan, timeout)
	if cfg == nil {
		return nil
	}
	middleware := cfg.HTTP.Middlewares[AffinityMiddleware(app)]
	if middleware == nil || middleware.Plugin["storeaffinity"] == nil {
		t.Fatalf("no middleware %s in %s", AffinityMiddleware(app), data)
	}
	pairs := []string{}
	for _, service := range middleware.Plugin["storeaffinity"].Members {
		url := ""
		if s := cfg.HTTP.Services[service]; s != nil && s.LoadBalancer != nil && len(s.LoadBalancer.Servers) == 1 {
			url = s.LoadBalancer.Servers[0].URL
		}
		pairs = append(pairs, strings.TrimPrefix(service, app+"-")+"="+url)
	}
	sort.Strings(pairs)
	return pairs
}

// TestReverseNamesOfAFleetArriveWithinAnInterval: 40 replicas named by reverse lookup,
// through a resolver whose every answer takes 30 ms, are the app's members within one
// 1 s interval; one PTR lookup after another (1.2 s) would never finish in time.
func TestReverseNamesOfAFleetArriveWithinAnInterval(t *testing.T) {
	const replicas = 40
	const slow = 30 * time.Millisecond
	addresses := dnsAnswer{delay: slow}
	answers := map[string]dnsAnswer{"commerce. 28": {delay: slow}}
	var want []string
	for i := 1; i <= replicas; i++ {
		ip := fmt.Sprintf("198.19.0.%d", i)
		addresses.records = append(addresses.records, ipRecord(ip))
		answers[fmt.Sprintf("%d.0.19.198.in-addr.arpa. 12", i)] = dnsAnswer{
			records: [][]byte{nameRecord(fmt.Sprintf("demo-commerce-%d.demo_default.", i))},
			delay:   slow,
		}
		want = append(want, fmt.Sprintf("demo-commerce-%d=http://%s:8080", i, ip))
	}
	answers["commerce. 1"] = addresses
	sort.Strings(want)
	responder := newDNSResponder(t, answers)

	started := time.Now()
	cfgChan := startDNSApp(t, responder, "1s")
	got := receiveMembers(t, cfgChan, "commerce", 5*time.Second)
	took := time.Since(started)
	if got == nil {
		t.Fatalf("no members after %v, want %d within the 1s interval", took, replicas)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("members %q, want %q", got, want)
	}
	if took > time.Second {
		t.Errorf("%d members after %v, want them within the 1s interval", replicas, took)
	}
	t.Logf("%d members named by reverse lookup after %v", replicas, took)
}

// TestReverseNamesDoNotDependOnTheAnswersOrder: Docker's DNS lists a service's
// replicas in no fixed order. Whatever the order, each address keeps its member name
// (a label two addresses share goes to the lower one), and the app's members are
// emitted once, not again after every lookup.
func TestReverseNamesDoNotDependOnTheAnswersOrder(t *testing.T) {
	ptr := func(name string) dnsAnswer { return dnsAnswer{records: [][]byte{nameRecord(name)}} }
	responder := newDNSResponder(t, map[string]dnsAnswer{
		"commerce. 1": {rotate: true, records: [][]byte{
			ipRecord("198.19.0.5"), ipRecord("198.19.0.2"), ipRecord("198.19.0.4"), ipRecord("198.19.0.3"), ipRecord("198.19.0.6"),
		}},
		"commerce. 28":                {},
		"5.0.19.198.in-addr.arpa. 12": ptr("demo-commerce-1.demo_default."),
		"2.0.19.198.in-addr.arpa. 12": ptr("demo-commerce-4.demo_default."),
		"4.0.19.198.in-addr.arpa. 12": ptr("demo-commerce-2.demo_default."),
		"3.0.19.198.in-addr.arpa. 12": ptr("demo-commerce-3.demo_default."),
		"6.0.19.198.in-addr.arpa. 12": ptr("demo-commerce-2.other_default."), // taken by .4
	})
	want := []string{
		"198.19.0.6=http://198.19.0.6:8080",
		"demo-commerce-1=http://198.19.0.5:8080",
		"demo-commerce-2=http://198.19.0.4:8080",
		"demo-commerce-3=http://198.19.0.3:8080",
		"demo-commerce-4=http://198.19.0.2:8080",
	}
	src, err := newDNSSource("dns", &DNSDiscovery{Name: "commerce", Port: "8080", MemberNames: "reverse"})
	if err != nil {
		t.Fatal(err)
	}
	src.resolver = responder.resolver()
	for i := 0; i < 10; i++ { // each answer rotated one further: .5 .2 .4 .3 .6, then .2 .4 .3 .6 .5, ...
		members, ok := src.lookup(context.Background())
		var got []string
		for _, m := range sortMembers(members) {
			got = append(got, m.Name+"="+m.URL)
		}
		if !ok || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("lookup %d: members %q (ok %v), want %q", i, got, ok, want)
		}
	}

	cfgChan := startDNSApp(t, responder, "20ms")
	if got := receiveMembers(t, cfgChan, "commerce", 3*time.Second); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("emitted members %q, want %q", got, want)
	}
	before := responder.times("commerce. 1")
	if got := receiveMembers(t, cfgChan, "commerce", 400*time.Millisecond); got != nil {
		t.Fatalf("emitted again, members %q, though only the order of the answer changed", got)
	}
	if lookups := responder.times("commerce. 1") - before; lookups < 3 {
		t.Fatalf("%d lookups while waiting for a spurious change, want several", lookups)
	}
}
