package yaegi

import (
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
