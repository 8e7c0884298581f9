package hashing

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// MaxDeviceIDLength is the longest device ID accepted, in bytes.
const MaxDeviceIDLength = 128

// forbiddenInDeviceID holds the bytes a device ID may not contain: ASCII control
// characters and path separators.
const forbiddenInDeviceID = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f/\\"

// CheckDeviceID returns an error with a one-line reason when id is not a usable device
// ID: empty, longer than MaxDeviceIDLength, or holding a control character, a path
// separator or "..".
func CheckDeviceID(id string) error {
	if id == "" {
		return errors.New("empty device ID")
	}
	if len(id) > MaxDeviceIDLength {
		return fmt.Errorf("device ID longer than %d bytes", MaxDeviceIDLength)
	}
	if i := strings.IndexAny(id, forbiddenInDeviceID); i >= 0 {
		if id[i] == '/' || id[i] == '\\' {
			return fmt.Errorf("device ID %q contains a path separator", id)
		}
		return fmt.Errorf("device ID contains a control character at byte %d", i)
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
