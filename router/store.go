package router

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// WriteFileAtomic replaces path with data so that a crash at any moment
// leaves either the old or the new file: write a temporary file in the same
// directory, fsync it, rename it over path, fsync the directory.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Saver writes the configuration to a file after changes. Bursts of changes
// (a 10,000-line script) are coalesced: each write renders the newest state,
// so the file always holds the state after some prefix of the changes.
type Saver struct {
	path    string
	render  func() []byte
	kick    chan struct{}
	done    chan struct{}
	closing chan struct{}
	closed  bool
	mu      sync.Mutex
	err     error
	flushM  sync.Mutex
}

// NewSaver starts a saver writing render() to path whenever Changed is called.
func NewSaver(path string, render func() []byte) *Saver {
	s := &Saver{path: path, render: render, kick: make(chan struct{}, 1), done: make(chan struct{}), closing: make(chan struct{})}
	go s.loop()
	return s
}

// Changed notes that the configuration changed.
func (s *Saver) Changed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// minSaveGap bounds how often the file is rewritten during a burst: a
// 10,000-line script costs a few dozen writes, not ten thousand.
const minSaveGap = 50 * time.Millisecond

func (s *Saver) loop() {
	defer close(s.done)
	for range s.kick {
		start := time.Now()
		s.write()
		if d := minSaveGap - time.Since(start); d > 0 {
			select {
			case <-time.After(d):
			case <-s.closing:
			}
		}
	}
}

func (s *Saver) write() {
	s.flushM.Lock()
	defer s.flushM.Unlock()
	err := WriteFileAtomic(s.path, s.render(), 0o600)
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// Err reports the last write error, if any.
func (s *Saver) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return fmt.Errorf("saving configuration to %s: %w", s.path, s.err)
	}
	return nil
}

// Close writes the final state synchronously and stops the saver.
func (s *Saver) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.Err()
	}
	s.closed = true
	close(s.closing)
	close(s.kick)
	s.mu.Unlock()
	<-s.done
	s.write()
	return s.Err()
}
