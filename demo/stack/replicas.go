package stack

import (
	"fmt"

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
