package main

import (
	"context"
	"fmt"
	"github.com/storeaffinity/storeaffinity/wire"
	"io"
	"os"
	"strings"

	"github.com/storeaffinity/storeaffinity"
	provider "github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/hashing"
	"github.com/traefik/paerser/cli"
)

// routeConfig is the configuration of the route subcommand.
type routeConfig struct {
	ConfigFile     string   `description:"Configuration file (TOML or YAML) with the keys below; replaces all other flags."`
	App            string   `description:"App name in the provider; members are then pod or server names and placement uses the child services <app>-<member>, as the provider emits them."`
	Members        []string `description:"Member names in any order: with --app the provider's members (pos-0,pos-1), else the middleware's members key (pos-pos-0,pos-pos-1)."`
	Strategy       string   `description:"Member selection: rendezvous or modulo."`
	StoreIDPattern string   `description:"RE2 pattern with a named group store; empty takes everything before the last '-'."`
	Devices        []string `description:"Device IDs to route; arguments after the flags are device IDs too."`
	Stores         []string `description:"Store IDs to route."`
	// The OpenPOS WebSocket: a session is routed by the device ID of its first STOMP frame.
	StompFrames         []string `description:"Files that each hold a client's first STOMP frame (CONNECT), as on a stompConnectPaths path: routed by its device ID."`
	StompDeviceIDHeader string   `description:"The CONNECT frame header that carries the device ID, as the middleware's stompDeviceIdHeader."`
	// The live member list of a running Traefik, instead of --members.
	Traefik    string `description:"Base URL of Traefik's API: take the members, strategy and storeIdPattern from the storeaffinity middleware that Traefik routes by now."`
	Middleware string `description:"With --traefik, the middleware's full name when Traefik has several."`
}

func newRouteCommand(out io.Writer) *cli.Command {
	config := &routeConfig{Strategy: hashing.StrategyRendezvous, StompDeviceIDHeader: storeaffinity.CreateConfig().StompDeviceIDHeader}
	return newCommand("route", "Show the store and member of device IDs and stores, with the failover order.",
		"--members=<names> [flags] [device ID...]",
		"storeaffinity route --members=pos-0,pos-1,pos-2 00123-001 00123-002 00456-001",
		config,
		func(args []string) error { return runRoute(out, config, positionalArgs(args)) })
}

// router picks members for stores, with the checks shared by route and members.
type router struct {
	app     string
	picker  hashing.Picker
	deriver *hashing.StoreDeriver
}

// childService is the name of the weighted service's child for a member: the name
// that placement hashes and the sticky cookie encodes, as the provider writes it.
func childService(app, member string) string {
	if app == "" {
		return member
	}
	return provider.MemberService(app, member)
}

// childServices maps childService over members.
func childServices(app string, members []string) []string {
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = childService(app, m)
	}
	return names
}

// newRouter validates members, strategy and pattern, naming the flag at fault.
func newRouter(app string, members []string, strategy, storeIDPattern string) (*router, error) {
	members = nonEmpty(members) // as the middleware reads a list: pos-0,,pos-1 is two members
	if len(members) == 0 {
		return nil, fmt.Errorf("--members: at least one member is required")
	}
	if err := hashing.CheckStrategy(strategy); err != nil {
		return nil, fmt.Errorf("--strategy: %w", err)
	}
	picker, err := hashing.New(strategy, childServices(app, members))
	if err != nil {
		return nil, fmt.Errorf("--members: %w", err)
	}
	deriver, err := hashing.NewStoreDeriver(storeIDPattern)
	if err != nil {
		return nil, fmt.Errorf("--%w", err)
	}
	return &router{app: app, picker: picker, deriver: deriver}, nil
}

// store returns the store of a device ID, or the reason the middleware would reject it.
func (r *router) store(deviceID string) (string, error) {
	if err := hashing.CheckDeviceID(deviceID); err != nil {
		return "", err
	}
	return r.deriver.Store(deviceID)
}

