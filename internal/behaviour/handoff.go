package behaviour

import (
	"testing"
	"time"
)

// Live handoff at scale: blips forgiven, ends spread over a window.

func testBlipsAreForgiven(t *testing.T, build Builder) {
	const grace = 400 * time.Millisecond
	config := baseConfig()
	live, stores := openLive(t, build, config, "live-blip", grace.String(), 60)
	defer live.closeAll()
	// pos-1 leaves and comes back within 100 ms: a readiness blip.
	config["members"] = []any{"pos-0", "pos-2"}
	mustBuild(t, build, live, config, "live-blip")
	time.Sleep(100 * time.Millisecond)
	config["members"] = []any{"pos-0", "pos-1", "pos-2"}
	mustBuild(t, build, live, config, "live-blip")
	time.Sleep(grace + 500*time.Millisecond)
	for _, store := range stores {
		if _, ok := live.endedAt(store); ok {
			t.Errorf("store %s was ended by a member that left and came back within the grace", store)
		}
	}
}

func testSpreadEndsOverTheWindow(t *testing.T, build Builder) {
	const grace, spread = 100 * time.Millisecond, 1500 * time.Millisecond
	config := baseConfig()
	config["rebalanceSpread"] = spread.String()
	live, stores := openLive(t, build, config, "live-spread", grace.String(), 120)
	defer live.closeAll()
	scaled := append(append([]string{}, baseMembers...), "pos-3")
	var moved []string
	for _, store := range stores {
		if expectedMember(t, "", baseMembers, store) != expectedMember(t, "", scaled, store) {
			moved = append(moved, store)
		}
	}
	config["members"] = scaled
	changed := time.Now()
	mustBuild(t, build, live, config, "live-spread")
	time.Sleep(grace + spread + 500*time.Millisecond)
	first, last := time.Duration(1<<62), time.Duration(0)
	for _, store := range moved {
		at, ok := live.endedAt(store)
		if !ok {
			t.Fatalf("moved store %s did not end within the grace and the spread", store)
		}
		elapsed := at.Sub(changed)
		if elapsed < grace-20*time.Millisecond || elapsed > grace+spread+300*time.Millisecond {
			t.Errorf("store %s ended %v after the change, outside the %v grace and %v spread", store, elapsed, grace, spread)
		}
		if elapsed < first {
			first = elapsed
		}
		if elapsed > last {
			last = elapsed
		}
	}
	if last-first < spread/2 {
		t.Errorf("%d moved stores ended between %v and %v after the change: not spread over %v", len(moved), first, last, spread)
	}
}

func testQuickSecondChange(t *testing.T, build Builder) {
	const grace = 100 * time.Millisecond
	config := baseConfig()
	live, stores := openLive(t, build, config, "live-quick", grace.String(), 600)
	defer live.closeAll()
	// pos-2 fails its health check, and pos-3 joins right after (a rolling update):
	// the stores that left pos-2 must end, wherever they go.
	config["members"] = []any{"pos-0", "pos-1"}
	mustBuild(t, build, live, config, "live-quick")
	config["members"] = []any{"pos-0", "pos-1", "pos-3"}
	mustBuild(t, build, live, config, "live-quick")
	time.Sleep(grace + 700*time.Millisecond)
	split := 0
	for _, store := range stores {
		if expectedMember(t, "", baseMembers, store) != expectedMember(t, "", []string{"pos-0", "pos-1", "pos-3"}, store) {
			if _, ok := live.endedAt(store); !ok {
				split++
			}
		}
	}
	if split > 0 {
		t.Errorf("%d moved stores still run on their old member %v after two quick changes", split, grace+700*time.Millisecond)
	}
}

func testPatternChangeEndsLiveStores(t *testing.T, build Builder) {
	const grace = 100 * time.Millisecond
	config := baseConfig()
	live, stores := openLive(t, build, config, "live-pattern", grace.String(), 60) // devices <store>-001
	defer live.closeAll()
	config["storeIdPattern"] = `-(?P<store>[0-9]+)$` // every device now of store 001
	mustBuild(t, build, live, config, "live-pattern")
	time.Sleep(grace + 500*time.Millisecond)
	owner := expectedMember(t, "", baseMembers, "001")
	if stale := notEnded(t, live, stores, owner); len(stale) > 0 {
		t.Errorf("storeIdPattern put every device in store 001 on %s, but %d live devices on other members were never ended", owner, len(stale))
	}
}

// notEnded returns the stores whose live request ran elsewhere than on owner, the
// member of the one store every device now belongs to, and has not ended.
func notEnded(t *testing.T, live *liveRequests, stores []string, owner string) []string {
	var stale []string
	for _, store := range stores {
		if ranOn := expectedMember(t, "", baseMembers, store); ranOn != owner {
			if _, ok := live.endedAt(store); !ok {
				stale = append(stale, store+" on "+ranOn)
			}
		}
	}
	return stale
}

