package stack

import (
	"fmt"
	"net"
	"strconv"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
)

// Replicas is a set of demo Commerce replicas.
type Replicas []*commerce.Replica

// StartReplicas starts one replica per name on free loopback ports.
func StartReplicas(names ...string) (Replicas, error) {
	var rs Replicas
	for _, name := range names {
		r, err := commerce.Start(name, "")
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("start replica %s: %w", name, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// StartReplicasOnHosts starts one replica per loopback address (127.0.0.2, ...), all
// on one free port, as pods behind a headless Service are; each replica is named by
// its address. DNS discovery by A records needs this: the records give addresses and
// the provider's configuration gives the port.
func StartReplicasOnHosts(hosts ...string) (Replicas, int, error) {
	var lastErr error
	for attempt := 0; attempt < 10; attempt++ {
		first, err := commerce.Start(hosts[0], net.JoinHostPort(hosts[0], "0"))
		if err != nil {
			return nil, 0, err
		}
		_, port, _ := net.SplitHostPort(first.Addr())
		rs := Replicas{first}
		for _, host := range hosts[1:] {
			r, err := commerce.Start(host, net.JoinHostPort(host, port))
			if err != nil {
				lastErr = err
				break
			}
			rs = append(rs, r)
		}
		if len(rs) == len(hosts) {
			n, _ := strconv.Atoi(port)
			return rs, n, nil
		}
		rs.Close()
	}
	return nil, 0, fmt.Errorf("no port free on all of %v: %w", hosts, lastErr)
}

// Names returns the replica names.
func (rs Replicas) Names() []string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name()
	}
	return names
}

// StaticServers returns the replicas as static discovery servers: name=url pairs.
func (rs Replicas) StaticServers() []string {
	servers := make([]string, len(rs))
	for i, r := range rs {
		servers[i] = r.Name() + "=" + r.URL()
	}
	return servers
}

// Reports returns every replica's report.
func (rs Replicas) Reports() []commerce.Report {
	reports := make([]commerce.Report, len(rs))
	for i, r := range rs {
		reports[i] = r.Report()
	}
	return reports
}

// Close stops every replica.
func (rs Replicas) Close() {
	for _, r := range rs {
		_ = r.Close()
	}
}
