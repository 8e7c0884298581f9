// Package behaviour holds the middleware's behavioural test suite. The same cases run
// against the compiled plugin and against the plugin loaded under Yaegi, as Traefik
// loads it, so that both are held to one contract. It imports the standard library,
// the hashing package and the stdlib-only wsclient only.
package behaviour

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// Builder builds the middleware under test from a configuration as Traefik hands it
// over (a map decoded into the plugin's Config), with the given middleware name.
type Builder func(ctx context.Context, next http.Handler, config map[string]any, name string) (http.Handler, error)

// LiveStoresFunc returns how many stores have live requests tracked under a
// middleware name: the plugin's LiveStores, compiled or interpreted.
type LiveStoresFunc func(name string) int

// Run runs every behavioural case against the middleware that build makes; liveStores
// reads its table of live stores.
func Run(t *testing.T, build Builder, liveStores LiveStoresFunc) {
	t.Run("StoreDevicesShareMember", func(t *testing.T) { testStoreDevicesShareMember(t, build) })
	t.Run("AffinityHeaderOnRequestAndResponse", func(t *testing.T) { testAffinityHeader(t, build) })
	t.Run("StatelessRequestsRoundRobin", func(t *testing.T) { testStatelessRoundRobin(t, build) })
	t.Run("ClientCannotChooseMember", func(t *testing.T) { testClientCannotChoose(t, build) })
	t.Run("BadDeviceIDGets400", func(t *testing.T) { testBadDeviceID(t, build) })
	t.Run("WithoutPrefixesEveryPathIsPlain", func(t *testing.T) { testWithoutPrefixes(t, build) })
	t.Run("MissingDeviceIDRoundRobin", func(t *testing.T) { testMissingDeviceIDRoundRobin(t, build) })
	t.Run("NoMembersPassesThrough", func(t *testing.T) { testNoMembers(t, build) })
	t.Run("ConfigErrorsNameTheKey", func(t *testing.T) { testConfigErrors(t, build) })
	t.Run("CommaSeparatedLists", func(t *testing.T) { testCommaSeparatedLists(t, build) })
	t.Run("StoreIDPattern", func(t *testing.T) { testStoreIDPattern(t, build) })
	t.Run("ModuloStrategy", func(t *testing.T) { testModuloStrategy(t, build) })
	t.Run("ResponseWriterReachesNextUnchanged", func(t *testing.T) { testResponseWriterUnchanged(t, build) })
	t.Run("MovedStoresLiveRequestsEndAfterGrace", func(t *testing.T) { testMovedStoresEnd(t, build) })
	t.Run("BlipsWithinTheGraceAreForgiven", func(t *testing.T) { testBlipsAreForgiven(t, build) })
	t.Run("SpreadEndsMovedStoresOverTheWindow", func(t *testing.T) { testSpreadEndsOverTheWindow(t, build) })
	t.Run("MovedStoreEndsAtOneMomentOnEveryProxy", func(t *testing.T) { testMovedStoreEndsAtOneMoment(t, build) })
	t.Run("QuickSecondChangeEndsEveryMovedStore", func(t *testing.T) { testQuickSecondChange(t, build) })
	t.Run("StoreIDPatternChangeEndsLiveStores", func(t *testing.T) { testPatternChangeEndsLiveStores(t, build) })
	t.Run("StoreIDPatternChangeWithinABlipEndsItsStores", func(t *testing.T) { testPatternChangeWithinABlip(t, build) })
	t.Run("StoreIDPatternChangeThenMembersChangeEndsItsStores", func(t *testing.T) { testPatternChangeThenMembersChange(t, build) })
	t.Run("GraceOffKeepsLiveRequests", func(t *testing.T) { testGraceOff(t, build) })
	t.Run("CookieFloodsAreRefused", func(t *testing.T) { testCookieFloods(t, build) })
	t.Run("QueryReadAsTheBackendReadsIt", func(t *testing.T) { testQueryDecoded(t, build) })
	t.Run("PathDecodedOnce", func(t *testing.T) { testPathDecodedOnce(t, build) })
	t.Run("HeaderReadLiterally", func(t *testing.T) { testHeaderLiteral(t, build) })
	t.Run("TwoDifferentDeviceIDsAreRefused", func(t *testing.T) { testTwoDeviceIDs(t, build) })
	t.Run("EncodedPrefixIsRefused", func(t *testing.T) { testEncodedPrefix(t, build) })
	t.Run("PathParametersReadAsAServletReadsThem", func(t *testing.T) { testPathParameters(t, build) })
	t.Run("ConflictsAreRefusedUnderRoundRobin", func(t *testing.T) { testConflictsUnderRoundRobin(t, build) })
	t.Run("DeviceHeaderSpellingsAreDropped", func(t *testing.T) { testDeviceHeaderSpellings(t, build) })
	t.Run("StampCannotBeForged", func(t *testing.T) { testStampUnforgeable(t, build) })
	t.Run("PanicInNextReleasesTheRequest", func(t *testing.T) { testPanicInNext(t, build) })
	t.Run("QueryPastParserLimitIsRefused", func(t *testing.T) { testQueryPastParserLimitIsRefused(t, build) })
	t.Run("QueryReadAsTraefikForwardsIt", func(t *testing.T) { testQueryAsForwarded(t, build) })
	t.Run("QueryNameSpellingsReadAsTheName", func(t *testing.T) { testQueryNameSpellings(t, build) })
	t.Run("RoundRobinSurvivesRebuilds", func(t *testing.T) { testRoundRobinSurvivesRebuilds(t, build) })
	t.Run("ResponseStampChoosesWhatClientsSee", func(t *testing.T) { testResponseStamp(t, build) })
	t.Run("EmptyCookieSliceIsServed", func(t *testing.T) { testEmptyCookieSlice(t, build) })
	t.Run("StompSessionsFollowTheirStore", func(t *testing.T) { testStompSessionsFollowTheirStore(t, build) })
	t.Run("StompFramesBeforeConnectAreBounded", func(t *testing.T) { testStompPreConnectBounds(t, build) })
	t.Run("StompSessionNamedInItsURLToo", func(t *testing.T) { testStompSessionNamedInURL(t, build) })
	t.Run("StompDeviceIDHeaderIsTheConfiguredOne", func(t *testing.T) { testStompDeviceHeaderConfigured(t, build) })
	t.Run("StompConnectBoundIsExactly16KiB", func(t *testing.T) { testStompConnectBoundEdge(t, build) })
	t.Run("StompBackendAgreeingToWhatTheClientWasNotToldEndsWith1014", func(t *testing.T) { testStompBackendDisagreementEnds(t, build) })
	t.Run("BadStompSessionsGetAClearEnd", func(t *testing.T) { testBadStompSessions(t, build) })
	t.Run("MissingStompDeviceRoundRobin", func(t *testing.T) { testMissingStompDeviceRoundRobin(t, build) })
	t.Run("MovedStoresStompSessionEndsWith1012", func(t *testing.T) { testMovedStoreStompSessionEnds(t, build) })
	t.Run("StompSessionsCutAtEveryStageLeaveNothing", func(t *testing.T) { testStompCutsLeaveNothing(t, build, liveStores) })
	t.Run("StompClientLeavingWhileItsMemberHangsIsLetGo", func(t *testing.T) { testStompClientLeavesWhileMemberHangs(t, build, liveStores) })
	t.Run("MetricsCountWhatWasServed", func(t *testing.T) { testMetrics(t, build) })
	t.Run("PanicInNextReleasesTheStore", func(t *testing.T) { testPanicReleasesStore(t, build, liveStores) })
	t.Run("NoMembersDropsEverySpelling", func(t *testing.T) { testNoMembersSpellings(t, build) })
	t.Run("OutdatedInstancesLiveRequestsEnd", func(t *testing.T) { testOutdatedInstanceEnds(t, build) })
	t.Run("StoreIDPatternChangeRoutesAnew", func(t *testing.T) { testPatternChangeRoutesAnew(t, build) })
}

