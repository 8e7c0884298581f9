package yaegi

import (
	"testing"

	"github.com/storeaffinity/storeaffinity/e2e/pluginsrc"
	"github.com/storeaffinity/storeaffinity/internal/behaviour"
)

// TestBehaviourUnderYaegi runs the compiled suite's very cases against the middleware
// interpreted by Yaegi v0.16.1, loaded and configured as Traefik loads it.
func TestBehaviourUnderYaegi(t *testing.T) {
	i := newInterpreter(t, pluginsrc.Module)
	behaviour.Run(t, interpretedBuilder(t, i, "storeaffinity"))
}
