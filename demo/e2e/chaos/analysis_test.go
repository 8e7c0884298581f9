package chaos

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
	"github.com/storeaffinity/storeaffinity/hashing"
)

// change is one stop or start of a replica process.
type change struct {
	phase   int
	what    string
	replica string
	down    bool      // a stop; otherwise a start
	at      time.Time // when the signal was sent or the process started
	healthy time.Time // a start: when the replica answered /healthz
	next    time.Time // the next change, or the end of the test
	live    []string  // the replicas running after the change
	// dialErrors and nextErrors are every device's failed WebSocket dials at the
	// change and at the next one.
	dialErrors, nextErrors map[string]int
}

// settledFrom returns when the change's transition is over and the checks begin.
func (ch *change) settledFrom() time.Time {
	if ch.down {
		return ch.at.Add(servedBound)
	}
	return ch.at.Add(settle)
}

// analysis checks the record of the whole run, change by change.
type analysis struct {
	t        *testing.T
	stores   []string
	original map[string]string
	fleet    *fleet.Fleet
	load     *fleet.Load
	rec      *recorder
	reports  []commerce.Report
	failures map[int][2]int // per phase: REST failures, failed WebSocket dials
	stalled  int            // changes not judged because the machine stalled
}

// stallLimit is the longest gap between the 100 ms samples that still lets a change be
// judged: a longer one means the test process itself was frozen (a loaded machine),
// and the bounds of that change measure the machine, not the product.
const stallLimit = 750 * time.Millisecond

// baseline checks the seconds before the first change: no errors, every store whole.
func (a *analysis) baseline(from, to time.Time) {
	t := a.t
	failed, _ := a.restFailures(from, to)
	bad := a.violations(a.rec.samples(from, to), a.original, from)
	t.Logf("baseline %v: %d REST failures, %d samples with a store split, disputed or not whole", to.Sub(from).Round(time.Millisecond), failed, len(bad))
	if failed > 0 || len(bad) > 0 {
		t.Errorf("before any change: %d REST failures; %s", failed, strings.Join(bad[:min(3, len(bad))], "; "))
	}
}

