package traefik

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/fleet"
)

// restLoad makes a stateful REST call for every device of stores, round after round,
// with a pause between rounds, until stop is called. It bounds itself to an hour.
type restLoad struct {
	requests, failures atomic.Int64
	cancel             context.CancelFunc
	done               sync.WaitGroup
}

func startRESTLoad(ctx context.Context, client *fleet.Client, stores []string, pause time.Duration) *restLoad {
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	l := &restLoad{cancel: cancel}
	const workers = 4
	for w := 0; w < workers; w++ {
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			for ctx.Err() == nil {
				for i := w; i < len(stores); i += workers {
					for _, device := range fleet.Devices(stores[i]) {
						resp, err := client.Ticket(ctx, device)
						if ctx.Err() != nil {
							return
						}
						l.requests.Add(1)
						if err != nil || resp.Status != 200 {
							l.failures.Add(1)
						}
					}
				}
				select {
				case <-ctx.Done():
				case <-time.After(pause):
				}
			}
		}()
	}
	return l
}

// stop ends the load and returns how many calls were made and how many failed.
func (l *restLoad) stop() (requests, failures int64) {
	l.cancel()
	l.done.Wait()
	return l.requests.Load(), l.failures.Load()
}
