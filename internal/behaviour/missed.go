package behaviour

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Cases that each fail on a bug once planted in the code, which the other cases let
// through.

func testPanicReleasesStore(t *testing.T, build Builder, liveStores LiveStoresFunc) {
	const name = "panic-release"
	h := mustBuild(t, build, panicking{}, baseConfig(), name)
	for _, store := range storeNames(5) {
		req := httptest.NewRequest(http.MethodGet, prefix+"/"+store+"-001/events", nil)
		req.Header.Set("Accept", "text/event-stream")
		func() {
			defer func() { _ = recover() }()
			h.ServeHTTP(httptest.NewRecorder(), req)
		}()
	}
	if n := liveStores(name); n != 0 {
		t.Errorf("5 live requests whose next panicked left %d stores tracked, want 0", n)
	}
}

func testNoMembersSpellings(t *testing.T, build Builder) {
	rec := &recorder{}
	config := baseConfig()
	config["members"] = []any{}
	h := mustBuild(t, build, rec, config, "no-members-spellings")
	_, s := serve(h, rec, "/api/catalog", "X_Store_Affinity", "member=pos-0", "X-Store_Affinity", "member=pos-0",
		"X_Device_Id", "00999-001", "X-Device_Id", "00999-001")
	for _, key := range []string{"X_store_affinity", "X-Store_affinity", "X_device_id", "X-Device_id"} {
		if s.header[http.CanonicalHeaderKey(key)] != nil {
			t.Errorf("without members, the client's %s reached next", key)
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
