package hashing

import (
	"fmt"
	"sort"
	"strings"
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
	// PickHash is Pick for a store whose Hash64 is storeHash.
	PickHash(storeHash uint64) int
	// PickScore is PickHash that also returns the member's score for the store (0 for
	// modulo), which a Change compares with the added members' scores.
	PickScore(storeHash uint64) (int, uint64)
	// Rank returns every member index, best first; failover uses the next-ranked member.
	Rank(store string) []int
	// Strategy returns the strategy's name.
	Strategy() string
}

// memberNameCharacters are those of a member name: a member stands in the affinity
// stamp "store=<id>; member=<name>" unescaped, so no space, ';', '=' or ','. The
// middleware and the operator CLI both check names here.
const memberNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~@:"

// New returns the picker of the named strategy ("" means rendezvous) over the member
// names, in any order.
func New(strategy string, members []string) (Picker, error) {
	if len(members) == 0 {
		return nil, fmt.Errorf("no members")
	}
	sorted := make([]string, len(members))
	copy(sorted, members)
	sort.Strings(sorted)
	for i, name := range sorted {
		if name == "" {
			return nil, fmt.Errorf("empty member name")
		}
		if strings.Trim(name, memberNameCharacters) != "" {
			return nil, fmt.Errorf("%q has characters other than letters, digits and '-', '_', '.', '~', '@', ':'", name)
		}
		if i > 0 && sorted[i-1] == name {
			return nil, fmt.Errorf("duplicate member %q", name)
		}
	}
	if err := CheckStrategy(strategy); err != nil {
		return nil, err
	}
	if strategy == StrategyModulo {
		return newModulo(sorted), nil
	}
	return newRendezvous(sorted), nil
}

// CheckStrategy reports whether strategy names a strategy ("" means rendezvous).
func CheckStrategy(strategy string) error {
	switch strategy {
	case "", StrategyRendezvous, StrategyModulo:
		return nil
	}
	return fmt.Errorf("unknown strategy %q (want %q or %q)", strategy, StrategyRendezvous, StrategyModulo)
}
