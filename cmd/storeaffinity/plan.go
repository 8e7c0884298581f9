package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/storeaffinity/storeaffinity/hashing"
	"github.com/traefik/paerser/cli"
)

// planConfig is the configuration of the plan subcommand.
type planConfig struct {
	ConfigFile string   `description:"Configuration file (TOML or YAML) with the keys below; replaces all other flags."`
	App        string   `description:"App name in the provider; placement then hashes the child services <app>-<member>, as the middleware does."`
	From       []string `description:"Member names before the change, e.g. pos-0,pos-1,pos-2."`
	To         []string `description:"Member names after the change, e.g. pos-0,pos-1,pos-2,pos-3."`
	StoreSample
	List       int    `description:"List up to this many stores that move under rendezvous, with their old and new member."`
	Traefik    string `description:"Base URL of Traefik's API: --from is then the member list that Traefik routes by now (the middleware's child service names)."`
	Middleware string `description:"With --traefik, the middleware's full name when Traefik has several."`
}

func newPlanCommand(out io.Writer) *cli.Command {
	config := &planConfig{}
	return newCommand("plan", "Show what moves from one member list to another, rendezvous against StateLB-style modulo.",
		"--from=<names> --to=<names> [flags]",
		"storeaffinity plan --from=pos-0,pos-1,pos-2 --to=pos-0,pos-1,pos-2,pos-3",
		config,
		flagsOnly("plan", func() error { return runPlan(out, config) }))
}

// placement is where every store lives under one strategy, before and after.
type placement struct {
	strategy      string
	before, after []string // member of each store
	moved         int
}

func place(strategy, app string, from, to, stores []string) (placement, error) {
	p := placement{strategy: strategy, before: make([]string, len(stores)), after: make([]string, len(stores))}
	before, err := hashing.New(strategy, childServices(app, from))
	if err != nil {
		return p, fmt.Errorf("--from: %w", err)
	}
	after, err := hashing.New(strategy, childServices(app, to))
	if err != nil {
		return p, fmt.Errorf("--to: %w", err)
	}
	for i, store := range stores {
		p.before[i] = strings.TrimPrefix(before.Members()[before.Pick(store)], childService(app, ""))
		p.after[i] = strings.TrimPrefix(after.Members()[after.Pick(store)], childService(app, ""))
		if p.before[i] != p.after[i] {
			p.moved++
		}
	}
	return p, nil
}

func runPlan(out io.Writer, config *planConfig) error {
	if config.Traefik != "" && len(config.From) > 0 {
		return fmt.Errorf("--traefik: --from comes from Traefik; leave it out")
	}
	var strategy, pattern string
	if err := fromTraefik(config.Traefik, config.Middleware, &config.App, &config.From, &strategy, &pattern); err != nil {
		return err
	}
	if len(config.From) == 0 {
		return fmt.Errorf("--from: at least one member is required")
	}
	if len(config.To) == 0 {
		return fmt.Errorf("--to: at least one member is required")
	}
	stores, source, err := config.stores()
	if err != nil {
		return err
	}
	rendezvous, err := place(hashing.StrategyRendezvous, config.App, config.From, config.To, stores)
	if err != nil {
		return err
	}
	modulo, err := place(hashing.StrategyModulo, config.App, config.From, config.To, stores)
	if err != nil {
		return err
	}
	added, removed, kept := diff(config.From, config.To)
	_, _ = fmt.Fprintf(out, "%d -> %d members, %d stores (%s)\n", len(config.From), len(config.To), len(stores), source)
	_, _ = fmt.Fprintf(out, "added: %s; removed: %s\n\n", listOrDash(added), listOrDash(removed))

	ideal := 1 - float64(kept)/float64(max(len(config.From), len(config.To)))
	table := newTable(out)
	_, _ = fmt.Fprintln(table, "STRATEGY\tMOVED\tFRACTION\tBUSIEST/MEAN BEFORE\tAFTER")
	for _, p := range []placement{rendezvous, modulo} {
		_, _ = fmt.Fprintf(table, "%s\t%d\t%s\t%.3f\t%.3f\n", p.strategy, p.moved, percent(float64(p.moved)/float64(len(stores))),
			busiest(p.before, len(config.From)), busiest(p.after, len(config.To)))
	}
	_, _ = fmt.Fprintf(table, "ideal\t%d\t%s\n", int(ideal*float64(len(stores))+0.5), percent(ideal))
	if err := table.Flush(); err != nil {
		return err
	}

	_, _ = fmt.Fprintln(out, "\nstores per member")
	table = newTable(out)
	_, _ = fmt.Fprintln(table, "MEMBER\tRENDEZVOUS BEFORE\tAFTER\tMODULO BEFORE\tAFTER")
	for _, member := range union(config.From, config.To) {
		_, _ = fmt.Fprintf(table, "%s\t%s\t%s\t%s\t%s\n", member,
			count(rendezvous.before, member), count(rendezvous.after, member),
			count(modulo.before, member), count(modulo.after, member))
	}
	if err := table.Flush(); err != nil {
		return err
	}
	return listMoved(out, config.List, stores, rendezvous)
}

