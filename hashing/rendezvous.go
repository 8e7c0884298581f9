package hashing

import (
	"math"
	"sort"
)

// rendezvous is weighted highest-random-weight hashing: every (store, member) pair gets
// a pseudo-random score and the store goes to the member with the highest one. Adding
// or removing a member moves only the stores that it wins or held.
type rendezvous struct {
	names    []string
	seeds    []uint64
	weights  []float64
	weighted bool
}

func newRendezvous(members []Member) *rendezvous {
	r := &rendezvous{names: memberNames(members), seeds: make([]uint64, len(members)), weights: make([]float64, len(members))}
	for i, m := range members {
		r.seeds[i] = Hash64(m.Name)
		r.weights[i] = m.Weight
		if r.weights[i] == 0 {
			r.weights[i] = 1
		}
		if r.weights[i] != r.weights[0] {
			r.weighted = true
		}
	}
	return r
}

func (r *rendezvous) Members() []string { return r.names }

// score is the member's weighted score for a store hash. With equal weights the raw
// 64-bit score is compared, which is exact on every platform; otherwise the logarithmic
// method gives each member a share proportional to its weight.
func (r *rendezvous) score(storeHash uint64, i int) float64 {
	u := (float64(mix(storeHash^r.seeds[i])>>11) + 0.5) / (1 << 53)
	return -r.weights[i] / math.Log(u)
}

func (r *rendezvous) better(storeHash uint64, i, j int) bool {
	if !r.weighted {
		return mix(storeHash^r.seeds[i]) > mix(storeHash^r.seeds[j])
	}
	return r.score(storeHash, i) > r.score(storeHash, j)
}

// Pick computes the unweighted scores inline: under Yaegi a function call costs more
// than the arithmetic, and Pick runs once per member for each new device.
func (r *rendezvous) Pick(store string) int {
	h := Hash64(store)
	if r.weighted {
		best := 0
		for i := 1; i < len(r.names); i++ {
			if r.better(h, i, best) {
				best = i
			}
		}
		return best
	}
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
	return best
}

func (r *rendezvous) Rank(store string) []int {
	h := Hash64(store)
	order := make([]int, len(r.names))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return r.better(h, order[a], order[b]) })
	return order
}
