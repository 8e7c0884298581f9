package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/storeaffinity/storeaffinity/demo/commerce"
	"github.com/storeaffinity/storeaffinity/demo/harness/fleet"
)

// The tests run the command as a child process: the test binary itself, with
// COMMERCE_RUN_MAIN set, is the commerce command.
func TestMain(m *testing.M) {
	if os.Getenv("COMMERCE_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveProcess is `commerce serve` run as a child process with one replica.
type serveProcess struct {
	cmd    *exec.Cmd
	url    string
	exited chan error // receives the exit once
}

// startServe runs `commerce serve args...` and returns once it printed its replica's URL.
func startServe(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "COMMERCE_RUN_MAIN=1")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, exited: make(chan error, 1)}
	lines := make(chan string, 10)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			lines <- scanner.Text()
		}
		close(lines)
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case line, ok := <-lines:
		fields := strings.Fields(line)
		if !ok || len(fields) != 2 {
			t.Fatalf("commerce serve %v printed %q, want \"<name> <url>\"", args, line)
		}
		p.url = fields[1]
	case <-time.After(10 * time.Second):
		t.Fatalf("commerce serve %v printed no URL within 10s", args)
	}
	go func() {
		for range lines {
		}
	}()
	return p
}

// health returns the status of the replica's /healthz.
func health(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeDrainsOnSIGTERM: with -drain, SIGTERM fails the replica's readiness check at
// once, while REST calls, open WebSockets and new WebSockets are served through the
// window; the process exits when the window has passed, closing its WebSockets then.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	const drain = 2 * time.Second
	p := startServe(t, "-drain", drain.String(), "pos-0=127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := fleet.NewClient(p.url)
	conn, _, _, err := client.Dial(ctx, "00001-001")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if status := health(t, p.url); status != http.StatusOK {
		t.Fatalf("/healthz answered %d before SIGTERM, want 200", status)
	}

	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for health(t, p.url) != http.StatusServiceUnavailable {
		if time.Since(sent) > 200*time.Millisecond {
			t.Fatalf("/healthz still answers 200 %v after SIGTERM, want 503 at once", time.Since(sent))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Serving goes on through the window: at its start and near its end.
	for _, at := range []time.Duration{0, drain - 300*time.Millisecond} {
		time.Sleep(time.Until(sent.Add(at)))
		resp, err := client.Ticket(ctx, "00001-002")
		if err != nil || resp.Status != http.StatusOK || resp.Reply.Replica != "pos-0" {
			t.Fatalf("%v after SIGTERM: REST call: status %d, err %v, want 200 from pos-0", time.Since(sent), resp.Status, err)
		}
		if err := conn.Write(ctx, websocket.MessageText, []byte("next")); err != nil {
			t.Fatalf("%v after SIGTERM: the open WebSocket: %v", time.Since(sent), err)
		}
		_, body, err := conn.Read(ctx)
		var reply commerce.Reply
		if err == nil {
			err = json.Unmarshal(body, &reply)
		}
		if err != nil || reply.Store != "00001" {
			t.Fatalf("%v after SIGTERM: the open WebSocket answered %q, %v", time.Since(sent), body, err)
		}
		fresh, _, _, err := client.Dial(ctx, "00002-001")
		if err != nil {
			t.Fatalf("%v after SIGTERM: a new WebSocket: %v", time.Since(sent), err)
		}
		fresh.CloseNow()
	}

	select {
	case err := <-p.exited:
		took := time.Since(sent)
		if err != nil {
			t.Errorf("exit: %v, want 0", err)
		}
		if took < drain || took > drain+2*time.Second {
			t.Errorf("exited %v after SIGTERM, want after the %v window and soon after", took, drain)
		}
	case <-ctx.Done():
		t.Fatalf("still running %v after SIGTERM", time.Since(sent))
	}
	readCtx, readCancel := context.WithTimeout(ctx, time.Second)
	defer readCancel()
	if _, _, err := conn.Read(readCtx); err == nil || readCtx.Err() != nil {
		t.Errorf("the WebSocket is still open after the exit: %v", err)
	}
}

// TestServeWithoutDrainExitsAtOnce: without -drain, SIGTERM stops the replica at once.
func TestServeWithoutDrainExitsAtOnce(t *testing.T) {
	p := startServe(t, "pos-0=127.0.0.1:0")
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Errorf("exit: %v, want 0", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("still running %v after SIGTERM", time.Since(sent))
	}
}