// member returns a store's member, its sticky-cookie value and the failover order of
// members, best first.
func (r *router) member(store string) (string, string, []string) {
	names := r.picker.Members()
	var order []string
	for _, i := range r.picker.Rank(store) {
		order = append(order, strings.TrimPrefix(names[i], childService(r.app, "")))
	}
	child := names[r.picker.Pick(store)]
	return order[0], storeaffinity.StickyValue(child), order
}

// fromTraefik fills the members, strategy and store-ID pattern from the middleware
// that the Traefik at base routes by now, when base is set. The members are then the
// middleware's own (child service names), so no app name applies, and --members may
// not be given beside it. A middleware Traefik has disabled is an error, since
// nothing is routed by it.
func fromTraefik(base, middleware string, app *string, members *[]string, strategy, pattern *string) error {
	if base == "" {
		if middleware != "" {
			return fmt.Errorf("--middleware: only with --traefik")
		}
		return nil
	}
	if len(*members) > 0 || *app != "" {
		return fmt.Errorf("--traefik: the members come from Traefik; leave out --members and --app")
	}
	m, err := oneLiveMiddleware(context.Background(), base, middleware)
	if err != nil {
		return err
	}
	if err := m.disabled(); err != nil {
		return err
	}
	if _, err := hashing.NewStoreDeriver(m.StoreIDPattern); err != nil {
		return fmt.Errorf("--traefik: middleware %s: %s", printable(m.Name), printable(err.Error()))
	}
	*members, *strategy, *pattern = m.Members, m.Strategy, m.StoreIDPattern
	return nil
}

// frameDeviceIDs reads the device ID of each STOMP frame file, as the middleware reads
// it from a session's first frame, naming the file at fault.
func frameDeviceIDs(files []string, header string) ([]string, error) {
	var devices []string
	for _, name := range files {
		frame, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--stompFrames: %w", err)
		}
		deviceID, found, err := wire.ConnectFrameDeviceID(string(frame), header)
		switch {
		case err != nil:
			return nil, fmt.Errorf("--stompFrames: %s: %w", name, err)
		case !found:
			return nil, fmt.Errorf("--stompFrames: %s: the frame has no %s header (see --stompDeviceIdHeader)", name, header)
		}
		devices = append(devices, deviceID)
	}
	return devices, nil
}

func runRoute(out io.Writer, config *routeConfig, args []string) error {
	if err := fromTraefik(config.Traefik, config.Middleware, &config.App, &config.Members, &config.Strategy, &config.StoreIDPattern); err != nil {
		return err
	}
	r, err := newRouter(config.App, config.Members, config.Strategy, config.StoreIDPattern)
	if err != nil {
		return err
	}
	devices := append(append([]string{}, config.Devices...), args...)
	framed, err := frameDeviceIDs(config.StompFrames, config.StompDeviceIDHeader)
	if err != nil {
		return err
	}
	devices = append(devices, framed...)
	if len(devices) == 0 && len(config.Stores) == 0 {
		return fmt.Errorf("--devices, --stores or --stompFrames: nothing to route (give device IDs as arguments or flags)")
	}
	table := newTable(out)
	_, _ = fmt.Fprintln(table, "DEVICE\tSTORE\tMEMBER\tSTICKY\tFAILOVER ORDER")
	rejected := 0
	for _, device := range devices {
		store, err := r.store(device)
		if err != nil {
			rejected++
			_, _ = fmt.Fprintf(table, "%q\t-\t-\t-\trejected (400): %v\n", device, err)
			continue
		}
		member, sticky, order := r.member(store)
		_, _ = fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\n", device, store, member, sticky, strings.Join(order, " > "))
	}
	for _, store := range config.Stores {
		member, sticky, order := r.member(store)
		_, _ = fmt.Fprintf(table, "-\t%s\t%s\t%s\t%s\n", store, member, sticky, strings.Join(order, " > "))
	}
	if err := table.Flush(); err != nil {
		return err
	}
	if rejected > 0 {
		return fmt.Errorf("%d of %d device IDs rejected", rejected, len(devices))
	}
	return nil
}

// nonEmpty returns the items of list that are not empty once trimmed, trimmed.
func nonEmpty(list []string) []string {
	var out []string
	for _, item := range list {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
