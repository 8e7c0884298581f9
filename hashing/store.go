package hashing

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// MaxDeviceIDLength is the longest device ID accepted, in bytes.
const MaxDeviceIDLength = 128

// DeviceIDAlphabet describes the bytes a device ID may hold: the unreserved characters
// of RFC 3986. Nothing else is accepted, so a device ID needs no escaping anywhere (a
// path, a query, a header, the affinity stamp "store=<id>; member=<name>"), and every
// spelling a backend might decode differently is refused.
const DeviceIDAlphabet = "ASCII letters, digits, '-', '_', '.' and '~'"

// deviceIDPattern is one compiled match: cheaper under Yaegi than a loop over bytes.
var deviceIDPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// CheckDeviceID returns an error with a one-line reason when id is not a usable device
// ID: empty, longer than MaxDeviceIDLength, holding a byte outside DeviceIDAlphabet,
// or holding "..".
func CheckDeviceID(id string) error {
	if id == "" {
		return errors.New("empty device ID")
	}
	if len(id) > MaxDeviceIDLength {
		return fmt.Errorf("device ID longer than %d bytes", MaxDeviceIDLength)
	}
	if !deviceIDPattern.MatchString(id) {
		return fmt.Errorf("device ID %q has a character other than %s", id, DeviceIDAlphabet)
	}
	if strings.Contains(id, "..") {
		return fmt.Errorf("device ID %q contains %q", id, "..")
	}
	return nil
}

// StoreDeriver derives the store ID from a device ID: by default everything before the
// last "-" (store 00123 for device 00123-001), or the named group "store" of a pattern.
type StoreDeriver struct {
	pattern *regexp.Regexp
	group   int
}

// NewStoreDeriver compiles pattern, an RE2 expression with a named group "store";
// an empty pattern selects the default rule.
func NewStoreDeriver(pattern string) (*StoreDeriver, error) {
	if pattern == "" {
		return &StoreDeriver{}, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("storeIdPattern: %w", err)
	}
	group := re.SubexpIndex("store")
	if group < 0 {
		return nil, fmt.Errorf("storeIdPattern %q has no named group (?P<store>...)", pattern)
	}
	return &StoreDeriver{pattern: re, group: group}, nil
}

// Store returns the store ID of a valid device ID, or an error with a one-line reason.
func (d *StoreDeriver) Store(deviceID string) (string, error) {
	if d.pattern == nil {
		i := strings.LastIndexByte(deviceID, '-')
		if i <= 0 {
			return "", fmt.Errorf("device ID %q has no store part before a '-'", deviceID)
		}
		return deviceID[:i], nil
	}
	match := d.pattern.FindStringSubmatch(deviceID)
	if match == nil || match[d.group] == "" {
		return "", fmt.Errorf("device ID %q does not match storeIdPattern", deviceID)
	}
	return match[d.group], nil
}
