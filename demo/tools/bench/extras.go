package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

// extraFigures are the bench's figures besides the chains' table: one line each, and
// Traefik's resident memory growth in MB by the number of distinct stores sent.
type extraFigures struct {
	lines     []string
	rssGrowth map[int]float64
}

// extras measures WebSocket connects per second, SSE event delay under load, and
// Traefik's resident memory after 10k and 100k distinct stores, through the
// 3-member storeaffinity chain.
func (s *setup) extras(d time.Duration) (extraFigures, error) {
	base := s.traefik.URLs["ours-stateful-3"]
	var lines []string
	growth := map[int]float64{}
	client := fleet.NewClient(base)
	connects, failed, _, err := s.setups(func(ctx context.Context, device string) (*websocket.Conn, error) {
		conn, _, _, err := client.Dial(ctx, device)
		return conn, err
	}, d)
	if err != nil {
		return extraFigures{}, err
	}
	lines = append(lines, fmt.Sprintf("WebSocket connects through the stateful chain (4 clients, %v): %.0f per second, %d failed", d, connects, failed))
	stomp, err := s.stompFigures(d)
	if err != nil {
		return extraFigures{}, err
	}
	lines = append(lines, stomp...)
	delay, worst, events, err := sseDelayUnderLoad(s, base, d)
	if err != nil {
		return extraFigures{}, err
	}
	lines = append(lines, fmt.Sprintf("SSE under stateless wrk load: %d events, delay from the backend's flush to the client median %v, worst %v", events, delay, worst))
	before, err := rss(s.traefik.PID())
	if err != nil {
		return extraFigures{}, err
	}
	for _, stores := range []int{10000, 100000} {
		if err := distinctStores(base, stores); err != nil {
			return extraFigures{}, err
		}
		after, err := rss(s.traefik.PID())
		if err != nil {
			return extraFigures{}, err
		}
		growth[stores] = float64(after-before) / 1e6
		lines = append(lines, fmt.Sprintf("Traefik's resident memory after %d distinct stores: %.1f MB, %+.1f MB from before them", stores, float64(after)/1e6, growth[stores]))
	}
	return extraFigures{lines: lines, rssGrowth: growth}, nil
}

func sseDelayUnderLoad(s *setup, base string, d time.Duration) (time.Duration, time.Duration, int, error) {
	script, err := wrkScript(s.dir, variantNamed("ours-stateless-3"))
	if err != nil {
		return 0, 0, 0, err
	}
	loadDone := make(chan error, 1)
	go func() {
		_, err := runWrk(s.traefik.URLs["ours-stateless-3"], script, d)
		loadDone <- err
	}()
	time.Sleep(500 * time.Millisecond)
	count := int((d - time.Second) / (50 * time.Millisecond))
	req, err := http.NewRequest(http.MethodGet, base+fleet.DevicePath("00123-001", commerce.EventsPath)+fmt.Sprintf("?count=%d&interval=50ms", count), nil)
	if err != nil {
		return 0, 0, 0, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	var delays []time.Duration
	if err := commerce.ReadEvents(resp.Body, func(event commerce.Event) error {
		delays = append(delays, time.Since(time.Unix(0, event.Sent)))
		return nil
	}); err != nil {
		return 0, 0, 0, err
	}
	if err := <-loadDone; err != nil {
		return 0, 0, 0, err
	}
	if len(delays) == 0 {
		return 0, 0, 0, fmt.Errorf("no SSE event arrived")
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	return delays[len(delays)/2].Round(10 * time.Microsecond), delays[len(delays)-1].Round(10 * time.Microsecond), len(delays), nil
}

// distinctStores sends one stateful request for each of stores new stores.
var storesSent int

func distinctStores(base string, stores int) error {
	client := fleet.NewClient(base)
	next := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				resp, err := client.Ticket(context.Background(), fmt.Sprintf("m%06d-001", n))
				if err == nil && resp.Status != http.StatusOK {
					err = fmt.Errorf("store m%06d: status %d", n, resp.Status)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for ; storesSent < stores; storesSent++ {
		next <- storesSent
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
