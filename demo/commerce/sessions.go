package commerce

import (
	"sort"
	"sync"
	"time"
)

// Kinds of session.
const (
	KindREST      = "rest"
	KindWebSocket = "ws"
	KindEvents    = "sse"
)

// maxClosedSessions bounds the log of a long-running replica; the oldest go first.
const maxClosedSessions = 200000

// Session is one period during which a replica served a device: a WebSocket or an SSE
// stream from open to close, or a REST call (Start equals End). End is zero while live.
type Session struct {
	Replica string    `json:"replica"`
	Store   string    `json:"store"`
	Device  string    `json:"device"`
	Kind    string    `json:"kind"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
}

// Live reports whether the session is still open.
func (s Session) Live() bool { return s.End.IsZero() }

// SessionLog records a replica's sessions. Replicas on one host share a clock, so the
// logs of all replicas can be compared to find stores served by two replicas at once.
type SessionLog struct {
	replica string

	mu     sync.Mutex
	nextID int64
	live   map[int64]Session
	closed []Session
}

// NewSessionLog returns an empty log for the named replica.
func NewSessionLog(replica string) *SessionLog {
	return &SessionLog{replica: replica, live: map[int64]Session{}}
}

// Open records the start of a live session and returns the function that ends it.
func (l *SessionLog) Open(store, device, kind string) (end func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nextID++
	id := l.nextID
	l.live[id] = Session{Replica: l.replica, Store: store, Device: device, Kind: kind, Start: time.Now()}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			s := l.live[id]
			delete(l.live, id)
			s.End = time.Now()
			l.appendClosed(s)
		})
	}
}

// Instant records a request that was served at once.
func (l *SessionLog) Instant(store, device, kind string) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.appendClosed(Session{Replica: l.replica, Store: store, Device: device, Kind: kind, Start: now, End: now})
}

func (l *SessionLog) appendClosed(s Session) {
	if len(l.closed) >= maxClosedSessions {
		l.closed = append(l.closed[:0], l.closed[maxClosedSessions/4:]...)
	}
	l.closed = append(l.closed, s)
}

// Sessions returns every recorded session, live ones included, ordered by start.
func (l *SessionLog) Sessions() []Session {
	l.mu.Lock()
	out := make([]Session, 0, len(l.closed)+len(l.live))
	out = append(out, l.closed...)
	for _, s := range l.live {
		out = append(out, s)
	}
	l.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// LiveSessions returns the open sessions.
func (l *SessionLog) LiveSessions() []Session {
	l.mu.Lock()
	out := make([]Session, 0, len(l.live))
	for _, s := range l.live {
		out = append(out, s)
	}
	l.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}
