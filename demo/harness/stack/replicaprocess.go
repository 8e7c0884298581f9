package stack

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// BuildCommerce builds the demo's commerce command into dir and returns the binary's
// path, so that a test can run replicas as processes of their own and kill them.
func BuildCommerce(dir string) (string, error) {
	binary := filepath.Join(dir, "commerce")
	cmd := exec.Command("go", "build", "-o", binary, "./cmd/commerce")
	cmd.Dir = filepath.Join(RepoRoot(), "demo")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/commerce: %w\n%s", err, out)
	}
	return binary, nil
}

// ReplicaProcess is one demo Commerce replica run as its own process
// (`commerce serve <name>=<addr>`), in its own process group, stopped by its PID.
type ReplicaProcess struct {
	*process
	Name string
	Addr string // host:port
}

// StartReplicaProcess starts binary (see BuildCommerce) serving one replica named name
// on addr, appends its output to logPath, and returns once its /healthz answers.
func StartReplicaProcess(ctx context.Context, binary, name, addr, logPath string) (*ReplicaProcess, error) {
	proc, err := startProcess(exec.Command(binary, "serve", name+"="+addr), logPath)
	if err != nil {
		return nil, err
	}
	p := &ReplicaProcess{process: proc, Name: name, Addr: addr}
	if err := p.waitReady(ctx, p.URL()+"/healthz", 10*time.Second); err != nil {
		p.Stop(syscall.SIGKILL)
		return nil, fmt.Errorf("replica %s (log %s): %w", name, logPath, err)
	}
	return p, nil
}

// URL returns the replica's base URL.
func (p *ReplicaProcess) URL() string { return "http://" + p.Addr }

// Stop sends sig (SIGTERM for a graceful stop, SIGKILL for a crash) to the process by
// its PID and waits until it has exited, sending SIGKILL after 5 seconds.
func (p *ReplicaProcess) Stop(sig syscall.Signal) { p.signal(sig) }
