package netns

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// lockPath is the file whose lock gives one test binary at a time the range: network
// namespaces and routes are shared by the whole machine.
const lockPath = "/run/lock/storeaffinity-netns.lock"

// lockWait bounds the wait for another test binary to delete its hosts.
const lockWait = 3 * time.Minute

var lock struct {
	sync.Mutex
	file  *os.File
	users int // hosts of this process that exist or are being created
}

// acquire takes the machine-wide lock for one more host of this process.
func acquire() error {
	lock.Lock()
	defer lock.Unlock()
	if lock.users > 0 {
		lock.users++
		return nil
	}
	file, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("lock file: %w", err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK {
			file.Close()
			return fmt.Errorf("lock %s: %w", lockPath, err)
		}
		if time.Now().After(deadline) {
			file.Close()
			return fmt.Errorf("another test binary has held %s (the test hosts' range) for over %v", lockPath, lockWait)
		}
		time.Sleep(200 * time.Millisecond)
	}
	lock.file, lock.users = file, 1
	return nil
}

// release gives back what acquire took; the last host of this process unlocks.
func release() {
	lock.Lock()
	defer lock.Unlock()
	lock.users--
	if lock.users == 0 {
		lock.file.Close() // closing the file drops the lock
		lock.file = nil
	}
}

// procAttr has the kernel kill a host's process if the test binary dies first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
