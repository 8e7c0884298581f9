package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/storeaffinity/storeaffinity/hashing"
	"github.com/traefik/paerser/cli"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// membersConfig is the configuration of the members subcommand.
type membersConfig struct {
	ConfigFile     string        `description:"Configuration file (TOML or YAML) with the keys below; replaces all other flags."`
	Kubeconfig     string        `description:"Kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)."`
	Context        string        `description:"Kubeconfig context (default: the current context)."`
	Namespace      string        `description:"Namespace of the service (default: the context's namespace)."`
	Service        string        `description:"Kubernetes service whose EndpointSlices list the members."`
	App            string        `description:"App name in the provider, which prefixes the child services <app>-<member> (default: the service name)."`
	Port           string        `description:"Port name or number, to show each member's URL (default: the first port)."`
	Strategy       string        `description:"Member selection: rendezvous or modulo."`
	StoreIDPattern string        `description:"RE2 pattern with a named group store; empty takes everything before the last '-'."`
	Stores         []string      `description:"Store IDs whose member to show; arguments after the flags are store IDs too."`
	Devices        []string      `description:"Device IDs whose store and member to show."`
	Timeout        time.Duration `description:"Time limit for the API server."`
}

func newMembersCommand(out io.Writer) *cli.Command {
	config := &membersConfig{Strategy: hashing.StrategyRendezvous, Timeout: 10 * time.Second}
	return newCommand("members", "List a Kubernetes service's members from its live EndpointSlices, and the member of given stores.",
		"--service=<name> [flags] [store ID...]",
		"storeaffinity members --namespace=commerce --service=commerce-pos 00123 00456",
		config,
		func(args []string) error {
			if config.Service == "" {
				return fmt.Errorf("--service: missing (the Kubernetes service of the app)")
			}
			client, namespace, err := kubeClient(config)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), config.Timeout)
			defer cancel()
			config.Stores = append(config.Stores, positionalArgs(args)...)
			return runMembers(ctx, out, client, namespace, config)
		})
}

// kubeClient builds a clientset from the kubeconfig and returns it with the namespace.
func kubeClient(config *membersConfig) (kubernetes.Interface, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if config.Kubeconfig != "" {
		rules.ExplicitPath = config.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: config.Context}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	restConfig, err := loader.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("--kubeconfig: %w", err)
	}
	namespace := config.Namespace
	if namespace == "" {
		if namespace, _, err = loader.Namespace(); err != nil {
			return nil, "", fmt.Errorf("--namespace: %w", err)
		}
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, "", fmt.Errorf("--kubeconfig: %w", err)
	}
	return client, namespace, nil
}

// member is one endpoint of the service as the provider sees it.
type member struct {
	name, address, url, node, state string
}

func runMembers(ctx context.Context, out io.Writer, client kubernetes.Interface, namespace string, config *membersConfig) error {
	slices, err := client.DiscoveryV1().EndpointSlices(namespace).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + config.Service,
	})
	if err != nil {
		return fmt.Errorf("--service %s/%s: listing EndpointSlices: %w", namespace, config.Service, err)
	}
	all, err := endpointMembers(slices.Items, config.Port)
	if err != nil {
		return err
	}
	app := config.App
	if app == "" {
		app = config.Service
	}
	var ready []string
	for _, m := range all {
		if m.state == "ready" {
			ready = append(ready, m.name)
		}
	}
	_, _ = fmt.Fprintf(out, "service %s/%s: %d members (ready endpoints of %d EndpointSlices)\n", namespace, config.Service, len(ready), len(slices.Items))
	table := newTable(out)
	_, _ = fmt.Fprintln(table, "MEMBER\tSTATE\tURL\tNODE\tCHILD SERVICE\tSTICKY")
	for _, m := range all {
		child, sticky := "-", "-"
		if m.state == "ready" {
			child = childService(app, m.name)
			sticky = stickyValue(child)
		}
		_, _ = fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\t%s\n", m.name, m.state, m.url, dash(m.node), child, sticky)
	}
	if err := table.Flush(); err != nil {
		return err
	}
	if len(config.Stores) == 0 && len(config.Devices) == 0 {
		return nil
	}
	if len(ready) == 0 {
		return fmt.Errorf("--service %s/%s: no ready members, so no store can be routed", namespace, config.Service)
	}
	_, _ = fmt.Fprintln(out)
	return runRoute(out, &routeConfig{App: app, Members: ready, Strategy: config.Strategy, StoreIDPattern: config.StoreIDPattern, Devices: config.Devices, Stores: config.Stores}, nil)
}

// endpointMembers turns EndpointSlices into members, named as the provider names them:
// the pod (targetRef), else the hostname, else the address. Only ready endpoints that
// are not terminating are members; the others are listed with their state.
func endpointMembers(slices []discoveryv1.EndpointSlice, port string) ([]member, error) {
	byName := map[string]member{}
	for _, slice := range slices {
		number, err := slicePort(slice, port)
		if err != nil {
			return nil, err
		}
		for _, endpoint := range slice.Endpoints {
			if len(endpoint.Addresses) == 0 {
				continue
			}
			m := member{address: endpoint.Addresses[0], name: endpoint.Addresses[0], state: endpointState(endpoint.Conditions)}
			if endpoint.Hostname != nil && *endpoint.Hostname != "" {
				m.name = *endpoint.Hostname
			}
			if endpoint.TargetRef != nil && endpoint.TargetRef.Name != "" {
				m.name = endpoint.TargetRef.Name
			}
			if endpoint.NodeName != nil {
				m.node = *endpoint.NodeName
			}
			m.url = "http://" + hostPort(m.address, number)
			if old, ok := byName[m.name]; ok && old.state == "ready" {
				continue // dual-stack slices list a pod twice; keep the ready one
			}
			byName[m.name] = m
		}
	}
	members := make([]member, 0, len(byName))
	for _, m := range byName {
		members = append(members, m)
	}
	sort.Slice(members, func(i, j int) bool { return members[i].name < members[j].name })
	return members, nil
}

// endpointState is "ready", "terminating" or "not ready". A nil ready condition means
// ready, as the EndpointSlice API defines it.
func endpointState(c discoveryv1.EndpointConditions) string {
	switch {
	case c.Terminating != nil && *c.Terminating:
		return "terminating"
	case c.Ready == nil || *c.Ready:
		return "ready"
	}
	return "not ready"
}

// slicePort returns the port number of the slice that matches port (a name or number),
// or the first port when port is empty.
func slicePort(slice discoveryv1.EndpointSlice, port string) (int32, error) {
	for _, p := range slice.Ports {
		if p.Port == nil {
			continue
		}
		if port == "" || (p.Name != nil && *p.Name == port) || strconv.Itoa(int(*p.Port)) == port {
			return *p.Port, nil
		}
	}
	if port == "" {
		return 0, fmt.Errorf("EndpointSlice %s has no port", slice.Name)
	}
	return 0, fmt.Errorf("--port %s: EndpointSlice %s has no such port", port, slice.Name)
}

func hostPort(address string, port int32) string {
	if port == 0 {
		return address
	}
	return net.JoinHostPort(address, strconv.Itoa(int(port)))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
