package provider

import (
	"context"
	"net"
	"sort"
	"strings"
	"sync"
)

// reverseNamesOf names each address by the first label of its lowest reverse name.
// An address without one, or whose label a lower address (in string order) already
// took, keeps its address as its name, so that no name depends on the order of the
// answer. The reverse names are looked up maxParallelLookups at a time, each with a
// deadline of its own, so that a fleet is named within one interval. It reports
// false unless every answer is authoritative.
func (s *dnsSource) reverseNamesOf(ctx context.Context, addresses []net.IP) ([]string, bool) {
	sorted := make([]string, len(addresses))
	for i, ip := range addresses {
		sorted[i] = ip.String()
	}
	sort.Strings(sorted)
	labels := make([]string, len(sorted))
	failed := make([]bool, len(sorted))
	slots := make(chan struct{}, maxParallelLookups)
	var wg sync.WaitGroup
	for i := range sorted {
		slots <- struct{}{}
		wg.Add(1)
		go s.reverseLabelInto(ctx, sorted[i], &labels[i], &failed[i], slots, &wg)
	}
	wg.Wait()
	for _, f := range failed {
		if f {
			return nil, false
		}
	}
	named := map[string]string{}
	taken := map[string]bool{}
	for i, address := range sorted {
		if label := labels[i]; label != "" && !taken[label] {
			taken[label] = true
			named[address] = label
		}
	}
	names := make([]string, len(addresses))
	for i, ip := range addresses {
		names[i] = named[ip.String()]
		if names[i] == "" {
			names[i] = ip.String()
		}
	}
	return names, true
}

// reverseLabelInto looks up the reverse names of address and sets label to the first
// label of the lowest one ("" without one), or sets failed, then frees its slot. Its
// arguments are passed, not captured: under Yaegi a closure shares the loop's
// variables.
func (s *dnsSource) reverseLabelInto(ctx context.Context, address string, label *string, failed *bool, slots chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	defer func() { <-slots }()
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	hosts, err := s.resolver.LookupAddr(ctx, address)
	if err != nil && !notFound(err) {
		*failed = true
		return
	}
	sort.Strings(hosts)
	if len(hosts) > 0 {
		*label = strings.SplitN(strings.TrimSuffix(hosts[0], "."), ".", 2)[0]
	}
}
