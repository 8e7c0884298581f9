package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

// The OpenPOS WebSocket through the "stomp" entry point: the same middleware, backend
// and STOMP session, once routed by the device ID of the CONNECT frame (the
// middleware answers the handshake and hands the connection back to Traefik's proxy)
// and once by a device ID in the URL (Traefik's own WebSocket proxying only).
const stompEntryPoint = "stomp"

// stompDialer opens one routed WebSocket of device: a STOMP session, returned once its
// CONNECTED frame arrived, or a plain one.
type stompDialer func(ctx context.Context, device string) (*websocket.Conn, error)

// stompFigures measures both ways in alternating rounds and returns one line each.
func (s *setup) stompFigures(d time.Duration) ([]string, error) {
	client := fleet.NewClient(s.traefik.URLs[stompEntryPoint])
	byFrame := func(ctx context.Context, device string) (*websocket.Conn, error) {
		conn, _, _, err := client.DialStomp(ctx, device)
		return conn, err
	}
	byURL := func(ctx context.Context, device string) (*websocket.Conn, error) {
		conn, _, _, err := client.DialStompAt(ctx, commerce.StompPath+"?deviceId="+device, device)
		return conn, err
	}
	ways := []struct {
		name string
		dial stompDialer
	}{{"device ID in the CONNECT frame (stompConnectPaths)", byFrame}, {"device ID in the URL (Traefik's own WebSocket proxying)", byURL}}
	var lines []string
	for _, way := range ways {
		setups, failed, cpu, err := s.setups(way.dial, d)
		if err != nil {
			return nil, err
		}
		p50, p99, trips, tripCPU, err := s.stompRoundTrips(way.dial, 16, 200)
		if err != nil {
			return nil, err
		}
		lines = append(lines, fmt.Sprintf("OpenPOS STOMP WebSocket, %s: %.0f sessions set up per second (4 clients, %v, %d failed, Traefik CPU %v per session); message round trip p50 %v, p99 %v over %d messages on 16 sessions (Traefik CPU %v per round trip)",
			way.name, setups, d, failed, cpu.Round(time.Microsecond), p50, p99, trips, tripCPU.Round(time.Microsecond)))
	}
	return lines, nil
}

// setups opens and closes WebSockets (dial's) from 4 clients for d, and returns the
// set-ups per second, the failures and Traefik's CPU time per set-up.
func (s *setup) setups(dial stompDialer, d time.Duration) (float64, int64, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	before, err := cpuTime(s.traefik.PID())
	if err != nil {
		return 0, 0, 0, err
	}
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				conn, err := dial(ctx, fmt.Sprintf("s%d%04d-001", w, n%10000))
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				_ = conn.Close(websocket.StatusNormalClosure, "")
				ok.Add(1)
			}
		}(w)
	}
	wg.Wait()
	after, err := cpuTime(s.traefik.PID())
	if err != nil || ok.Load() == 0 {
		return 0, 0, 0, fmt.Errorf("WebSockets: %d set up, %d failed: %v", ok.Load(), failed.Load(), err)
	}
	return float64(ok.Load()) / d.Seconds(), failed.Load(), (after - before) / time.Duration(ok.Load()), nil
}

// stompRoundTrips opens sessions sessions, each subscribed to its device's topic,
// sends messages SEND frames on each, one after the other's MESSAGE, and returns the
// round trips' p50 and p99, their number and Traefik's CPU time per round trip.
func (s *setup) stompRoundTrips(dial stompDialer, sessions, messages int) (time.Duration, time.Duration, int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			_ = c.CloseNow()
		}
	}()
	for i := 0; i < sessions; i++ {
		device := fmt.Sprintf("r%04d-001", i)
		conn, err := dial(ctx, device)
		if err != nil {
			return 0, 0, 0, 0, err
		}
		conns = append(conns, conn)
		subscribe := "SUBSCRIBE\nid:0\ndestination:/topic/app/pos/node/" + device + "\n\n\x00"
		if err := conn.Write(ctx, websocket.MessageText, []byte(subscribe)); err != nil {
			return 0, 0, 0, 0, err
		}
	}
	before, err := cpuTime(s.traefik.PID())
	if err != nil {
		return 0, 0, 0, 0, err
	}
	var mu sync.Mutex
	var trips []time.Duration
	errs := make(chan error, sessions)
	var wg sync.WaitGroup
	for i, conn := range conns {
		wg.Add(1)
		go func(device string, conn *websocket.Conn) {
			defer wg.Done()
			send := []byte("SEND\ndestination:/app/device/app/pos/node/" + device + "/ping\n\nhello\x00")
			for m := 0; m < messages; m++ {
				started := time.Now()
				if err := conn.Write(ctx, websocket.MessageText, send); err != nil {
					errs <- err
					return
				}
				_, reply, err := conn.Read(ctx)
				if err == nil && !strings.HasPrefix(string(reply), "MESSAGE\n") {
					err = fmt.Errorf("device %s: want a MESSAGE frame, got %q", device, reply)
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				trips = append(trips, time.Since(started))
				mu.Unlock()
			}
		}(fmt.Sprintf("r%04d-001", i), conn)
	}
	wg.Wait()
	select {
	case err := <-errs:
		return 0, 0, 0, 0, err
	default:
	}
	after, err := cpuTime(s.traefik.PID())
	if err != nil {
		return 0, 0, 0, 0, err
	}
	sort.Slice(trips, func(i, j int) bool { return trips[i] < trips[j] })
	p := func(q float64) time.Duration { return trips[int(q*float64(len(trips)-1))].Round(10 * time.Microsecond) }
	return p(0.50), p(0.99), len(trips), (after - before) / time.Duration(len(trips)), nil
}

// runStomp starts the bench's Traefik and prints the STOMP figures only.
func runStomp(d time.Duration) error {
	s, err := start(context.Background(), false)
	if err != nil {
		return err
	}
	defer s.stop()
	lines, err := s.stompFigures(d)
	for _, line := range lines {
		fmt.Println("- " + line)
	}
	return err
}