// Members and cookie of the base configuration.
var baseMembers = []string{"pos-0", "pos-1", "pos-2"}

const (
	cookieName = "pos_affinity"
	prefix     = "/api/appId/pos/deviceId"
)

// baseConfig is a complete configuration, as the provider would emit it.
func baseConfig() map[string]any {
	return map[string]any{
		"deviceAffinityPrefixes": []any{prefix, "/api/app/pos/node"},
		"deviceIdHeader":         "X-Device-Id",
		"deviceIdQuery":          "deviceId",
		"members":                []any{"pos-2", "pos-0", "pos-1"},
		"stickyCookie":           cookieName,
	}
}

// roundRobinConfig is baseConfig with missingDeviceId: roundRobin.
func roundRobinConfig() map[string]any {
	config := baseConfig()
	config["missingDeviceId"] = "roundRobin"
	return config
}

// stickyValue is Traefik's cookie value for a child service, computed independently of
// the code under test.
func stickyValue(child string) string {
	sum := sha256.Sum256([]byte(child))
	return hex.EncodeToString(sum[:])[:16]
}

// expectedMember is the store's member by the compiled hashing package.
func expectedMember(t *testing.T, strategy string, members []string, store string) string {
	t.Helper()
	picker, err := hashing.New(strategy, members)
	if err != nil {
		t.Fatal(err)
	}
	return picker.Members()[picker.Pick(store)]
}