// listMoved prints up to limit stores that move under p.
func listMoved(out io.Writer, limit int, stores []string, p placement) error {
	if limit <= 0 || p.moved == 0 {
		return nil
	}
	_, _ = fmt.Fprintf(out, "\nfirst %d of %d stores that move (%s)\n", min(limit, p.moved), p.moved, p.strategy)
	table := newTable(out)
	_, _ = fmt.Fprintln(table, "STORE\tFROM\tTO")
	for i, store := range stores {
		if limit == 0 {
			break
		}
		if p.before[i] != p.after[i] {
			_, _ = fmt.Fprintf(table, "%s\t%s\t%s\n", store, p.before[i], p.after[i])
			limit--
		}
	}
	return table.Flush()
}

// StoreSample is the flags of plan and status that choose the store IDs they count;
// exported, so that the flag and file parsers see the fields it embeds into theirs.
type StoreSample struct {
	Stores     int    `description:"Number of synthetic store IDs (00000, 00001, ...); 100000 when neither this nor storesFile is given."`
	StoresFile string `description:"File with one store ID per line; blank lines and lines starting with # are skipped."`
}

// stores returns the sample's store IDs and a description of where they came from:
// Stores synthetic ones, or those of StoresFile.
func (s StoreSample) stores() ([]string, string, error) {
	count, storesFile := s.Stores, s.StoresFile
	if storesFile != "" && count != 0 {
		return nil, "", fmt.Errorf("--stores and --storesFile: give one of them")
	}
	if storesFile == "" {
		if count == 0 {
			count = 100000
		}
		if count < 0 {
			return nil, "", fmt.Errorf("--stores: want a positive number of synthetic stores, got %d", count)
		}
		width := len(fmt.Sprint(count - 1))
		if width < 5 {
			width = 5
		}
		stores := make([]string, count)
		for i := range stores {
			stores[i] = fmt.Sprintf("%0*d", width, i)
		}
		return stores, fmt.Sprintf("synthetic %s..%s", stores[0], stores[len(stores)-1]), nil
	}
	f, err := os.Open(storesFile)
	if err != nil {
		return nil, "", fmt.Errorf("--storesFile: %w", err)
	}
	defer func() { _ = f.Close() }()
	var stores []string
	seen := map[string]bool{}
	scanner := bufio.NewScanner(f)
	for line := 1; scanner.Scan(); line++ {
		store := strings.TrimSpace(scanner.Text())
		if store == "" || strings.HasPrefix(store, "#") || seen[store] {
			continue
		}
		if err := hashing.CheckDeviceID(store); err != nil {
			return nil, "", fmt.Errorf("--storesFile %s:%d: %q is not a store ID: %w", storesFile, line, store, err)
		}
		seen[store] = true
		stores = append(stores, store)
	}
	if err := scanner.Err(); err != nil {
		return nil, "", fmt.Errorf("--storesFile %s: %w", storesFile, err)
	}
	if len(stores) == 0 {
		return nil, "", fmt.Errorf("--storesFile %s: no store IDs", storesFile)
	}
	return stores, "from " + storesFile, nil
}

// diff returns the members only in to, only in from, and the number in both.
func diff(from, to []string) (added, removed []string, kept int) {
	inFrom, inTo := set(from), set(to)
	for _, m := range to {
		if !inFrom[m] {
			added = append(added, m)
		}
	}
	for _, m := range from {
		if inTo[m] {
			kept++
		} else {
			removed = append(removed, m)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed, kept
}

func set(names []string) map[string]bool {
	s := make(map[string]bool, len(names))
	for _, n := range names {
		s[n] = true
	}
	return s
}

func union(a, b []string) []string {
	s := set(a)
	for _, n := range b {
		s[n] = true
	}
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// busiest returns the largest number of stores on one member divided by the mean.
func busiest(owners []string, members int) float64 {
	counts := map[string]int{}
	top := 0
	for _, m := range owners {
		counts[m]++
		if counts[m] > top {
			top = counts[m]
		}
	}
	return float64(top) * float64(members) / float64(len(owners))
}

// count returns how many stores member holds, or "-" when it holds none.
func count(owners []string, member string) string {
	n := 0
	for _, m := range owners {
		if m == member {
			n++
		}
	}
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func percent(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

func listOrDash(names []string) string {
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ", ")
}
