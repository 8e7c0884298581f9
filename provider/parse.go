package provider

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// splitList flattens a list whose items may themselves be comma-separated, as labels
// and command-line flags deliver lists, trimming spaces and dropping empty items.
// The middleware module has the same function (config.go of
// github.com/storeaffinity/storeaffinity): the two plugins are separate modules and
// import nothing from each other. demo/e2e/catalog's TestCopiesAcrossModulesStayTheSame
// holds the two the same.
func splitList(items []string) []string {
	var out []string
	for _, item := range items {
		for _, part := range strings.Split(item, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// validName reports whether s is usable in object and cookie names.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// parseScheme returns the URL scheme of discovered members (default http).
func parseScheme(scheme string) (string, error) {
	switch scheme = strings.TrimSpace(scheme); scheme {
	case "":
		return "http", nil
	case "http", "https", "h2c":
		return scheme, nil
	}
	return "", fmt.Errorf("%q (want http, https or h2c)", scheme)
}

// Bounds of an interval or timeout: below the lower one no lookup or probe completes,
// and past the upper one a bare number of seconds would wrap around.
const (
	minInterval = 10 * time.Millisecond
	maxInterval = 24 * time.Hour
)

// parseInterval reads a duration such as "5s"; a bare number means seconds. It refuses
// values outside [minInterval, maxInterval].
func parseInterval(s string, fallback time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return fallback, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		seconds, atoiErr := strconv.ParseInt(s, 10, 64)
		if atoiErr != nil && !errors.Is(atoiErr, strconv.ErrRange) {
			return 0, err
		}
		d = maxInterval + 1
		if atoiErr == nil && seconds <= int64(maxInterval/time.Second) {
			d = time.Duration(seconds) * time.Second
		}
	}
	if d < minInterval || d > maxInterval {
		return 0, fmt.Errorf("%q is outside %v to %v", s, minInterval, maxInterval)
	}
	return d, nil
}
