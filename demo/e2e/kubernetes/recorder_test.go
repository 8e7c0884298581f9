package kubernetes

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

// rollRecorder drives REST calls of every device of a set of stores during the
// rolling update (POS through the IngressRoute, CX through the HTTPRoute) and records,
// per step, each store's moves and failures.
type rollRecorder struct {
	mu        sync.Mutex
	step      string
	owner     map[string]string // store -> replica of its last answer
	stepOwner map[string]string // store -> replica when the step began
	moves     map[string]int    // store -> moves in this step
	failures  map[string][]string
	calls     int
}

func newRollRecorder() *rollRecorder {
	return &rollRecorder{owner: map[string]string{}, moves: map[string]int{}, failures: map[string][]string{}}
}

// begin starts a step and returns the owners at its start.
func (r *rollRecorder) begin(step string) map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.step, r.moves, r.failures, r.calls = step, map[string]int{}, map[string][]string{}, 0
	r.stepOwner = map[string]string{}
	for store, replica := range r.owner {
		r.stepOwner[store] = replica
	}
	return r.stepOwner
}

// result returns the step's moves, failures and calls.
func (r *rollRecorder) result() (map[string]int, map[string][]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.moves, r.failures, r.calls
}

// drive calls both devices of store every 100 ms until ctx ends.
func (r *rollRecorder) drive(ctx context.Context, store string, pos, cx *fleet.Client) {
	devices := fleet.Devices(store)
	for ctx.Err() == nil {
		for i, client := range []*fleet.Client{pos, cx} {
			callCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
			resp, err := client.Ticket(callCtx, devices[i])
			cancel()
			if ctx.Err() != nil {
				return
			}
			if err == nil && (resp.Status != 200 || resp.Reply.Store != store) {
				err = fmt.Errorf("status %d store %q: %s", resp.Status, resp.Reply.Store, resp.Body)
			}
			r.record(store, devices[i], resp.Reply.Replica, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (r *rollRecorder) record(store, device, replica string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if err != nil {
		r.failures[store] = append(r.failures[store], fmt.Sprintf("%s %s: %v", time.Now().Format("15:04:05.000"), device, err))
		return
	}
	if previous, ok := r.owner[store]; ok && previous != replica {
		r.moves[store]++
	}
	r.owner[store] = replica
}
