package provider

import (
	"strings"
	"testing"
)

// TestSliceEndpointsIsOneMembershipRule runs the membership rule on EndpointSlice
// lists as the API server serves them; the operator CLI runs the same function.
func TestSliceEndpointsIsOneMembershipRule(t *testing.T) {
	slice := func(name, ports, endpoints string) string {
		return `{"metadata": {"name": "` + name + `"}, "ports": [` + ports + `], "endpoints": [` + endpoints + `]}`
	}
	ep := func(address, pod, conditions string) string {
		return `{"addresses": ["` + address + `"], "targetRef": {"name": "` + pod + `"}, "nodeName": "node-1", "conditions": {` + conditions + `}}`
	}
	http8080 := `{"name": "http", "port": 8080, "protocol": "TCP"}`
	metrics := `{"name": "metrics", "port": 9090, "protocol": "TCP"}`
	udp := `{"name": "dns", "port": 53, "protocol": "UDP"}`
	tests := []struct {
		name, port string
		slices     []string
		want       string // name=url(state) ...
	}{
		{"ready, not ready, terminating, unknown", "http", []string{slice("a", http8080,
			ep("10.0.0.1", "pos-0", `"ready": true`)+","+ep("10.0.0.2", "pos-1", `"ready": false`)+","+
				ep("10.0.0.3", "pos-2", `"ready": true, "terminating": true`)+","+ep("10.0.0.4", "pos-3", ""))},
			"pos-0=http://10.0.0.1:8080(ready) pos-1=http://10.0.0.2:8080(not ready) pos-2=http://10.0.0.3:8080(terminating) pos-3=http://10.0.0.4:8080(ready)"},
		{"multi-port slice, port by name", "http", []string{slice("a", metrics+","+http8080, ep("10.0.0.1", "pos-0", ""))},
			"pos-0=http://10.0.0.1:8080(ready)"},
		{"multi-port slice, no port configured", "", []string{slice("a", metrics+","+http8080, ep("10.0.0.1", "pos-0", ""))},
			"pos-0=(no port)"},
		{"no port configured, the only TCP port beside a UDP one", "", []string{slice("a", udp+","+http8080, ep("10.0.0.1", "pos-0", ""))},
			"pos-0=http://10.0.0.1:8080(ready)"},
		{"a UDP port of the configured name is not used", "dns", []string{slice("a", udp, ep("10.0.0.1", "pos-0", ""))},
			"pos-0=(no port)"},
		{"a port number missing from the slice is used as given", "8443", []string{slice("a", http8080, ep("10.0.0.1", "pos-0", ""))},
			"pos-0=http://10.0.0.1:8443(ready)"},
		{"a port name missing from the slice", "grpc", []string{slice("a", http8080, ep("10.0.0.1", "pos-0", ""))},
			"pos-0=(no port)"},
		{"dual stack lists a pod twice; the ready one wins", "http", []string{
			slice("a", http8080, ep("10.0.0.1", "pos-0", `"ready": false`)),
			slice("b", http8080, ep("fd00::1", "pos-0", `"ready": true`))},
			"pos-0=http://[fd00::1]:8080(ready)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list := `{"items": [` + strings.Join(tt.slices, ",") + `]}`
			endpoints, err := SliceEndpoints([]byte(list), tt.port, "http")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range endpoints {
				got = append(got, e.Name+"="+e.URL+"("+e.State+")")
				if e.Node != "node-1" {
					t.Errorf("%s: node %q, want node-1", e.Name, e.Node)
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("endpoints = %q\n                 want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
}