// check analyses one change and logs its line of the timeline; t0 is the stop that
// began the change's step, which the times are relative to.
func (a *analysis) check(ch, stop *change) {
	t := a.t
	t0 := stop.at
	rel := func(at time.Time) string {
		if at.IsZero() {
			return "never"
		}
		return fmt.Sprintf("%+.2fs", at.Sub(t0).Seconds())
	}
	affected := a.storesOf(ch.replica)
	want := placement(t, a.stores, ch.live)
	var listed [2]string
	for i := range listed {
		listed[i] = rel(a.rec.listedAt(i, ch.at, ch.live))
	}
	settled := ch.settledFrom()
	transition := a.rec.samples(ch.at, settled)
	maxSplit, maxDisputed := 0, 0
	for _, s := range transition {
		split, disputed := 0, 0
		for _, st := range s.stores {
			if st.split() {
				split++
			}
			if st.disagree() {
				disputed++
			}
		}
		maxSplit, maxDisputed = max(maxSplit, split), max(maxDisputed, disputed)
	}
	checked := a.rec.samples(settled, ch.next)
	bad := a.violations(checked, want, t0)
	wholeAt := a.wholeFrom(a.rec.samples(ch.at, ch.next), want)
	serverSplits := a.serverSplits(settled, ch.next)
	failed, failedStores, statuses := a.restFailuresByStatus(ch.at, ch.next)
	restOutsiders := outside(failedStores, affected)
	dials, dialStores := dialDelta(ch.dialErrors, ch.nextErrors)
	dialOutsiders := outside(dialStores, affected)
	reconnected := a.reconnectedOutside(affected, ch.at, ch.next)
	a.count(ch.phase, failed, dials)

	head := fmt.Sprintf("phase %d, %s (owner of %d stores) at %s", ch.phase, ch.what, len(affected), rel(ch.at))
	if !ch.down {
		head += fmt.Sprintf(" (answering /healthz %s)", rel(ch.healthy))
	}
	verb := "dropped"
	if !ch.down {
		verb = "re-added"
	}
	line := fmt.Sprintf("%s: providers %s it A %s, B %s", head, verb, listed[0], listed[1])
	if ch.down {
		served, sockets, unserved := a.servedAgain(affected, ch.at, ch.next)
		line += fmt.Sprintf("; every store served again %s (WebSockets %s; bound %v)", rel(served), rel(sockets), servedBound)
		if len(unserved) > 0 || served.IsZero() || served.Sub(ch.at) > servedBound {
			t.Errorf("%s: not every store of %s was served again within %v of the stop: last at %s, never: %v",
				ch.what, ch.replica, servedBound, rel(served), unserved[:min(5, len(unserved))])
		}
	}
	line += fmt.Sprintf("; every store whole on its owner from %s; during the transition max %d split, %d disputed; from %s %d samples: %d bad, %d server-side splits",
		rel(wholeAt), maxSplit, maxDisputed, rel(settled), len(checked), len(bad), serverSplits)
	line += fmt.Sprintf("; REST failures %d on %d stores (%d of other replicas), failed WebSocket dials %d on %d stores (%d of other replicas), other stores' WebSockets reconnected %d",
		failed, len(failedStores), len(restOutsiders), dials, len(dialStores), len(dialOutsiders), len(reconnected))
	t.Log(line)
	t.Logf("    REST failures by status %v; Traefik CPU during the transition A %.2f, B %.2f cores; longest gap between samples %v; %s; member lists A: %s; B: %s",
		statuses, a.cpuUse(transition, 0), a.cpuUse(transition, 1), longestGap(a.rec.samples(ch.at, ch.next)), a.probeSummary(ch, settled, t0),
		a.rec.history(0, ch.at, ch.next, t0), a.rec.history(1, ch.at, ch.next, t0))

	if gap := longestGap(a.rec.samples(ch.at, ch.next)); gap > stallLimit {
		a.stalled++
		t.Logf("    %s: not judged: the test's own sampler went %v without a sample, so the machine stalled", ch.what, gap.Round(time.Millisecond))
		return
	}
	for i, l := range listed {
		if l == "never" {
			t.Errorf("%s: proxy %c never showed members %v", ch.what, 'A'+i, ch.live)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s: %d samples after %s show a store split, disputed or not whole on its owner, e.g. %s",
			ch.what, len(bad), rel(settled), strings.Join(bad[:min(3, len(bad))], "; "))
	}
	if len(checked) == 0 {
		t.Errorf("%s: no samples after %s to check", ch.what, rel(settled))
	}
	if serverSplits > 0 {
		t.Errorf("%s: the replicas' logs show %d stores served by two replicas at once after %s", ch.what, serverSplits, rel(settled))
	}
	if len(restOutsiders) > 0 {
		t.Errorf("%s: REST calls failed for stores that %s does not own: %v", ch.what, ch.replica, restOutsiders[:min(5, len(restOutsiders))])
	}
	if len(dialOutsiders) > 0 {
		t.Errorf("%s: WebSocket dials failed for stores that %s does not own: %v", ch.what, ch.replica, dialOutsiders[:min(5, len(dialOutsiders))])
	}
	if len(reconnected) > 0 {
		t.Errorf("%s: WebSockets of stores that did not move were closed or opened: %v", ch.what, reconnected[:min(5, len(reconnected))])
	}
}

// cpuUse returns the cores a Traefik process used over the samples.
func (a *analysis) cpuUse(samples []sample, proxy int) float64 {
	if len(samples) < 2 {
		return 0
	}
	first, last := samples[0], samples[len(samples)-1]
	return float64(last.cpu[proxy]-first.cpu[proxy]) / float64(last.at.Sub(first.at))
}

