package kubernetes

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// traefikProcess is the real Traefik binary run with the chart's arguments from a
// folder that holds both plugins under plugins-local, as the chart's volumes lay them out.
type traefikProcess struct {
	logPath string
	pingURL string
	cmd     *exec.Cmd
	done    chan struct{}
}

// startTraefik runs Traefik with args from a new folder and waits until /ping answers
// on the traefik entry point (pingAddr).
func startTraefik(t *testing.T, args []string, pingAddr string) *traefikProcess {
	t.Helper()
	binary, err := stack.TraefikBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := stack.InstallPlugins(dir); err != nil {
		t.Fatal(err)
	}
	p := &traefikProcess{logPath: filepath.Join(dir, "traefik.log"), pingURL: "http://" + pingAddr + "/ping", done: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	p.cmd = exec.Command(binary, args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("Traefik's log (last lines):\n%s", p.tail(40))
		}
	})
	if err := p.waitPing(t.Context(), 60*time.Second); err != nil {
		t.Fatalf("%v; Traefik's log:\n%s", err, p.tail(30))
	}
	return p
}

func (p *traefikProcess) waitPing(ctx context.Context, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		select {
		case <-p.done:
			return fmt.Errorf("traefik exited: %v", p.cmd.ProcessState)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.pingURL, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("traefik's %s did not answer within %v", p.pingURL, timeout)
}

// stop ends Traefik by its PID: SIGTERM, then SIGKILL after 5 s.
func (p *traefikProcess) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func (p *traefikProcess) log() string {
	body, _ := os.ReadFile(p.logPath)
	return string(body)
}

func (p *traefikProcess) tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
