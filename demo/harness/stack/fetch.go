package stack

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Fetch returns the body, at most 8 MiB, of a GET of url that answers 200.
func Fetch(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return string(body), err
}

// MetricValue returns the value of series (name{labels}) in a Prometheus text
// exposition, or -1 when it is not there.
func MetricValue(text, series string) int {
	for _, line := range strings.Split(text, "\n") {
		if value, ok := strings.CutPrefix(line, series+" "); ok {
			if n, err := strconv.Atoi(value); err == nil {
				return n
			}
		}
	}
	return -1
}
