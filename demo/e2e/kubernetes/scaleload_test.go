package kubernetes

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

// scaleLoad is the load of the scale test: a POS and a CX display STOMP session per
// store, each reconnecting 250 ms after any close as the OpenPOS client does, and
// stateful REST calls of every store. It records every session's set-up and end, and
// every failed call.
type scaleLoad struct {
	mu      sync.Mutex
	setups  []sessionEvent
	ends    []sessionEvent
	current map[string]string // device -> replica of its open session, "" while closed
	calls   int
	failed  []time.Time
}

// sessionEvent is a session's set-up (Replica) or end (Code).
type sessionEvent struct {
	At      time.Time
	Device  string
	Replica string
	Code    websocket.StatusCode // -1: the connection ended without a close frame
}

// reconnectDelay is how long the OpenPOS client waits after a close.
const reconnectDelay = 250 * time.Millisecond

func startScaleLoad(ctx context.Context, client *fleet.Client, stores []string, callers int) *scaleLoad {
	l := &scaleLoad{current: map[string]string{}}
	for _, store := range stores {
		for _, device := range []string{store + "-001", store + "-002"} {
			go l.hold(ctx, client, device)
		}
	}
	for i := 0; i < callers; i++ {
		go l.call(ctx, client, stores, i)
	}
	return l
}

// hold keeps device's STOMP session open until ctx ends.
func (l *scaleLoad) hold(ctx context.Context, client *fleet.Client, device string) {
	for ctx.Err() == nil {
		conn, reply, _, err := client.DialStomp(ctx, device)
		if err != nil {
			l.end(device, -2)
		} else {
			l.setup(device, reply.Replica)
			var readErr error
			for readErr == nil {
				_, _, readErr = conn.Read(ctx)
			}
			conn.CloseNow()
			if ctx.Err() != nil {
				return
			}
			l.end(device, websocket.CloseStatus(readErr))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(reconnectDelay):
		}
	}
}

// call makes stateful REST calls of the stores, one every 50 ms.
func (l *scaleLoad) call(ctx context.Context, client *fleet.Client, stores []string, offset int) {
	for n := offset; ctx.Err() == nil; n += 7 {
		response, err := client.Ticket(ctx, stores[n%len(stores)]+"-001")
		if ctx.Err() != nil {
			return
		}
		l.mu.Lock()
		l.calls++
		if err != nil || response.Status != 200 {
			l.failed = append(l.failed, time.Now())
		}
		l.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
}

func (l *scaleLoad) setup(device, replica string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setups = append(l.setups, sessionEvent{At: time.Now(), Device: device, Replica: replica})
	l.current[device] = replica
}

func (l *scaleLoad) end(device string, code websocket.StatusCode) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ends = append(l.ends, sessionEvent{At: time.Now(), Device: device, Code: code})
	l.current[device] = ""
}

// apart returns the stores whose two devices are not both open on one replica.
func (l *scaleLoad) apart(stores []string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, store := range stores {
		pos, cx := l.current[store+"-001"], l.current[store+"-002"]
		if pos == "" || pos != cx {
			out = append(out, store)
		}
	}
	return out
}

// window returns what happened between from and to: the set-ups, the ends other
// than the middleware's planned 1012, and the REST calls that failed.
func (l *scaleLoad) window(from, to time.Time) (setups []sessionEvent, unplanned map[websocket.StatusCode]int, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	unplanned = map[websocket.StatusCode]int{}
	for _, s := range l.setups {
		if !s.At.Before(from) && !s.At.After(to) {
			setups = append(setups, s)
		}
	}
	for _, e := range l.ends {
		if !e.At.Before(from) && !e.At.After(to) && e.Code != websocket.StatusServiceRestart {
			unplanned[e.Code]++
		}
	}
	for _, at := range l.failed {
		if !at.Before(from) && !at.After(to) {
			failed++
		}
	}
	return setups, unplanned, failed
}
