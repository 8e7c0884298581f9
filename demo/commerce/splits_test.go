package commerce

import (
	"testing"
	"time"
)

func TestSplitsFindOverlapsAcrossReplicas(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	session := func(replica, store string, start, end int) Session {
		s := Session{Replica: replica, Store: store, Device: store + "-001", Kind: KindWebSocket, Start: at(start)}
		if end >= 0 {
			s.End = at(end)
		}
		return s
	}
	tests := []struct {
		name   string
		a, b   []Session
		since  time.Time
		splits int
	}{
		{"same replica overlapping is not a split", []Session{session("a", "s1", 0, 10), session("a", "s1", 5, 20)}, nil, t0, 0},
		{"handover without overlap is not a split", []Session{session("a", "s1", 0, 10)}, []Session{session("b", "s1", 11, 20)}, t0, 0},
		{"overlap on two replicas is a split", []Session{session("a", "s1", 0, 10)}, []Session{session("b", "s1", 5, 20)}, t0, 1},
		{"live session overlaps a later one", []Session{session("a", "s1", 0, -1)}, []Session{session("b", "s1", 5, 6)}, t0, 1},
		{"overlap before since is ignored", []Session{session("a", "s1", 0, 10)}, []Session{session("b", "s1", 5, 20)}, at(15), 0},
		{"different stores never split", []Session{session("a", "s1", 0, 10)}, []Session{session("b", "s2", 5, 20)}, t0, 0},
		{"REST call during another replica's socket is a split", []Session{session("a", "s1", 0, 10)}, []Session{session("b", "s1", 4, 4)}, t0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reports := []Report{{Replica: "a", Sessions: tt.a}, {Replica: "b", Sessions: tt.b}}
			if got := Splits(reports, tt.since); len(got) != tt.splits {
				t.Fatalf("got %d splits %+v, want %d", len(got), got, tt.splits)
			}
		})
	}
}
