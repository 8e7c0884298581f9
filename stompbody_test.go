package storeaffinity_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/storeaffinity/storeaffinity/internal/behaviour"
)

// TestStompUpgradeWithABodyIsRefused runs STOMP upgrades that carry a body in a child
// process: a middleware that hands the body to the proxy after hijacking makes net/http
// panic in a goroutine nothing recovers, which would end this test binary.
func TestStompUpgradeWithABodyIsRefused(t *testing.T) {
	if os.Getenv("STOREAFFINITY_CHILD") == t.Name() {
		behaviour.RunStompUpgradesWithABody(t, compiled)
		return
	}
	child := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	child.Env = append(os.Environ(), "STOREAFFINITY_CHILD="+t.Name())
	if out, err := child.CombinedOutput(); err != nil {
		t.Fatalf("the child process failed (%v):\n%s", err, out)
	}
}
