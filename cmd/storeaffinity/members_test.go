package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// endpoint is a test EndpointSlice endpoint; pod, hostname and node may be empty.
func endpoint(address, pod, hostname string, ready, terminating *bool) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{address}, Conditions: discoveryv1.EndpointConditions{Ready: ready, Terminating: terminating}}
	if pod != "" {
		e.TargetRef = &corev1.ObjectReference{Kind: "Pod", Name: pod}
	}
	if hostname != "" {
		e.Hostname = &hostname
	}
	return e
}

func slice(name, service string, endpoints ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	portName, port := "http", int32(8080)
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: "commerce", Labels: map[string]string{discoveryv1.LabelServiceName: service}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
		Endpoints:   endpoints,
	}
}

func TestMembersAreReadyEndpointsNamedLikeTheProvider(t *testing.T) {
	yes, no := true, false
	client := fake.NewClientset(
		slice("commerce-pos-abc", "commerce-pos",
			endpoint("10.0.0.5", "pos-0", "", &yes, &no),
			endpoint("10.0.0.6", "pos-1", "", nil, nil),
			endpoint("10.0.0.9", "pos-9", "", &no, &yes),
		),
		slice("commerce-pos-def", "commerce-pos",
			endpoint("10.0.0.7", "", "pos-2", &yes, nil),
			endpoint("10.0.0.8", "", "", &yes, nil),
			endpoint("10.0.0.10", "pos-3", "", &no, nil),
		),
		slice("other-xyz", "other", endpoint("10.0.1.1", "other-0", "", &yes, nil)),
	)
	var out bytes.Buffer
	config := &membersConfig{Service: "commerce-pos", App: "pos", Strategy: "rendezvous", Stores: []string{"00123", "00456"}, Devices: []string{"00123-001"}}
	if err := runMembers(context.Background(), &out, client, "commerce", config); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "members", out.Bytes())
}

func TestMembersReportsWhatCannotBeRouted(t *testing.T) {
	no := false
	tests := []struct {
		name   string
		slices []*discoveryv1.EndpointSlice
		config membersConfig
		want   string
	}{
		{"no ready member", []*discoveryv1.EndpointSlice{slice("s", "commerce-pos", endpoint("10.0.0.5", "pos-0", "", &no, nil))},
			membersConfig{Service: "commerce-pos", Strategy: "rendezvous", Stores: []string{"00123"}}, "no ready members"},
		{"unknown port", []*discoveryv1.EndpointSlice{slice("s", "commerce-pos", endpoint("10.0.0.5", "pos-0", "", nil, nil))},
			membersConfig{Service: "commerce-pos", Port: "grpc", Strategy: "rendezvous", Stores: []string{"00123"}}, "no ready members"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			client := fake.NewClientset()
			for _, s := range test.slices {
				if _, err := client.DiscoveryV1().EndpointSlices("commerce").Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			err := runMembers(context.Background(), &bytes.Buffer{}, client, "commerce", &test.config)
			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Fatalf("error %v, want one containing %q", err, test.want)
			}
		})
	}
}

// TestMembersAgreeWithTheProvider: for slices that tell the two apart (several ports,
// no port, UDP, a missing port, terminating endpoints), the command lists as members
// exactly the endpoints the provider makes members.
func TestMembersAgreeWithTheProvider(t *testing.T) {
	yes := true
	port := func(name string, number int32, protocol corev1.Protocol) discoveryv1.EndpointPort {
		return discoveryv1.EndpointPort{Name: &name, Port: &number, Protocol: &protocol}
	}
	withPorts := func(s *discoveryv1.EndpointSlice, ports ...discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
		s.Ports = ports
		return s
	}
	tests := []struct {
		name  string
		port  string
		slice *discoveryv1.EndpointSlice
		want  string // the members, as the provider decides
	}{
		{"several ports, none configured", "", withPorts(slice("s", "pos", endpoint("10.0.0.5", "pos-0", "", nil, nil)),
			port("metrics", 9090, corev1.ProtocolTCP), port("http", 8080, corev1.ProtocolTCP)), ""},
		{"several ports, one named", "http", withPorts(slice("s", "pos", endpoint("10.0.0.5", "pos-0", "", nil, nil)),
			port("metrics", 9090, corev1.ProtocolTCP), port("http", 8080, corev1.ProtocolTCP)), "pos-0=http://10.0.0.5:8080"},
		{"a UDP port only", "", withPorts(slice("s", "pos", endpoint("10.0.0.5", "pos-0", "", nil, nil)),
			port("dns", 53, corev1.ProtocolUDP)), ""},
		{"a port number the slice lacks", "8443", slice("s", "pos", endpoint("10.0.0.5", "pos-0", "", nil, nil)), "pos-0=http://10.0.0.5:8443"},
		{"terminating", "http", slice("s", "pos", endpoint("10.0.0.5", "pos-0", "", &yes, &yes), endpoint("10.0.0.6", "pos-1", "", &yes, nil)),
			"pos-1=http://10.0.0.6:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(tt.slice)
			var out bytes.Buffer
			if err := runMembers(context.Background(), &out, client, "commerce", &membersConfig{Service: "pos", Port: tt.port}); err != nil {
				t.Fatal(err)
			}
			var listed []string
			for _, line := range strings.Split(out.String(), "\n")[2:] {
				if fields := strings.Fields(line); len(fields) >= 3 && fields[1] == "ready" {
					listed = append(listed, fields[0]+"="+fields[2])
				}
			}
			if got := strings.Join(listed, " "); got != tt.want {
				t.Errorf("the command lists members %q, the provider makes %q\n%s", got, tt.want, out.String())
			}
		})
	}
}
