package provider

import (
	"context"
	"net"
	"sort"
	"strings"
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
	labels, ok := s.lookupAll(ctx, sorted, s.reverseLabel)
	if !ok {
		return nil, false
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

// reverseLabel returns the first label of the lowest reverse name of address, "" when
// it has none.
func (s *dnsSource) reverseLabel(ctx context.Context, address string) (string, bool) {
	hosts, err := s.resolver.LookupAddr(ctx, address)
	if err != nil && !notFound(err) {
		return "", false
	}
	sort.Strings(hosts)
	if len(hosts) == 0 {
		return "", true
	}
	return strings.SplitN(strings.TrimSuffix(hosts[0], "."), ".", 2)[0], true
}
