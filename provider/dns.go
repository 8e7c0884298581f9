package provider

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dnsSource looks members up at an interval: SRV records for a name that starts with
// "_" (member = target), else A and AAAA records (member = address, or the first label
// of its reverse name) with a fixed port.
// With a configured resolver, SRV targets are resolved through it too, because Traefik
// reaches servers through the system resolver, which may not know the zone.
//
// Names are looked up rooted, so no search list applies, and with StrictErrors, so a
// failed query is never mistaken for an empty answer: only an authoritative "no such
// name" or "no records" empties the member list.
type dnsSource struct {
	name           string
	port           int
	scheme         string
	interval       time.Duration
	timeout        time.Duration
	resolver       *net.Resolver
	resolveTargets bool
	reverseNames   bool
}

func newDNSSource(key string, cfg *DNSDiscovery) (*dnsSource, error) {
	s := &dnsSource{name: strings.TrimSpace(cfg.Name), resolver: &net.Resolver{PreferGo: true, StrictErrors: true}}
	if s.name == "" {
		return nil, fmt.Errorf("%s.name: empty", key)
	}
	srv := strings.HasPrefix(s.name, "_")
	if port := strings.TrimSpace(cfg.Port); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%s.port: %q is not a port number", key, port)
		}
		s.port = n
	} else if !srv {
		return nil, fmt.Errorf("%s.port: empty; A/AAAA lookups need a port (or use an SRV name starting with _)", key)
	}
	scheme, err := parseScheme(cfg.Scheme)
	if err != nil {
		return nil, fmt.Errorf("%s.scheme: %w", key, err)
	}
	s.scheme = scheme
	switch names := strings.TrimSpace(cfg.MemberNames); names {
	case "", "address":
	case "reverse":
		if srv {
			return nil, fmt.Errorf("%s.memberNames: reverse names A/AAAA members; SRV members are named by their targets", key)
		}
		s.reverseNames = true
	default:
		return nil, fmt.Errorf("%s.memberNames: %q (want address or reverse)", key, names)
	}
	if s.interval, err = parseInterval(cfg.Interval, 5*time.Second); err != nil {
		return nil, fmt.Errorf("%s.interval: %w", key, err)
	}
	s.timeout = s.interval
	if s.timeout > 5*time.Second {
		s.timeout = 5 * time.Second
	}
	if resolver := strings.TrimSpace(cfg.Resolver); resolver != "" {
		address, err := resolverAddress(resolver)
		if err != nil {
			return nil, fmt.Errorf("%s.resolver: %w", key, err)
		}
		s.resolveTargets = true
		s.resolver = &net.Resolver{
			PreferGo:     true,
			StrictErrors: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, address)
			},
		}
	}
	return s, nil
}

// resolverAddress adds port 53 to a resolver given without one.
func resolverAddress(resolver string) (string, error) {
	if _, _, err := net.SplitHostPort(resolver); err == nil {
		return resolver, nil
	}
	if net.ParseIP(strings.Trim(resolver, "[]")) == nil {
		return "", fmt.Errorf("%q is not an address or host:port", resolver)
	}
	return net.JoinHostPort(strings.Trim(resolver, "[]"), "53"), nil
}

