package yaegi

import (
	"os"
	"os/exec"
	"testing"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
	"github.com/storeaffinity/storeaffinity/internal/behaviour"
)

// TestBehaviourUnderYaegi runs the compiled suite's very cases against the middleware
// interpreted by Yaegi v0.16.1, loaded and configured as Traefik loads it.
func TestBehaviourUnderYaegi(t *testing.T) {
	i := newInterpreter(t, stack.MiddlewareModule)
	liveStores := mustEval(t, i, "storeaffinity.LiveStores").Interface().(func(string) int)
	behaviour.Run(t, interpretedBuilder(t, i, "storeaffinity"), liveStores)
}

// TestStompUpgradeWithABodyIsRefusedUnderYaegi runs the upgrades that carry a body
// against the interpreted middleware in a child process: a build that hands the body
// to the proxy after hijacking crashes its process.
func TestStompUpgradeWithABodyIsRefusedUnderYaegi(t *testing.T) {
	if os.Getenv("STOREAFFINITY_CHILD") == t.Name() {
		i := newInterpreter(t, stack.MiddlewareModule)
		behaviour.RunStompUpgradesWithABody(t, interpretedBuilder(t, i, "storeaffinity"))
		return
	}
	child := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	child.Env = append(os.Environ(), "STOREAFFINITY_CHILD="+t.Name())
	if out, err := child.CombinedOutput(); err != nil {
		t.Fatalf("the child process failed (%v):\n%s", err, out)
	}
}
