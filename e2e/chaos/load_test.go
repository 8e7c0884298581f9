package chaos

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/fleet"
)

// restResult is one stateful REST call of a device, as the device saw it.
type restResult struct {
	at      time.Time // when the answer (or the error) came
	ok      bool      // a 200 answer
	status  int       // the answer's status, 0 when the call failed without one
	member  string    // the replica X-Store-Affinity named ("" when absent)
	replica string    // the replica that answered ("" unless ok)
}

// deviceCalls is the record of one device's REST calls.
type deviceCalls struct {
	mu      sync.Mutex
	results []restResult
}

func (d *deviceCalls) add(r restResult) {
	d.mu.Lock()
	d.results = append(d.results, r)
	d.mu.Unlock()
}

// last returns the latest call, if any.
func (d *deviceCalls) last() (restResult, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.results) == 0 {
		return restResult{}, false
	}
	return d.results[len(d.results)-1], true
}

// between returns the calls answered in [from, to).
func (d *deviceCalls) between(from, to time.Time) []restResult {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []restResult
	for _, r := range d.results {
		if !r.at.Before(from) && r.at.Before(to) {
			out = append(out, r)
		}
	}
	return out
}

// restLoad makes a stateful REST call for every device every pause, each store's POS
// through one proxy and its CX through the other, until stop.
type restLoad struct {
	devices map[string]*deviceCalls // by device ID
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

func startLoad(ctx context.Context, stores []string, pos, cx *fleet.Client, pause time.Duration) *restLoad {
	ctx, cancel := context.WithCancel(ctx)
	l := &restLoad{devices: map[string]*deviceCalls{}, cancel: cancel}
	n := 2 * len(stores)
	i := 0
	for _, store := range stores {
		for _, device := range fleet.Devices(store) {
			client := pos
			if strings.HasSuffix(device, "-"+fleet.CX) {
				client = cx
			}
			calls := &deviceCalls{}
			l.devices[device] = calls
			offset := pause * time.Duration(i) / time.Duration(n) // spread the calls evenly
			i++
			l.done.Add(1)
			go func() {
				defer l.done.Done()
				l.run(ctx, client, device, calls, offset, pause)
			}()
		}
	}
	return l
}

func (l *restLoad) run(ctx context.Context, client *fleet.Client, device string, calls *deviceCalls, offset, pause time.Duration) {
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
		r := restResult{at: time.Now(), ok: err == nil && resp.Status == 200, status: resp.Status}
		if resp.Header != nil {
			r.member = memberOf(resp.Header.Get("X-Store-Affinity"))
		}
		if r.ok {
			r.replica = resp.Reply.Replica
		}
		calls.add(r)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// stop ends the load and waits for its calls to return.
func (l *restLoad) stop() {
	l.cancel()
	l.done.Wait()
}

// memberOf returns the replica that an X-Store-Affinity value names ("" if none).
func memberOf(affinity string) string {
	_, m, ok := strings.Cut(affinity, "member=")
	if !ok {
		return ""
	}
	m, _, _ = strings.Cut(m, ";")
	return strings.TrimPrefix(strings.TrimSpace(m), app+"-")
}
