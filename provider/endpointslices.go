package provider

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
)

// Endpoint states, as SliceEndpoints reports them. Only StateReady endpoints are
// members.
const (
	StateReady       = "ready"
	StateNotReady    = "not ready"
	StateTerminating = "terminating"
	StateNoPort      = "no port" // its slice has no TCP port that matches the configured one
)

// Endpoint is one endpoint of a Service's EndpointSlices, as the provider judges it.
type Endpoint struct {
	// Name is the member name: the pod (targetRef.name), else the hostname, else the
	// address.
	Name  string
	URL   string // scheme://address:port; empty in StateNoPort
	Node  string
	State string
}

// SliceEndpoints is the one membership rule of Kubernetes discovery, shared by the
// provider and the operator CLI. listJSON is an EndpointSliceList as the API server
// serves it; port is the configured port name or number ("" for the slice's only TCP
// port). It returns every endpoint with an address, one per name (a ready one first),
// sorted by name; the members are those in StateReady.
//
// Each slice's port is the TCP port of that name, else of that number, else the only
// TCP port when none is configured; a configured number that a slice lacks is used as
// given, and a slice with no matching port gives no member.
func SliceEndpoints(listJSON []byte, port, scheme string) ([]Endpoint, error) {
	var list endpointSliceList
	if err := json.Unmarshal(listJSON, &list); err != nil {
		return nil, fmt.Errorf("decode EndpointSlice list: %w", err)
	}
	slices := make([]*endpointSlice, len(list.Items))
	for i := range list.Items {
		slices[i] = &list.Items[i]
	}
	return sliceEndpoints(slices, port, scheme), nil
}

func sliceEndpoints(slices []*endpointSlice, port, scheme string) []Endpoint {
	sort.Slice(slices, func(i, j int) bool { return slices[i].Metadata.Name < slices[j].Metadata.Name })
	byName := map[string]Endpoint{}
	for _, slice := range slices {
		number, hasPort := slicePort(slice, port)
		for _, ep := range slice.Endpoints {
			if len(ep.Addresses) == 0 {
				continue
			}
			e := Endpoint{Name: endpointName(ep), Node: ep.NodeName, State: endpointState(ep.Conditions)}
			if !hasPort {
				e.State = StateNoPort
			} else {
				e.URL = scheme + "://" + net.JoinHostPort(ep.Addresses[0], strconv.Itoa(number))
			}
			if old, seen := byName[e.Name]; seen && (old.State == StateReady || e.State != StateReady) {
				continue // dual-stack slices list a pod twice; the first ready one wins
			}
			byName[e.Name] = e
		}
	}
	endpoints := make([]Endpoint, 0, len(byName))
	for _, e := range byName {
		endpoints = append(endpoints, e)
	}
	sort.Slice(endpoints, func(i, j int) bool { return endpoints[i].Name < endpoints[j].Name })
	return endpoints
}

// readyMembers returns the members among endpoints.
func readyMembers(endpoints []Endpoint) []member {
	members := []member{}
	for _, e := range endpoints {
		if e.State == StateReady {
			members = append(members, member{Name: e.Name, URL: e.URL})
		}
	}
	return members
}

func endpointName(ep endpoint) string {
	if ep.TargetRef != nil && ep.TargetRef.Name != "" {
		return ep.TargetRef.Name
	}
	if ep.Hostname != "" {
		return ep.Hostname
	}
	return ep.Addresses[0]
}

// endpointState reads the conditions; an unknown readiness counts as ready, as the
// EndpointSlice API defines it.
func endpointState(c endpointConditions) string {
	switch {
	case c.Terminating != nil && *c.Terminating:
		return StateTerminating
	case c.Ready == nil || *c.Ready:
		return StateReady
	}
	return StateNotReady
}

// slicePort finds the configured port in one slice: by name, else by number, else
// the slice's only TCP port when none is configured. Slices of one Service may differ.
func slicePort(slice *endpointSlice, port string) (int, bool) {
	number, numeric := strconv.Atoi(port)
	var tcp []int
	for _, p := range slice.Ports {
		if p.Port == nil || (p.Protocol != "" && p.Protocol != "TCP") {
			continue
		}
		if port != "" && (p.Name == port || (numeric == nil && *p.Port == number)) {
			return *p.Port, true
		}
		tcp = append(tcp, *p.Port)
	}
	if port == "" && len(tcp) == 1 {
		return tcp[0], true
	}
	if numeric == nil {
		return number, true
	}
	return 0, false
}
