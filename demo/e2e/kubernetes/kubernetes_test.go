package kubernetes

import "testing"

// TestKubernetesForReal renders the official chart, applies everything to a real API
// server, runs Traefik with the chart's arguments and checks the traffic, membership
// changes, a rolling update and RBAC, in that order, on the one setup.
func TestKubernetesForReal(t *testing.T) {
	c := newCluster(t)
	t.Run("Traffic", c.testTraffic)
	t.Run("Metrics", c.testMetrics)
	t.Run("MembershipChanges", c.testMembershipChanges)
	t.Run("RollingUpdate", c.testRollingUpdate)
	t.Run("RBAC", c.testRBAC)
}
