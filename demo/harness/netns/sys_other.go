//go:build !linux

package netns

import (
	"errors"
	"syscall"
)

// acquire fails: NewHost skips before calling it on other systems.
func acquire() error { return errors.New("network namespaces need Linux") }

func release() {}

func procAttr() *syscall.SysProcAttr { return nil }
