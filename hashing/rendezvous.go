package hashing

import "sort"

// rendezvous is highest-random-weight hashing: every (store, member) pair gets a
// pseudo-random 64-bit score and the store goes to the member with the highest one.
// Adding or removing a member moves only the stores that it wins or held. Scores are
// compared as integers, which is exact on every platform.
type rendezvous struct {
	names []string
	seeds []uint64
}

func newRendezvous(names []string) *rendezvous {
	r := &rendezvous{names: names, seeds: make([]uint64, len(names))}
	for i, name := range names {
		r.seeds[i] = Hash64(name)
	}
	return r
}

func (r *rendezvous) Members() []string { return r.names }

func (r *rendezvous) Strategy() string { return StrategyRendezvous }

// Pick computes the scores inline: under Yaegi a function call costs more than the
// arithmetic, and Pick runs once per member for each new device.
func (r *rendezvous) Pick(store string) int { return r.PickHash(Hash64(store)) }

// PickHash is Pick for a store whose Hash64 is h.
func (r *rendezvous) PickHash(h uint64) int {
	best, _ := r.PickScore(h)
	return best
}

// PickScore is PickHash with the winning score.
func (r *rendezvous) PickScore(h uint64) (int, uint64) {
	best, bestScore := 0, uint64(0)
	for i, seed := range r.seeds {
		x := h ^ seed // mix(h ^ seed), written out
		x ^= x >> 30
		x *= 0xbf58476d1ce4e5b9
		x ^= x >> 27
		x *= 0x94d049bb133111eb
		x ^= x >> 31
		if i == 0 || x > bestScore {
			best, bestScore = i, x
		}
	}
	return best, bestScore
}

func (r *rendezvous) Rank(store string) []int {
	h := Hash64(store)
	order := make([]int, len(r.names))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return mix(h^r.seeds[order[a]]) > mix(h^r.seeds[order[b]])
	})
	return order
}
