package fleet

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Call is one stateful REST call of a device, as the device saw it.
type Call struct {
	At      time.Time // when the answer (or the error) came
	OK      bool      // a 200 answer
	Status  int       // the answer's status; 0 when the call failed without one
	Member  string    // the member X-Store-Affinity named ("" when absent)
	Replica string    // the replica that answered ("" unless OK)
}

// Load makes a stateful REST call for each of its devices every pause, the devices
// spread evenly over the pause, until Stop, and records every call. The demo and the
// end-to-end tests share it. It stops by itself after an hour.
type Load struct {
	cancel context.CancelFunc
	done   sync.WaitGroup
	calls  map[string]*callLog // by device; fixed once started
}

type callLog struct {
	mu    sync.Mutex
	calls []Call
}

// StartLoad starts the calls of devices; clientOf gives the client of each device
// (for example, a store's POS through one proxy and its CX through another).
func StartLoad(ctx context.Context, devices []string, clientOf func(device string) *Client, pause time.Duration) *Load {
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	l := &Load{cancel: cancel, calls: map[string]*callLog{}}
	for i, device := range devices {
		log := &callLog{}
		l.calls[device] = log
		offset := pause * time.Duration(i) / time.Duration(len(devices))
		l.done.Add(1)
		go func(device string, client *Client) {
			defer l.done.Done()
			l.run(ctx, client, device, log, offset, pause)
		}(device, clientOf(device))
	}
	return l
}

func (l *Load) run(ctx context.Context, client *Client, device string, log *callLog, offset, pause time.Duration) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(offset):
	}
	ticker := time.NewTicker(pause)
	defer ticker.Stop()
	for {
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := client.Ticket(callCtx, device)
		cancel()
		if ctx.Err() != nil {
			return
		}
		c := Call{At: time.Now(), OK: err == nil && resp.Status == http.StatusOK, Status: resp.Status}
		if resp.Header != nil {
			c.Member = stampedMember(resp.Header.Get("X-Store-Affinity"))
		}
		if c.OK {
			c.Replica = resp.Reply.Replica
		}
		log.mu.Lock()
		log.calls = append(log.calls, c)
		log.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Stop ends the load and waits for its calls to return.
func (l *Load) Stop() {
	l.cancel()
	l.done.Wait()
}

// Last returns the device's latest call, if any.
func (l *Load) Last(device string) (Call, bool) {
	log := l.calls[device]
	if log == nil {
		return Call{}, false
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.calls) == 0 {
		return Call{}, false
	}
	return log.calls[len(log.calls)-1], true
}

// Between returns the device's calls answered in [from, to).
func (l *Load) Between(device string, from, to time.Time) []Call {
	log := l.calls[device]
	if log == nil {
		return nil
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	var out []Call
	for _, c := range log.calls {
		if !c.At.Before(from) && c.At.Before(to) {
			out = append(out, c)
		}
	}
	return out
}

// Counts returns how many calls were made and how many failed.
func (l *Load) Counts() (requests, failures int) {
	for _, log := range l.calls {
		log.mu.Lock()
		requests += len(log.calls)
		for _, c := range log.calls {
			if !c.OK {
				failures++
			}
		}
		log.mu.Unlock()
	}
	return requests, failures
}

// ByReplica counts the successful calls per replica.
func (l *Load) ByReplica() map[string]int {
	out := map[string]int{}
	for _, log := range l.calls {
		log.mu.Lock()
		for _, c := range log.calls {
			if c.OK {
				out[c.Replica]++
			}
		}
		log.mu.Unlock()
	}
	return out
}

// stampedMember returns the member an X-Store-Affinity value names ("" if none).
func stampedMember(affinity string) string {
	_, m, ok := strings.Cut(affinity, "member=")
	if !ok {
		return ""
	}
	m, _, _ = strings.Cut(m, ";")
	return strings.TrimSpace(m)
}
