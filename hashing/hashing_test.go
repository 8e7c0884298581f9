package hashing

import (
	"fmt"
	"github.com/storeaffinity/storeaffinity/internal/golden"
	"strings"
	"testing"
)

func storeIDs(n int) []string {
	stores := make([]string, n)
	for i := range stores {
		stores[i] = fmt.Sprintf("%05d", i)
	}
	return stores
}

func memberList(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("pos-%d", i)
	}
	return names
}

func mustPicker(t testing.TB, strategy string, names []string) Picker {
	t.Helper()
	p, err := New(strategy, names)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHash64IsFNV1a(t *testing.T) {
	for input, want := range map[string]uint64{"": 0xcbf29ce484222325, "a": 0xaf63dc4c8601ec8c, "foobar": 0x85944171f73967e8} {
		if got := Hash64(input); got != want {
			t.Errorf("Hash64(%q) = %#x, want %#x", input, got, want)
		}
	}
}

// TestPlacementIsStable pins placements: a change here moves stores between releases.
func TestPlacementIsStable(t *testing.T) {
	var b strings.Builder
	for _, strategy := range []string{StrategyRendezvous, StrategyModulo} {
		p := mustPicker(t, strategy, []string{"pos-2", "pos-0", "pos-1", "pos-3"})
		for _, store := range []string{"00001", "00123", "04711", "store-a", "München", "99999"} {
			fmt.Fprintf(&b, "%s %s %s %v\n", strategy, store, p.Members()[p.Pick(store)], p.Rank(store))
		}
	}
	golden.Check(t, "testdata/placement.golden", []byte(b.String()))
}

func TestRendezvousMovesOnlyToNewMember(t *testing.T) {
	stores := storeIDs(100000)
	for _, n := range []int{3, 5, 10, 20} {
		before := mustPicker(t, StrategyRendezvous, memberList(n))
		after := mustPicker(t, StrategyRendezvous, memberList(n+1))
		moved := 0
		for _, store := range stores {
			from, to := before.Members()[before.Pick(store)], after.Members()[after.Pick(store)]
			if from != to {
				moved++
				if to != fmt.Sprintf("pos-%d", n) {
					t.Fatalf("N=%d: store %s moved from %s to %s, not to the new member", n, store, from, to)
				}
			}
		}
		fraction := float64(moved) / float64(len(stores))
		limit := 1.05 / float64(n+1)
		t.Logf("N=%d->%d: moved %.4f of 100k stores (limit %.4f, ideal %.4f)", n, n+1, fraction, limit, 1/float64(n+1))
		if fraction > limit {
			t.Errorf("N=%d->%d: moved fraction %.4f > %.4f", n, n+1, fraction, limit)
		}
	}
}

func TestModuloMovesAlmostEverything(t *testing.T) {
	stores := storeIDs(100000)
	before, after := mustPicker(t, StrategyModulo, memberList(3)), mustPicker(t, StrategyModulo, memberList(4))
	moved := 0
	for _, store := range stores {
		if before.Members()[before.Pick(store)] != after.Members()[after.Pick(store)] {
			moved++
		}
	}
	if fraction := float64(moved) / float64(len(stores)); fraction < 0.7 {
		t.Errorf("modulo 3->4 moved %.3f, want about 3/4", fraction)
	}
}

func TestRendezvousBalance(t *testing.T) {
	p := mustPicker(t, StrategyRendezvous, memberList(10))
	counts := make([]int, 10)
	for _, store := range storeIDs(100000) {
		counts[p.Pick(store)]++
	}
	busiest := 0
	for _, c := range counts {
		if c > busiest {
			busiest = c
		}
	}
	ratio := float64(busiest) / 10000
	t.Logf("N=10, 100k stores: busiest/mean = %.4f, counts %v", ratio, counts)
	if ratio > 1.05 {
		t.Errorf("busiest member carries %.4f x the mean, want <= 1.05", ratio)
	}
}

func TestRankFailsOverToNextRanked(t *testing.T) {
	names := memberList(6)
	for _, strategy := range []string{StrategyRendezvous, StrategyModulo} {
		p := mustPicker(t, strategy, names)
		for _, store := range storeIDs(500) {
			rank := p.Rank(store)
			if len(rank) != len(names) || rank[0] != p.Pick(store) {
				t.Fatalf("%s: Rank(%s) = %v, want a full ranking led by Pick %d", strategy, store, rank, p.Pick(store))
			}
			if strategy != StrategyRendezvous {
				continue
			}
			var rest []string
			for _, i := range rank[1:] {
				rest = append(rest, p.Members()[i])
			}
			survivor := mustPicker(t, strategy, rest)
			if got := survivor.Members()[survivor.Pick(store)]; got != rest[0] {
				t.Fatalf("store %s: without its member it goes to %s, want next-ranked %s", store, got, rest[0])
			}
		}
	}
}

func TestNewRejectsBadMembers(t *testing.T) {
	cases := map[string][]string{
		"no members": nil,
		"empty name": {""},
		"duplicate":  {"a", "b", "a"},
	}
	for name, members := range cases {
		if _, err := New(StrategyRendezvous, members); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := New("random", []string{"a"}); err == nil || !strings.Contains(err.Error(), "random") {
		t.Errorf("unknown strategy: error %v", err)
	}
}

// TestChangeMovesExactlyThePickedStores compares Change.Moves, which scores only the
// added members, with picking every store again over the whole new list.
func TestChangeMovesExactlyThePickedStores(t *testing.T) {
	stores := storeIDs(20000)
	cases := []struct {
		strategy string
		from, to []string
	}{
		{StrategyRendezvous, memberList(3), memberList(4)},
		{StrategyRendezvous, memberList(100), memberList(101)},
		{StrategyRendezvous, memberList(4), memberList(3)},
		{StrategyRendezvous, []string{"pos-0", "pos-1", "pos-2"}, []string{"pos-0", "pos-2", "pos-3", "pos-4"}},
		{StrategyModulo, memberList(3), memberList(4)},
	}
	for _, tc := range cases {
		from, to := mustPicker(t, tc.strategy, tc.from), mustPicker(t, tc.strategy, tc.to)
		change := NewChange(from, to)
		moved := 0
		for _, store := range stores {
			owner, score := from.PickScore(Hash64(store))
			name := from.Members()[owner]
			want := to.Members()[to.Pick(store)] != name
			if got := change.Moves(Hash64(store), name); got != want {
				t.Fatalf("%s %d -> %d members: store %s moves %v, want %v", tc.strategy, len(tc.from), len(tc.to), store, got, want)
			}
			if got := change.Moved(name, []uint64{Hash64(store)}, []uint64{score})[0]; got != want {
				t.Fatalf("%s %d -> %d members: Moved says store %s moves %v, want %v", tc.strategy, len(tc.from), len(tc.to), store, got, want)
			}
			if want {
				moved++
			}
		}
		if moved == 0 {
			t.Errorf("%s %d -> %d members: no store moved", tc.strategy, len(tc.from), len(tc.to))
		}
	}
}