// longestGap returns the longest time between two samples: the sampler's ticks are
// 100 ms apart, so a longer gap shows the test process (or the machine) stalled.
func longestGap(samples []sample) time.Duration {
	var gap time.Duration
	for i := 1; i < len(samples); i++ {
		gap = max(gap, samples[i].at.Sub(samples[i-1].at))
	}
	return gap.Round(time.Millisecond)
}

// probeSummary describes the test's own /healthz probes of the replicas that stayed
// up during the change's transition.
func (a *analysis) probeSummary(ch *change, settled, t0 time.Time) string {
	var parts []string
	for _, name := range replicaNames {
		if name == ch.replica {
			continue
		}
		var worst time.Duration
		var failed []string
		probes := a.rec.probesOf(name, ch.at, settled)
		for _, p := range probes {
			worst = max(worst, p.latency)
			if !p.ok {
				failed = append(failed, fmt.Sprintf("%+.2fs", p.at.Sub(t0).Seconds()))
			}
		}
		parts = append(parts, fmt.Sprintf("%s %d/%d failed %v, slowest %v", name, len(failed), len(probes), failed, worst.Round(time.Millisecond)))
	}
	return "the test's own /healthz probes (300 ms timeout) " + strings.Join(parts, ", ")
}

// perPhase logs the failures of each phase, and fails the test when the machine
// stalled in more than one change, so that too little was judged.
func (a *analysis) perPhase() {
	if a.stalled > 1 {
		a.t.Errorf("%d changes not judged: the machine stalled during them", a.stalled)
	}
	for _, phase := range []int{1, 2} {
		f := a.failures[phase]
		a.t.Logf("phase %d: %d REST calls failed, %d WebSocket dials failed", phase, f[0], f[1])
	}
}

func (a *analysis) count(phase, rest, dials int) {
	if a.failures == nil {
		a.failures = map[int][2]int{}
	}
	f := a.failures[phase]
	a.failures[phase] = [2]int{f[0] + rest, f[1] + dials}
}

// storesOf returns the stores the replica owns when every replica runs.
func (a *analysis) storesOf(replica string) map[string]bool {
	out := map[string]bool{}
	for store, owner := range a.original {
		if owner == replica {
			out[store] = true
		}
	}
	return out
}

// violations describes the samples in which a store is split, disputed by the two
// proxies, or not whole on its owner in want.
func (a *analysis) violations(samples []sample, want map[string]string, t0 time.Time) []string {
	var out []string
	for _, s := range samples {
		var problems []string
		for i, st := range s.stores {
			store := a.stores[i]
			if st.split() || st.disagree() || !st.whole(want[store]) {
				problems = append(problems, fmt.Sprintf("store %s %+v want %s", store, st, want[store]))
			}
		}
		if len(problems) > 0 {
			out = append(out, fmt.Sprintf("at %+.2fs %d stores, first %s", s.at.Sub(t0).Seconds(), len(problems), problems[0]))
		}
	}
	return out
}

// wholeFrom returns the first sample time from which every later sample shows every
// store whole on its owner in want (zero if the last sample does not).
func (a *analysis) wholeFrom(samples []sample, want map[string]string) time.Time {
	from := time.Time{}
	for _, s := range samples {
		whole := true
		for i, st := range s.stores {
			if st.split() || !st.whole(want[a.stores[i]]) {
				whole = false
				break
			}
		}
		switch {
		case !whole:
			from = time.Time{}
		case from.IsZero():
			from = s.at
		}
	}
	return from
}

