package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/hashing"
	"github.com/traefik/paerser/cli"
)

// statusConfig is the configuration of the status subcommand.
type statusConfig struct {
	ConfigFile string `description:"Configuration file (TOML or YAML) with the keys below; replaces all other flags."`
	Traefik    string `description:"Base URL of Traefik's API (api.insecure or the API's entry point), such as http://127.0.0.1:8080."`
	Middleware string `description:"Only this storeaffinity middleware, by its full name (pos-affinity@plugin-storeaffinityprovider); default every one."`
	Metrics    string `description:"URL of the middleware's metrics, for each member's live sessions and stores (default: the provider's storeaffinity-metrics router, on the host of --traefik)."`
	StoreSample
}

func newStatusCommand(out io.Writer) *cli.Command {
	config := &statusConfig{}
	return newCommand("status", "Show, from a running Traefik, each storeaffinity middleware's status, the members it routes by now, their servers and their share of the stores.",
		"--traefik=<API URL> [flags]",
		"storeaffinity status --traefik=http://127.0.0.1:8080 --storesFile=stores.txt",
		config,
		flagsOnly("status", func() error { return runStatus(out, config) }))
}

func runStatus(out io.Writer, config *statusConfig) error {
	if config.Traefik == "" {
		return fmt.Errorf("--traefik: missing (the base URL of Traefik's API)")
	}
	ctx := context.Background()
	middlewares, err := liveMiddlewares(ctx, config.Traefik)
	if err != nil {
		return err
	}
	if config.Middleware != "" {
		m, err := oneLiveMiddleware(ctx, config.Traefik, config.Middleware)
		if err != nil {
			return err
		}
		middlewares = []liveMiddleware{m}
	}
	if len(middlewares) == 0 {
		return fmt.Errorf("--traefik %s: no storeaffinity middleware", config.Traefik)
	}
	stores, from, err := config.stores()
	if err != nil {
		return err
	}
	live := printLiveSource(ctx, out, config)
	var disabled []liveMiddleware
	for _, m := range middlewares {
		_, _ = fmt.Fprintln(out)
		if m.Status == statusDisabled {
			disabled = append(disabled, m)
		}
		if err := printStatus(ctx, out, config.Traefik, m, live, stores, from); err != nil {
			return err
		}
	}
	return disabledError(disabled)
}

// disabledError is the one-line error of status when Traefik has disabled some of
// the middlewares, and so routes nothing through them; nil when none is.
func disabledError(disabled []liveMiddleware) error {
	switch len(disabled) {
	case 0:
		return nil
	case 1:
		return disabled[0].disabled()
	}
	names := make([]string, len(disabled))
	for i, m := range disabled {
		names[i] = printable(m.Name)
	}
	return fmt.Errorf("--traefik: %d middlewares are disabled, so Traefik routes nothing through them: %s", len(disabled), strings.Join(names, ", "))
}

// printLiveSource reads the live sessions and stores of each member from the metrics
// (--metrics, else the provider's metrics router) and prints where they come from, or
// why they are not available; it returns nil then. Status goes on either way.
func printLiveSource(ctx context.Context, out io.Writer, config *statusConfig) map[memberOfApp]*liveCounts {
	address, source := config.Metrics, "--metrics"
	if address == "" {
		var err error
		if address, err = metricsURL(ctx, config.Traefik); err != nil {
			_, _ = fmt.Fprintf(out, "live sessions: not available (%s)\n", printable(err.Error()))
			return nil
		}
		source = "the " + provider.MetricsObject + " router"
	}
	if address == "" {
		_, _ = fmt.Fprintln(out, "live sessions: not available (set the provider's metrics option)")
		return nil
	}
	live, err := liveMetrics(ctx, address)
	if err != nil {
		_, _ = fmt.Fprintf(out, "live sessions: not available (%s: %s)\n", source, printable(err.Error()))
		return nil
	}
	_, _ = fmt.Fprintf(out, "live sessions and stores: this Traefik replica's view, from %s (%s)\n", printable(address), source)
	return live
}

// printStatus prints one middleware's status in Traefik, with Traefik's errors, and
// unless Traefik has disabled it, its members, their child services and servers, their
// share of stores, and their live sessions and stores when live has them. What
// Traefik's API says goes through printable.
func printStatus(ctx context.Context, out io.Writer, base string, m liveMiddleware, live map[memberOfApp]*liveCounts, stores []string, from string) error {
	traefikStatus := printable(m.Status)
	if traefikStatus == "" {
		traefikStatus = "unknown"
	}
	if m.Status == statusDisabled {
		_, _ = fmt.Fprintf(out, "%s: Traefik status %s, so nothing is routed through it\n", printable(m.Name), traefikStatus)
	} else {
		_, _ = fmt.Fprintf(out, "%s: %d members (%s), stores %s, Traefik status %s\n", printable(m.Name), len(m.Members), printable(m.Strategy), from, traefikStatus)
	}
	for _, e := range m.Errors {
		_, _ = fmt.Fprintf(out, "  Traefik error: %s\n", printable(e))
	}
	if m.Status == statusDisabled {
		return nil
	}
	if len(m.Members) == 0 {
		_, _ = fmt.Fprintln(out, "no members: the weighted service answers 503")
		return nil
	}
	picker, err := hashing.New(m.Strategy, m.Members)
	if err != nil {
		return fmt.Errorf("%s: %w", printable(m.Name), err)
	}
	share := make([]int, len(picker.Members()))
	for _, store := range stores {
		share[picker.Pick(store)]++
	}
	table := newTable(out)
	header := "MEMBER\tSERVICE\tSERVERS\tSTORES"
	if live != nil {
		header += "\tLIVE SESSIONS\tLIVE STORES"
	}
	_, _ = fmt.Fprintln(table, header)
	for i, member := range picker.Members() {
		service := member + "@" + m.Provider
		var servers []string
		if s, err := liveService(ctx, base, service); err == nil && s.LoadBalancer != nil {
			for _, server := range s.LoadBalancer.Servers {
				status := s.ServerStatus[server.URL]
				if status == "" {
					status = "?"
				}
				servers = append(servers, printable(server.URL)+" "+printable(status))
			}
		} else if err != nil {
			servers = append(servers, "unknown: "+printable(err.Error()))
		}
		_, _ = fmt.Fprintf(table, "%s\t%s\t%s\t%.1f%% (%d)", member, printable(service), strings.Join(servers, ", "),
			100*float64(share[i])/float64(len(stores)), share[i])
		if live != nil {
			counts := live[memberOfApp{m.App, strings.TrimPrefix(member, m.App+"-")}]
			if counts == nil {
				counts = &liveCounts{sessions: "-", stores: "-"}
			}
			_, _ = fmt.Fprintf(table, "\t%s\t%s", printable(counts.sessions), printable(counts.stores))
		}
		_, _ = fmt.Fprintln(table)
	}
	return table.Flush()
}
