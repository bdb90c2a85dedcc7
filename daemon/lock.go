package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A lock is a file held with flock(2) for the daemon's life. flock locks
// go with the open file, so a killed daemon's lock is gone with it and
// the next start takes over; its content says who holds it.
type lock struct {
	f *os.File
}

// ErrInUse is returned when another daemon holds a lock.
var ErrInUse = errors.New("in use")

// holderInfo is what a lock file says: "pid N", "socket PATH".
type holderInfo struct {
	pid    string
	socket string
}

func readHolder(f *os.File) holderInfo {
	var h holderInfo
	if _, err := f.Seek(0, 0); err != nil {
		return h
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "pid":
			h.pid = v
		case "socket":
			h.socket = v
		}
	}
	return h
}

// takeLock takes path's lock without waiting and writes who holds it.
// O_NOFOLLOW: a symlink planted at the path is not followed.
func takeLock(path string, info holderInfo) (*lock, holderInfo, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, holderInfo{}, err
	}
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	// A console checking whether a daemon runs (ServingSocket, Listening)
	// holds a shared lock for an instant: a few tries tell that apart
	// from a daemon holding it.
	for try := 0; try < 5 && errors.Is(err, unix.EWOULDBLOCK); try++ {
		time.Sleep(20 * time.Millisecond)
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	}
	if err != nil {
		h := readHolder(f)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, h, ErrInUse
		}
		return nil, h, err
	}
	f.Truncate(0)
	f.WriteAt([]byte(fmt.Sprintf("pid %s\nsocket %s\n", info.pid, info.socket)), 0)
	return &lock{f: f}, info, nil
}

// release lets the lock go. The file stays: removing it would let a
// daemon that opened it just before lock an unlinked file while a third
// locks a new one.
func (l *lock) release() {
	if l == nil {
		return
	}
	l.f.Close()
}

// configLockPath is the lock of a configuration file.
func configLockPath(config string) string { return config + ".lock" }

// ServingSocket returns the socket of the daemon serving the configuration
// file config, if one runs: `rosh --config FILE` then attaches to it
// rather than running a second engine on the same file.
func ServingSocket(config string) (string, bool) {
	abs, err := filepath.Abs(config)
	if err != nil {
		return "", false
	}
	f, err := os.OpenFile(configLockPath(abs), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "", false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err == nil {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return "", false // nobody holds it: a killed daemon's leftover
	}
	h := readHolder(f)
	return h.socket, h.socket != ""
}

// safeDir makes the socket's directory if it is missing (0700) and
// refuses one that others could write into (a planted socket or lock),
// unless it is a sticky directory like /tmp, where they cannot replace
// what is ours.
func safeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode()&os.ModeSticky != 0 {
		return nil
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s belongs to uid %d, not to us (uid %d): refusing to put the socket there", dir, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by others (mode %v): refusing to put the socket there", dir, fi.Mode().Perm())
	}
	return nil
}

// listen takes the socket's lock and listens on it with mode 0600. The
// lock tells a live daemon from a dead one: holding it, a socket file
// still there is a killed daemon's and is replaced.
func listen(socket string, info holderInfo) (net.Listener, *lock, error) {
	if err := safeDir(filepath.Dir(socket)); err != nil {
		return nil, nil, err
	}
	lk, h, err := takeLock(socket+".lock", info)
	if errors.Is(err, ErrInUse) {
		return nil, nil, fmt.Errorf("another rosh serve (pid %s) listens on %s", orUnknown(h.pid), socket)
	}
	if err != nil {
		return nil, nil, err
	}
	if fi, err := os.Lstat(socket); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			lk.release()
			return nil, nil, fmt.Errorf("%s exists and is not a socket: refusing to replace it", socket)
		}
		os.Remove(socket) // a killed daemon's
	}
	old := unix.Umask(0o177)
	l, err := net.Listen("unix", socket)
	unix.Umask(old)
	if err != nil {
		lk.release()
		return nil, nil, err
	}
	l.(*net.UnixListener).SetUnlinkOnClose(true)
	if err := os.Chmod(socket, 0o600); err != nil {
		l.Close()
		lk.release()
		return nil, nil, err
	}
	return l, lk, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// notify tells systemd (Type=notify) about the daemon's state through
// $NOTIFY_SOCKET, as sd_notify(3) does: one datagram of "KEY=VALUE" lines.
// Without $NOTIFY_SOCKET it does nothing.
func notify(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	// An abstract socket is named with a leading '@' (sd_notify(3)); Go
	// maps '@' to the leading NUL itself.
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

// Listening reports whether a daemon holds socket's lock: a live daemon
// listens there (a killed one's socket file proves nothing).
func Listening(socket string) bool {
	f, err := os.OpenFile(socket+".lock", os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err == nil {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return false
	}
	return true
}
