package behaviour

import (
	"strings"
	"testing"
	"time"
)

// Traefik builds a new instance of the middleware for every configuration change:
// the round-robin turn carries over, the routes of the old configuration do not, and
// the outdated instance still ends the live requests of the stores that moved.

func testRoundRobinSurvivesRebuilds(t *testing.T, build Builder) {
	rec := &recorder{}
	seen := map[string]int{}
	for i := 0; i < 30; i++ {
		h := mustBuild(t, build, rec, baseConfig(), "rebuilt-turn")
		_, s := serve(h, rec, "/api/stateless")
		if len(s.sticky) == 1 {
			seen[memberOfSticky(s.sticky[0], baseMembers)]++
		}
	}
	for _, m := range baseMembers {
		if seen[m] != 10 {
			t.Errorf("30 rebuilds with one stateless request after each reached %v, want each member 10 times", seen)
			break
		}
	}
}

func testOutdatedInstanceEnds(t *testing.T, build Builder) {
	const grace = 200 * time.Millisecond
	live := &liveRequests{ended: map[string]time.Time{}}
	config := baseConfig()
	config["rebalanceGrace"] = grace.String()
	outdated := mustBuild(t, build, live, config, "outdated")
	scaled := append(append([]string{}, baseMembers...), "pos-3")
	config["members"] = scaled
	mustBuild(t, build, live, config, "outdated") // Traefik builds the new instance first
	var moved []string
	for _, store := range storeNames(60) {
		if expectedMember(t, "", baseMembers, store) != expectedMember(t, "", scaled, store) {
			moved = append(moved, store)
		}
	}
	// A request the outdated instance still serves goes to the old member: it must end.
	started := time.Now()
	live.open(outdated, moved[:3])
	defer live.closeAll()
	deadline := time.Now().Add(grace + 2*time.Second)
	for _, store := range moved[:3] {
		for {
			if at, ok := live.endedAt(store); ok {
				if at.Sub(started) < grace-20*time.Millisecond {
					t.Errorf("store %s ended %v after its request, before the %v grace", store, at.Sub(started), grace)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("store %s, served by an outdated instance on its old member, never ended", store)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func testPatternChangeRoutesAnew(t *testing.T, build Builder) {
	rec := &recorder{}
	config := baseConfig()
	config["storeIdPattern"] = `^(?P<store>[0-9]+)-`
	h := mustBuild(t, build, rec, config, "pattern-change")
	const device = "00123-77777-001"
	_, s := serve(h, rec, prefix+"/"+device+"/ticket")
	if !strings.HasPrefix(s.affinity, "store=00123;") {
		t.Fatalf("stamp %q, want store 00123", s.affinity)
	}
	config["storeIdPattern"] = `^(?P<store>[0-9]+-[0-9]+)-`
	h = mustBuild(t, build, rec, config, "pattern-change")
	_, s = serve(h, rec, prefix+"/"+device+"/ticket")
	if !strings.HasPrefix(s.affinity, "store=00123-77777;") {
		t.Errorf("after storeIdPattern changed, stamp %q, want store 00123-77777: the old routes were reused", s.affinity)
	}
}
