package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/fleet"
)

// restLoad makes a stateful REST call for every store's POS about three times a second
// until stopped, counting the calls per replica and the failures.
type restLoad struct {
	cancel context.CancelFunc
	done   sync.WaitGroup

	mu       sync.Mutex
	requests int
	failures int
	replicas map[string]int
}

func startRESTLoad(ctx context.Context, client *fleet.Client, stores []string) *restLoad {
	ctx, cancel := context.WithCancel(ctx)
	l := &restLoad{cancel: cancel, replicas: map[string]int{}}
	for _, store := range stores {
		device := fleet.Devices(store)[0]
		l.done.Add(1)
		go func() {
			defer l.done.Done()
			ticker := time.NewTicker(300 * time.Millisecond)
			defer ticker.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-ticker.C:
				}
				resp, err := client.Ticket(ctx, device)
				if ctx.Err() != nil {
					return
				}
				l.record(resp, err)
			}
		}()
	}
	return l
}

func (l *restLoad) record(resp fleet.Response, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests++
	if err != nil || resp.Status != http.StatusOK {
		l.failures++
		return
	}
	l.replicas[resp.Reply.Replica]++
}

func (l *restLoad) counts() (requests, failures int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests, l.failures
}

func (l *restLoad) byReplica() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, v := range l.replicas {
		out[k] = v
	}
	return out
}

func (l *restLoad) stop() {
	l.cancel()
	l.done.Wait()
}
