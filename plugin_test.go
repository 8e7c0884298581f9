package storeaffinity_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/storeaffinity/storeaffinity"
	"github.com/storeaffinity/storeaffinity/internal/behaviour"
	"github.com/storeaffinity/storeaffinity/internal/traefikconfig"
)

// compiled builds the compiled middleware, decoding the configuration as Traefik does.
func compiled(ctx context.Context, next http.Handler, config map[string]any, name string) (http.Handler, error) {
	cfg := storeaffinity.CreateConfig()
	if err := traefikconfig.Decode(config, cfg); err != nil {
		return nil, err
	}
	return storeaffinity.New(ctx, next, cfg, name)
}

func TestBehaviourCompiled(t *testing.T) {
	behaviour.Run(t, compiled, storeaffinity.LiveStores)
}

func TestStickyValueMatchesTraefik(t *testing.T) {
	if got := storeaffinity.StickyValue("pos-0"); got != "333aaef495084db5" {
		t.Errorf("StickyValue(pos-0) = %q, want 333aaef495084db5", got)
	}
}