// servedAgain returns when every affected store was served again after a stop: both
// devices had a new WebSocket and a REST call that succeeded after their last failed
// one. It also returns when the last WebSocket was open again, and the stores that
// were never served again before to.
func (a *analysis) servedAgain(affected map[string]bool, at, to time.Time) (served, sockets time.Time, unserved []string) {
	for store := range affected {
		storeServed := time.Time{}
		for _, device := range fleet.Devices(store) {
			var socket time.Time
			for _, conn := range a.fleet.Sockets[device].Connections() {
				if conn.Start.After(at) && conn.Start.Before(to) {
					socket = conn.Start
					break
				}
			}
			var rest time.Time
			for _, r := range a.load.Between(device, at, to) {
				switch {
				case !r.OK:
					rest = time.Time{}
				case rest.IsZero():
					rest = r.At
				}
			}
			if socket.IsZero() || rest.IsZero() {
				unserved = append(unserved, device)
				continue
			}
			sockets = later(sockets, socket)
			storeServed = later(storeServed, later(socket, rest))
		}
		served = later(served, storeServed)
	}
	sort.Strings(unserved)
	if len(unserved) > 0 {
		served = time.Time{}
	}
	return served, sockets, unserved
}

// restFailures returns the REST calls that failed in [from, to) and their stores.
func (a *analysis) restFailures(from, to time.Time) (int, map[string]bool) {
	failed, stores, _ := a.restFailuresByStatus(from, to)
	return failed, stores
}

// restFailuresByStatus is restFailures with the count of each status (0: no answer).
func (a *analysis) restFailuresByStatus(from, to time.Time) (int, map[string]bool, map[int]int) {
	failed, stores, statuses := 0, map[string]bool{}, map[int]int{}
	for _, store := range a.stores {
		for _, device := range fleet.Devices(store) {
			for _, r := range a.load.Between(device, from, to) {
				if !r.OK {
					failed++
					stores[store] = true
					statuses[r.Status]++
				}
			}
		}
	}
	return failed, stores, statuses
}

// reconnectedOutside returns the devices of stores outside affected whose WebSocket
// closed or opened in [from, to).
func (a *analysis) reconnectedOutside(affected map[string]bool, from, to time.Time) []string {
	var out []string
	in := func(at time.Time) bool { return !at.Before(from) && at.Before(to) }
	for _, store := range a.stores {
		if affected[store] {
			continue
		}
		for _, device := range fleet.Devices(store) {
			for _, conn := range a.fleet.Sockets[device].Connections() {
				if in(conn.Start) || in(conn.End) {
					out = append(out, device)
					break
				}
			}
		}
	}
	return out
}

// serverSplits counts the stores that the replicas' own logs show served by two
// replicas at once in [from, to).
func (a *analysis) serverSplits(from, to time.Time) int {
	n := 0
	for _, s := range commerce.Splits(a.reports, from) {
		if s.From.Before(to) {
			n++
		}
	}
	return n
}

// dialDelta returns the failed dials between two snapshots and the stores they hit.
func dialDelta(before, after map[string]int) (int, map[string]bool) {
	n, stores := 0, map[string]bool{}
	for device, count := range after {
		if d := count - before[device]; d > 0 {
			n += d
			store, _ := commerce.StoreOf(device)
			stores[store] = true
		}
	}
	return n, stores
}

// outside returns the stores of set that are not in affected, sorted.
func outside(set, affected map[string]bool) []string {
	var out []string
	for store := range set {
		if !affected[store] {
			out = append(out, store)
		}
	}
	sort.Strings(out)
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// placement returns each store's rendezvous owner among the running replicas.
func placement(t *testing.T, stores, replicas []string) map[string]string {
	t.Helper()
	picker, err := hashing.New(hashing.StrategyRendezvous, members(replicas))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, store := range stores {
		out[store] = replicaOf(picker.Members()[picker.Pick(store)])
	}
	return out
}

// members returns the member (child service) names of replicas.
func members(replicas []string) []string {
	out := make([]string, len(replicas))
	for i, r := range replicas {
		out[i] = app + "-" + r
	}
	return out
}

// replicaOf returns the replica of a member name.
func replicaOf(member string) string { return strings.TrimPrefix(member, app+"-") }
