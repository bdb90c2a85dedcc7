package ppp

// Hooks for the external tests (package ppp_test), which step sessions
// without their goroutines.

// Begin runs what Run runs before its loop.
func (s *Session) Begin() { s.start() }

// Poll handles one pending input, timer event or command, if any.
func (s *Session) Poll() bool { return s.poll() }
