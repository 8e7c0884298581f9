package kubernetes

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// testMetrics reads the middleware's metrics where the chart's values put them, on
// the metrics entry point: the members of app pos, as the EndpointSlice lists them.
func (c *cluster) testMetrics(t *testing.T) {
	err := stack.Poll(t.Context(), 10*time.Second, func(ctx context.Context) error {
		text, err := stack.Fetch(ctx, c.metrics)
		if err != nil {
			return err
		}
		if n := stack.MetricValue(text, `storeaffinity_members{app="pos"}`); n != len(c.pods) {
			return fmt.Errorf("storeaffinity_members of pos is %d, want %d:\n%s", n, len(c.pods), text)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
