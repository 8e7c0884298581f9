package hashing

import (
	"fmt"
	"sort"
)

// Strategy names accepted by New.
const (
	StrategyRendezvous = "rendezvous"
	StrategyModulo     = "modulo"
)

// Picker chooses a store's member. Indexes refer to Members(), which is sorted by name.
type Picker interface {
	// Members returns the member names, sorted.
	Members() []string
	// Pick returns the index of the store's member.
	Pick(store string) int
	// Rank returns every member index, best first; failover uses the next-ranked member.
	Rank(store string) []int
}

// Member is a member name with its relative weight (1 when zero).
type Member struct {
	Name   string
	Weight float64
}

// New returns the picker of the named strategy ("" means rendezvous) over members.
func New(strategy string, members []Member) (Picker, error) {
	if len(members) == 0 {
		return nil, fmt.Errorf("no members")
	}
	sorted := make([]Member, len(members))
	copy(sorted, members)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	for i, m := range sorted {
		if m.Name == "" {
			return nil, fmt.Errorf("empty member name")
		}
		if i > 0 && sorted[i-1].Name == m.Name {
			return nil, fmt.Errorf("duplicate member %q", m.Name)
		}
		if m.Weight < 0 {
			return nil, fmt.Errorf("member %q has negative weight %v", m.Name, m.Weight)
		}
	}
	switch strategy {
	case "", StrategyRendezvous:
		return newRendezvous(sorted), nil
	case StrategyModulo:
		return newModulo(sorted), nil
	}
	return nil, fmt.Errorf("unknown strategy %q (want %q or %q)", strategy, StrategyRendezvous, StrategyModulo)
}

// Names returns members of weight 1 for the given names.
func Names(names []string) []Member {
	members := make([]Member, len(names))
	for i, name := range names {
		members[i] = Member{Name: name, Weight: 1}
	}
	return members
}

func memberNames(members []Member) []string {
	names := make([]string, len(members))
	for i, m := range members {
		names[i] = m.Name
	}
	return names
}