// seen is what the next handler observed of one request.
type seen struct {
	called   bool
	cookies  []string // every Cookie header value
	sticky   []string // every sticky cookie value
	affinity string   // the affinity header on the request
	header   http.Header
	rw       http.ResponseWriter
	ctx      context.Context
}

// recorder is a next handler that records what reaches it.
type recorder struct {
	mu   sync.Mutex
	last seen
}

func (r *recorder) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	s := seen{called: true, cookies: req.Header["Cookie"], affinity: req.Header.Get("X-Store-Affinity"), header: req.Header.Clone(), rw: rw, ctx: req.Context()}
	for _, c := range req.Cookies() {
		if c.Name == cookieName {
			s.sticky = append(s.sticky, c.Value)
		}
	}
	r.mu.Lock()
	r.last = s
	r.mu.Unlock()
	rw.WriteHeader(http.StatusNoContent)
}

func (r *recorder) take() seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.last
	r.last = seen{}
	return s
}

func mustBuild(t *testing.T, build Builder, next http.Handler, config map[string]any, name string) http.Handler {
	t.Helper()
	h, err := build(context.Background(), next, config, name)
	if err != nil {
		t.Fatalf("build %s: %v", name, err)
	}
	return h
}

// serve sends a GET for target, with optional header pairs, and returns the response
// and what next saw.
func serve(h http.Handler, rec *recorder, target string, headers ...string) (*httptest.ResponseRecorder, seen) {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rw := httptest.NewRecorder()
	h.ServeHTTP(rw, req)
	return rw, rec.take()
}

func wantSticky(t *testing.T, s seen, member string) {
	t.Helper()
	if !s.called {
		t.Fatalf("next was not called")
	}
	if len(s.sticky) != 1 || s.sticky[0] != stickyValue(member) {
		t.Fatalf("sticky cookies reaching next = %v, want exactly [%s] (member %s); Cookie headers %q",
			s.sticky, stickyValue(member), member, s.cookies)
	}
}

func memberOfSticky(value string, members []string) string {
	for _, m := range members {
		if stickyValue(m) == value {
			return m
		}
	}
	return ""
}

func oneLine(body string) bool {
	return strings.Count(strings.TrimSuffix(body, "\n"), "\n") == 0
}