func (s *dnsSource) run(ctx context.Context, update func([]member)) {
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		if members, ok := s.lookup(ctx); ok {
			update(members)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// lookup returns the current members. A name that does not exist, or has no records,
// has no members; any other failure reports false, so the last list stays.
func (s *dnsSource) lookup(parent context.Context) ([]member, bool) {
	ctx, cancel := context.WithTimeout(parent, s.timeout)
	defer cancel()
	var members []member
	if strings.HasPrefix(s.name, "_") {
		_, records, err := s.resolver.LookupSRV(ctx, "", "", rooted(s.name))
		if err != nil {
			return nil, notFound(err)
		}
		targets, ports, names := s.srvTargets(records)
		hosts := targets
		if s.resolveTargets {
			var ok bool
			if hosts, ok = s.resolveAll(parent, targets); !ok {
				return nil, false // a target that failed to resolve may still be up
			}
		}
		for i := range targets {
			if hosts[i] != "" { // a target without an address is not a member
				members = append(members, member{Name: names[i], URL: s.url(hosts[i], ports[i])})
			}
		}
		return members, true
	}
	addresses, ok := s.addresses(ctx, s.name)
	if !ok {
		return nil, false
	}
	names := make([]string, len(addresses))
	for i, ip := range addresses {
		names[i] = ip.String()
	}
	if s.reverseNames {
		if names, ok = s.reverseNamesOf(parent, addresses); !ok {
			return nil, false
		}
	}
	for i, ip := range addresses {
		members = append(members, member{Name: names[i], URL: s.url(ip.String(), s.port)})
	}
	return members, true
}

// srvTargets returns the targets of the records of the lowest priority value (the
// others are backups, RFC 2782), with their ports and member names. A target of "."
// means the service is not available there. A target listed with several ports (two
// instances on one host) gives one member per port, named target-port, so that
// every lookup names and addresses them alike.
func (s *dnsSource) srvTargets(records []*net.SRV) (targets []string, ports []int, names []string) {
	priority := -1
	for _, r := range records {
		if priority < 0 || int(r.Priority) < priority {
			priority = int(r.Priority)
		}
	}
	seen := map[string]int{}
	for _, r := range records {
		target := strings.TrimSuffix(r.Target, ".")
		if int(r.Priority) != priority || target == "" {
			continue
		}
		port := int(r.Port)
		if s.port != 0 {
			port = s.port
		}
		seen[target]++
		targets, ports = append(targets, target), append(ports, port)
	}
	for i, target := range targets {
		name := target
		if seen[target] > 1 {
			name = target + "-" + strconv.Itoa(ports[i])
		}
		names = append(names, name)
	}
	return targets, ports, names
}

// maxParallelLookups bounds the SRV targets, or the reverse names, looked up at once.
const maxParallelLookups = 64

// resolveAll returns the preferred address of each target ("" for a target without
// one), looked up as lookupAll does, so that a thousand targets resolve within one
// interval. It reports false unless every answer is authoritative.
func (s *dnsSource) resolveAll(ctx context.Context, targets []string) ([]string, bool) {
	return s.lookupAll(ctx, targets, s.preferredAddressOf)
}

// preferredAddressOf returns target's preferred address, "" without one.
func (s *dnsSource) preferredAddressOf(ctx context.Context, target string) (string, bool) {
	addresses, ok := s.addresses(ctx, target)
	if !ok || len(addresses) == 0 {
		return "", ok
	}
	return preferredAddress(addresses), true
}

// lookupAll runs lookup on each input, maxParallelLookups at a time, each with a
// deadline of its own, and returns the results in the inputs' order. It reports
// false unless every lookup does.
func (s *dnsSource) lookupAll(ctx context.Context, inputs []string, lookup func(context.Context, string) (string, bool)) ([]string, bool) {
	results := make([]string, len(inputs))
	failed := make([]bool, len(inputs))
	slots := make(chan struct{}, maxParallelLookups)
	var wg sync.WaitGroup
	for i := range inputs {
		slots <- struct{}{}
		wg.Add(1)
		go s.lookupInto(ctx, lookup, inputs[i], &results[i], &failed[i], slots, &wg)
	}
	wg.Wait()
	for _, f := range failed {
		if f {
			return nil, false
		}
	}
	return results, true
}

// lookupInto runs lookup on input into result, or sets failed, then frees its slot.
// Its arguments are passed, not captured: under Yaegi a closure shares the loop's
// variables.
func (s *dnsSource) lookupInto(ctx context.Context, lookup func(context.Context, string) (string, bool), input string,
	result *string, failed *bool, slots chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	defer func() { <-slots }()
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	value, ok := lookup(ctx, input)
	if !ok {
		*failed = true
		return
	}
	*result = value
}

// addresses returns the A and AAAA records of host, asked for separately: the resolver
// merges one family's failure with the other's empty answer into "no such host". It
// reports false unless both answers are authoritative.
func (s *dnsSource) addresses(ctx context.Context, host string) ([]net.IP, bool) {
	var all []net.IP
	for _, network := range []string{"ip4", "ip6"} {
		ips, err := s.resolver.LookupIP(ctx, network, rooted(host))
		if err != nil && !notFound(err) {
			return nil, false
		}
		all = append(all, ips...)
	}
	return all, true
}

// rooted returns name with the final dot that makes it absolute, so that the
// resolver tries no search list (Kubernetes pods have ndots:5 and several domains).
func rooted(name string) string {
	if strings.HasSuffix(name, ".") || net.ParseIP(name) != nil {
		return name
	}
	return name + "."
}

// preferredAddress returns the lowest IPv4 address, else the lowest IPv6 address, so
// that every proxy picks the same one.
func preferredAddress(addresses []net.IP) string {
	best, bestIsV4 := "", false
	for _, a := range addresses {
		ip, isV4 := a.String(), a.To4() != nil
		if best == "" || (isV4 && !bestIsV4) || (isV4 == bestIsV4 && ip < best) {
			best, bestIsV4 = ip, isV4
		}
	}
	return best
}

func (s *dnsSource) url(host string, port int) string {
	return s.scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// notFound reports whether err is an authoritative answer that the name does not
// exist or has no records, as opposed to a failure (timeout, SERVFAIL). A plain type
// assertion, not errors.As, because Yaegi mishandles errors.As.
func notFound(err error) bool {
	dnsErr, ok := err.(*net.DNSError)
	return ok && dnsErr.IsNotFound
}
