package commerce

import (
	"sort"
	"time"
)

// Split is a moment when two replicas served devices of the same store.
type Split struct {
	Store string
	// A and B are the overlapping sessions, on different replicas.
	A, B Session
	// From is when the overlap began.
	From time.Time
}

// Splits returns, per store, the first overlap at or after since between sessions served
// by different replicas, taken from the reports of all replicas. A live session counts
// as lasting until now. The stores are sorted.
func Splits(reports []Report, since time.Time) []Split {
	now := time.Now()
	byStore := map[string][]Session{}
	for _, report := range reports {
		for _, s := range report.Sessions {
			byStore[s.Store] = append(byStore[s.Store], s)
		}
	}
	stores := make([]string, 0, len(byStore))
	for store := range byStore {
		stores = append(stores, store)
	}
	sort.Strings(stores)
	var splits []Split
	for _, store := range stores {
		if split, ok := firstSplit(store, byStore[store], since, now); ok {
			splits = append(splits, split)
		}
	}
	return splits
}

// firstSplit sweeps the store's sessions by start time, keeping the one that ends last
// per replica seen so far, and reports the first overlap across replicas.
func firstSplit(store string, sessions []Session, since, now time.Time) (Split, bool) {
	end := func(s Session) time.Time {
		if s.Live() {
			return now
		}
		return s.End
	}
	sort.Slice(sessions, func(i, j int) bool { return sessions[i].Start.Before(sessions[j].Start) })
	latest := map[string]Session{} // per replica, the session seen so far that ends last
	for _, s := range sessions {
		if end(s).Before(since) {
			continue
		}
		for replica, other := range latest {
			if replica == s.Replica || end(other).Before(s.Start) {
				continue
			}
			from := s.Start
			if from.Before(since) {
				from = since
			}
			return Split{Store: store, A: other, B: s, From: from}, true
		}
		if prev, ok := latest[s.Replica]; !ok || end(s).After(end(prev)) {
			latest[s.Replica] = s
		}
	}
	return Split{}, false
}

// Owners returns, per store, the replicas holding a live session of it right now.
func Owners(reports []Report) map[string][]string {
	owners := map[string][]string{}
	for _, report := range reports {
		seen := map[string]bool{}
		for _, s := range report.Sessions {
			if s.Live() && !seen[s.Store] {
				seen[s.Store] = true
				owners[s.Store] = append(owners[s.Store], report.Replica)
			}
		}
	}
	return owners
}
