package stack

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// StompSession is one OpenPOS-style STOMP session: a device of an app.
type StompSession struct {
	DeviceID string `json:"deviceId"`
	AppID    string `json:"appId"`
}

// StompEvent is one line the STOMP client prints.
type StompEvent struct {
	T        int64     `json:"t"` // Unix milliseconds
	Event    string    `json:"event"`
	DeviceID string    `json:"deviceId"`
	Replica  string    `json:"replica"`
	Code     int       `json:"code"`
	Reason   string    `json:"reason"`
	Message  string    `json:"message"`
	Millis   []float64 `json:"millis"`
}

// StompClients is a running node process of demo/stompclient: the real
// @stomp/stompjs over ws, one session per device, reconnecting after a close.
type StompClients struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	spec  string // the spec file, removed on Close

	mu     sync.Mutex
	events []StompEvent
	rtts   chan []float64
	done   chan struct{}
}

// StartStompClients installs the client (scripts/install-stompclient.sh) and starts
// sessions against url, each reconnecting reconnect after a close.
func StartStompClients(url string, sessions []StompSession, reconnect time.Duration) (*StompClients, error) {
	dir, err := InstallTool("install-stompclient.sh")
	if err != nil {
		return nil, err
	}
	spec, err := json.Marshal(map[string]any{"url": url, "sessions": sessions, "reconnectDelay": reconnect.Milliseconds()})
	if err != nil {
		return nil, err
	}
	specFile, err := os.CreateTemp("", "stomp-spec-*.json")
	if err != nil {
		return nil, err
	}
	if _, err := specFile.Write(spec); err != nil {
		return nil, err
	}
	_ = specFile.Close()
	c := &StompClients{rtts: make(chan []float64, 1), done: make(chan struct{}), spec: specFile.Name()}
	c.cmd = exec.Command("node", filepath.Join(dir, "client.mjs"), specFile.Name())
	c.cmd.Dir = dir
	c.cmd.Stderr = os.Stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the STOMP client: %w", err)
	}
	go c.read(stdout)
	return c, nil
}

func (c *StompClients) read(stdout io.Reader) {
	defer close(c.done)
	scanner := bufio.NewScanner(stdout)
	scanner.Buffer(make([]byte, 1<<20), 16<<20)
	for scanner.Scan() {
		var e StompEvent
		if json.Unmarshal(scanner.Bytes(), &e) != nil {
			continue
		}
		if e.Event == "rtt" {
			c.rtts <- e.Millis
			continue
		}
		c.mu.Lock()
		c.events = append(c.events, e)
		c.mu.Unlock()
	}
}

// Events returns every event so far.
func (c *StompClients) Events() []StompEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]StompEvent(nil), c.events...)
}

// Connected returns, per device whose latest event is a connect, the replica that its
// CONNECTED frame named.
func (c *StompClients) Connected() map[string]string {
	connected := map[string]string{}
	for _, e := range c.Events() {
		switch e.Event {
		case "connected":
			connected[e.DeviceID] = e.Replica
		case "closed":
			delete(connected, e.DeviceID)
		}
	}
	return connected
}

// Ping sends count messages on every session, one after the other, and returns the
// round trips in milliseconds.
func (c *StompClients) Ping(count int, timeout time.Duration) ([]float64, error) {
	if _, err := fmt.Fprintf(c.stdin, "ping %d\n", count); err != nil {
		return nil, err
	}
	select {
	case millis := <-c.rtts:
		return millis, nil
	case <-time.After(timeout):
		return nil, fmt.Errorf("no round trips within %v", timeout)
	}
}

// Close disconnects every session and stops the client.
func (c *StompClients) Close() {
	_ = c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	_ = c.cmd.Wait()
	_ = os.Remove(c.spec)
}