// testPatternChangeWithinABlip changes storeIdPattern while the stores of a member that
// blinked out have their end scheduled: the pattern change must end them too, and the
// scheduled end must not forgive them by the old pattern's stores.
func testPatternChangeWithinABlip(t *testing.T, build Builder) {
	const grace = 300 * time.Millisecond
	config := baseConfig()
	live, stores := openLive(t, build, config, "live-pattern-blip", grace.String(), 60)
	defer live.closeAll()
	config["members"] = []any{"pos-0", "pos-2"}
	mustBuild(t, build, live, config, "live-pattern-blip")
	time.Sleep(100 * time.Millisecond)
	config["members"] = []any{"pos-0", "pos-1", "pos-2"}
	config["storeIdPattern"] = `-(?P<store>[0-9]+)$` // every device now of store 001
	mustBuild(t, build, live, config, "live-pattern-blip")
	time.Sleep(grace + 500*time.Millisecond)
	owner := expectedMember(t, "", baseMembers, "001")
	if stale := notEnded(t, live, stores, owner); len(stale) > 0 {
		t.Errorf("storeIdPattern, changed while pos-1's stores were due to end, put every device in store 001 on %s, but %d live devices elsewhere were never ended: %v", owner, len(stale), stale)
	}
}

// testMovedStoreEndsAtOneMoment checks that two proxies configured alike end each moved
// store at the same moment of the spread, a moment of the store's own.
func testMovedStoreEndsAtOneMoment(t *testing.T, build Builder) {
	const grace, spread = 100 * time.Millisecond, 2 * time.Second
	scaled := append(append([]string{}, baseMembers...), "pos-3")
	// Two proxies configured alike (two middleware names), each with live requests of
	// the same stores, see the same membership change.
	names := []string{"live-moment-a", "live-moment-b"}
	var proxies []*liveRequests
	var configs []map[string]any
	var stores []string
	for _, name := range names {
		config := baseConfig()
		config["rebalanceSpread"] = spread.String()
		live, opened := openLive(t, build, config, name, grace.String(), 40)
		defer live.closeAll()
		proxies, configs, stores = append(proxies, live), append(configs, config), opened
	}
	changed := make([]time.Time, len(names))
	for i, name := range names {
		configs[i]["members"] = scaled
		changed[i] = time.Now()
		mustBuild(t, build, proxies[i], configs[i], name)
	}
	time.Sleep(grace + spread + 500*time.Millisecond)
	first, last, moved := time.Duration(1<<62), time.Duration(0), 0
	for _, store := range stores {
		if expectedMember(t, "", baseMembers, store) == expectedMember(t, "", scaled, store) {
			continue
		}
		moved++
		atA, okA := proxies[0].endedAt(store)
		atB, okB := proxies[1].endedAt(store)
		if !okA || !okB {
			t.Fatalf("moved store %s did not end on both proxies within the grace and the spread (%v, %v)", store, okA, okB)
		}
		a, b := atA.Sub(changed[0]), atB.Sub(changed[1])
		if d := a - b; d < -100*time.Millisecond || d > 100*time.Millisecond {
			t.Errorf("moved store %s ended %v after the change on one proxy, %v on the other: want one moment", store, a, b)
		}
		if a < first {
			first = a
		}
		if a > last {
			last = a
		}
	}
	if moved < 4 || last-first < spread/4 {
		t.Errorf("%d moved stores ended between %v and %v after the change: want several, at their own moments over %v", moved, first, last, spread)
	}
}

// testPatternChangeThenMembersChange changes storeIdPattern, then the members within
// the grace: the stores the pattern change ends must end, whatever the later change
// would forgive by the old pattern's stores.
func testPatternChangeThenMembersChange(t *testing.T, build Builder) {
	const grace = 300 * time.Millisecond
	config := baseConfig()
	live, stores := openLive(t, build, config, "live-pattern-scale", grace.String(), 60)
	defer live.closeAll()
	config["storeIdPattern"] = `-(?P<store>[0-9]+)$` // every device now of store 001
	mustBuild(t, build, live, config, "live-pattern-scale")
	time.Sleep(100 * time.Millisecond)
	scaled := []any{"pos-0", "pos-1", "pos-2", "pos-3"}
	config["members"] = scaled
	mustBuild(t, build, live, config, "live-pattern-scale")
	time.Sleep(grace + 500*time.Millisecond)
	owner := expectedMember(t, "", []string{"pos-0", "pos-1", "pos-2", "pos-3"}, "001")
	if stale := notEnded(t, live, stores, owner); len(stale) > 0 {
		t.Errorf("storeIdPattern put every device in store 001 on %s, then pos-3 joined within the grace, but %d live devices elsewhere were never ended", owner, len(stale))
	}
}
