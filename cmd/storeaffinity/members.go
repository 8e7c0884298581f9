package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/storeaffinity/storeaffinity"
	"github.com/storeaffinity/storeaffinity-provider"
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
	App            string        `description:"App name in the provider (apps[].name), which prefixes the child services <app>-<member>; required, since placement hashes those names."`
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
		"--service=<name> --app=<name> [flags] [store ID...]",
		"storeaffinity members --namespace=commerce --service=commerce-pos --app=pos 00123 00456",
		config,
		func(args []string) error {
			if config.Service == "" {
				return fmt.Errorf("--service: missing (the Kubernetes service of the app)")
			}
			if config.App == "" {
				return fmt.Errorf("--app: missing (the app's name in the provider's configuration, apps[].name, such as pos)")
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

func runMembers(ctx context.Context, out io.Writer, client kubernetes.Interface, namespace string, config *membersConfig) error {
	slices, err := client.DiscoveryV1().EndpointSlices(namespace).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + config.Service,
	})
	if err != nil {
		return fmt.Errorf("--service %s/%s: listing EndpointSlices: %w", namespace, config.Service, err)
	}
	all, err := serviceEndpoints(slices, config.Port)
	if err != nil {
		return err
	}
	app := config.App
	var ready []string
	for _, e := range all {
		if e.State == provider.StateReady {
			ready = append(ready, e.Name)
		}
	}
	_, _ = fmt.Fprintf(out, "service %s/%s: %d members (ready endpoints of %d EndpointSlices)\n", namespace, config.Service, len(ready), len(slices.Items))
	table := newTable(out)
	_, _ = fmt.Fprintln(table, "MEMBER\tSTATE\tURL\tNODE\tCHILD SERVICE\tSTICKY")
	for _, e := range all {
		child, sticky := "-", "-"
		if e.State == provider.StateReady {
			child = childService(app, e.Name)
			sticky = storeaffinity.StickyValue(child)
		}
		_, _ = fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.State, dash(e.URL), dash(e.Node), child, sticky)
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

// serviceEndpoints judges the slices with the provider's own membership rule, so that
// this command and the proxy never disagree on who is a member.
func serviceEndpoints(slices *discoveryv1.EndpointSliceList, port string) ([]provider.Endpoint, error) {
	data, err := json.Marshal(slices)
	if err != nil {
		return nil, err
	}
	return provider.SliceEndpoints(data, port, "http")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
